"""What a shop's staff read on an import's pages, in their own words: a dry run is called a dry run wherever it
is named; how long an import took says only what helps; a file's encoding is named as people know it; the
fallback selects say what they do; rejected rows' previews show a description as text, not as its HTML tags; a
shop export's ignored columns come after the notes that matter; Match columns says why the file came to it.
Files of the real layouts (tests/layouts.py), through the real endpoints and a real worker."""

import csv
import html
import io
import json
import re

import pytest

from bookapp.services.reconcile import reconcile
from tests import layouts
from tests.conftest import run_worker, sign_in
from tests.test_access import bearer
from tests.test_imports import import_state, upload
from tests.test_matching import selected, text_of
from tests.test_operations import running_for_100_s_last_heard_30_s_ago, started_by


def offered(page_html: str) -> dict:
    """The Match columns form as the page offers it: each select's choice, each text box's value, the values
    of Book type listed."""
    form: dict = {}
    for name, body in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page_html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        form.setdefault(name, []).append(html.unescape(chosen.group(1)) if chosen else "")
    for name, value in re.findall(r'<input type="(?:text|hidden)"[^>]* name="([^"]+)" value="([^"]*)"', page_html):
        if name != "csrf_token":
            form[name] = html.unescape(value)
    return form


def waiting_at_columns(app, client, name: str, content: bytes, **form) -> str:
    """Upload as a person does; return the Match columns page's location, its columns read."""
    answer = upload(client, content, name, **form)
    assert answer.status_code == 302 and answer.location.endswith("/columns"), answer.location
    run_worker(app)  # the column profile
    return answer.location


def matched_and_imported(app, client, location: str, book_type: str = "Classic") -> tuple[list[str], dict]:
    """On the Match columns page at *location*, match each value of Book type left unmatched to *book_type*,
    continue and let the worker import; return those values and the import's state."""
    form = offered(client.get(location).get_data(as_text=True))
    unmatched = [key for key, value in form.items() if key.startswith("value-") and value == [""]]
    choices = {**form, **{key: [book_type] for key in unmatched}, "action": "continue"}
    assert client.post(location, data=choices).status_code == 302
    run_worker(app)
    left = [form[key.replace("value-", "value-text-", 1)] for key in unmatched]
    return left, import_state(client, location.removesuffix("/columns"))


def region(page_html: str, table_class: str) -> str:
    """The table of that class, as HTML."""
    found = re.search(rf'<table class="{table_class}">.*?</table>', page_html, re.S)
    assert found, f"no table.{table_class}"
    return found.group(0)


# A dry run says so on every page it has: tab, progress bar, cancel buttons.


def test_a_dry_run_is_called_a_dry_run_in_its_tab_title_its_progress_bar_and_its_cancel_buttons(app, staff_client):
    """A Goodreads export uploaded with "check only" waits at Match columns: its own page (tab title, the
    banner, Cancel) and its Match columns page (Cancel and its confirm) say dry run, not import; queued, its
    progress bar is the dry run's; finished, so is its tab's title, which says what the import would do."""
    name, content = layouts.goodreads(1)
    location = waiting_at_columns(app, staff_client, name, content, dry_run="y")
    waiting = staff_client.get("/imports/1").get_data(as_text=True)
    assert "<title>Dry run #1 · " in waiting and "Match its columns to check it" in text_of(
        staff_client.get("/imports/1")
    )
    assert ">Cancel dry run</button>" in waiting and "Cancel import" not in waiting

    columns = staff_client.get(location).get_data(as_text=True)
    assert re.search(r'data-confirm="Cancel this dry run\? The file is not checked\.">Cancel dry run</button>', columns)
    assert "Cancel import" not in columns and "Cancel this import" not in columns

    choices = {
        **offered(columns),
        "default-book_type": "Classic",
        "default-price": "0.00",
        "default-quantity": "1",
        "action": "continue",
    }
    assert staff_client.post(location, data=choices).location == "/imports/1"
    queued = staff_client.get("/imports/1").get_data(as_text=True)
    assert "<title>Dry run #1 · queued" in queued and 'aria-label="Dry run progress"' in queued
    assert ">Cancel dry run</button>" in queued and "Import progress" not in queued
    run_worker(app)
    assert "<title>Dry run #1 · would create 5 books and reject 1 row" in staff_client.get("/imports/1").get_data(
        as_text=True
    )


