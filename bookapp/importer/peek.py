"""Read a file's header row and its first rows under it, in the upload's request, at a cost that does
not grow with the file.

A CSV's header and first rows are in its first bytes. An .xlsx sheet's first rows are read from its
XML as a stream, with the shared strings they name (an .xlsx keeps them apart from the cells), so a
workbook of a million rows answers as fast as one of ten. An .xls or .ods is opened whole only when it
is small (each has its own checks of what it declares before the reader opens it). Anything else (an
.xlsb, a larger workbook, an .xlsx whose first row cannot be streamed) is left to its import's job,
which checks the header as it reads (None: not read here): the web process never hands a workbook the
streaming reader could not read to the spreadsheet library.

The first rows under the header tell whether a column holds what its name says (a reading app's Genre
named as Book type holds no book types), so the same check is made whatever kind the file is.
"""

from __future__ import annotations

import codecs
import csv
import io
import posixpath
import zipfile
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from .errors import FileProblem
from .headers import HEADER_SEARCH_ROWS, header_index, header_score, looks_like_header
from .look_ahead import FIRST_ROWS  # a CSV's within its first HEADER_BYTES, an .xlsx's streamed
from .reading import BLANK_HEADER, MAX_COLUMNS, detect_kind, header_is_blank, open_table
from .sniffing import sniff_delimiter
from .xlsx import OUTSIDE_THE_FILE, unsafe_xml

#: The most bytes read to find a CSV's header row.
HEADER_BYTES = 256 * 1024
#: Files of other kinds are opened whole for their header only up to this size.
OPEN_WHOLE_BYTES = 8 << 20
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


#: The most shared strings read for an .xlsx's first rows under its header. A cell names its text by its
#: place in the workbook's one list, which spreadsheet programs write in the order they meet the texts,
#: so a sheet's first rows name the first of them; a cell naming one further on is left unread (blank),
#: so a list written in another order costs no more than this many.
FIRST_ROWS_STRINGS = 50_000


@dataclass
class Peek:
    """What the upload reads of a file: its header row, the row it is on, and the first rows under it
    (None, None and none when the file is not read here: its import's job checks it)."""

    headers: list[object] | None = None
    header_row: int | None = None
    #: The first rows under the header (at most FIRST_ROWS), as the import reads them.
    rows: list[list[object]] = field(default_factory=list)


def read_header(path: Path | str) -> list[object] | None:
    """Return the header row of the sheet an import would read, or None when it is not read here.

    Raises FileProblem when the file cannot be a book list at all (empty, binary, no header)."""
    return peek_file(path, rows=0).headers


def peek_file(path: Path | str, *, rows: int | None = None) -> Peek:
    """Return the header row of the sheet an import would read, the row it is on (the sheet's number)
    and up to *rows* rows under it (FIRST_ROWS unless told); an empty Peek when the file is not read here.

    Raises FileProblem when the file cannot be a book list at all (empty, binary, no header)."""
    path = Path(path)
    rows = FIRST_ROWS if rows is None else rows
    kind = detect_kind(path)
    if kind == "csv":
        found = _csv_peek(path, rows)
    elif kind == "xlsx":
        found = _xlsx_peek(path, rows)
    elif kind in ("xls", "ods") and path.stat().st_size <= OPEN_WHOLE_BYTES:
        with open_table(path) as table:
            return Peek(list(table.headers), table.header_row, [list(c) for _, c in islice(table.rows, rows)])
    else:
        return Peek()
    headers = found.headers
    if headers is None:
        return Peek()
    while headers and headers[-1] in (None, ""):
        headers.pop()
    if len(headers) > MAX_COLUMNS:
        raise FileProblem(
            f"The header row has {len(headers):,} columns; at most {MAX_COLUMNS} are accepted. "
            "Remove the columns that are not book fields."
        )
    if header_is_blank(headers):
        raise FileProblem(BLANK_HEADER)
    return found


def _csv_peek(path: Path, count: int) -> Peek:
    """Read a CSV's header row (under a title, as the reader finds it: headers.header_index) and the
    rows under it, from its first HEADER_BYTES."""
    found = _csv_text(path)
    if found is None:
        return Peek()
    text, delimiter, complete = found
    records: list[list[str]] = []
    with suppress(csv.Error):  # a record that cannot be read ends what is read here; the import says why
        records.extend(
            islice(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True), HEADER_SEARCH_ROWS + count)
        )
    if not records:
        return Peek()
    index = 0 if looks_like_header(records[0]) else header_index(records[:HEADER_SEARCH_ROWS])
    rows = records[index + 1 : index + 1 + count]
    if not complete and len(rows) > 1:
        rows.pop()  # the last row read may be cut short
    return Peek(records[index], index + 1, rows)


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


