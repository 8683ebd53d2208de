"""The fix grid of a Shopify export's rejected variant rows: a variant's row leaves its product's title, vendor,
type and description blank, and the import reads it with its product's first row's. The grid shows those
values (the fixed row is imported with them) and says, on each such cell, that its row left it blank and
where the value came from, instead of calling them the file's. On SQLite and PostgreSQL, with a real worker."""

import csv
import io
import json
import re

from tests import layouts
from tests.conftest import run_worker
from tests.test_access import bearer
from tests.test_fixes import cells_of
from tests.test_mapping import book, finished, post_file
from tests.test_matching import text_of

TITLE, BODY, VENDOR, TYPE, PRICE, HANDLE, OPTION = (
    layouts.SHOPIFY_HEADER.index(h)
    for h in ("Title", "Body (HTML)", "Vendor", "Type", "Variant Price", "Handle", "Option1 Value")
)


def shop_export_with_bad_prices() -> tuple[str, bytes]:
    """Two products of two formats (rows 2-4 and 5-7: the hardcover's row, the paperback's, an image's):
    book 1's paperback (row 3, a variant's row) has no price; book 2's hardcover (row 5, its product's first
    row) has the price "ten"."""
    name, content = layouts.shopify_variants(1, 2)
    rows = list(csv.reader(io.StringIO(content.decode())))
    rows[2][PRICE] = ""
    rows[4][PRICE] = "ten"
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return name, buffer.getvalue().encode()


def test_a_variant_rows_cells_taken_from_its_product_are_marked_and_imported_when_fixed(app, staff_client):
    headers = bearer(app)
    name, content = shop_export_with_bad_prices()
    mapping = json.dumps(layouts.SHOPIFY_VARIANTS_MAPPING)
    state = finished(app, headers, post_file(app, headers, name, content, mapping=mapping))
    assert (state["created"], state["rejected"]) == (2, 2), state

    response = staff_client.get(f"/imports/{state['id']}/fix")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    said = text_of(response)
    # The page no longer calls the product's values the row's own.
    assert "Each row as the file held it, with the problem" not in said
    assert (
        "Each row as the file held it (but for the cells marked from the product's first row, which their own "
        "row left blank), with the problem beside each cell that has one." in said
    ), said
    assert "its other rows (another format, another variant) leave them blank" in said

    cells = cells_of(page)
    # Row 3 shows what the import read: its product's title, vendor, type and description, each marked.
    assert [cells[f"r3c{i}"] for i in (TITLE, VENDOR, TYPE)] == ["Shop book 1", "Penguin", "Fiction"]
    for position in (TITLE, BODY, VENDOR, TYPE):
        note = f"f-3-{position}"
        assert re.search(rf'name="r3c{position}"[^>]*aria-describedby="{note}"', page), position
        assert f'id="{note}">From row 2, the product\'s first row</small>' in page
    # Its own cells, and every cell of a product's first row, are the file's: unmarked.
    marked = {tuple(map(int, m)) for m in re.findall(r'id="f-(\d+)-(\d+)"', page)}
    assert marked == {(3, TITLE), (3, BODY), (3, VENDOR), (3, TYPE)}
    assert cells[f"r3c{HANDLE}"] == "book-1" and cells[f"r3c{OPTION}"] == "Paperback"
    assert cells[f"r5c{TITLE}"] == "Shop book 2"

    # Fixed, the row is imported alone with the values shown: its product's title and vendor come with it.
    cells[f"r3c{PRICE}"] = "8.50"
    cells[f"r5c{PRICE}"] = "22.00"
    fixed = staff_client.post(f"/imports/{state['id']}/fix", data={**cells, "action": "import", "page": "1"})
    assert fixed.status_code == 302, fixed.get_data(as_text=True)
    follow_up = fixed.location.rsplit("/", 1)[1]
    run_worker(app)
    done = staff_client.get(f"/imports/{follow_up}.json").get_json()
    assert (done["status"], done["created"], done["rejected"]) == ("succeeded", 2, 0), done
    paperback = book(app, layouts.isbn13(3))
    assert (paperback.title, paperback.author, paperback.book_type, str(paperback.price)) == (
        "Shop book 1", "Penguin", "Classic", "8.50")  # fmt: skip


def test_a_continuing_row_says_which_blank_cells_it_took_and_from_which_row():
    """Only the cells the row left blank and its item's first row held are told as taken, with that row's number."""
    from bookapp.importer import RowValidator, map_headers
    from bookapp.importer.mapping import Mapping

    mapping = Mapping.from_json({"columns": {"author": "Vendor", "title": ["Title", "Alt title"]},
                                 "defaults": {"book_type": "Comic"}, "group_by": "Group"})  # fmt: skip
    header = ["Group", "Title", "Alt title", "Vendor", "ISBN", "Year", "Price", "Qty"]
    validator = RowValidator(map_headers(header, mapping), text_cells=True)
    rows = [
        (2, ["a", "First", "", "Ann", layouts.isbn13(1), "2001", "1.00", "1"]),
        (3, ["a", "", "", "Own", layouts.isbn13(2), "", "2.00", "2"]),
        (4, ["b", "", "Alt", "Bo", layouts.isbn13(3), "2005", "5.00", "5"]),
        (5, ["b", "", "", "", layouts.isbn13(4), "", "6.00", "6"]),
        (6, ["c", "Third", "", "Cy", layouts.isbn13(5), "2006", "7.00", "7"]),
    ]
    read = dict(validator.continued(rows))
    assert (read[3].taken, read[3].first_row) == ((1, 5), 2)  # Title and Year; Vendor is its own
    assert (read[5].taken, read[5].first_row) == ((2, 3, 5), 4)  # row 4's Title was blank too: not taken
    assert not hasattr(read[2], "taken") and not hasattr(read[6], "taken")


def test_a_rejected_variant_rows_title_says_it_is_its_products(app):
    """A variant row's blank title is read as its product's first row's: the rejected rows (API and page) give
    that title, and say which row it came from, instead of calling it the row's own."""
    from tests.test_mapping import page_said

    headers = bearer(app)
    name, content = shop_export_with_bad_prices()
    mapping = json.dumps(layouts.SHOPIFY_VARIANTS_MAPPING)
    state = finished(app, headers, post_file(app, headers, name, content, mapping=mapping))
    client = app.test_client()
    items = client.get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]
    assert [(r["row"], r["title"], r["title_from_row"]) for r in items] == [
        (3, "Shop book 1", 2),
        (5, "Shop book 2", None),
    ]
    described = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["RowProblem"]["properties"]
    assert "as the file held it" not in described["title"]["description"]
    assert "product's first row" in described["title"]["description"]
    said = page_said(app, state["id"])
    assert "Shop book 1 (from row 2, the product's first row)" in said and "Shop book 2 (from row" not in said
