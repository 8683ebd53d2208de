"""Open an uploaded CSV or XLSX file and stream its rows as (row number, cells).

Row numbers are what the user sees: the header is row 1; a CSV record's number is the physical
line it starts on; an XLSX row's number is the sheet's. Fully empty rows are skipped.
"""

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import compress, islice
from pathlib import Path

from .errors import FileProblem
from .headers import header_score
from .xlsx import open_book_sheet

#: Bytes read at a time when checking a CSV's encoding.
_BLOCK = 1 << 20
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

#: Limits on what a file may hold; past them the file is refused with a message saying which.
MAX_COLUMNS = 200
MAX_CELL_CHARS = 100_000
csv.field_size_limit(MAX_CELL_CHARS)

_SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old binary Excel (.xls) or Office file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
]
_WHAT_TO_UPLOAD = "Upload the book list as a CSV file or an Excel workbook (.xlsx)."


def detect_kind(path: Path) -> str:
    """Return "csv" or "xlsx" from the file's bytes, whatever its name says."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise FileProblem(f"The file is empty. {_WHAT_TO_UPLOAD}")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PK"):
        raise FileProblem(f"The file is a damaged or empty zip archive. {_WHAT_TO_UPLOAD}")
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            extra = " Open it in Excel and save it as .xlsx." if "Excel" in what else ""
            raise FileProblem(f"The file is {what}, not a spreadsheet.{extra} {_WHAT_TO_UPLOAD}")
    if b"\x00" in head:
        raise FileProblem(f"The file is binary data, not a spreadsheet. {_WHAT_TO_UPLOAD}")
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


@contextmanager
def open_table(path: Path | str) -> Iterator[Table]:
    """Open *path* (CSV or XLSX, judged by its bytes) and yield a Table to stream."""
    path = Path(path)
    kind = detect_kind(path)
    opener = _open_xlsx if kind == "xlsx" else _open_csv
    with opener(path) as table:
        if len(table.headers) > MAX_COLUMNS:
            raise FileProblem(
                f"The header row has {len(table.headers):,} columns; at most {MAX_COLUMNS} are accepted. "
                "Remove the columns that are not book fields."
            )
        if not any(h not in (None, "") for h in table.headers):
            raise FileProblem("Row 1 is empty: the first row must name the columns (Title, Author, …).")
        yield table


def sniff_encoding(path: Path) -> tuple[str, int]:
    """Return the CSV's encoding (UTF-8, with or without BOM, else Windows-1252) and its line count."""
    with open(path, "rb") as fh:
        start = fh.read(3)
        fh.seek(0)
        for encoding in ("utf-8-sig" if start == codecs.BOM_UTF8 else "utf-8", "cp1252"):
            decoder = codecs.getincrementaldecoder(encoding)()
            lines = 0
            fh.seek(0)
            try:
                while block := fh.read(_BLOCK):
                    decoder.decode(block)
                    lines += block.count(b"\n")
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return encoding, lines
    raise FileProblem(
        "The file's text is neither UTF-8 nor Windows-1252. Save it from your spreadsheet as "
        "'CSV UTF-8' and upload it again."
    )


def sniff_delimiter(header_line: str) -> str:
    """Return the delimiter used in the header line: comma, semicolon, tab or pipe."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


@contextmanager
def _open_csv(path: Path) -> Iterator[Table]:
    encoding, lines = sniff_encoding(path)
    with open(path, encoding=encoding, newline="") as fh:
        delimiter = sniff_delimiter(fh.readline())
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        try:
            headers = next(reader)
        except StopIteration:
            raise FileProblem(f"The file is empty. {_WHAT_TO_UPLOAD}") from None
        except csv.Error as exc:
            raise FileProblem(f"Row 1 (the header) cannot be read: {exc}.") from None
        yield Table(
            headers=headers,
            rows=_csv_rows(reader),
            estimated_rows=max(lines - 1, 0),
            decimal_comma=delimiter == ";",
            text_cells=True,
            description=f"CSV, {encoding.replace('-sig', ' with BOM').upper()}, "
            f"{_DELIMITER_NAMES[delimiter]}-separated",
        )


#: Rows the CSV reader reads in one go (row numbers are worked out per batch, not per row).
CSV_BATCH = 1_000
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _csv_rows(reader) -> Iterator[tuple[int, list[object]]]:
    """Yield (row number, cells) for each non-blank record; the row number is the line it starts on.

    Rows are read a batch at a time: when a batch spans exactly as many lines as it has records (no
    cell holds a line break), its row numbers are consecutive; otherwise each record's lines are
    counted from its cells.
    """
    while True:
        before = reader.line_num
        batch: list[list[str]] = []
        try:
            batch.extend(islice(reader, CSV_BATCH))  # keeps the records read before an error
        except csv.Error as exc:
            raise _unreadable(before + 1 + _lines_spanned(batch), exc) from None
        if not batch:
            return
        if reader.line_num - before == len(batch):
            numbers: Iterable[int] = range(before + 1, before + 1 + len(batch))
        else:
            numbers = _start_lines(before + 1, batch)
        yield from compress(zip(numbers, batch, strict=True), map(any, batch))


def _lines_spanned(records: list[list[str]]) -> int:
    return len(records) + sum(len(_LINE_BREAK.findall(cell)) for cells in records for cell in cells)


def _start_lines(first: int, records: list[list[str]]) -> list[int]:
    starts = []
    line = first
    for cells in records:
        starts.append(line)
        line += 1 + sum(len(_LINE_BREAK.findall(cell)) for cell in cells if "\n" in cell or "\r" in cell)
    return starts


def _unreadable(start: int, exc: csv.Error) -> FileProblem:
    if "field larger than field limit" in str(exc):
        return FileProblem(
            f"Row {start} has a cell longer than {MAX_CELL_CHARS:,} characters, so the file is refused. "
            "Check for a quote that is never closed, or shorten the cell."
        )
    if "end of data" in str(exc) or "EOF" in str(exc):
        return FileProblem(
            f'Row {start} opens a quote (") that is never closed, so the rest of the file '
            "cannot be read. Close the quote or remove it, then upload again."
        )
    return FileProblem(f"Row {start} cannot be read: {exc}.")


def _choose_sheet(candidates):
    """Prefer the first visible sheet whose header row names the most book fields."""
    return max(candidates, key=lambda c: header_score(c[2]))


@contextmanager
def _open_xlsx(path: Path) -> Iterator[Table]:
    with open_book_sheet(path, _choose_sheet) as sheet:
        yield Table(
            headers=sheet.headers,
            rows=sheet.rows,
            estimated_rows=sheet.estimated_rows,
            description=f"XLSX, sheet {sheet.name!r}",
        )
