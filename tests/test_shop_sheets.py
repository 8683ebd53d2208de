"""A shop's own stock sheet: a totals row under the books, a title row above the header; each file made here (CSV; an .xlsx by openpyxl;
.xlsx, .ods and .xls saved by LibreOffice with the formulas' results), imported by a real worker through
the upload page and the API, on SQLite and PostgreSQL."""

import csv
import html
import io
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from bookapp.extensions import db
from bookapp.importer.left_out import is_totals_text
from bookapp.models import Book
from tests.conftest import run_worker, skip_or_fail
from tests.helpers import HEADER, book_row, csv_bytes, isbn13, typed_book_row, with_shared_strings
from tests.test_imports import import_state, upload
from tests.test_matching import text_of

#: The shop's sheet: ten books, then its totals row with the quantities' sum (row 12).
BOOKS = 10
TOTALS_ROW = BOOKS + 2
QUANTITY = HEADER.index("Quantity")


def totals_row(label: str = "Total", quantity: object = "=SUM(H2:H11)") -> list[object]:
    row: list[object] = [None] * len(HEADER)
    row[0], row[QUANTITY] = label, quantity
    return row


#: What a shop writes above its header: the sheet's title, then a blank row (the header is row 3).
TITLE = [["Hartley Books — stock list"], [None]]


def shop_workbook(path: Path, rows: list[list[object]], header: list[str] = HEADER, above=()) -> Path:
    """Write an .xlsx the way a shop keeps it: typed cells, formulas as formulas (openpyxl saves no results)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Stock"
    for row in above:
        sheet.append(row)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def saved_by_libreoffice(path: Path, kind: str) -> Path:
    """Open *path* in LibreOffice and save it as *kind*: the file then holds each formula's result."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        skip_or_fail("LibreOffice (soffice) is not installed")
    out = path.parent / f"saved-{kind}"
    done = subprocess.run(
        [office, f"-env:UserInstallation=file://{path.parent / 'office-profile'}", "--headless",
         "--convert-to", kind, "--outdir", str(out), str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    saved = out / f"{path.stem}.{kind}"
    assert saved.exists(), done.stdout + done.stderr
    return saved


def shop_file(
    tmp_path: Path, kind: str, rows: list[list[object]], header: list[str] = HEADER, above=()
) -> tuple[str, bytes]:
    """The rows as a file of *kind*: csv, xlsx (openpyxl), or xlsx-lo, ods-lo, xls-lo (saved by LibreOffice);
    *above*: rows above the header (a CSV's title line holds no delimiter, as a text editor writes it)."""
    if kind == "csv":
        text_rows = [["" if c is None else str(c) for c in row] for row in rows]
        title = "".join(f"{row[0] or ''}\r\n" for row in above).encode()
        return "stock.csv", title + csv_bytes(text_rows, header=header)
    path = shop_workbook(tmp_path / "stock.xlsx", rows, header, above)
    if kind.endswith("-lo"):
        path = saved_by_libreoffice(path, kind.removesuffix("-lo"))
    return path.name, path.read_bytes()


def book(app, isbn: str) -> Book | None:
    with app.app_context():
        return db.session.scalar(select(Book).where(Book.isbn == isbn))


def page_text(client, location: str) -> str:
    return text_of(client.get(location))


@pytest.mark.parametrize("kind", ["csv", "xlsx", "xlsx-lo", "ods-lo", "xls-lo"])
def test_a_totals_row_under_the_books_is_left_out_and_told_not_rejected(app, staff_client, tmp_path, kind):
    rows = [typed_book_row(n) for n in range(1, BOOKS + 1)]
    quantity = sum(row[QUANTITY] for row in rows)
    rows.append(totals_row(quantity=quantity if kind == "csv" else "=SUM(H2:H11)"))
    name, content = shop_file(tmp_path, kind, rows)

    response = upload(staff_client, content, name)
    assert response.status_code == 302, text_of(response)
    run_worker(app)
    state = import_state(staff_client, response.location)

    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", BOOKS, 0), state
    assert state["outcome"] == "succeeded"
    assert state["repairs"]["totals_rows"] == {"count": 1, "rows": [TOTALS_ROW]}
    page = page_text(staff_client, response.location)
    assert f"Left out: 1 totals row (row {TOTALS_ROW}): it has no ISBN and starts with Total" in page
    assert "rejected row" not in page
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Book)) == BOOKS


def test_all_or_nothing_saves_a_sheet_whose_only_row_not_imported_is_its_totals(app, staff_client):
    rows = [book_row(n) for n in range(1, BOOKS + 1)]
    rows.append(["" if c is None else str(c) for c in totals_row("Total:", "55")])
    response = upload(staff_client, csv_bytes(rows), "stock.csv", all_or_nothing="true")
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", BOOKS, 0), state
    assert state["repairs"]["totals_rows"] == {"count": 1, "rows": [TOTALS_ROW]}
    assert book(app, isbn13(BOOKS)) is not None


@pytest.mark.parametrize("options", [{}, {"all_or_nothing": "true"}, {"dry_run": "true"}],
                         ids=["plain", "all-or-nothing", "dry-run"])  # fmt: skip
