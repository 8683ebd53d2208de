"""More files: .xls, .ods and .xlsb workbooks, UTF-16 "Unicode Text", .tsv and .txt, each written here
by a library that writes that format (or, for .xlsb, record by record), read right and imported by a
real worker; and hostile or broken ones refused with a message, never a crash or a 500."""

import datetime
import io
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bookapp.importer import FileProblem, open_table
from bookapp.importer.reading import detect_kind
from tests.conftest import ROOT, run_worker
from tests.helpers import (
    HEADER,
    book_row,
    csv_bytes,
    isbn13,
    typed_book_row,
    unicode_text_bytes,
    write_ods,
    write_xls,
    xlsb_bytes,
)
from tests.test_imports import REJECTED_AS_SHOWN, ROWS_AS_SAVED, book_count, import_state, upload


def write_xlsb(path: Path, rows, **kwargs) -> Path:
    path.write_bytes(xlsb_bytes(rows, **kwargs))
    return path


WRITERS = {"xls": write_xls, "ods": write_ods, "xlsb": write_xlsb}
#: How each format gives back a whole number: .xls keeps integers, the others store every number as a float.
WHOLE = {"xls": int, "ods": float, "xlsb": float}


def read_all(path) -> tuple[str, list[object], list[tuple[int, list[object]]]]:
    with open_table(path) as table:
        return table.description, table.headers, list(table.rows)


@pytest.mark.parametrize("kind", list(WRITERS))
def test_each_workbook_kind_gives_headers_typed_cells_and_sheet_row_numbers(tmp_path, kind):
    rows = [typed_book_row(1), [None] * 9, typed_book_row(2, Description=True), typed_book_row(3)]
    path = WRITERS[kind](tmp_path / f"books.{kind}", rows)
    assert detect_kind(path) == kind
    description, headers, read = read_all(path)
    assert description == f"{kind.upper()}, sheet 'Books'"
    assert headers == HEADER
    assert [number for number, _ in read] == [2, 4, 5]  # the empty row 3 is skipped, not renumbered
    first = read[0][1]
    assert first[:4] == ["Book 1", "Author 1", "Magazine", isbn13(1)]
    assert first[4:8] == [1951, 1.01, 101, 1] and type(first[4]) is WHOLE[kind] and type(first[5]) is float
    assert read[1][1][8] is True


@pytest.mark.parametrize("kind", ["xls", "ods"])
def test_dates_come_back_as_dates(tmp_path, kind):
    path = WRITERS[kind](
        tmp_path / f"books.{kind}", [typed_book_row(1, **{"Year published": datetime.date(1999, 5, 1)})]
    )
    assert read_all(path)[2][0][1][4] == datetime.date(1999, 5, 1)


@pytest.mark.parametrize("kind", list(WRITERS))
def test_the_kind_comes_from_the_bytes_not_the_name(tmp_path, kind):
    path = tmp_path / "books.csv"
    WRITERS[kind](path, [typed_book_row(1)])
    assert detect_kind(path) == kind
    assert read_all(path)[2][0][0] == 2


def test_an_xls_book_sheet_is_chosen_and_its_merged_cells_fill_their_area(tmp_path):
    import xlwt

    workbook = xlwt.Workbook()
    workbook.add_sheet("Notes").write(0, 0, "Delivery of 3 May")
    sheet = workbook.add_sheet("Stock")
    for column, name in enumerate(HEADER):
        sheet.write(0, column, name)
    for row in (1, 2):
        for column, value in enumerate(typed_book_row(row)):
            if column != 2:
                sheet.write(row, column, value)
    sheet.write_merge(1, 2, 2, 2, "Classic")  # one Book type for both rows
    path = tmp_path / "stock.xls"
    workbook.save(str(path))
    description, _, read = read_all(path)
    assert description == "XLS, sheet 'Stock'"
    assert [(number, cells[2]) for number, cells in read] == [(2, "Classic"), (3, "Classic")]


@pytest.mark.parametrize("byte_order", ["le", "be"])
def test_unicode_text_is_read_as_it_streams_with_the_rows_and_lines_of_a_utf8_csv(tmp_path, byte_order):
    path = tmp_path / "books.txt"
    path.write_bytes(unicode_text_bytes(ROWS_AS_SAVED, byte_order=byte_order))
    assert detect_kind(path) == "csv"
    utf8 = tmp_path / "books.csv"
    utf8.write_bytes(csv_bytes(ROWS_AS_SAVED))
    with open_table(path) as table, open_table(utf8) as same:
        assert table.description == f"CSV, UTF-16 {byte_order.upper()} with BOM, tab-separated"
        assert table.headers == HEADER  # no byte order mark in the first header
        rows = list(table.rows)
        assert rows == list(same.rows)
        assert [table.lines.line(row) for row, _, _ in REJECTED_AS_SHOWN] == [line for _, line, _ in REJECTED_AS_SHOWN]
        assert table.estimated_rows == same.estimated_rows and not table.nul_cells
    assert rows[0][1][8] == "First line.\nSecond line." and rows[-1][0] == 12


