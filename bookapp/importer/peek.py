"""Read a file's header row only, in the upload's request, at a cost that does not grow with the file.

A CSV's header is in its first bytes. An .xlsx sheet's first row is read from its XML as a stream,
with the shared strings it names (an .xlsx keeps them apart from the cells), so a workbook of a
million rows answers as fast as one of ten. An .xls or .ods is opened whole only when it is small (each
has its own checks of what it declares before the reader opens it). Anything else (an .xlsb, a larger
workbook, an .xlsx whose first row cannot be streamed) is left to its import's job, which checks the
header as it reads (None: not read here): the web process never hands a workbook the streaming reader
could not read to the spreadsheet library.
"""

from __future__ import annotations

import codecs
import csv
import io
import posixpath
import zipfile
from contextlib import suppress
from itertools import islice
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from .errors import FileProblem
from .headers import HEADER_SEARCH_ROWS, header_index, header_score, looks_like_header
from .reading import BLANK_HEADER, MAX_COLUMNS, detect_kind, header_is_blank, open_table
from .sniffing import first_records, sniff_delimiter
from .xlsx import OUTSIDE_THE_FILE, unsafe_xml

#: The most bytes read to find a CSV's header row.
HEADER_BYTES = 256 * 1024
#: Files of other kinds are opened whole for their header only up to this size.
OPEN_WHOLE_BYTES = 8 << 20
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def read_header(path: Path | str) -> list[object] | None:
    """Return the header row of the sheet an import would read, or None when it is not read here.

    Raises FileProblem when the file cannot be a book list at all (empty, binary, no header)."""
    return find_header(path)[0]


def find_header(path: Path | str) -> tuple[list[object] | None, int | None]:
    """Return the header row of the sheet an import would read and the row it is on (the sheet's number),
    or (None, None) when it is not read here.

    Raises FileProblem when the file cannot be a book list at all (empty, binary, no header)."""
    path = Path(path)
    kind = detect_kind(path)
    if kind == "csv":
        headers, header_row = _csv_header(path)
    elif kind == "xlsx":
        headers, header_row = _xlsx_header(path)
    elif kind in ("xls", "ods") and path.stat().st_size <= OPEN_WHOLE_BYTES:
        with open_table(path) as table:
            return list(table.headers), table.header_row
    else:
        return None, None
    if headers is None:
        return None, None
    while headers and headers[-1] in (None, ""):
        headers.pop()
    if len(headers) > MAX_COLUMNS:
        raise FileProblem(
            f"The header row has {len(headers):,} columns; at most {MAX_COLUMNS} are accepted. "
            "Remove the columns that are not book fields."
        )
    if header_is_blank(headers):
        raise FileProblem(BLANK_HEADER)
    return headers, header_row


#: Rows under a CSV's header read at upload (within its first HEADER_BYTES), to tell whether a column
#: holds what its name says.
FIRST_ROWS = 50


def first_rows(path: Path | str) -> list[list[object]]:
    """Return the first rows under a CSV's header (at most FIRST_ROWS, from its first HEADER_BYTES), as
    cheaply as its header is read; none for a workbook, or a text the reader would refuse."""
    path = Path(path)
    if detect_kind(path) != "csv" or (found := _csv_text(path)) is None:
        return []
    text, delimiter, complete = found
    records = []
    with suppress(csv.Error):
        records.extend(
            islice(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True), HEADER_SEARCH_ROWS + FIRST_ROWS)
        )
    if not records:
        return []
    start = 0 if looks_like_header(records[0]) else header_index(records[:HEADER_SEARCH_ROWS])
    rows = records[start + 1 : start + 1 + FIRST_ROWS]
    return rows if complete or len(rows) < 2 else rows[:-1]  # the last row read may be cut short