def test_only_a_rejected_row_without_an_isbn_whose_first_text_is_a_totals_word_is_left_out(app, staff_client, options):
    """The words: Total, Totals, Grand total, Subtotal, Sum, case and punctuation aside. A book titled "Total"
    (it has an ISBN) is imported, or rejected for its own problems; a row of other words is still rejected."""
    shelf_header = ["Shelf", *HEADER]
    rows = [["A1", *book_row(n)] for n in range(1, 4)]
    titled_total = ["A2", *book_row(4, Title="Total")]  # a book: imported
    total_without_price = ["A2", *book_row(5, Title="TOTAL", Price="")]  # has an ISBN: rejected, not left out
    rows += [
        titled_total,
        total_without_price,
        ["", "Sub-total:", "", "", "", "", "", "", "6", ""],  # row 7: left out
        ["", "Total stock", "", "", "", "", "", "", "6", ""],  # row 8: not a totals word, rejected
        ["3", "Grand Total", "", "", "", "", "", "", "12", ""],  # row 9: a number first, then the word: left out
        ["", "SUM", "", "", "", "", "", "", "12", ""],  # row 10: left out
        ["", "Sum", "Ann", "Classic", "", "2001", "9.99", "", "1", ""],  # row 11: a book titled Sum: rejected
        ["", "Total", "", "", "5", "", "", "", "12", ""],  # row 12: a count in the ISBN column: left out
        ["", "Summe", "", "", "", "", "", "", "12", ""],  # row 13: left out
    ]
    content = csv_bytes(rows, header=shelf_header)

    response = upload(staff_client, content, "stock.csv", **options)
    run_worker(app)
    state = import_state(staff_client, response.location)

    nothing_saved = options.get("all_or_nothing")  # its 4 valid rows checked, not created
    assert (state["status"], state["created"], state["rejected"]) == (
        "failed" if nothing_saved else "succeeded", 0 if nothing_saved else 4, 3), state  # fmt: skip
    assert state["repairs"]["totals_rows"] == {"count": 5, "rows": [7, 9, 10, 12, 13]}
    page = page_text(staff_client, response.location)
    assert "Left out: 5 totals rows (rows 7, 9, 10, 12, 13): they have no ISBN and start with Total" in page
    download = staff_client.get(response.location + "/rejected.csv").get_data(as_text=True).lstrip("\ufeff")
    rejected = list(csv.reader(io.StringIO(download)))[1:]
    assert [(r[0], r[1], r[-2], r[-1]) for r in rejected] == [
        ("A2", "TOTAL", "6", "Price is required"),
        ("", "Total stock", "8", "Author is required; Book type is required; ISBN is required; "
         "Year published is required; Price is required"),
        ("", "Sum", "11", "ISBN is required"),
    ], rejected  # fmt: skip
    if not options:
        assert book(app, isbn13(4)).title == "Total"


def test_the_totals_words():
    for text in ("Total", "TOTAL:", "Totals", "Grand total", "grand-total", "Sub-total", "Subtotal", " sum ", "Total.",
                 "Summe", "Gesamt"):  # fmt: skip
        assert is_totals_text(text), text
    for text in ("Total stock", "Totally Wild", "Summer", "Sum of all", "Grand", ""):
        assert not is_totals_text(text), text


def test_match_columns_previews_a_totals_row_as_left_out_as_the_import_does(app, staff_client, tmp_path):
    """A sheet without a Book type column goes to Match columns: its preview says the totals row is left
    out, in words that name it, and the import then leaves it out and tells it."""
    header = [h for h in HEADER if h != "Book type"]
    rows = [[c for h, c in zip(HEADER, typed_book_row(n), strict=True) if h != "Book type"] for n in range(1, 4)]
    rows.append(["Grand total:", None, None, None, None, None, "=SUM(G2:G4)", None])
    name, content = shop_file(tmp_path, "xlsx-lo", rows, header)
    response = upload(staff_client, content, name)
    assert response.location.endswith("/columns"), response.location
    staff_client.get(response.location)
    run_worker(app)  # the file's column profile

    choices = {"column-title": "Title", "column-author": "Author", "column-isbn": "ISBN",
               "column-year_published": "Year published", "column-price": "Price",
               "column-quantity": "Quantity", "default-book_type": "Classic"}  # fmt: skip
    live = staff_client.post(response.location + "/preview", data=choices).get_json()
    verdicts = re.findall(r'<td class="num">(\d+)</td>.*?<td class="verdict">(.*?)</td>', live["preview_html"], re.S)
    said = {n: " ".join(re.sub(r"<[^>]+>", " ", v).split()) for n, v in verdicts}
    assert said == {"2": "Valid", "3": "Valid", "4": "Valid",
                    "5": "Left out: a totals row (no ISBN; it sums up the sheet)"}, said  # fmt: skip

    assert staff_client.post(response.location, data={**choices, "action": "continue"}).status_code == 302
    run_worker(app)
    location = response.location.removesuffix("/columns")
    state = import_state(staff_client, location)
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 3, 0), state
    assert state["repairs"]["totals_rows"] == {"count": 1, "rows": [5]}