def test_unicode_text_with_a_nul_character_or_cut_short(tmp_path):
    path = tmp_path / "books.txt"
    path.write_bytes(unicode_text_bytes([book_row(1, Title="A\0B"), book_row(2, Title="Żółw")]))
    with open_table(path) as table:
        assert table.nul_cells and [cells[0] for _, cells in table.rows] == ["A\0B", "Żółw"]
    path.write_bytes(path.read_bytes()[:-1])  # half a character at the end
    with pytest.raises(FileProblem, match="not valid UTF-16"), open_table(path):
        pass


@pytest.mark.parametrize("name", ["books.tsv", "books.txt"])
def test_tab_separated_text_is_judged_by_its_content(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(csv_bytes([book_row(1), book_row(2)], delimiter="\t"))
    description, headers, rows = read_all(path)
    assert description == "CSV, UTF-8, tab-separated" and headers == HEADER
    assert [(n, cells[0]) for n, cells in rows] == [(2, "Book 1"), (3, "Book 2")]


# Hostile and broken files.


def rezip(path: Path, change=lambda name, data: data, extra: dict | None = None) -> Path:
    """Rewrite a zipped workbook, changing members and adding others."""
    original = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    with original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            archive.writestr(
                info, change(info.filename, original.read(info.filename)), compress_type=info.compress_type
            )
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def ods_with_repeats(path: Path, rows: int, columns: int) -> Path:
    """An .ods whose last row says it repeats a cell with a value *columns* times, *rows* times over."""
    repeated = (
        f'<table:table-row table:number-rows-repeated="{rows}"><table:table-cell office:value-type="string" '
        f'table:number-columns-repeated="{columns}"><text:p>x</text:p></table:table-cell></table:table-row>'
    ).encode()
    write_ods(path, [typed_book_row(1)])
    return rezip(path, lambda name, data: data.replace(b"</table:table>", repeated + b"</table:table>"))


def open_in_a_process(path: Path) -> subprocess.CompletedProcess:
    """Open *path* with open_table in a process of its own with 2 GB of address space: a check that let
    a hostile file through would end that process (or its memory), not the tests."""
    code = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from bookapp.importer import open_table\n"
        f"with open_table({str(path)!r}) as table:\n"
        "    print(sum(1 for _ in table.rows), 'rows')\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_an_ods_zip_bomb_and_an_ods_repeating_cells_past_the_cap_are_refused(tmp_path):
    bomb = rezip(write_ods(tmp_path / "bomb.ods", [typed_book_row(1)]), extra={"Pictures/x.bin": b"\0" * (300 << 20)})
    with pytest.raises(FileProblem, match="zip bomb"), open_table(bomb):
        pass
    # 2 KB that would make 96 million cells (12 GB in the reader) if the repeats were not counted first.
    repeats = ods_with_repeats(tmp_path / "repeats.ods", 6_000, 16_000)
    assert repeats.stat().st_size < 4096
    run = open_in_a_process(repeats)
    assert (
        run.returncode == 1
        and "FileProblem: The spreadsheet's sheets expand to more than 10,000,000 cells" in run.stderr
    )
    # Repeats that stay reasonable are read, every repeated row under its own number.
    _, _, rows = read_all(ods_with_repeats(tmp_path / "fine.ods", 3, 2))
    assert [(n, cells[:2]) for n, cells in rows[1:]] == [(n, ["x", "x"]) for n in (3, 4, 5)]


def xls_record(path: Path, kind: int) -> int:
    """Return where the first BIFF record of *kind* starts in an .xls written by xlwt (records are
    contiguous, so the search is safe on these small files)."""
    data = path.read_bytes()
    offset = data.find(struct.pack("<H", kind) + (b"\x0e\x00" if kind == 0x0200 else b""))
    assert offset > 0
    return offset


def test_an_xls_declaring_a_huge_sheet_is_refused_before_the_reader_reserves_it(tmp_path):
    path = write_xls(tmp_path / "huge.xls", [typed_book_row(1)])
    content = bytearray(path.read_bytes())
    dimensions = xls_record(path, 0x0200)  # DIMENSIONS: first row, last row + 1, first column, last column + 1
    struct.pack_into("<IIHH", content, dimensions + 4, 0, 0xFFFFFFFF, 0, 255)
    path.write_bytes(bytes(content))
    run = open_in_a_process(path)  # unchecked, the reader asks for terabytes and the process aborts
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Sheet 'Books' declares 4,294,967,295 rows and 255 columns, more than an .xls holds" in run.stderr


def test_an_xls_whose_cells_span_too_much_of_the_sheet_is_refused(tmp_path):
    rows = [typed_book_row(1)] + [[None] * 9] * 65_533 + [[None] * 255 + ["far away"]]
    path = write_xls(tmp_path / "corners.xls", rows)
    with pytest.raises(FileProblem, match=r"more than 10,000,000 cells \(sheet 'Books' alone: 65,536 rows × 256"):
        open_table(path).__enter__()


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_a_truncated_xls_is_refused_as_cut_short(tmp_path, keep):
    path = write_xls(tmp_path / "cut.xls", [typed_book_row(n) for n in range(1, 200)])
    content = path.read_bytes()
    path.write_bytes(content[: int(len(content) * keep)])
    with pytest.raises(FileProblem, match="damaged or incomplete \\(cut short"), open_table(path):
        pass


def renamed_stream(path: Path, name: str) -> bytes:
    """Return the .xls with its Workbook stream renamed (an OLE2 directory entry: UTF-16 name, byte length)."""
    content = bytearray(path.read_bytes())
    entry = content.find("Workbook".encode("utf-16-le"))
    content[entry : entry + 64] = (name + "\0").encode("utf-16-le").ljust(64, b"\0")
    struct.pack_into("<H", content, entry + 64, 2 * (len(name) + 1))
    return bytes(content)


@pytest.mark.parametrize(
    "stream, message",
    [
        ("EncryptedPackage", "password-protected"),
        ("WordDocument", "a Word document"),
        ("Pictures", "holds no Excel workbook"),
    ],
)
def test_other_ole2_files_are_named_for_what_they_are(tmp_path, stream, message):
    path = tmp_path / "books.xls"
    path.write_bytes(renamed_stream(write_xls(path, [typed_book_row(1)]), stream))
    with pytest.raises(FileProblem, match=message):
        detect_kind(path)


def test_a_password_protected_xls_is_refused_saying_so(tmp_path):
    path = write_xls(tmp_path / "locked.xls", [typed_book_row(1)])
    content = bytearray(path.read_bytes())
    struct.pack_into("<H", content, xls_record(path, 0x005C), 0x002F)  # WRITEACCESS becomes FILEPASS
    path.write_bytes(bytes(content))
    with pytest.raises(FileProblem, match="password-protected"), open_table(path):
        pass


def test_a_damaged_xlsb_is_refused_cleanly(tmp_path):
    path = write_xlsb(tmp_path / "books.xlsb", [typed_book_row(1)])
    # A cell pointing at shared string 7 of none (the reader panics on it), then a cut-short sheet.
    broken = struct.pack("<BBII", 0x07, 12, 0, 0) + struct.pack("<I", 7)
    rezip(
        path,
        lambda name, data: (
            data.replace(b"\x92\x01\x00", broken + b"\x92\x01\x00") if name.endswith("sheet1.bin") else data
        ),
    )
    with pytest.raises(FileProblem, match="XLSB workbook cannot be read: it is damaged"), open_table(path):
        pass
    rezip(path, lambda name, data: data[:30] if name.endswith("sheet1.bin") else data)
    with pytest.raises(FileProblem, match="XLSB workbook cannot be read"), open_table(path):
        pass
    path.write_bytes(path.read_bytes()[:-40])  # the zip itself cut short
    with pytest.raises(FileProblem, match="damaged zip"):
        detect_kind(path)


@pytest.mark.parametrize(
    "members, message",
    [({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"}, "OpenDocument text file"),
     ({"word/document.xml": "<x/>"}, "Word document \\(.docx\\)"), ({"notes.txt": "hello"}, "zip archive but not a spreadsheet")],
)  # fmt: skip
def test_other_zips_are_named_for_what_they_are(tmp_path, members, message):
    path = tmp_path / "books.ods"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(FileProblem, match=message):
        detect_kind(path)


# End to end: the real upload form, a real worker, SQLite and PostgreSQL.


def bad_price_rows(typed: bool) -> list[list[object]]:
    make = typed_book_row if typed else book_row
    return [make(1), make(2, Price="ten"), make(3)]


FILES = {
    "books.xls": lambda tmp: write_xls(tmp / "f.xls", bad_price_rows(True)).read_bytes(),
    "books.ods": lambda tmp: write_ods(tmp / "f.ods", bad_price_rows(True)).read_bytes(),
    "books.xlsb": lambda tmp: xlsb_bytes(bad_price_rows(True)),
    "books.txt": lambda tmp: unicode_text_bytes(bad_price_rows(False)),  # Excel's "Unicode Text"
    "books.tsv": lambda tmp: csv_bytes(bad_price_rows(False), delimiter="\t"),
    "notes.txt": lambda tmp: csv_bytes(bad_price_rows(False), delimiter=";", encoding="cp1252"),
}
KINDS = {"books.xls": "xls", "books.ods": "ods", "books.xlsb": "xlsb"}


@pytest.mark.parametrize("name", list(FILES))
def test_each_kind_uploads_and_imports_with_its_rows_numbered(app, staff_client, tmp_path, name):
    response = upload(staff_client, FILES[name](tmp_path), name=name)
    assert response.status_code == 302, response.get_data(as_text=True)
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 2, 1), state
    kind = KINDS.get(name, "csv")
    assert state["read_as"].startswith(kind.upper())
    stored = list(Path(app.config["UPLOAD_FOLDER"]).iterdir())
    assert [p.suffix for p in stored] == [f".{kind}"]  # the stored file is named for its kind
    rejected = staff_client.get(response.location + "/rejected.csv").get_data(as_text=True)
    # The bad row is row 3, as the sheet shows it; a semicolon-separated file's rows come back with semicolons.
    between = ";" if name == "notes.txt" else ","
    assert "Book 2" in rejected and f"{between}3{between}" in rejected
    report = staff_client.get(response.location + "/report.csv").get_data(as_text=True).splitlines()
    assert [line.split(",")[:2] for line in report[1:]] == [["2", "created"], ["3", "rejected"], ["4", "created"]]
    assert book_count(app) == 2


def test_the_api_takes_an_ods(app, tmp_path):
    from tests.test_access import bearer

    headers = bearer(app)
    content = write_ods(tmp_path / "f.ods", [typed_book_row(1)]).read_bytes()
    response = app.test_client().post(
        "/api/v1/imports", headers=headers, data={"file": (io.BytesIO(content), "stock.ods")}
    )
    assert response.status_code == 202, response.get_json()
    run_worker(app)
    assert app.test_client().get(response.location, headers=headers).get_json()["created"] == 1


def test_hostile_and_broken_files_get_a_message_not_a_500(app, staff_client, tmp_path):
    bomb = rezip(write_ods(tmp_path / "b.ods", [typed_book_row(1)]), extra={"Pictures/x.bin": b"\0" * (300 << 20)})
    response = upload(staff_client, bomb.read_bytes(), name="bomb.ods")
    # A small .ods is opened for its header in the upload's request, so the bomb is refused there.
    assert response.status_code == 400 and "zip bomb" in response.get_data(as_text=True)

    truncated = write_xls(tmp_path / "t.xls", [typed_book_row(n) for n in range(1, 200)]).read_bytes()
    response = upload(staff_client, truncated[: len(truncated) // 2], name="books.xls")
    assert response.status_code == 400 and "damaged or incomplete" in response.get_data(as_text=True)

    after = upload(staff_client, write_xls(tmp_path / "ok.xls", [typed_book_row(7)]).read_bytes(), name="ok.xls")
    run_worker(app)
    assert import_state(staff_client, after.location)["created"] == 1  # the worker lives on


def test_the_upload_form_offers_every_kind(staff_client):
    page = staff_client.get("/imports/new").get_data(as_text=True)
    assert 'accept=".csv,.tsv,.txt,.xlsx,.xls,.xlsb,.ods,text/csv,' in page
    assert "application/vnd.oasis.opendocument.spreadsheet" in page and "UTF-16" in page
    refused = upload(staff_client, b"%PDF-1.4", name="books.pdf")
    assert refused.status_code == 400
    assert "Upload a .csv, .tsv, .txt, .xlsx, .xls, .xlsb or .ods file." in refused.get_data(as_text=True)


def test_a_refused_file_is_named_in_the_refusal(staff_client):
    """After a refusal the file box is empty again ("No file chosen"): the message names the file that was
    sent, whether its name (a PDF) or its bytes (a PDF named .csv) gave it away."""
    from tests.test_matching import text_of

    by_name = text_of(upload(staff_client, b"%PDF-1.4", name="cover letter.pdf"))
    assert (
        "“cover letter.pdf” cannot be imported. Upload a .csv, .tsv, .txt, .xlsx, .xls, .xlsb or .ods file." in by_name
    )
    by_bytes = text_of(upload(staff_client, b"%PDF-1.4", name="stock.csv"))
    assert "“stock.csv” cannot be imported. The file is a PDF document, not a spreadsheet." in by_bytes
    nothing = text_of(upload(staff_client, b"", name=""))
    assert "Choose a spreadsheet or CSV file to upload." in nothing and "cannot be imported" not in nothing


def priced_workbook(path: Path) -> Path:
    """A shop's price list as a spreadsheet program saves it: Cost typed in, Price worked out from it
    (=F2*1.2) with its result saved (Excel writes 17 significant digits: 9.9960000000000004), both shown as
    pounds with pence; one price shown with one decimal, one typed in a General cell with 3 decimals, one
    percentage."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Title", "Author", "Book type", "ISBN", "Year published", "Cost", "Price", "Quantity"])
    costs = [8.33, 10.4125, 2.2291666, 5.0, 4.0]
    for n, cost in enumerate(costs, start=1):
        sheet.append([f"Priced {n}", "Ann", "Classic", isbn13(n), 2001, cost, f"=F{n + 1}*1.2", 3])
        sheet.cell(n + 1, 6).number_format = sheet.cell(n + 1, 7).number_format = '"£"#,##0.00'
    sheet["G4"].number_format = "#,##0.0 [$€-407];[Red]-#,##0.0 [$€-407]"  # one decimal shown
    sheet["G5"].number_format = "General"  # 6.0 * 1.2 typed below as 7.125: not rounded, refused
    sheet["G6"].number_format = "0.00%"
    book.save(path)
    saved = {"G2": "9.9960000000000004", "G3": "12.494999999999999", "G4": "2.67499992", "G5": "7.125", "G6": "0.12345"}

    def with_results(name: str, data: bytes) -> bytes:
        if not name.startswith("xl/worksheets/"):
            return data
        text = data.decode()
        for ref, value in saved.items():
            start = text.index(f'<c r="{ref}"')
            end = text.index("</c>", start)
            cell = text[start:end]
            cell = cell.replace("<v></v>", "").replace("<v />", "").replace("<v/>", "") + f"<v>{value}</v>"
            text = text[:start] + cell + text[end:]
        return text.encode()

    return rezip(path, with_results)


def test_a_worked_out_price_is_read_as_the_sheet_shows_it_and_the_import_says_so(app, staff_client, tmp_path):
    """A price held as 9.996 and shown as £10.00 was refused for its decimals, which nobody sees. A number
    cell whose format shows a fixed number of decimals is read as shown (half away from zero: 12.495 shows
    as £12.50), and the import page names the rows so read; a General cell keeps its value and its
    refusal, and a percentage is not rounded to its shown digits."""
    path = priced_workbook(tmp_path / "prices.xlsx")
    with open_table(path) as table:
        prices = {n: cells[5:7] for n, cells in table.rows}
        assert table.shown.among([2, 3, 4, 5, 6], frozenset({5, 6})) == [2, 3, 4]  # cost and price (£10.41)
    assert prices == {2: [8.33, 10.0], 3: [10.41, 12.5], 4: [2.23, 2.7], 5: [5.0, 7.125], 6: [4.0, 0.12345]}

    response = upload(staff_client, path.read_bytes(), name="prices.xlsx")
    assert response.status_code == 302, response.get_data(as_text=True)
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["created"], state["rejected"]) == (3, 2), state
    assert state["repairs"]["numbers_read_as_shown"] == {"count": 3, "rows": [2, 3, 4]}
    page = " ".join(staff_client.get(response.location).get_data(as_text=True).split())
    assert "Read as the sheet shows them: in 3 rows (rows 2, 3, 4) a number held with more decimals" in page
    rejected = staff_client.get(response.location + "/rejected.csv").get_data(as_text=True)
    assert "7.125" in rejected and "Price has more than 2 decimal places" in rejected
    from bookapp.extensions import db
    from bookapp.models import Book

    with app.app_context():
        prices = dict(db.session.query(Book.title, Book.price))
    assert {t: str(p) for t, p in prices.items()} == {"Priced 1": "10.00", "Priced 2": "12.50", "Priced 3": "2.70"}


def test_the_note_of_numbers_read_as_shown_names_only_book_rows_and_the_columns_fields_read(
    app, staff_client, tmp_path
):
    """A shop's price list: its Cost column (no field reads it) holds worked-out costs shown as pounds, a
    row under the books holds only a cost (left out: no book), and its totals row sums the prices
    (=SUM(G2:G4), shown £27.30; left out as totals). Only the price read as shown in a book row is in
    the note of numbers read as shown: row 2, not the cost of row 3, nor rows 5 and 6."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Title", "Author", "Book type", "ISBN", "Year published", "Cost", "Price", "Quantity"])
    sheet.append(["Priced 1", "Ann", "Classic", isbn13(1), 2001, 8.33, "=F2*1.2", 3])
    sheet.append(["Priced 2", "Ann", "Classic", isbn13(2), 2001, "=G3/1.2", 12.5, 2])
    sheet.append(["Priced 3", "Ann", "Classic", isbn13(3), 2001, 4.0, 4.8, 1])
    sheet.append([None, None, None, None, None, "=F3*0.32"])
    sheet.append(["Total", None, None, None, None, None, "=SUM(G2:G4)", "=SUM(H2:H4)"])
    for row in range(2, 7):
        sheet.cell(row, 6).number_format = sheet.cell(row, 7).number_format = '"£"#,##0.00'
    book.save(tmp_path / "costs.xlsx")
    saved = {"G2": "9.9960000000000004", "F3": "10.416666666666666", "F5": "3.3333333333333335",
             "G6": "27.295999999999999", "H6": "6"}  # fmt: skip

    def with_results(name: str, data: bytes) -> bytes:  # as a spreadsheet program saves them
        if not name.startswith("xl/worksheets/"):
            return data
        for ref, value in saved.items():
            data = re.sub(rb'(<c r="%s"[^>]*>.*?)(?:<v>[^<]*</v>|<v ?/>)?</c>' % ref.encode(),
                          rb"\1<v>%s</v></c>" % value.encode(), data, count=1)  # fmt: skip
        return data

    path = rezip(tmp_path / "costs.xlsx", with_results)
    response = upload(staff_client, path.read_bytes(), name="costs.xlsx")
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["created"], state["rejected"]) == (3, 0), state
    assert state["repairs"]["totals_rows"]["rows"] == [6] and state["repairs"]["rows_without_book_cells"]["rows"] == [5]
    assert state["repairs"]["numbers_read_as_shown"] == {"count": 1, "rows": [2]}
    page = " ".join(staff_client.get(response.location).get_data(as_text=True).split())
    assert "Read as the sheet shows them: in 1 row (row 2) a number held" in page


def test_a_price_is_read_as_shown_whatever_order_its_cell_tag_names_its_place_in(app, staff_client, tmp_path):
    """Spreadsheet programs write a cell's place first (<c r="G2" s="1">); other writers put its style or
    type first (<c s="1" t="n" r="G2">). The same price list written so reads its worked-out prices as
    shown all the same, not refused for decimals nobody sees."""

    def style_first(name: str, data: bytes) -> bytes:
        if not name.startswith("xl/worksheets/"):
            return data
        return re.sub(rb'<c r="(\w+)"((?: [st]="\w+")+)', lambda m: b"<c" + m[2] + b' r="' + m[1] + b'"', data)

    path = rezip(priced_workbook(tmp_path / "prices.xlsx"), style_first)
    assert b'<c s="' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    with open_table(path) as table:
        prices = {n: cells[5:7] for n, cells in table.rows}
    assert prices == {2: [8.33, 10.0], 3: [10.41, 12.5], 4: [2.23, 2.7], 5: [5.0, 7.125], 6: [4.0, 0.12345]}
    response = upload(staff_client, path.read_bytes(), name="prices.xlsx")
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["created"], state["rejected"], state["repairs"]["numbers_read_as_shown"]["rows"]) == (3, 2, [2, 3, 4])


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ('"£"#,##0.00', 2), ("\\£#,##0.00", 2), ("#,##0.00 [$€-407];[Red]-#,##0.00 [$€-407]", 2), ("0.0", 1),
        ('_("$"* #,##0.00_);_("$"* \\(#,##0.00\\);_("$"* "-"??_);_(@_)', 2), ("0", 0), ("#,##0", 0),
        ("General", None), ("0.00%", None), ("0.00E+00", None), ("yyyy-mm-dd", None), ("# ?/?", None),
        ("@", None), ('"Price: "0.000', 3),
    ],
)  # fmt: skip
def test_the_decimals_a_number_format_shows(code, shown):
    from bookapp.importer.shown_numbers import decimals_shown

    assert decimals_shown(code) == shown