def test_an_import_still_offers_to_cancel_the_import(app, staff_client):
    name, content = layouts.goodreads(1)
    location = waiting_at_columns(app, staff_client, name, content)
    assert ">Cancel import</button>" in staff_client.get("/imports/1").get_data(as_text=True)
    columns = staff_client.get(location).get_data(as_text=True)
    assert 'data-confirm="Cancel this import? The file is not imported.">Cancel import</button>' in columns
    assert "dry run" not in columns.lower()


# How long it took: the working time only when it differs, and why.


def test_an_import_that_worked_all_along_says_only_how_long_it_took(app, staff_client):
    name, content = layouts.euro_sheet(1)
    response = upload(staff_client, content, name)
    run_worker(app)
    state = import_state(staff_client, response.location)
    said = text_of(staff_client.get(response.location))
    assert re.search(r"Took \d+\.\d s\. ", said), said
    assert f"Took {state['elapsed_seconds']:,.1f} s." in said
    assert "of which" not in said and "working" not in said


def test_an_import_that_lost_its_worker_says_what_the_rest_of_its_time_went_on(app, redis_client):
    """Its worker was lost 30 s after its last heartbeat, 100 s into the import: the reconciler gives it a
    second attempt, a real worker finishes it, and its page says how long the work took and what the rest
    was: waiting to be taken up again."""
    staff = bearer(app)
    name, content = layouts.euro_sheet(1)
    answer = app.test_client().post("/api/v1/imports", headers=staff, data={"file": (io.BytesIO(content), name)})
    import_id = answer.get_json()["id"]
    running_for_100_s_last_heard_30_s_ago(app, import_id)
    started_by(redis_client, import_id, "machine-b-worker")  # never seen alive: gone
    with app.app_context():
        assert reconcile()["requeued"] == [import_id]
    run_worker(app)
    state = app.test_client().get(f"/api/v1/imports/{import_id}", headers=staff).get_json()
    assert (state["status"], state["attempts"], state["created"]) == ("succeeded", 2, 5), state
    said = text_of(sign_in(app.test_client(), "staff@example.com").get(f"/imports/{import_id}"))
    took = re.search(r"Took (\d+\.\d) s: (\d+\.\d) s of work over 2 attempts, and (\d+\.\d) s between them, waiting to "
                     r"be taken up again after its worker was lost or it stopped\.", said)  # fmt: skip
    assert took, said
    elapsed, worked, waited = map(float, took.groups())
    assert elapsed >= 100 and 70 <= worked < 75 and 25 <= waited <= 31, took.groups()
    assert "of which" not in said


# Words people know: the encoding, the fallback selects, the notes on what was read.


def test_a_windows_csvs_encoding_is_named_as_people_know_it_on_match_columns_and_on_the_import(app, staff_client):
    """The French shop list is saved by a spreadsheet program on Windows (CP1252): its pages say "Windows
    (Western European) text", the technical name after it in small print; the API keeps the technical name."""
    name, content = layouts.stock_list("fr", 1)
    location = waiting_at_columns(app, staff_client, name, content)
    columns = staff_client.get(location)
    assert "read as CSV, Windows (Western European) text (CP1252), semicolon-separated." in text_of(columns)
    assert "Windows (Western European) text <small>(CP1252)</small>" in columns.get_data(as_text=True)

    page = staff_client.get(location).get_data(as_text=True)
    choices = {**offered(page), "value-1": "Comic", "value-2": "Classic", "action": "continue"}
    assert staff_client.post(location, data=choices).status_code == 302
    run_worker(app)
    shown = location.removesuffix("/columns")
    assert import_state(staff_client, shown)["read_as"] == "CSV, CP1252, semicolon-separated"
    assert "Read as CSV, Windows (Western European) text (CP1252), semicolon-separated." in text_of(
        staff_client.get(shown)
    )


