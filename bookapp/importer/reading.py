"""Open an uploaded file (CSV or other delimited text, or a workbook: XLSX, XLSB, ODS, XLS) and stream
its rows as (row number, cells).

Row numbers are the ones a spreadsheet program shows: the header is row 1 (or, under a title, the row
headers.header_index finds, the rows above it skipped) and each CSV record is one row (a cell with a
line break stays in its row, a blank line is an empty row); a workbook row's number is the sheet's. Where a CSV record starts on another line of the file, Table.lines says which (lines of
the decoded text, so the same for UTF-8 and UTF-16). Empty rows are skipped.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import compress, islice
from pathlib import Path

from .errors import WHAT_TO_UPLOAD, FileProblem
from .headers import header_index, header_score, looks_like_header
from .line_map import LineMap
from .look_ahead import look_ahead
from .shown_numbers import ShownRows
from .sniffing import UTF16_BOMS, first_lines, first_records, sniff_delimiter, sniff_encoding
from .workbook import KIND_NAMES, open_book_sheet
from .xls import OLE_SIGNATURE, ole_kind
from .xlsx import zip_kind

_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_ENCODING_NAMES = {"utf-8-sig": "UTF-8 with BOM", "utf-16-le": "UTF-16 LE with BOM", "utf-16-be": "UTF-16 BE with BOM"}
#: The encodings a description names that a person knows by other words (a page shows the words, the technical
#: name after them in small print): what a spreadsheet program on Windows saves as plain "CSV", and as
#: "Unicode Text".
ENCODINGS_IN_WORDS = {
    "CP1252": "Windows (Western European) text",
    "UTF-16 LE with BOM": "Unicode text",
    "UTF-16 BE with BOM": "Unicode text",
}

#: Limits on what a file may hold: more columns refuse the file; a longer cell rejects its row.
MAX_COLUMNS = 200
MAX_CELL_CHARS = 100_000
#: The longest cell the CSV reader reads at all. Past it, the file is refused: a cell of a million
#: characters is a quote never closed far more often than text, and reading on would hold the rest of
#: the file in memory as one cell. Cells between MAX_CELL_CHARS and this reject their row only.
READ_CELL_CHARS = 10 * MAX_CELL_CHARS
csv.field_size_limit(READ_CELL_CHARS)
#: Bytes looked at to tell text from binary data.
_SNIFF_BYTES = 64 * 1024
#: Binary data is full of control bytes (NUL and the like); a text file has none, or a stray one in a
#: cell, which only rejects that cell's row. A file is binary when more than this share of its first
#: bytes, and more than a few, are control bytes.
BINARY_CONTROL_SHARE = 0.01
_STRAY_CONTROLS = 3
#: Control bytes that text does not hold (tab, line feed, vertical tab, form feed and carriage return it may).
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x20))

_SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
]
#: Text in UTF-16 starts with its byte order mark: Excel's "Unicode Text" is UTF-16 LE, tab-separated.


def detect_kind(path: Path) -> str:
    """Return "csv", "xlsx", "xlsb", "ods" or "xls" from the file's bytes, whatever its name says.

    Zips are told apart by their members and OLE2 files by their streams (a quick look at the
    directory); text by its first bytes: a UTF-16 byte order mark, or few control bytes."""
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head:
        raise FileProblem(f"The file is empty. {WHAT_TO_UPLOAD}")
    if head.startswith(b"PK\x03\x04"):
        return zip_kind(path)
    if head.startswith(b"PK"):
        raise FileProblem(f"The file is a damaged or empty zip archive. {WHAT_TO_UPLOAD}")
    if head.startswith(OLE_SIGNATURE):
        return ole_kind(path)
    if head[:2] in UTF16_BOMS:
        return "csv"
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise FileProblem(f"The file is {what}, not a spreadsheet. {WHAT_TO_UPLOAD}")
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > max(_STRAY_CONTROLS, BINARY_CONTROL_SHARE * len(head)):
        raise FileProblem(f"The file is binary data, not a spreadsheet. {WHAT_TO_UPLOAD}")
    return "csv"


def chunked(items: Iterable, size: int) -> Iterator[list]:
    """Yield lists of up to *size* items (itertools.batched arrived only in Python 3.12)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class Table:
    """An open file: its header cells, its rows and how it was read."""

    headers: list[object]
    rows: Iterator[tuple[int, list[object]]]
    estimated_rows: int
    decimal_comma: bool = False
    description: str = ""
    #: Whether every cell is text (a CSV's are; an XLSX sheet's may be numbers, dates or booleans).
    text_cells: bool = False
    #: Whether any cell may hold a NUL byte (a CSV with a stray one), so cells need that check.
    nul_cells: bool = False
    #: Where each CSV row starts in the file, for the rows where that line is not the row's number.
    lines: LineMap | None = None
    #: A CSV's encoding and delimiter, as sniffed (the column profile reads the file with them too).
    encoding: str | None = None
    delimiter: str | None = None
    #: A workbook's cells read as their format shows them, not as held (see shown_numbers).
    shown: ShownRows | None = None
    #: The row the header was read from (see headers.header_index): the rows above it are skipped.
    header_row: int = 1
    #: The columns whose first rows write numbers with a decimal comma (9,99; decimal_comma.decimal_comma_columns):
    #: a price column among them is read so, in a file not read with decimal commas as a whole.
    decimal_comma_columns: frozenset[int] = frozenset()
    #: The columns whose first rows close their cells as a library catalogue closes a title or a name ("Dune /",
    #: "Herbert, Frank,": catalogue_values.catalogue_punctuation_columns): a Title or Author column among
    #: them is read without that punctuation.
    catalogue_punctuation_columns: frozenset[int] = frozenset()
    #: The cells of the first rows under the header (look_ahead.FIRST_ROWS of them, as read).
    first_rows: list[list[object]] = field(default_factory=list)