def _csv_text(path: Path) -> tuple[str, str, bool] | None:
    """Return a CSV's first HEADER_BYTES decoded, its delimiter, and whether that is the whole file."""
    with open(path, "rb") as fh:
        head = fh.read(HEADER_BYTES)
        complete = not fh.read(1)
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        encodings: tuple[str, ...] = ("utf-16",)  # Excel's Unicode Text: the BOM says the byte order
    else:
        encodings = ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8", "cp1252")
    for encoding in encodings:
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(head)  # a cut character at the end waits
            break
        except UnicodeDecodeError:
            continue
    else:
        return None  # the reader says what is wrong with it, as the import would
    delimiter = sniff_delimiter("\n".join(text.split("\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS]))
    return text, delimiter, complete


def _csv_header(path: Path) -> tuple[list[object] | None, int | None]:
    found = _csv_text(path)
    if found is None:
        return None, None
    text, delimiter, _ = found
    try:
        first = next(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True), None)
    except csv.Error:
        return None, None
    if first is None or looks_like_header(first):
        return first, 1
    # A title above the header, as the reader finds it (headers.header_index).
    records = first_records(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True))
    index = header_index(records)
    return records[index], index + 1


def _xlsx_header(path: Path) -> tuple[list[object] | None, int | None]:
    """Stream the first row of each visible sheet; return the one naming the most book fields."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            sheets = _visible_sheets(archive)
            if any(m == ".." or m.startswith("../") for _, m in sheets):
                raise FileProblem(OUTSIDE_THE_FILE)
            if not sheets or not all(member in names for _, member in sheets):
                return None, None
            strings = _SharedStrings(archive, "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in names else None)
            rows = [_header_row(archive, member, strings) for _, member in sheets]
    except DefusedXmlException as exc:  # a DOCTYPE, entities: refused here as the full check would
        raise unsafe_xml(exc) from None
    except (zipfile.BadZipFile, KeyError, OSError, SyntaxError, ValueError, EOFError, RuntimeError):
        return None, None  # the full check, in the job, says what is wrong
    rows = [r for r in rows if r[0]]
    return max(rows, key=lambda r: header_score(r[0])) if rows else (None, None)


def _visible_sheets(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    targets = {}
    with archive.open("xl/_rels/workbook.xml.rels") as fh:
        for _, element in iterparse(fh, forbid_dtd=True):
            if element.tag == f"{_PKG_REL}Relationship":
                target = element.get("Target", "").lstrip("/")
                targets[element.get("Id")] = posixpath.normpath(target if target.startswith("xl/") else f"xl/{target}")
    sheets = []
    with archive.open("xl/workbook.xml") as fh:
        for _, element in iterparse(fh, forbid_dtd=True):
            if element.tag == f"{_MAIN}sheet" and element.get("state", "visible") == "visible":
                sheets.append((element.get("name"), targets.get(element.get(f"{_REL}id"), "")))
    return sheets


class _SharedStrings:
    """An .xlsx's shared strings, read from the start only as far as the highest index asked for."""

    def __init__(self, archive: zipfile.ZipFile, member: str | None):
        self.strings: list[str] = []
        self.events = iterparse(archive.open(member), forbid_dtd=True) if member else iter(())

    def get(self, index: int) -> str:
        # Read on only for a string not read yet: each event read is used (a string read before is asked
        # for again when a title above the header repeats one of its names).
        if index >= len(self.strings):
            for _, element in self.events:
                if element.tag == f"{_MAIN}si":
                    self.strings.append("".join(t.text or "" for t in element.iter(f"{_MAIN}t")))
                    element.clear()
                    if len(self.strings) > index:
                        break
        return self.strings[index] if index < len(self.strings) else ""


def _header_row(archive: zipfile.ZipFile, member: str, strings: _SharedStrings) -> tuple[list[object], int]:
    """Stream the sheet's first rows (from its first with a value, HEADER_SEARCH_ROWS of them, blank ones
    included); return the one headers.header_index takes, as the reader does, and its row number."""
    rows: dict[int, dict[int, object]] = {}  # row number → column → value
    cells: dict[int, object] = {}
    first = number = 0
    with archive.open(member) as fh:
        for _, element in iterparse(fh, forbid_dtd=True):
            if element.tag == f"{_MAIN}c":
                cells[_column(element.get("r", ""), len(cells))] = _cell_value(element, strings)
            elif element.tag == f"{_MAIN}row":
                number = int(element.get("r") or number + 1)
                if not first and any(v not in (None, "") for v in cells.values()):
                    first = number
                if first:
                    if number >= first + HEADER_SEARCH_ROWS:
                        break
                    rows[number] = cells
                    if number == first and looks_like_header(list(cells.values())):
                        break  # the usual sheet: its first row is its header, nothing more is read
                cells = {}
                element.clear()
    if not first:
        return [], 0
    origin = min(min(c) for c in rows.values() if c)
    end = max(max(c) for c in rows.values() if c) + 1
    first_rows = [[rows.get(n, {}).get(i) for i in range(origin, end)] for n in range(first, max(rows) + 1)]
    index = header_index(first_rows)
    return first_rows[index], first + index


def _column(reference: str, default: int) -> int:
    letters = reference.rstrip("0123456789")
    if not letters:
        return default
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _cell_value(element, strings: _SharedStrings) -> object:
    kind = element.get("t", "n")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in element.iter(f"{_MAIN}t")) or None
    value = element.findtext(f"{_MAIN}v")
    if value is None:
        return None
    if kind == "s":
        return strings.get(int(value)) or None
    if kind in ("str", "e"):
        return value
    if kind == "b":
        return value == "1"
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number