def test_the_api_tells_the_totals_rows_left_out(app, tmp_path):
    from tests.test_access import bearer
    from tests.test_mapping import finished, post_file

    rows = [typed_book_row(n) for n in range(1, BOOKS + 1)] + [totals_row("Totals")]
    name, content = shop_file(tmp_path, "xlsx", rows)  # openpyxl: the sum was never calculated
    headers = bearer(app)
    state = finished(app, headers, post_file(app, headers, name, content))
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", BOOKS, 0), state
    assert state["repairs"] == {"totals_rows": {"count": 1, "rows": [TOTALS_ROW]}}


@pytest.mark.parametrize("kind", ["csv", "xlsx", "xlsx-lo", "ods-lo", "xls-lo"])
def test_a_header_under_a_title_row_is_read_and_every_row_keeps_its_own_number(app, staff_client, tmp_path, kind):
    """Rows 1 and 2 hold the sheet's title and a blank row; the header is row 3, the books rows 4 to 8, row 6
    with a price that is no number, and the totals in row 9: every message names the sheet's own rows."""
    rows = [typed_book_row(n) for n in range(1, 6)]
    rows[2][HEADER.index("Price")] = "ask"
    rows.append(totals_row(quantity=15 if kind == "csv" else "=SUM(H4:H8)"))
    name, content = shop_file(tmp_path, kind, rows, above=TITLE)

    response = upload(staff_client, content, name)
    assert response.status_code == 302 and not response.location.endswith("/columns"), response.location
    run_worker(app)
    state = import_state(staff_client, response.location)

    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 4, 1), state
    assert state["read_as"].endswith(", header on row 3"), state["read_as"]
    assert state["headers"][:4] == ["Title", "Author", "Book type", "ISBN"]
    assert state["repairs"]["totals_rows"] == {"count": 1, "rows": [9]}
    assert book(app, isbn13(4)).title == "Book 4"
    page = page_text(staff_client, response.location)
    assert "header on row 3." in page and "Left out: 1 totals row (row 9)" in page
    download = staff_client.get(response.location + "/rejected.csv").get_data(as_text=True).lstrip("\ufeff")
    table = list(csv.reader(io.StringIO(download)))
    assert table[0][:4] == ["Title", "Author", "Book type", "ISBN"]
    assert [(r[0], r[-2], r[-1]) for r in table[1:]] == [
        ("Book 3", "6", "Price is not a price: write it like 12.99")
    ], table
    report = staff_client.get(response.location + "/report.csv").get_data(as_text=True).lstrip("\ufeff")
    assert [tuple(r[:2]) for r in list(csv.reader(io.StringIO(report)))[1:]] == [
        ("4", "created"), ("5", "created"), ("6", "rejected"), ("7", "created"), ("8", "created")]  # fmt: skip


def test_a_row_one_that_names_the_columns_stays_the_header(tmp_path):
    """Row 1 naming every required field is the header, whatever a row under it names; a title row
    naming two by chance ("Title", "Year") gives way to the full header under it; a title above a header
    naming only one is no header either (one field named is no clear header): the file is read from row 1
    as before, and waits for its columns to be matched."""
    from bookapp.importer import open_table

    lone = tmp_path / "lone.csv"
    lone.write_bytes(b"Hartley Books\r\n\r\nTitle,Shelf\r\nDune,A1\r\n")
    with open_table(lone) as table:
        assert (table.header_row, table.headers) == (1, ["Hartley Books"])
    titled = tmp_path / "titled.csv"
    titled.write_bytes(b"Title,Hartley Books stock list,Year,2025\r\n\r\n" + csv_bytes([book_row(1)]))
    with open_table(titled) as table:
        assert (table.header_row, table.headers, [n for n, _ in table.rows]) == (3, HEADER, [4])
    usual = tmp_path / "usual.csv"
    usual.write_bytes(csv_bytes([book_row(1), HEADER]))
    with open_table(usual) as table:
        assert (table.header_row, [n for n, _ in table.rows]) == (1, [2, 3])


#: A stock sheet's title row as label and value pairs: it names Title, Type and Year (three required fields).
TITLE_PAIRS = ["Title", "Hartley Books spring stock take", "Type", "Stock take", "Year", 2025]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize(
    "title", [TITLE_PAIRS, ["Stock list: Title, Author and ISBN for the shop"]], ids=["pairs", "one-cell"]
)
def test_a_title_row_naming_three_fields_gives_way_to_the_fuller_header_under_it(
    app, staff_client, tmp_path, kind, title
):
    """A title row that names three required fields by chance (label and value pairs: "Title | Hartley Books
    spring stock take | Type | Stock take | Year | 2025"), or names them in one cell, is no header: the
    header under it names more fields across the table's columns, and the books under it are imported
    under their own row numbers."""
    rows = [typed_book_row(n) for n in range(1, 4)]
    if kind == "csv":
        text = [["" if c is None else str(c) for c in row] for row in rows]
        name, content = "stock.csv", csv_bytes([[], HEADER, *text], header=[str(c) for c in title])
    else:
        name, content = "stock.xlsx", shop_workbook(tmp_path / "stock.xlsx", rows, above=[title, [None]]).read_bytes()
    response = upload(staff_client, content, name)
    assert response.status_code == 302 and not response.location.endswith("/columns"), response.location
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 3, 0), state
    assert state["read_as"].endswith(", header on row 3") and state["headers"] == HEADER, state
    assert book(app, isbn13(2)).title == typed_book_row(2)[0]