def test_an_xls_price_is_read_as_its_cell_format_shows_it(app, staff_client, tmp_path):
    """The same in an old .xls: a price held as 9.996 in a cell shown as £10.00 imports at 10.00 and the
    import says so; one in a General cell keeps its decimals and is refused."""
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Bücher €")  # a name in UTF-16 in the file: its cells are found by it all the same
    money, plain = xlwt.easyxf(num_format_str='"£"#,##0.00'), xlwt.easyxf(num_format_str="General")
    header = ["Title", "Author", "Book type", "ISBN", "Year published", "Price", "Quantity"]
    for column, text in enumerate(header):
        sheet.write(0, column, text)
    for row, (price, style) in enumerate([(9.996, money), (12.495, money), (4.25, money), (7.125, plain)], start=1):
        for column, value in enumerate([f"Old {row}", "Ann", "Classic", isbn13(row), 2001]):
            sheet.write(row, column, value)
        sheet.write(row, 5, price, style)
        sheet.write(row, 6, 2)
    path = tmp_path / "prices.xls"
    book.save(str(path))
    assert prices_read_and_imported(app, staff_client, path) == (
        [2, 3], {2: 10.0, 3: 12.5, 4: 4.25, 5: 7.125}, (3, 1), {"count": 2, "rows": [2, 3]})  # fmt: skip