@contextmanager
def open_table(path: Path | str, *, alongside: bool = False) -> Iterator[Table]:
    """Open *path* (CSV or a workbook, judged by its bytes) and yield a Table to stream.

    *alongside*: a workbook is built while it is checked (only in a process whose memory is capped:
    see open_book_sheet)."""
    path = Path(path)
    kind = detect_kind(path)
    with _open_csv(path) if kind == "csv" else _open_workbook(path, kind, alongside) as table:
        if table.header_row > 1:
            table.description += f", header on row {table.header_row}"
        if len(table.headers) > MAX_COLUMNS:
            raise FileProblem(
                f"The header row has {len(table.headers):,} columns; at most {MAX_COLUMNS} are accepted. "
                "Remove the columns that are not book fields."
            )
        if header_is_blank(table.headers):
            raise FileProblem(BLANK_HEADER)
        table.rows, table.decimal_comma_columns, table.catalogue_punctuation_columns, table.first_rows = look_ahead(
            table.rows, decimal_comma=table.decimal_comma
        )
        yield table


#: What a file whose first row names no column is told, at upload and in its job alike.
BLANK_HEADER = "Row 1 is empty: the first row must name the columns (Title, Author, …)."


#: How a table's description (an import's read_as) says which row its header was read from.
_HEADER_ON_ROW = re.compile(r", header on row (\d+)")


def header_row_in(description: str | None) -> int | None:
    """Return the row a table's description says its header was read from: 1 for a description that
    names none, None with no description (a file not read yet)."""
    if not description:
        return None
    found = _HEADER_ON_ROW.search(description)
    return int(found.group(1)) if found else 1


def header_is_blank(headers: list[object]) -> bool:
    """Whether no header cell names anything (cells of spaces alone name nothing)."""
    return not any(h is not None and str(h).strip() for h in headers)


@contextmanager
def _open_csv(path: Path) -> Iterator[Table]:
    encoding, lines, nul = sniff_encoding(path)
    # The utf-16 codec reads the byte order mark (and leaves it out of the first cell), as utf-8-sig does.
    with open(path, encoding="utf-16" if encoding.startswith("utf-16") else encoding, newline="") as fh:
        delimiter = sniff_delimiter(first_lines(fh))
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        try:
            headers = next(reader)
        except StopIteration:
            raise FileProblem(f"The file is empty. {WHAT_TO_UPLOAD}") from None
        except csv.Error as exc:
            raise FileProblem(f"Row 1 (the header) cannot be read: {exc}.") from None
        header_row = 1
        if not looks_like_header(headers):  # a title above the header? Only such a file reads its start twice.
            fh.seek(0)
            header_row = header_index(first_records(csv.reader(fh, delimiter=delimiter, strict=True))) + 1
            fh.seek(0)
            reader = csv.reader(fh, delimiter=delimiter, strict=True)
            for _ in range(header_row):
                headers = next(reader)
        line_map = LineMap()
        yield Table(
            headers=headers,
            rows=_csv_rows(reader, line_map, header_row),
            estimated_rows=max(lines - header_row, 0),
            header_row=header_row,
            decimal_comma=delimiter == ";",
            text_cells=True,
            nul_cells=nul,
            lines=line_map,
            encoding="utf-16" if encoding.startswith("utf-16") else encoding,  # as the file is opened above
            delimiter=delimiter,
            description=f"CSV, {_ENCODING_NAMES.get(encoding, encoding.upper())}, "
            f"{_DELIMITER_NAMES[delimiter]}-separated",
        )