def test_match_columns_reads_the_header_under_a_title_and_the_import_resumes_under_the_same_numbers(app, staff_client):
    """A CSV whose header (row 3, under a title) lacks Book type goes to Match columns: the page says where
    the header was read from, its columns are the header's, the preview's rows are 4 on. The import, stopped
    after its first chunk and retried, resumes under the same row numbers."""
    from tests.conftest import after_chunk_saved

    app.config["IMPORT_CHUNK_SIZE"] = 3
    header = [h for h in HEADER if h != "Book type"]
    rows = [[c for h, c in zip(HEADER, book_row(n), strict=True) if h != "Book type"] for n in range(1, 9)]
    rows[4][header.index("Year published")] = "soon"  # row 8
    content = "Hartley Books — stock list;;;;;;;\r\n;;;;;;;\r\n".encode() + csv_bytes(rows, header, delimiter=";")
    response = upload(staff_client, content, "stock.csv")
    assert response.location.endswith("/columns"), response.location
    staff_client.get(response.location)
    run_worker(app)  # the file's column profile
    page = text_of(staff_client.get(response.location))
    assert "8 rows under the header; read as CSV, UTF-8, semicolon-separated, header on row 3." in page

    choices = {"column-title": "Title", "column-author": "Author", "column-isbn": "ISBN",
               "column-year_published": "Year published", "column-price": "Price",
               "column-quantity": "Quantity", "default-book_type": "Classic"}  # fmt: skip
    live = staff_client.post(response.location + "/preview", data=choices).get_json()
    numbers = re.findall(r'<td class="num">(\d+)</td>', live["preview_html"])
    assert numbers == [str(n) for n in range(4, 12)]
    assert "Year published" in live["preview_html"] and "soon" in live["preview_html"]

    def stop(cursor):  # the run stops at its next check, after this chunk's commit
        stopping = cursor.connection.cursor()
        stopping.execute("UPDATE imports SET cancel_requested = TRUE")
        stopping.close()

    assert staff_client.post(response.location, data={**choices, "action": "continue"}).status_code == 302
    location = response.location.removesuffix("/columns")
    with after_chunk_saved(app, stop, nth=1):
        run_worker(app)
    stopped = import_state(staff_client, location)
    assert stopped["status"] == "cancelled" and stopped["processed_rows"] == 3, stopped
    staff_client.post(location + "/retry")
    run_worker(app)

    state = import_state(staff_client, location)
    assert (state["status"], state["created"], state["rejected"], state["processed_rows"]) == ("succeeded", 7, 1, 8)
    report = staff_client.get(location + "/report.csv").get_data(as_text=True).lstrip("\ufeff")
    outcomes = [tuple(r[:2]) for r in list(csv.reader(io.StringIO(report)))[1:]]
    assert [n for n, _ in outcomes] == [str(n) for n in range(4, 12)]
    assert [n for n, outcome in outcomes if outcome == "rejected"] == ["8"]
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Book)) == 7


def test_the_upload_reads_a_header_whose_names_a_title_above_it_already_used(tmp_path):
    """A spreadsheet program stores each text once (shared strings): when the title row above the header
    holds a word the header uses again ("Title"), the upload's header read once took the next shared
    text for it and shifted every name after it ("Dune" came out as a column)."""
    import zipfile

    from openpyxl import Workbook

    from bookapp.importer.peek import read_header

    book = Workbook()
    sheet = book.active
    header = ["Title", "Author", "Book type", "ISBN", "Year published", "Price", "Quantity"]
    for row in (
        ["Title", "Hartley Books stock list"],
        [],
        header,
        ["Dune", "Frank Herbert", "Classic", "x", 1990, 9.99, 3],
    ):
        sheet.append(row)
    book.save(tmp_path / "shared.xlsx")
    path = with_shared_strings(tmp_path / "shared.xlsx")
    assert b'<c r="A1" t="s"><v>0</v></c>' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert read_header(path) == header


#: A Shopify export's Body (HTML) cells (rows 2 to 7), and the description each book is stored with: HTML read
#: as its text, plain text with a "<" as written, HTML longer than the limit whose text is not (row 6), and
#: text that is longer (row 7: rejected, saying so).
SHOP_BODIES = [
    ("<p>A <strong>gripping</strong> tale&hellip;</p><p>Second&nbsp;part,<br>on a line of its own</p>",
     "A gripping tale…\n\nSecond part,\non a line of its own"),
    ("<style>p { color: red }</style><ul>\n<li>Hardcover</li>\n<li>320 pages</li>\n</ul><script>track()</script>",
     "- Hardcover\n- 320 pages"),
    ("For readers aged 8 < 12, and all who <3 dragons", "For readers aged 8 < 12, and all who <3 dragons"),
    ("", None),
    ('<p><span data-mce-fragment="1">Long read.</span></p>' * 300, "\n\n".join(["Long read."] * 300)),
    ("<p>" + "x" * 10_001 + "</p>", None),
]  # fmt: skip
SHOP_CHOICES = {"column-title": "Title", "column-author": "Vendor", "column-isbn": "Variant SKU",
                "column-price": "Variant Price", "column-quantity": "Variant Inventory Qty",
                "column-description": "Body (HTML)", "default-book_type": "Classic",
                "default-year_published": "2024"}  # fmt: skip


