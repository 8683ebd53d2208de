"""A dry run of a Goodreads export at Match columns and after it, in the words of what it does: the preview
shows the rows "as they would be stored", a row without problems is "Valid" (the preview cannot tell a new book
from one it would update), a value the user chose to reject says so in those words, and the finished dry run
offers to match its columns and check again."""

import csv
import html
import io
import re

from tests import layouts
from tests.conftest import run_worker
from tests.helpers import goodreads_csv, goodreads_row
from tests.test_imports import import_state, upload
from tests.test_matching import GOODREADS_CHOICES, text_of


def verdicts(preview_html: str) -> dict[int, str]:
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td>\s*<td class=\"verdict\">(.*?)</td>", preview_html, re.S)
    return {int(n): " ".join(html.unescape(re.sub(r"<[^>]+>", " ", v)).split()) for n, v in rows}


def test_a_dry_run_of_a_goodreads_export_says_what_its_preview_knows_and_checks_again(app, staff_client):
    # Book 1 is in the stock already: the dry run would update it, not import it.
    upload(staff_client, goodreads_csv([goodreads_row(1)]), name="goodreads_library_export.csv")
    run_worker(app)
    assert staff_client.post("/imports/1/columns", data={**GOODREADS_CHOICES, "action": "continue"}).status_code == 302
    run_worker(app)

    rows = [goodreads_row(n) for n in range(1, 7)]
    answer = upload(staff_client, goodreads_csv(rows), name="goodreads_library_export (1).csv", dry_run="y")
    assert answer.location == "/imports/2/columns"
    run_worker(app)  # the column profile
    said = text_of(staff_client.get("/imports/2/columns"))
    assert "Preview: the first rows as they would be stored" in said and "would be saved" not in said

    live = staff_client.post("/imports/2/columns/preview", data=GOODREADS_CHOICES).get_json()
    shown = verdicts(live["preview_html"])
    assert shown[2] == "Valid", shown  # book 1, stored already
    assert shown[3] == "Rejected: Book type 'currently-reading' is a value you chose to reject", shown
    assert "Imported" not in shown.values() and "value matching" not in live["preview_html"]

    assert staff_client.post("/imports/2/columns", data={**GOODREADS_CHOICES, "action": "continue"}).status_code == 302
    run_worker(app)
    page = text_of(staff_client.get("/imports/2"))
    assert "Match columns and check again" in page and "Match columns and import again" not in page
    assert "Book type 'currently-reading' is a value you chose to reject" in page
    # A real import's page still offers to import again.
    assert "Match columns and import again" in text_of(staff_client.get("/imports/1"))


SHOPIFY_CHOICES = {
    "column-title": "Title",
    "column-author": "Vendor",
    "column-isbn": "Variant Barcode",
    "column-price": "Variant Price",
    "column-quantity": "Variant Inventory Qty",
    "column-book_type": "Type",
    "column-description": "Body (HTML)",
    "default-year_published": "2024",
    "group_by": "Handle",
    "value-text-1": "Fiction",
    "value-1": "Classic",
    "value-text-2": "Poetry",
    "value-2": "reject",
}


def test_a_dry_runs_preview_says_what_the_import_would_do_with_its_rows_not_that_they_would_be_imported(
    app, staff_client
):
    """A dry run of a Shopify export (each product's paperback on a row of its own, a row per extra image) with
    one product's type rejected: the preview's summary, which screen readers hear as the choices change, says
    what the import would do with its rows as its verdicts do (reject 2, leave out the 3 image rows, the other
    4 valid), in the words the finished dry run uses, not that rows "would be imported"."""
    name, content = layouts.shopify_variants(1, 3)
    rows = list(csv.reader(io.StringIO(content.decode())))
    rows[4][rows[0].index("Type")] = "Poetry"  # product 2's first row, row 5 of the file
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    answer = upload(staff_client, buffer.getvalue().encode(), name=name, dry_run="y")
    assert answer.location == "/imports/1/columns"
    run_worker(app)  # the column profile

    live = staff_client.post("/imports/1/columns/preview", data=SHOPIFY_CHOICES).get_json()
    shown = verdicts(live["preview_html"])
    assert [n for n, v in shown.items() if v == "Valid"] == [2, 3, 8, 9], shown
    assert [n for n, v in shown.items() if v.startswith("Rejected")] == [5, 6], shown
    assert [n for n, v in shown.items() if v.startswith("Left out")] == [4, 7, 10], shown
    assert (
        live["summary"]
        == "Preview of the first 9 rows: the import would reject 2 and leave out 3; the other 4 are valid."
    )

    # Price without its column: the valid rows wait for it, and Continue says why it waits.
    live = staff_client.post("/imports/1/columns/preview", data={**SHOPIFY_CHOICES, "column-price": ""}).get_json()
    assert live["summary"].startswith(
        "Preview of the first 9 rows: the import would reject 2 and leave out 3; the other 4 wait for Price. "
    ), live["summary"]

    assert staff_client.post("/imports/1/columns", data={**SHOPIFY_CHOICES, "action": "continue"}).status_code == 302
    run_worker(app)
    assert "the import would create 4 and reject 2." in text_of(staff_client.get("/imports/1"))


