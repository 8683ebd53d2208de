"""Make book files for tests: valid ISBNs; CSV, UTF-16 text, XLSX, XLS, ODS and XLSB writers."""

import csv
import io
from pathlib import Path

from stdnum import ean

HEADER = ["Title", "Author", "Book type", "ISBN", "Year published", "Price", "No. of pages", "Quantity", "Description"]
TYPES = ["Sci-tech", "Magazine", "Comic", "Classic", "Horror"]


def isbn13(n: int) -> str:
    """Return a valid ISBN-13 (978 prefix) numbered *n*."""
    body = f"978{n:09d}"
    return body + ean.calc_check_digit(body)


def book_row(n: int, **overrides) -> list[str]:
    """Return a valid CSV row for book number *n*, with fields overridden by name."""
    row = {
        "Title": f"Book {n}",
        "Author": f"Author {n % 97}",
        "Book type": TYPES[n % 5],
        "ISBN": isbn13(n),
        "Year published": str(1950 + n % 70),
        "Price": f"{n % 50}.{n % 100:02d}",
        "No. of pages": str(100 + n % 400),
        "Quantity": str(n % 20),
        "Description": f"Description of book {n}",
    }
    row.update(overrides)
    return [row[h] for h in HEADER]


def csv_bytes(
    rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    """Return a CSV file's bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def write_csv(path: Path, rows: list[list[str]], **kwargs) -> Path:
    """Write a CSV file and return its path."""
    path.write_bytes(csv_bytes(rows, **kwargs))
    return path


def write_xlsx(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    """Write an XLSX workbook with one sheet and return its path."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Books"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def with_shared_strings(path: Path) -> Path:
    """Rewrite an .xlsx that openpyxl wrote, its text in each cell (inline strings), as Excel saves one:
    each text once, in a shared strings part listing them as the sheets first use them, the cells naming
    theirs by its place in that list. Return its path."""
    import re
    import zipfile

    strings: list[bytes] = []

    def shared(match: re.Match) -> bytes:
        if match[3] not in strings:
            strings.append(match[3])
        return b'<c r="%s"%s t="s"><v>%d</v></c>' % (match[1], match[2], strings.index(match[3]))

    with zipfile.ZipFile(path) as source:
        parts = {info: source.read(info.filename) for info in source.infolist()}
    for info, data in parts.items():
        if info.filename.startswith("xl/worksheets/"):
            parts[info] = re.sub(
                rb'<c r="(\w+)"((?: s="\d+")?) t="inlineStr"><is><t[^>]*>([^<]*)</t></is></c>', shared, data
            )
        elif info.filename == "[Content_Types].xml":
            parts[info] = data.replace(
                b"</Types>",
                b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
            )
        elif info.filename == "xl/_rels/workbook.xml.rels":
            parts[info] = data.replace(
                b"</Relationships>",
                b'<Relationship Type="http://schemas.openxmlformats.org/'
                b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml" '
                b'Id="rIdStrings"/></Relationships>',
            )
    items = b"".join(b'<si><t xml:space="preserve">%s</t></si>' % s for s in strings)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts.items():
            target.writestr(info, data)
        target.writestr(
            "xl/sharedStrings.xml",
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns='
            b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">%s</sst>'
            % (len(strings), len(strings), items),
        )
    return path


def typed_book_row(n: int, **overrides) -> list[object]:
    """Return book *n* as a spreadsheet holds it: year, price, pages and quantity as numbers."""
    row: list[object] = book_row(n, **overrides)
    for column in ("Year published", "Price", "No. of pages", "Quantity"):
        index = HEADER.index(column)
        if column not in overrides:
            row[index] = float(row[index]) if column == "Price" else int(row[index])
    return row


def write_xls(path: Path, rows: list[list[object]], header: list[str] = HEADER, sheet: str = "Books") -> Path:
    """Write an Excel 97–2003 workbook (.xls) with one sheet and return its path."""
    import datetime

    import xlwt

    workbook = xlwt.Workbook()
    worksheet = workbook.add_sheet(sheet)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for row_index, row in enumerate([header, *rows]):
        for column, value in enumerate(row):
            if isinstance(value, datetime.date):
                worksheet.write(row_index, column, value, date_style)
            elif value is not None:
                worksheet.write(row_index, column, value)
    workbook.save(str(path))
    return path


def ods_cell(value: object):
    """Return an OpenDocument table cell holding *value* with its type (string, float, date, boolean)."""
    import datetime

    from odf.table import TableCell
    from odf.text import P

    if value is None:
        return TableCell()
    if isinstance(value, bool):
        cell = TableCell(valuetype="boolean", booleanvalue=str(value).lower())
    elif isinstance(value, int | float):
        cell = TableCell(valuetype="float", value=str(value))
    elif isinstance(value, datetime.date):
        cell = TableCell(valuetype="date", datevalue=value.isoformat())
    else:
        cell = TableCell(valuetype="string")
    cell.addElement(P(text=str(value)))
    return cell


def write_ods(path: Path, rows: list[list[object]], header: list[str] = HEADER, sheet: str = "Books") -> Path:
    """Write an OpenDocument spreadsheet (.ods) with one sheet and return its path."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableRow

    document = OpenDocumentSpreadsheet()
    table = Table(name=sheet)
    for row in [header, *rows]:
        table_row = TableRow()
        for value in row:
            table_row.addElement(ods_cell(value))
        table.addElement(table_row)
    document.spreadsheet.addElement(table)
    document.save(str(path))
    return path


def unicode_text_bytes(rows: list[list[str]], header: list[str] = HEADER, byte_order: str = "le") -> bytes:
    """Return a file as Excel saves "Unicode Text": UTF-16 with its byte order mark (little-endian as
    Excel writes it), tab-separated, CR LF line ends, cells with a tab, quote or line break quoted."""
    import codecs

    text = csv_bytes(rows, header, delimiter="\t").decode("utf-8")
    bom = codecs.BOM_UTF16_LE if byte_order == "le" else codecs.BOM_UTF16_BE
    return bom + text.encode(f"utf-16-{byte_order}")


def _record(kind: int, payload: bytes = b"") -> bytes:
    """Return one BIFF12 record (.xlsb): its type and size as 7-bit varints, then its payload."""
    head = bytearray([kind]) if kind < 0x80 else bytearray([(kind & 0x7F) | 0x80, kind >> 7])
    size = len(payload)
    while True:
        head.append((size & 0x7F) | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            return bytes(head) + payload


def _wide(text: str) -> bytes:
    import struct

    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def xlsb_bytes(rows: list[list[object]], header: list[str] = HEADER, sheet: str = "Books",
               far: tuple[int, int] | None = None) -> bytes:  # fmt: skip
    """Return a minimal Excel binary workbook (.xlsb) holding *rows* under *header* in one sheet (and a
    number 1 at *far*, a 0-based row and column, when given).

    Nothing in Python writes .xlsb, so the records are written here as [MS-XLSB] lays them out: the
    workbook lists its sheet (BrtBundleSh), the sheet holds rows (BrtRowHdr) of cells: text
    (BrtCellSt), numbers (BrtCellReal) and booleans (BrtCellBool)."""
    import struct
    import zipfile

    workbook = b"".join([
        _record(0x83), _record(0x8F),  # BrtBeginBook, BrtBeginBundleShs
        _record(0x9C, struct.pack("<II", 0, 1) + _wide("rId1") + _wide(sheet)),  # BrtBundleSh: visible
        _record(0x90), _record(0x84),  # BrtEndBundleShs, BrtEndBook
    ])  # fmt: skip
    all_rows = [header, *rows]
    width = max(len(r) for r in all_rows)
    cells = []
    for row_index, row in enumerate(all_rows):
        cells.append(_record(0x00, struct.pack("<IIHHBI", row_index, 0, 300, 0, 0, 0)))  # BrtRowHdr
        for column, value in enumerate(row):
            where = struct.pack("<II", column, 0)
            if isinstance(value, bool):
                cells.append(_record(0x04, where + bytes([value])))
            elif isinstance(value, int | float):
                cells.append(_record(0x05, where + struct.pack("<d", value)))
            elif value is not None:
                cells.append(_record(0x06, where + _wide(str(value))))
    if far:
        cells.append(_record(0x00, struct.pack("<IIHHBI", far[0], 0, 300, 0, 0, 0)))
        cells.append(_record(0x05, struct.pack("<II", far[1], 0) + struct.pack("<d", 1)))
    worksheet = b"".join([
        _record(0x81),  # BrtBeginSheet
        _record(0x94, struct.pack("<IIII", 0, len(all_rows) - 1, 0, width - 1)),  # BrtWsDim
        _record(0x91), *cells, _record(0x92), _record(0x82),  # sheet data, BrtEndSheet
    ])  # fmt: skip
    relationships = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.bin" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/></Relationships>'
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
        '<Default Extension="xml" ContentType="application/xml"/></Types>'
    )
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("xl/workbook.bin", workbook)
        archive.writestr("xl/_rels/workbook.bin.rels", relationships)
        archive.writestr("xl/worksheets/sheet1.bin", worksheet)
    return output.getvalue()


GOODREADS_HEADER = [
    "Book Id", "Title", "Author", "Author l-f", "Additional Authors", "ISBN", "ISBN13", "My Rating",
    "Average Rating", "Publisher", "Binding", "Number of Pages", "Year Published", "Original Publication Year",
    "Date Read", "Date Added", "Bookshelves", "Bookshelves with positions", "Exclusive Shelf", "My Review",
    "Spoiler", "Private Notes", "Read Count", "Owned Copies",
]  # fmt: skip
GOODREADS_SHELVES = ["read", "to-read", "currently-reading"]


def goodreads_row(n: int, **overrides) -> list[str]:
    """Return a row of a Goodreads library export: ISBNs as ="…" text formulas (="" when there is none),
    a review with commas and line breaks. Book *n* has ISBN-13 isbn13(n) and its ISBN-10."""
    from stdnum import isbn as stdnum_isbn

    thirteen = isbn13(n)
    row = {
        "Book Id": str(1_000_000 + n),
        "Title": f"Goodreads Book {n}",
        "Author": f"Writer {n % 7}",
        "Author l-f": f"{n % 7}, Writer",
        "Additional Authors": "",
        "ISBN": f'="{stdnum_isbn.to_isbn10(thirteen)}"',
        "ISBN13": f'="{thirteen}"',
        "My Rating": str(n % 6),
        "Average Rating": f"{3 + n % 2}.{n % 100:02d}",
        "Publisher": "Ace",
        "Binding": "Paperback",
        "Number of Pages": str(200 + n),
        "Year Published": str(1960 + n % 60),
        "Original Publication Year": str(1900 + n % 60),
        "Date Read": "2024/01/15" if n % 3 == 0 else "",
        "Date Added": "2023/12/01",
        "Bookshelves": "fiction, favourites" if n % 2 else "",
        "Bookshelves with positions": "fiction (#1), favourites (#2)" if n % 2 else "",
        "Exclusive Shelf": GOODREADS_SHELVES[n % 3],
        "My Review": f"Loved it, truly.\nSecond thought, on book {n}." if n % 2 else "",
        "Spoiler": "",
        "Private Notes": "",
        "Read Count": str(n % 3),
        "Owned Copies": str(n % 4),
    }
    row.update(overrides)
    return [row[h] for h in GOODREADS_HEADER]


def goodreads_csv(rows: list[list[str]]) -> bytes:
    """Return a Goodreads library export's bytes (UTF-8, comma-separated, LF line ends as Goodreads writes)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GOODREADS_HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