def shop_export_with_bodies() -> tuple[str, bytes]:
    """A Shopify product export (its public columns) of len(SHOP_BODIES) books, each with its Body (HTML)."""
    from tests import layouts

    name, content = layouts.shopify(1, len(SHOP_BODIES))
    rows = list(csv.reader(io.StringIO(content.decode())))
    at = rows[0].index("Body (HTML)")
    for row, (body, _) in zip(rows[1:], SHOP_BODIES, strict=True):
        row[at] = body
    return name, csv_bytes(rows[1:], header=rows[0])


def test_a_shop_exports_html_descriptions_are_stored_as_their_text_and_the_import_says_how_many(app, staff_client):
    """Uploaded, matched and imported as a person does: each book's description is the text its HTML shows
    (in the database, on the book's page and in the export), plain text with a "<" is kept as written, and the
    import page and its JSON say which rows' descriptions were read from HTML."""
    from tests import layouts

    name, content = shop_export_with_bodies()
    response = upload(staff_client, content, name)
    assert response.location.endswith("/columns"), response.location
    assert staff_client.post(response.location, data={**SHOP_CHOICES, "action": "continue"}).status_code == 302
    run_worker(app)
    location = response.location.removesuffix("/columns")
    state = import_state(staff_client, location)

    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 5, 1), state
    assert state["repairs"]["descriptions_from_html"] == {"count": 3, "rows": [2, 3, 6]}
    for n, (_, text) in enumerate(SHOP_BODIES[:5], start=1):
        assert book(app, layouts.isbn13(n)).description == text, n
    assert "Descriptions written in HTML: 3 were stored as the plain text they show (rows 2, 3, 6)" in page_text(
        staff_client, location
    )
    rejected = staff_client.get(location + "/rejected.csv").get_data(as_text=True)
    assert "once its HTML is read as text; the limit is 10,000" in rejected
    with app.app_context():
        book_id = db.session.scalar(select(Book.id).where(Book.isbn == layouts.isbn13(1)))
    shown = staff_client.get(f"/books/{book_id}").get_data(as_text=True)
    assert "A gripping tale…" in shown and "strong" not in shown.split("<main", 1)[-1].replace("<strong>", "")
    export = staff_client.get("/books/export.csv").get_data(as_text=True)
    assert "A gripping tale…" in export and "<p>" not in export and "&hellip;" not in export


def test_a_dry_run_of_a_shop_export_says_what_the_import_would_do_not_what_it_did(app, staff_client):
    """A dry run saves nothing, so its page speaks of what the import would do: the rows it would create
    and reject, the descriptions that would be stored as text."""
    name, content = shop_export_with_bodies()
    response = upload(staff_client, content, name, dry_run="y")
    assert response.location.endswith("/columns"), response.location
    assert staff_client.post(response.location, data={**SHOP_CHOICES, "action": "continue"}).status_code == 302
    run_worker(app)
    location = response.location.removesuffix("/columns")
    state = import_state(staff_client, location)
    assert (state["dry_run"], state["status"], state["created"], state["rejected"]) == (True, "succeeded", 5, 1), state

    said = page_text(staff_client, location)
    assert "the import would create 5 and reject 1." in said
    assert "Would create 5" in said and "Would reject 1" in said
    assert "Descriptions written in HTML: 3 would be stored as the plain text they show (rows 2, 3, 6)" in said
    assert "rejected rejected" not in said and "reject 1 rejected row" not in said
    assert "were stored" not in said and "Created" not in said


def test_a_shop_exports_body_html_is_matched_to_description_by_its_header(app, staff_client):
    """Uploaded as a person does, a Shopify export opens Match columns (its Type wants matching) with
    Body (HTML) already chosen for Description: imported as the page offers it, each book's description
    is the text its HTML shows, and Body (HTML) is not listed among the ignored columns."""
    from tests import layouts
    from tests.test_matching import selected

    name, content = layouts.shopify(1, 4)
    response = upload(staff_client, content, name)
    assert response.location.endswith("/columns"), response.location
    run_worker(app)  # the column profile
    page = staff_client.get(response.location).get_data(as_text=True)
    assert selected(page, "column-description") == "Body (HTML)"
    choices = {**SHOP_CHOICES, "column-description": selected(page, "column-description")}
    assert staff_client.post(response.location, data={**choices, "action": "continue"}).status_code == 302
    run_worker(app)
    location = response.location.removesuffix("/columns")
    state = import_state(staff_client, location)
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 4, 0), state
    for n in range(1, 5):
        assert book(app, layouts.isbn13(n)).description == f"About book {n}", n
    said = page_text(staff_client, location)
    assert "Descriptions written in HTML: 4 were stored as the plain text they show" in said
    ignored = re.search(r"Ignored \d+ columns that are not book fields[^:]*With values: ([^.]*)", said)
    assert ignored and "Handle" in ignored[1] and "Body (HTML)" not in ignored[1], ignored