def _xlsx_peek(path: Path, count: int) -> Peek:
    """Stream the first row of each visible sheet; take the one naming the most book fields, and stream
    up to *count* rows under it."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            sheets = _visible_sheets(archive)
            if any(m == ".." or m.startswith("../") for _, m in sheets):
                raise FileProblem(OUTSIDE_THE_FILE)
            if not sheets or not all(member in names for _, member in sheets):
                return Peek()
            strings = _SharedStrings(archive, "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in names else None)
            found = [(_header_row(archive, member, strings), member) for _, member in sheets]
            found = [f for f in found if f[0][0]]
            if not found:
                return Peek()
            (headers, header_row, origin), member = max(found, key=lambda f: header_score(f[0][0]))
            try:
                rows = _rows_under(archive, member, strings, header_row, range(origin, origin + len(headers)), count)
            except (zipfile.BadZipFile, KeyError, OSError, SyntaxError, ValueError, EOFError, RuntimeError):
                rows = []  # the header was read; the job says what is wrong further on
    except DefusedXmlException as exc:  # a DOCTYPE, entities: refused here as the full check would
        raise unsafe_xml(exc) from None
    except (zipfile.BadZipFile, KeyError, OSError, SyntaxError, ValueError, EOFError, RuntimeError):
        return Peek()  # the full check, in the job, says what is wrong
    return Peek(headers, header_row, rows)


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

    def get(self, index: int, within: int | None = None) -> str:
        """Return string *index*; "" for one past the list, or past the first *within* strings (not read)."""
        # Read on only for a string not read yet: each event read is used (a string read before is asked
        # for again when a title above the header repeats one of its names).
        if index >= len(self.strings) and (within is None or index < within):
            for _, element in self.events:
                if element.tag == f"{_MAIN}si":
                    self.strings.append("".join(t.text or "" for t in element.iter(f"{_MAIN}t")))
                    element.clear()
                    if len(self.strings) > index:
                        break
        return self.strings[index] if index < len(self.strings) else ""


def _header_row(archive: zipfile.ZipFile, member: str, strings: _SharedStrings) -> tuple[list[object], int, int]:
    """Stream the sheet's first rows (from its first with a value, HEADER_SEARCH_ROWS of them, blank ones
    included); return the one headers.header_index takes, as the reader does, its row number and the
    column it starts in (from 0)."""
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
        return [], 0, 0
    origin = min(min(c) for c in rows.values() if c)
    end = max(max(c) for c in rows.values() if c) + 1
    first_rows = [[rows.get(n, {}).get(i) for i in range(origin, end)] for n in range(first, max(rows) + 1)]
    index = header_index(first_rows)
    return first_rows[index], first + index, origin


def _rows_under(
    archive: zipfile.ZipFile, member: str, strings: _SharedStrings, header_row: int, columns: range, count: int
) -> list[list[object]]:
    """Stream the sheet to the *count* rows under its header (row *header_row*); return those holding
    a value, their cells in the header's *columns*. Only their cells are read; their texts come from
    the first FIRST_ROWS_STRINGS shared strings."""
    rows: list[list[object]] = []
    seen = number = 0
    if not count:
        return rows
    with archive.open(member) as fh:
        for _, element in iterparse(fh, forbid_dtd=True):
            if element.tag != f"{_MAIN}row":
                continue  # a cell is read with its row, whose children it is
            number = int(element.get("r") or number + 1)
            if number > header_row:
                cells = {
                    _column(cell.get("r", ""), position): cell
                    for position, cell in enumerate(element.iter(f"{_MAIN}c"))
                }
                row = [_cell_value(cells[i], strings, FIRST_ROWS_STRINGS) if i in cells else None for i in columns]
                if any(v not in (None, "") for v in row):
                    rows.append(row)
                seen += 1
                if seen >= count:
                    break
            element.clear()
    return rows


def _column(reference: str, default: int) -> int:
    letters = reference.rstrip("0123456789")
    if not letters:
        return default
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _cell_value(element, strings: _SharedStrings, within: int | None = None) -> object:
    """Return a cell's value as the reader gives it (a text of the first *within* shared strings only)."""
    kind = element.get("t", "n")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in element.iter(f"{_MAIN}t")) or None
    value = element.findtext(f"{_MAIN}v")
    if value is None:
        return None
    if kind == "s":
        return strings.get(int(value), within) or None
    if kind in ("str", "e"):
        return value
    if kind == "b":
        return value == "1"
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number