def test_the_imports_list_says_a_dry_run_is_one_where_it_says_how_it_ended(app, staff_client, tmp_path):
    """On a phone the imports list shows # , File and Status: a dry run's Status said "succeeded with 1
    rejected row" and only the Mode column, off-screen, said it was a dry run, so nothing had been saved.
    It said so even with "dry run, nothing saved" before it: a dry run rejects no row, it says what its
    import would do, on the list, its page, the API and the command line alike."""
    from tests.helpers import book_row, csv_bytes
    from tests.test_access import bearer

    rows = [book_row(1), book_row(2), book_row(3, Price="free")]
    assert upload(staff_client, csv_bytes(rows), name="stock.csv", dry_run="y").status_code == 302
    assert upload(staff_client, csv_bytes(rows), name="stock.csv").status_code == 302
    run_worker(app)

    page = staff_client.get("/imports").get_data(as_text=True)
    statuses = re.findall(r'<td class="num"><a href="/imports/(\d+)">\d+</a></td>\s*<td[^>]*>.*?</td>\s*<td[^>]*>(.*?)</td>',
                          page, re.S)  # fmt: skip
    said = {int(n): " ".join(html.unescape(re.sub(r"<[^>]+>", "", s)).split()) for n, s in statuses}
    assert said == {
        1: "dry run, nothing saved: would create 2 books and reject 1 row",
        2: "succeeded with 1 rejected row",
    }

    dry_run = staff_client.get("/imports/1").get_data(as_text=True)
    assert "<title>Dry run #1 · would create 2 books and reject 1 row · bookapp</title>" in dry_run
    assert re.search(r'data-field="status" class="status-partial">would create 2 books and reject 1 row<', dry_run)
    assert "succeeded with" not in text_of(staff_client.get("/imports/1"))

    state = app.test_client().get("/api/v1/imports/1", headers=bearer(app, "api@example.com")).get_json()
    assert (state["status"], state["outcome"]) == ("succeeded", "would create 2 books and reject 1 row"), state

    told = app.test_cli_runner().invoke(args=["import-report", "1", "--output", str(tmp_path / "report.csv")])
    assert told.exit_code == 0, told.output
    assert told.stderr.startswith(
        "Dry run #1 would create 2 books and reject 1 row: 2 valid, 1 rejected; nothing was saved."
    ), told.stderr


def test_a_dry_run_says_what_its_import_would_do_whatever_it_finds(app, staff_client):
    """Every row rejected, all or nothing with a rejected row, books to update and rows to skip: each dry
    run's outcome says what its import would do, never that it succeeded with rejected rows."""
    from tests.helpers import book_row, csv_bytes

    assert upload(staff_client, csv_bytes([book_row(1), book_row(2)]), name="stock.csv").status_code == 302
    bad = [book_row(n, Price="x") for n in range(5, 8)]
    assert upload(staff_client, csv_bytes(bad), name="bad.csv", dry_run="y").status_code == 302
    mixed = [book_row(1, Title="Changed"), book_row(3), book_row(4, Price="x")]
    assert upload(staff_client, csv_bytes(mixed), name="mixed.csv", dry_run="y", all_or_nothing="y").status_code == 302
    again = [book_row(1), book_row(2, Title="Changed"), book_row(8)]
    assert upload(staff_client, csv_bytes(again), name="again.csv", dry_run="y", mode="create_only").status_code == 302
    run_worker(app)

    outcomes = [import_state(staff_client, f"/imports/{n}")["outcome"] for n in (2, 3, 4)]
    assert outcomes == [
        "would reject all 3 rows",
        "would save nothing: it would reject 1 row (all or nothing)",
        "would create 1 book and skip 2 rows",
    ]
    page = text_of(staff_client.get("/imports/2"))
    assert "the import would reject every row of the file (3 rows), so there is nothing to import" in page
    assert "was rejected" not in page