def test_a_product_exports_description_is_read_not_its_short_description():
    """WooCommerce writes a Short description (a teaser) before its Description: the Description is read."""
    from bookapp.importer import Mapping
    from tests import layouts

    header = layouts.WOOCOMMERCE_HEADER
    assert header[Mapping().resolve(header)[0].positions["description"]] == "Description"


def test_the_cli_stores_a_shop_exports_html_descriptions_as_text_and_says_how_many(app, tmp_path):
    from tests import layouts
    from tests.conftest import flask_cli

    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": app.config["REDIS_URL"],
           "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"], "BOOKAPP_IMPORT_QUEUE": app.config["IMPORT_QUEUE"]}  # fmt: skip
    name, content = shop_export_with_bodies()
    path = tmp_path / name
    path.write_bytes(content)
    queued = flask_cli(["import-books", str(path), "--map", "Vendor=author", "--map", "Variant SKU=isbn",
                        "--map", "Variant Price=price", "--map", "Variant Inventory Qty=quantity",
                        "--map", "Body (HTML)=description", "--map", "Type=book_type", "--value", "book_type:Fiction=Classic",
                        "--value", "book_type:Manga=Comic", "--value", "book_type:Science=Sci-tech",
                        "--value", "book_type:Poetry=Classic", "--default", "year_published=2024"], env)  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    import_id = re.search(r"Import #(\d+) queued", queued.stdout)[1]
    run_worker(app)
    assert book(app, layouts.isbn13(2)).description == "- Hardcover\n- 320 pages"
    report = flask_cli(["import-report", import_id], env)
    assert report.returncode == 0, report.stderr
    assert "Stored 3 descriptions written in HTML as plain text (rows 2, 3, 6)." in report.stderr


WOO_CHOICES = {"column-title": "Name", "column-author": "Attribute 1 value(s)", "column-isbn": "SKU",
               "column-price": "Regular price", "column-quantity": "Stock", "column-description": "Description",
               "default-book_type": "Classic", "default-year_published": "2024", "group_by": "Parent"}  # fmt: skip


def test_a_woocommerce_exports_variations_take_their_products_details_and_its_variable_product_is_left_out(
    app, staff_client
):
    """A WooCommerce product export (its public columns): Match columns does not offer its Type (simple,
    variable, variation) as the book's type and offers Parent as the column naming each row's product; the
    variable product's own row (no price, no stock) is left out and told, not rejected; each variation is a
    book of its own (its SKU, price and stock) with its product's author and description, the description's
    HTML read as text."""
    from tests import layouts
    from tests.test_matching import selected

    name, content = layouts.woocommerce(1, 2)
    response = upload(staff_client, content, name)
    assert response.location.endswith("/columns"), response.location
    staff_client.get(response.location)
    run_worker(app)  # the file's column profile
    page = staff_client.get(response.location).get_data(as_text=True)
    assert selected(page, "column-book_type") == ""
    assert selected(page, "group_by") == "Parent"

    live = staff_client.post(response.location + "/preview", data=WOO_CHOICES).get_json()
    verdicts = re.findall(r'<td class="num">(\d+)</td>.*?<td class="verdict">(.*?)</td>', live["preview_html"], re.S)
    said = {int(n): " ".join(html.unescape(re.sub(r"<[^>]+>", " ", v)).split()) for n, v in verdicts}
    assert said[3] == "Left out: a variable or grouped product's own row (its variations are the books)", said
    assert said[2] == said[4] == said[5] == "Valid", said

    assert staff_client.post(response.location, data={**WOO_CHOICES, "action": "continue"}).status_code == 302
    run_worker(app)
    location = response.location.removesuffix("/columns")
    state = import_state(staff_client, location)
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 6, 0), state
    assert state["repairs"]["product_rows"] == {"count": 2, "rows": [3, 7]}
    assert "Left out: 2 rows of variable or grouped products (rows 3, 7)" in page_text(staff_client, location)
    simple, hardcover, paperback = (book(app, layouts.isbn13(3 + k)) for k in range(3))
    assert (simple.title, simple.author, simple.description) == ("Shop novel 1", "Ann Leckie", "A novel 1…")
    assert (hardcover.title, hardcover.author, hardcover.description) == (
        "Shop saga 1 - Hardcover", "Iain Banks", "The saga 1.")  # fmt: skip
    assert (str(hardcover.price), hardcover.quantity, str(paperback.price), paperback.quantity) == (
        "24.00",
        2,
        "9.99",
        3,
    )
    assert paperback.author == "Iain Banks" and book(app, layouts.isbn13(8)).author == "Iain Banks"


