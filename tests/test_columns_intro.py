"""Match columns as a first-time user meets it with real exports (tests/layouts.py): its intro names the fields
Continue waits for, no more and no fewer, and follows the choices made; a shop's SKU of ISBNs is suggested where its barcode is blank; a
column's values are named so that one holding a comma reads as one."""

import csv
import html
import io
import re

from tests import layouts
from tests.test_matching import selected, text_of
from tests.test_plain_words import offered, waiting_at_columns


def intro_and_state(client, location: str) -> tuple[str, str, bool]:
    """The intro's text, the reason Continue gives, and whether Continue can be pressed."""
    response = client.get(location)
    page = response.get_data(as_text=True)
    said = text_of(response)
    intro = said.split("A field can read")[0].split(":", 1)[1]
    reason = re.search(r'<p class="field-error" id="continue-reason"[^>]*>(.*?)</p>', page, re.S).group(1)
    disabled = re.search(r'<button type="submit" name="action" value="continue" id="continue"[^>]*>', page).group(0)
    return intro, reason, "disabled" not in disabled


def test_the_intro_names_the_fields_continue_waits_for_in_every_export(app, staff_client):
    """A listing sheet's *Category (a category ID) is no Book type: the intro says so, as Continue does. A
    shop's Published (TRUE, a flag) is no year: the intro names Year published with Author. A catalogue's
    Date holds years: it fills Year published, which the intro does not name."""
    waiting = {}
    for name, content in (
        layouts.ebay_file_exchange(1),
        layouts.shopify(1, 5),
        layouts.woocommerce(1),
        layouts.librarything(1),
    ):
        intro, reason, can_continue = intro_and_state(
            staff_client, waiting_at_columns(app, staff_client, name, content)
        )
        waiting[name] = (intro, reason, can_continue)
        for label in ("Title", "Author", "Book type", "ISBN", "Year published", "Price", "Quantity"):
            assert (label in intro.split("yet:")[0]) == (label in reason), (name, label, intro, reason)
        assert can_continue == (not reason), name
        assert ("Every required book field has a column or a value." in intro) == can_continue, name

    intro, reason, can_continue = waiting["ebay_file_exchange.csv"]
    assert "No column is matched to Book type yet: choose the column that fills it." in intro
    assert "names a column for every book field" not in intro and not can_continue
    intro, reason, _ = waiting["products_export_1.csv"]
    assert "No column is matched to Author and Year published yet: choose the column that fills each." in intro
    assert reason == "Continue needs a column, or a value for every row, for: Author, Year published."
    assert "Year published" in waiting["wc-product-export.csv"][0]
    intro, reason, _ = waiting["LibraryThing_export.tsv"]
    assert "Year published" not in intro and "Year published" not in reason


def test_the_intro_follows_the_choices_as_continue_does(app, staff_client):
    name, content = layouts.librarything(1)
    location = waiting_at_columns(app, staff_client, name, content)
    answer = staff_client.post(location + "/preview", data={"column-title": "Title", "action": "preview"}).get_json()
    assert answer["missing"] == ["author", "book_type", "isbn", "year_published", "price", "quantity"]
    assert answer["why_missing"].startswith(
        "No column is matched to Author, Book type, ISBN, Year published, Price and Quantity yet"
    )


def with_skus(content: bytes, sku) -> bytes:
    """A Shopify export with each row's Variant SKU replaced by sku(row number)."""
    rows = list(csv.reader(io.StringIO(content.decode())))
    at = rows[0].index("Variant SKU")
    for n, row in enumerate(rows[1:], start=1):
        row[at] = sku(n)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def test_a_shops_sku_of_isbns_is_suggested_where_its_barcode_is_blank_and_no_other_sku_is(app, staff_client):
    name, content = layouts.shopify(1, 5)
    page = staff_client.get(waiting_at_columns(app, staff_client, name, content)).get_data(as_text=True)
    assert selected(page, "column-isbn") == "Variant Barcode"
    assert selected(page, "else-isbn-1") == "Variant SKU"
    assert "ISBN is required" not in page
    assert layouts.SHOPIFY_MAPPING["columns"]["isbn"] == ["Variant Barcode", "Variant SKU"]

    page = staff_client.get(
        waiting_at_columns(app, staff_client, name, with_skus(content, lambda n: f"PB-{n:04d}"))
    ).get_data(as_text=True)
    assert selected(page, "column-isbn") == "Variant Barcode"
    assert selected(page, "else-isbn-1") == ""

    # A column of other ISBNs that names no SKU (another edition's) is not read where the barcode is blank.
    page = staff_client.get(
        waiting_at_columns(app, staff_client, "other.csv", content.replace(b"Variant SKU", b"Related edition", 1))
    ).get_data(as_text=True)
    assert selected(page, "column-isbn") == "Variant Barcode"
    assert selected(page, "else-isbn-1") == ""


def test_a_value_holding_a_comma_is_named_as_one_value(app, staff_client):
    name, content = layouts.bookbuddy(1)
    intro = intro_and_state(staff_client, waiting_at_columns(app, staff_client, name, content))[0]
    values = re.search(r"holds values that are not book types \((.*?)\)", intro).group(1)
    assert "“Science Fiction, Cyberpunk”" in values
    assert values.count("“Science Fiction”") == 1


def test_the_intro_follows_the_book_type_column_its_values_and_the_item_column_chosen(app, staff_client):
    """A Shopify export's intro names its Type values to match and its Handle as the column naming each row's
    product. They were said of the suggested columns whatever the person chose: choosing Tags for Book type and
    no item column, then Preview (scripts off) or a change (the script asks), said Type's values and Handle
    still. The intro speaks of the choices made, and says nothing of values once each is matched."""
    name, content = layouts.shopify(1, 5)
    location = waiting_at_columns(app, staff_client, name, content)
    intro = intro_and_state(staff_client, location)[0]
    assert "Its Type column, read for Book type, holds values that are not book types (“Fiction”" in intro
    assert "the column Handle says which product each row belongs to" in intro

    form = offered(staff_client.get(location).get_data(as_text=True))
    changed = {**form, "column-book_type": "Tags", "group_by": "", "action": "preview"}
    previewed = text_of(staff_client.post(location, data=changed)).split("A field can read")[0]  # scripts off
    assert_said_of_tags(previewed)
    answer = staff_client.post(location + "/preview", data=changed).get_json()  # the script's question
    assert_said_of_tags(" ".join(html.unescape(re.sub(r"<[^>]+>", "", answer["why_html"])).split()))

    tags = offered(staff_client.post(location, data=changed).get_data(as_text=True))
    books = next(k.removeprefix("value-text-") for k, v in tags.items() if k.startswith("value-text-") and v == "books")
    matched = {**tags, f"value-{books}": "Classic", "group_by": "Title", "action": "preview"}
    previewed = text_of(staff_client.post(location, data=matched)).split("A field can read")[0]
    assert "not book types" not in previewed, previewed
    assert "the column Title says which product each row belongs to" in previewed, previewed


def assert_said_of_tags(said: str) -> None:
    """The intro speaks of Tags read for Book type, and of no column naming each row's product."""
    assert "Its Tags column, read for Book type, holds values that are not book types (“books”)" in said, said
    assert "Fiction" not in said and "Handle" not in said and "product export" not in said, said