def test_a_fallback_column_is_labelled_by_what_it_does(app, staff_client):
    """Screen readers (and a phone, where the labels show) hear what a fallback select does, not "else,
    column 1": the column used where the first is blank; then where the ones before it are."""
    name, content = layouts.goodreads(1)
    location = waiting_at_columns(app, staff_client, name, content)
    page = staff_client.get(location).get_data(as_text=True)
    said = text_of(staff_client.get(location))
    assert "ISBN: column used where the first is blank or unreadable" in said
    assert "else, column" not in said
    assert selected(page, "else-isbn-1") == "ISBN13"  # so the page offers one more
    assert "ISBN: column used where the 2 before it are blank or unreadable" in said
    assert 'data-more="ISBN: column used where the {n} before it are blank or unreadable"' in page


# A rejected row's preview shows the description as it would be stored.


def test_match_columns_previews_a_rejected_shop_rows_html_description_as_its_text(app, staff_client):
    """A Shopify export's rows wait for their Type values (Fiction, Manga…) to be matched, so the preview
    rejects them for now: their Body (HTML) shows as the text the import would store ("About book 1"), not
    as "<p>About book 1</p>", and their ISBN as the import reads it, from Variant SKU where the barcode is
    blank."""
    name, content = layouts.shopify(1, 5)
    location = waiting_at_columns(app, staff_client, name, content)
    page = staff_client.get(location).get_data(as_text=True)
    choices = {**offered(page), "column-isbn": "Variant Barcode", "else-isbn": ["Variant SKU", ""],
               "column-author": "Vendor", "default-year_published": "2024", "action": "preview"}  # fmt: skip
    answer = staff_client.post(location, data=choices)
    preview = region(answer.get_data(as_text=True), "preview")
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td>(.*?)</tr>", preview, re.S)
    assert [number for number, _ in rows] == ["2", "3", "4", "5", "6"]
    for number, cells in rows:
        n = int(number) - 1
        assert "Rejected:" in cells, cells
        assert f"<td>About book {n}</td>" in cells, cells
        assert f"<td>{layouts.isbn13(n)}</td>" in cells, cells  # the barcode, else the SKU
    assert "&lt;p&gt;" not in preview and "<p>" not in preview


# The finished import: what matters first, the ignored columns last.


def test_a_shop_exports_ignored_columns_come_after_its_notes_as_a_count_with_the_names_folded(app, staff_client):
    """A Shopify export of books in two formats: its page says first what was left out and read from HTML;
    its 25 ignored columns follow, as their count, the names in a details element: those that held values
    apart from those blank in every row (as Match columns found them)."""
    name, content = layouts.shopify_variants(1, 3)
    location = waiting_at_columns(app, staff_client, name, content)
    page = staff_client.get(location).get_data(as_text=True)
    choices = {**offered(page), "column-isbn": "Variant Barcode", "column-author": "Vendor", "group_by": "Handle",
               "default-year_published": "2024", "column-book_type": "", "default-book_type": "Classic",
               "action": "continue"}  # fmt: skip
    for key in [k for k in choices if k.startswith("value-")]:
        del choices[key]
    assert staff_client.post(location, data=choices).status_code == 302
    run_worker(app)
    shown = location.removesuffix("/columns")
    state = import_state(staff_client, shown)
    assert (state["status"], state["created"]) == ("succeeded", 6), state
    ignored = state["ignored_columns"]
    assert len(ignored) > 20 and "Tags" in ignored

    page = staff_client.get(shown).get_data(as_text=True)
    said = text_of(staff_client.get(shown))
    folded = re.search(r'<details class="note" id="ignored-columns"><summary>(.*?)</summary>(.*?)</details>',
                       page, re.S)  # fmt: skip
    assert folded, page
    file_rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    blank = [h for i, h in enumerate(file_rows[0]) if h in ignored and not any(r[i].strip() for r in file_rows[1:])]
    assert 0 < len(blank) < len(ignored)
    summary, lists = (" ".join(html.unescape(part).split()) for part in folded.groups())
    assert (
        summary == f"Ignored {len(ignored)} columns that are not book fields, {len(blank)} of them blank in every row"
    )
    filled = [h for h in ignored if h not in blank]
    assert lists == f"<p>With values: {', '.join(filled)}.</p> <p>Blank in every row: {', '.join(blank)}.</p>"
    assert said.index("Left out: 3 rows with nothing in any matched column") < said.index("Ignored")
    assert said.index("Descriptions written in HTML: 6 were stored") < said.index("Ignored")