def test_a_woocommerce_variable_products_row_is_left_out_even_when_it_would_read_as_a_book(app):
    """Through the API, all or nothing: with a price for every row where a row has none, the variable
    product's own row would pass as a book (its SKU is no ISBN here, so give it one): it is still left out, not
    imported and not rejected, so the all-or-nothing import saves every variation."""
    import json

    from tests import layouts
    from tests.test_access import bearer
    from tests.test_mapping import finished, post_file

    name, content = layouts.woocommerce(5, 1)
    rows = list(csv.reader(io.StringIO(content.decode())))
    rows[2][rows[0].index("SKU")] = isbn13(999)  # the variable product's row, with an ISBN of its own
    mapping = {**layouts.WOOCOMMERCE_MAPPING, "defaults": {**layouts.WOOCOMMERCE_MAPPING["defaults"], "price": "0"}}
    headers = bearer(app)
    state = finished(app, headers, post_file(app, headers, name, csv_bytes(rows[1:], header=rows[0]),
                                             mapping=json.dumps(mapping), all_or_nothing="true"))  # fmt: skip
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 3, 0), state
    assert state["repairs"]["product_rows"] == {"count": 1, "rows": [3]}
    assert book(app, isbn13(999)) is None
    assert book(app, layouts.isbn13(17)).description == "The saga 5."


def test_a_comma_separated_sheets_prices_with_decimal_commas_are_read_and_the_import_says_so(app, staff_client):
    """A shop's sheet kept in a European locale and downloaded as CSV: comma-separated, so its prices,
    written with a decimal comma ("9,99 €", "1.234,50 €"), are quoted. They were refused as decimal commas
    in a comma-separated file. The price column's first values all have one, so its prices are read with
    one, and the import page says so. A price that reads two ways there ("1,234 €": a thousand and more, or
    three decimals?) is refused saying why, and the fix checked for it is read as the import read prices."""
    from tests import layouts
    from tests.test_access import bearer

    name, content = layouts.euro_sheet(1, count=6, prices=(*layouts.EURO_PRICES, "1,234 €"))
    assert '"9,99 €",401,3' in content.decode()  # quoted, as the download writes it
    response = upload(staff_client, content, name)
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 5, 1), state
    assert state["read_as"] == "CSV, UTF-8, comma-separated, prices with a decimal comma"
    prices = {n: str(book(app, layouts.isbn13_of(n)).price) for n in range(1, 6)}
    assert prices == {1: "9.99", 2: "12.50", 3: "1234.50", 4: "0.99", 5: "7.50"}
    page = page_text(staff_client, response.location)
    assert "Read as CSV, UTF-8, comma-separated, prices with a decimal comma." in page
    assert "Price has three digits after its comma, read here as a decimal comma" in page
    fixed = dict(zip(layouts.EURO_SHEET_HEADER, next(csv.reader([content.decode().splitlines()[6]])), strict=True))
    assert fixed["Price"] == "1,234 €"
    answer = app.test_client().post(
        f"/api/v1/imports/{state['id']}/validate-row",
        headers=bearer(app, "api@example.com"),
        json={"row": 7, "cells": {**fixed, "Price": "1.234,00 €"}},
    )
    assert (answer.get_json()["valid"], answer.get_json()["book"]["price"]) == (True, "1234.00"), answer.get_json()


def test_a_comma_separated_price_column_with_decimal_points_keeps_its_thousands_and_refuses_a_comma(app, staff_client):
    """Where the price column's first values have a decimal point (12.99), a comma groups thousands: "1,234"
    is 1234.00, never 1.234; a price with a decimal comma among them ("9,99") is refused, saying the
    column's prices are read with a decimal point, and the file is read as before."""
    rows = [book_row(1), book_row(2, Price="1,234"), book_row(3, Price="$1,234.50"), book_row(4, Price="9,99")]
    response = upload(staff_client, csv_bytes(rows))
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["created"], state["rejected"], state["read_as"]) == (3, 1, "CSV, UTF-8, comma-separated"), state
    assert [str(book(app, isbn13(n)).price) for n in (1, 2, 3)] == ["1.01", "1234.00", "1234.50"]
    assert (
        "Price uses a decimal comma, but the column's first prices do not all use one, so its prices are read "
        "with a decimal point: write it like 12.99" in page_text(staff_client, response.location)
    )


def test_a_comma_separated_sheets_whole_numbers_group_thousands_with_points_as_its_prices_do(app, staff_client):
    """In the European sheet a point groups thousands in prices (1.234,50 €), and so it does in a stock of
    1.200 (1200 copies, not a refused 1.2) and 1.024 pages. The import says in which rows it read a whole
    number so, as the prices tell it, not the file. Where prices have points, 1.200 copies stays refused."""
    from tests import layouts

    name, content = layouts.euro_sheet(1, count=5)
    rows = list(csv.reader(io.StringIO(content.decode())))
    stock, pages = (layouts.EURO_SHEET_HEADER.index(h) for h in ("Stock", "Pages"))
    rows[2][stock], rows[4][pages] = "1.200", "1.024"  # book 2's stock (row 3), book 4's pages (row 5)
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    response = upload(staff_client, buffer.getvalue().encode(), name)
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["created"], state["rejected"]) == (5, 0), state
    assert (book(app, layouts.isbn13_of(2)).quantity, book(app, layouts.isbn13_of(4)).no_of_pages) == (1200, 1024)
    assert state["repairs"]["thousands_points_read"] == {"count": 2, "rows": [3, 5]}
    assert "the quantity or number of pages of 2 rows, such as 1.200 read as 1200 (rows 3, 5)" in page_text(
        staff_client, response.location
    )

    points = upload(staff_client, csv_bytes([book_row(1), book_row(2, Quantity="1.200")]))
    run_worker(app)
    state = import_state(staff_client, points.location)
    assert (state["created"], state["rejected"]) == (1, 1) and "thousands_points_read" not in state["repairs"]