def prices_read_and_imported(app, client, path: Path) -> tuple:
    """Read *path* (rows read as shown, each row's Price cell), then upload and import it: (those, the
    import's created and rejected counts, its note of the rows read as shown)."""
    with open_table(path) as table:
        prices = {n: cells[5] for n, cells in table.rows}
        read = table.shown.among(list(prices), frozenset({5})), prices
    response = upload(client, path.read_bytes(), name=path.name)
    run_worker(app)
    state = import_state(client, response.location)
    return (*read, (state["created"], state["rejected"]), state["repairs"].get("numbers_read_as_shown"))


def ods_price_list(path: Path, prices: list[tuple[str, str, str]]) -> Path:
    """An .ods price list as a spreadsheet program saves it: each price a number cell of its kind (currency,
    float, percentage) holding its value, with the text the sheet shows for it beside it."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    from tests.helpers import ods_cell

    def shown(value: str, text: str, kind: str):
        cell = TableCell(valuetype=kind, value=value, **({"currency": "EUR"} if kind == "currency" else {}))
        cell.addElement(P(text=text))
        return cell

    document = OpenDocumentSpreadsheet()
    table = Table(name="Stock & prices")
    header = ["Title", "Author", "Book type", "ISBN", "Year published", "Price", "Quantity"]
    for row in [header, *([f"Ods {n}", "Ann", "Classic", isbn13(n), 2001, shown(*price), 2] for n, price in
                          enumerate(prices, start=1))]:  # fmt: skip
        table_row = TableRow()
        for value in row:
            table_row.addElement(value if hasattr(value, "qname") else ods_cell(value))
        table.addElement(table_row)
    document.spreadsheet.addElement(table)
    document.save(str(path))
    return path


def test_an_ods_price_is_read_as_the_sheet_shows_it(app, staff_client, tmp_path):
    """An .ods keeps beside each number the text the sheet shows for it: a price held as 9.996 and shown as
    "10.00 €" (or "£12.50" for 12.495) imports as shown; one shown as held ("7.125") keeps its decimals and
    is refused; a percentage is never read as its shown digits."""
    prices = [("9.996", "10.00 €", "currency"), ("12.495", "£12.50", "currency"), ("7.125", "7.125", "float"),
              ("0.12345", "12.35%", "percentage")]  # fmt: skip
    path = ods_price_list(tmp_path / "prices.ods", prices)
    assert prices_read_and_imported(app, staff_client, path) == (
        [2, 3], {2: 10.0, 3: 12.5, 4: 7.125, 5: 0.12345}, (2, 2), {"count": 2, "rows": [2, 3]})  # fmt: skip


def test_an_ods_price_with_one_decimal_or_thousands_is_compared_to_the_text_shown(app, staff_client, tmp_path):
    """A price held with one decimal is read as shown too: 9.5 in a whole-money cell shows as £10, and
    imports as 10; shown as £9.50 it is 9.5 as held. A thousands separator is no decimal point: 1234.4
    shown as £1,234 imports as 1234. A whole number shown with decimals is left as it is."""
    money = [("9.5", "£10"), ("9.5", "£9.50"), ("1234.4", "£1,234"), ("12", "£12.00")]
    path = ods_price_list(tmp_path / "prices.ods", [(value, text, "currency") for value, text in money])
    assert prices_read_and_imported(app, staff_client, path) == (
        [2, 4], {2: 10.0, 3: 9.5, 4: 1234.0, 5: 12.0}, (4, 0), {"count": 2, "rows": [2, 4]})  # fmt: skip


@pytest.mark.parametrize(
    ("text", "value", "decimals"),
    [("10.00 €", 9.996, 2), ("£12.50", 12.495, 2), ("1.234,57 €", 1234.5678, 2), ("-3.3", -3.333, 1),
     ("9.996", 9.996, None), ("12.35%", 0.12345, None), ("10.01", 9.996, None), ("10", 9.996, None),
     ("£10", 9.996, 0), ("10 €", 9.996, 0), ("£10", 9.5, 0), ("9.50", 9.5, None), ("10.0", 9.96, 1),
     ("£1,234", 1234.4, 0), ("£1,235", 1234.5, 0), ("1,234 €", 1.2344, 3), ("1,234", 1234.4, None)],
)  # fmt: skip
def test_the_decimals_an_ods_shows_for_a_number(text, value, decimals):
    from bookapp.importer.shown_numbers import shown_decimals

    assert shown_decimals(text, value) == decimals


def test_a_merged_price_is_read_as_shown_in_every_row_it_covers(tmp_path):
    """A price merged down two rows (one price for two editions) is shown rounded in both: the rows below
    the top one take the value as shown, not as held."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Title", "Author", "Book type", "ISBN", "Year published", "Price", "Quantity"])
    sheet.append(["A", "Ann", "Classic", isbn13(1), 2001, 9.996, 1])
    sheet.append(["B", "Ann", "Classic", isbn13(2), 2001, None, 2])
    sheet["F2"].number_format = '"£"#,##0.00'
    sheet.merge_cells("F2:F3")
    sheet.append(["C", "Ann", "Classic", isbn13(3), 2001, -0.004, 3])
    sheet["F4"].number_format = "0.00"
    book.save(tmp_path / "merged.xlsx")
    with open_table(tmp_path / "merged.xlsx") as table:
        prices = [(n, cells[5]) for n, cells in table.rows]
    assert prices == [(2, 10.0), (3, 10.0), (4, 0.0)] and str(prices[2][1]) == "0.0"