def test_a_few_ignored_columns_are_named_in_a_line_after_the_notes(app):
    """The German stock list's one ignored column (its publisher's) is named in a line, no details to open."""
    headers = bearer(app)
    name, content = layouts.stock_list("de", 1)
    mapping = json.dumps({"values": {"book_type": {"Roman": "Classic", "Comic": "Comic"}}})
    answer = app.test_client().post("/api/v1/imports", headers=headers,
                                    data={"file": (io.BytesIO(content), name), "mapping": mapping})  # fmt: skip
    import_id = answer.get_json()["id"]
    run_worker(app)
    page = sign_in(app.test_client(), "staff@example.com").get(f"/imports/{import_id}")
    assert '<p class="note" id="ignored-columns">Ignored columns (not book fields): Verlag</p>' in page.get_data(
        as_text=True
    )
    assert '<details class="note" id="ignored-columns"' not in page.get_data(as_text=True)


# Match columns says why the file came to it.


def test_the_french_shop_lists_match_columns_says_it_came_for_its_genre_values_not_missing_fields(app, staff_client):
    """Every book field of the French list has a column by its header's name; it came to Match columns only
    because its Genre values (BD, Roman) are no book types. The intro says so, and what the preview says of
    its rows (rejected) is what the import does with them when they are left unmatched."""
    name, content = layouts.stock_list("fr", 1)
    location = waiting_at_columns(app, staff_client, name, content)
    said = text_of(staff_client.get(location))
    assert "Every required book field has a column or a value." in said
    assert (
        "Its Genre column, read for Book type, holds values that are not book types (“BD”, “Roman”): under Match values, "
        "choose the type each one stands for, or reject its rows. Rows whose value is left unmatched are rejected."
    ) in said
    assert "does not name every book field" not in said and "names no column" not in said
    assert said.count("Rejected: Book type must be one of") == 4 and "Waits for" not in said

    page = staff_client.get(location).get_data(as_text=True)
    assert staff_client.post(location, data={**offered(page), "action": "continue"}).status_code == 302
    run_worker(app)
    state = import_state(staff_client, location.removesuffix("/columns"))
    assert (state["created"], state["rejected"]) == (0, 4), "left unmatched, its rows are rejected, as the preview said"


def test_match_columns_names_the_fields_a_header_has_no_column_for_and_a_shop_exports_product_column(app, staff_client):
    name, content = layouts.goodreads(1)
    said = text_of(staff_client.get(waiting_at_columns(app, staff_client, name, content)))
    assert "No column is matched to Book type, Price and Quantity yet: choose the column that fills each." in said
    assert "Rows of one item" not in said.split("A field can read")[0]

    name, content = layouts.shopify(1, 5)
    said = text_of(staff_client.get(waiting_at_columns(app, staff_client, name, content)))
    intro = said.split("A field can read")[0]
    assert "No column is matched to Author and Year published yet: choose the column that fills each." in intro
    assert (
        "Its Type column, read for Book type, holds values that are not book types (“Fiction”, “Manga”, “Poetry”, “Science”)"
        in intro
    )
    assert "It is a shop's product export, a row for each variant of a product: under Rows of one item, the column " \
           "Handle says which product each row belongs to." in intro  # fmt: skip


# A shop's stock list in any language: its own kinds of book are offered to match, whatever its column is called.


#: The kinds of book the lists write that are book types: Comic, and the Spanish Cómic (accents aside).
STOCK_LIST_TYPES = ("Comic", "Cómic")