def progress_count(page_html: str) -> str:
    """The import page's line of how far it has got ("100 % · 8 rows: 6 read, 2 left out · 300 rows/s"), as text."""
    found = re.search(r'<p class="progress-count">(.*?)</p>', page_html, re.S)
    assert found, "no progress line"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def left_out_files(tmp_path: Path) -> dict[str, tuple[str, bytes, dict | None]]:
    """Files whose rows the import leaves out on purpose: name, content and the mapping the API is sent."""
    from tests import layouts

    totals = ["" if c is None else str(c) for c in totals_row("Total:", "55")]
    stock = [book_row(n) for n in range(1, BOOKS + 1)] + [totals]
    flat_file = {"columns": {"isbn": "Product ID"}, "defaults": {"book_type": "Classic"}}
    return {
        "shopify-variants": (*layouts.shopify_variants(1, 3), layouts.SHOPIFY_VARIANTS_MAPPING),
        "woocommerce": (*layouts.woocommerce(1, 2), layouts.WOOCOMMERCE_MAPPING),
        "inventory-flat-file": (*layouts.amazon_flatfile(1), flat_file),
        "totals-row": (*shop_file(tmp_path, "csv", stock), None),
    }


@pytest.mark.parametrize(
    ("layout", "rows", "read", "note", "left_out"),
    [("shopify-variants", 9, 6, "rows_without_book_cells", 3), ("woocommerce", 8, 6, "product_rows", 2),
     ("inventory-flat-file", 5, 4, "second_header_row", 1), ("totals-row", BOOKS + 1, BOOKS, "totals_rows", 1)],
)  # fmt: skip
def test_a_finished_import_counts_the_rows_it_left_out_among_the_files_rows(
    app, staff_client, tmp_path, layout, rows, read, note, left_out
):
    """A shop's product export (its image rows, a variable product's own row), a flat file's second header
    row, a sheet's totals row: the import leaves them out and tells them further down its page. Its count
    says the file's rows, those read and those left out ("9 rows: 6 read, 3 left out"), not "6 of 6 rows"
    for a file of 9; the API gives the rows left out, its other figures as they were."""
    import json

    from tests.test_access import bearer
    from tests.test_mapping import finished, post_file

    name, content, mapping = left_out_files(tmp_path)[layout]
    form = {"mapping": json.dumps(mapping)} if mapping else {}
    headers = bearer(app)
    state = finished(app, headers, post_file(app, headers, name, content, **form))
    assert (state["status"], state["rejected"], state["processed_rows"], state["total_rows"]) == (
        "succeeded", 0, read, read)  # fmt: skip
    said = f"{rows} rows: {read} created, {left_out} left out"
    page = staff_client.get(f"/imports/{state['id']}").get_data(as_text=True)
    assert progress_count(page).startswith(f"100 % · {said}"), progress_count(page)
    assert (state["left_out_rows"], state["rows_label"]) == (state["repairs"][note]["count"], said)
    assert '<p class="note" id="' in page and "Left out: " in page, "the notes below say which rows and why"


def test_a_running_import_counts_the_rows_it_left_out_as_gone_through(app, staff_client):
    """A Shopify export of 300 rows, every third one only adding an image, held right after its first chunk
    of 60 rows is committed: the live count and percent say how far the import has got through the file, the
    20 rows left out included ("20 % · 60 of 300 rows (20 left out)"), not "13 % · 40 of 300 rows", a
    third behind, before ending at "200 of 200 rows"."""
    import json

    from tests import layouts
    from tests.pause_points import chunk_committed_hook
    from tests.test_access import bearer
    from tests.test_mapping import post_file

    app.config["IMPORT_CHUNK_SIZE"] = 60
    name, content = layouts.shopify_variants(1, 100)
    headers = bearer(app)
    response = post_file(app, headers, name, content, mapping=json.dumps(layouts.SHOPIFY_VARIANTS_MAPPING))
    location = response.headers["Location"].removeprefix("/api/v1")
    held = {}

    def look(_):  # as a person's browser would: a request of its own, not in the worker's app context
        def get():
            held["state"] = import_state(staff_client, location)
            held["page"] = staff_client.get(location).get_data(as_text=True)

        browser = threading.Thread(target=get)
        browser.start()
        browser.join()

    with chunk_committed_hook(look):
        run_worker(app)
    state = held["state"]
    assert (state["status"], state["processed_rows"], state["total_rows"]) == ("running", 40, 300), state
    assert progress_count(held["page"]).startswith("20 % · 60 of 300 rows (20 left out)"), progress_count(held["page"])
    assert (state["left_out_rows"], state["percent"], state["rows_label"]) == (20, 20, "60 of 300 rows (20 left out)")
    done = import_state(staff_client, location)
    assert (done["created"], done["left_out_rows"]) == (200, 100)
    assert done["rows_label"] == "300 rows: 200 created, 100 left out"