def test_cells_read_as_shown_are_kept_compact_capped_and_given_row_by_row(monkeypatch):
    """Found in any order (an .xls's records, an .ods's repeats), given row by row under the header and
    within its columns; past MAX_SHOWN_CELLS the rest are read as held."""
    from bookapp.importer import shown_numbers

    cells = shown_numbers.ShownCells()
    for place, decimals in [((5, 3), 2), ((2, 3), 2), ((2, 9), 1), ((0, 3), 2), ((7, 1), 2), ((5, 4), 1)]:
        cells[place] = decimals
    rows = cells.rows(below=1, first_column=1, width=4)  # the header on sheet row 1, columns B to E
    assert rows.among([3, 4, 5, 6, 7, 8], frozenset(range(4))) == [3, 6, 8]
    assert rows.among([3, 6], frozenset({3})) == [6] and rows.among([4, 5, 7], frozenset(range(4))) == []
    assert [rows.at(r) for r in (2, 3, 5, 7)] == [[(2, 2)], [], [(2, 2), (3, 1)], [(0, 2)]]
    monkeypatch.setattr(shown_numbers, "MAX_SHOWN_CELLS", 2)
    capped = shown_numbers.ShownCells()
    for row in range(5):
        capped[(row, 0)] = 2
    assert len(capped) == 2 and len(capped.keys.tobytes()) == 16


@pytest.mark.parametrize(
    ("code", "rounds_to"),
    [('"£"#,##0', 0), ("[$€-407] #,##0", 0), ("\\£#,##0", 0), ("#,##0", None), ("0", None), ("0.00", 2),
     ('"£"#,##0.00', 2), ("0.00000", None), ("General", None)],
)  # fmt: skip
def test_a_whole_number_format_rounds_only_money(code, rounds_to):
    """A price shown as £10 is read as £10; a count of copies in a whole-number format is never rounded."""
    from bookapp.importer.shown_numbers import rounding_of

    assert rounding_of(code) == rounds_to


def test_a_price_shown_as_whole_money_is_read_as_shown_and_a_count_never_is(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Title", "Author", "Book type", "ISBN", "Year published", "Price", "Quantity"])
    sheet.append(["A", "Ann", "Classic", isbn13(1), 2001, 9.996, 2.5])
    sheet["F2"].number_format = '"£"#,##0'
    sheet["G2"].number_format = "0"
    book.save(tmp_path / "whole.xlsx")
    with open_table(tmp_path / "whole.xlsx") as table:
        assert [cells[5:7] for _, cells in table.rows] == [[10.0, 2.5]]