@pytest.mark.parametrize("language", list(layouts.STOCK_LIST_HEADERS))
def test_a_stock_lists_own_kinds_of_book_go_to_match_values_in_every_language(app, staff_client, language):
    """The French list (Genre: BD, Roman) went to Match values; the German one (Typ: Comic, Roman) was imported
    straight away and its Roman rows rejected, because half its kinds (Comic) are book types. Whatever the
    header, a kind of its own in more than one row (not one row's slip) sends the list to Match columns, which
    names those values, and every row is imported once they are matched."""
    name, content = layouts.stock_list(language, 1)
    genre_header = layouts.STOCK_LIST_HEADERS[language][4]
    location = waiting_at_columns(app, staff_client, name, content)
    said = text_of(staff_client.get(location))
    not_types = sorted(g for g in layouts.STOCK_LIST_GENRES[language] if g not in STOCK_LIST_TYPES)
    assert (
        f"Its {genre_header} column, read for Book type, holds values that are not book types ({', '.join(f'“{v}”' for v in not_types)})"
    ) in said

    left, state = matched_and_imported(app, staff_client, location)
    assert sorted(left) == not_types
    assert (state["created"], state["rejected"]) == (4, 0), state


#: How each language's shop writes a kind of book that is a book type (a comic), beside its own kinds.
STOCK_LIST_COMIC = {"fr": "Comics", "de": "Comic", "es": "Comic"}


@pytest.mark.parametrize("language", list(layouts.STOCK_LIST_HEADERS))
def test_a_stock_lists_own_kind_of_book_in_one_row_goes_to_match_values_in_every_language(app, staff_client, language):
    """A list of comics with one novel (Typ: Comic, Roman, Comic, Comic) was imported straight away and its
    Roman row rejected, as if "Roman" were a slip in that row: a kind of its own went to Match values only
    when it was in more than one row. A word that is near no book type is the shop's own kind even once:
    the list waits at Match columns, which names it alone, and every row is imported once it is matched."""
    own = layouts.STOCK_LIST_GENRES[language][0]
    comic = STOCK_LIST_COMIC[language]
    name, content = layouts.stock_list(language, 1, kinds=[comic, own, comic, comic])
    genre_header = layouts.STOCK_LIST_HEADERS[language][4]
    location = waiting_at_columns(app, staff_client, name, content)
    said = text_of(staff_client.get(location))
    assert f"Its {genre_header} column, read for Book type, holds values that are not book types (“{own}”):" in said

    left, state = matched_and_imported(app, staff_client, location)
    assert left == [own]
    assert (state["created"], state["rejected"]) == (4, 0), state


def test_an_imports_banner_says_its_rows_were_unchanged_not_imported(app, staff_client):
    """The French list imported, the German one (the same books) was imported with its Roman rows left
    unmatched: its banner said "2 rows were imported" when both were the books already there, unchanged. It
    says what was done with them."""
    headers = bearer(app)
    name, content = layouts.stock_list("fr", 1)
    mapping = json.dumps({"values": {"book_type": {"BD": "Comic", "Roman": "Classic"}}})
    answer = app.test_client().post("/api/v1/imports", headers=headers,
                                    data={"file": (io.BytesIO(content), name), "mapping": mapping})  # fmt: skip
    run_worker(app)
    assert (
        answer.status_code == 202 and import_state(staff_client, f"/imports/{answer.get_json()['id']}")["created"] == 4
    )

    name, content = layouts.stock_list("de", 1)
    location = waiting_at_columns(app, staff_client, name, content)
    form = offered(staff_client.get(location).get_data(as_text=True))
    assert staff_client.post(location, data={**form, "action": "continue"}).status_code == 302
    run_worker(app)
    shown = location.removesuffix("/columns")
    state = import_state(staff_client, shown)
    assert (state["created"], state["unchanged"], state["rejected"]) == (0, 2, 2), state
    said = text_of(staff_client.get(shown))
    assert "4 rows: 2 unchanged, 2 rejected; the rejected ones were not imported." in said, said
    assert "were imported" not in said