#: Rows the CSV reader reads in one go (where each starts in the file is worked out per batch).
CSV_BATCH = 1_000
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _csv_rows(reader, lines: LineMap, header_row: int = 1) -> Iterator[tuple[int, list[object]]]:
    """Yield (row number, cells) for each non-blank record, numbered as a spreadsheet shows it.

    Every record is a row, blank ones included: the row number is simply the record's position. Rows
    are read a batch at a time; a batch that spans as many lines as it has records (no cell holds a
    line break) moves the file's lines and the rows on together, so only other batches are looked at
    record by record, to keep the lines where rows start.
    """
    last_row = header_row
    while True:
        before = reader.line_num
        batch: list[list[str]] = []
        try:
            batch.extend(islice(reader, CSV_BATCH))  # keeps the records read before an error
        except csv.Error as exc:
            row = last_row + 1 + len(batch)
            raise _unreadable(row, before + 1 + _lines_spanned(batch), exc) from None
        if not batch:
            return
        first = last_row + 1
        if reader.line_num - before != len(batch):
            lines.note_batch(first, before + 1, batch)
        else:
            lines.note(first, before + 1)  # a change only after a header of several lines
        last_row += len(batch)
        yield from compress(zip(range(first, last_row + 1), batch, strict=True), map(any, batch))


def _lines_spanned(records: list[list[str]]) -> int:
    return len(records) + sum(len(_LINE_BREAK.findall(cell)) for cells in records for cell in cells)


def _unreadable(row: int, line: int, exc: csv.Error) -> FileProblem:
    where = f"Row {row}" if row == line else f"Row {row} (line {line:,} of the file)"
    if "field larger than field limit" in str(exc):
        return FileProblem(
            f'{where} opens a quote (") that is never closed, or has a cell longer than {READ_CELL_CHARS:,} '
            "characters, so the file is refused. Close the quote or shorten the cell, then upload again."
        )
    if "end of data" in str(exc) or "EOF" in str(exc):
        return FileProblem(
            f'{where} opens a quote (") that is never closed, so the rest of the file '
            "cannot be read. Close the quote or remove it, then upload again."
        )
    return FileProblem(f"{where} cannot be read: {exc}.")


def _choose_sheet(candidates):
    """Prefer the first visible sheet whose header row (headers.header_index of its first rows) names the
    most book fields."""
    return max(candidates, key=lambda c: header_score(c[2][header_index(c[2])] if c[2] else []))


@contextmanager
def _open_workbook(path: Path, kind: str, alongside: bool = False) -> Iterator[Table]:
    with open_book_sheet(path, _choose_sheet, kind, alongside=alongside) as sheet:
        if kind != "xlsx" and sheet.width > MAX_COLUMNS:
            # Checked before a row is read (the .xlsx zip checks bound a sheet's cells another way).
            raise FileProblem(
                f"Sheet {sheet.name!r} has cells in {sheet.width:,} columns; at most {MAX_COLUMNS} are accepted. "
                "Remove the columns that are not book fields."
            )
        yield Table(
            headers=sheet.headers,
            rows=sheet.rows,
            estimated_rows=sheet.estimated_rows,
            description=f"{KIND_NAMES[kind]}, sheet {sheet.name!r}",
            shown=sheet.shown,
            header_row=sheet.header_row,
        )


def estimate_rows(path: Path | str) -> int:
    """Return about how many rows the file has, from its size and its first megabyte (a CSV) or its
    size alone (a workbook: about 40 compressed bytes a row)."""
    path = Path(path)
    size = path.stat().st_size
    if detect_kind(path) != "csv":
        return size // 40
    with open(path, "rb") as fh:
        start = fh.read(1 << 20)
    lines = start.count(b"\n") or 1
    return round(lines * size / max(len(start), 1))
