"""Check an old binary Excel workbook (.xls, Excel 97–2003) before calamine reads it.

An .xls is a BIFF record stream ("Workbook") inside an OLE2 compound file, a small file system of
sectors chained by a table. calamine trusts both: it reserves memory for the cells a sheet's DIMENSIONS
record declares (a crafted 6 KB file asks for terabytes and the process aborts, no exception), builds
every sheet as a dense grid from its first to its last cell (two cells in opposite corners cost half a
gigabyte) and follows sector chains without looking for loops. So every sector chain is walked here
once (inside the file, no loops, long enough: a truncated file is refused), and the workbook stream's
sheets are scanned for their declared and real extent, before calamine sees the file.

Formulas: an .xls saves each formula's last result beside it, and calamine reads that result; there is
no "never computed" state to detect as for .xlsx.
"""

from __future__ import annotations

import mmap
import os
import struct
from array import array
from dataclasses import dataclass

from .errors import WHAT_TO_UPLOAD, FileProblem
from .shown_numbers import BUILT_IN_DECIMALS, ShownCells, needs_rounding, rounding_of

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The largest .xls read (calamine holds the whole workbook stream, and every sheet, in memory).
MAX_XLS_BYTES = 100 << 20
#: The most cells (rows × columns from each sheet's first to last cell, all sheets together) a workbook
#: may span: calamine builds each sheet as a full grid. About a million rows of ten columns.
MAX_WORKBOOK_CELLS = 10_000_000
#: What BIFF8 can address: Excel 97–2003 sheets have 65,536 rows and 256 columns.
BIFF_ROWS = 65_536
BIFF_COLUMNS = 256

_END_OF_CHAIN = 0xFFFFFFFE
_FREE = 0xFFFFFFFF
_MINI_CUTOFF = 4096
_MINI_SECTOR = 64
_DAMAGED = (
    "The file is an old binary Excel (.xls) or Office file, but it is damaged or incomplete (cut short "
    "while copying or downloading?). Open it in Excel, save it again, and upload it again."
)
_OTHER_OFFICE = {
    "encryptedpackage": "a password-protected Excel or Office file. Remove the password in Excel "
    "(File > Info > Protect Workbook), save it, and upload it again.",
    "worddocument": "a Word document, not a spreadsheet.",
    "powerpoint document": "a PowerPoint presentation, not a spreadsheet.",
}
_WORKBOOK_STREAMS = ("workbook", "book")
#: BIFF records holding one cell, its row and column in their first four bytes.
_CELL_RECORDS = frozenset({0x0203, 0x0204, 0x00FD, 0x027E, 0x0205, 0x00D6, 0x0006})
_MULTIPLE_CELLS = 0x00BD  # MULRK: a row, a first column, …, a last column
_DIMENSIONS = 0x0200
_BOF, _EOF, _BOUNDSHEET, _FILEPASS = 0x0809, 0x000A, 0x0085, 0x002F
#: A number format (its index and code) and a cell style (its format's index), in the workbook's globals.
_FORMAT, _XF = 0x041E, 0x00E0
#: The cell records that hold a number: NUMBER, RK, a FORMULA's result.
_NUMBER, _RK, _FORMULA = 0x0203, 0x027E, 0x0006


class _Damaged(Exception):
    """The compound file's structure does not hold together."""


@dataclass
class _Entry:
    name: str
    start: int
    size: int


class _Compound:
    """An OLE2 compound file's directory, with every chain it uses checked."""

    def __init__(self, data: bytes | mmap.mmap):
        if len(data) < 512 or data[:8] != OLE_SIGNATURE or data[28:30] != b"\xfe\xff":
            raise _Damaged
        shift, mini_shift = struct.unpack_from("<HH", data, 30)
        if shift not in (9, 12) or mini_shift != 6:
            raise _Damaged
        self.data = data
        self.sector = 1 << shift
        # Sectors in the file after the header (a last partial sector counts: some writers do not pad).
        self.sectors = max(0, -(-(len(data) - self.sector) // self.sector))
        fat_sectors, first_directory = struct.unpack_from("<II", data, 44)
        first_mini_fat, mini_fat_sectors, first_difat, difat_sectors = struct.unpack_from("<IIII", data, 60)
        if fat_sectors > self.sectors or mini_fat_sectors > self.sectors or difat_sectors > self.sectors:
            raise _Damaged
        difat = list(struct.unpack_from("<109I", data, 76))
        seen = set()
        sector = first_difat
        while sector not in (_END_OF_CHAIN, _FREE):
            if sector >= self.sectors or sector in seen:
                raise _Damaged
            seen.add(sector)
            entries = self._sector(sector).cast("I")
            difat.extend(entries[:-1])
            sector = entries[-1]
        fat_ids = [s for s in difat if s < 0xFFFFFFFC]
        if len(fat_ids) > self.sectors or any(s >= self.sectors for s in fat_ids):
            raise _Damaged
        self.fat = array("I", b"".join(bytes(self._sector(s)) for s in fat_ids))
        self.entries = self._directory(self._read_chain(first_directory, self.fat, None))
        root = self.entries[0] if self.entries else None
        if root is None:
            raise _Damaged
        self.mini_stream = b""
        self.mini_fat = array("I")
        if mini_fat_sectors:
            self.mini_stream = self._read_chain(root.start, self.fat, root.size)
            self.mini_fat = array("I", self._read_chain(first_mini_fat, self.fat, mini_fat_sectors * self.sector))

    def _sector(self, number: int, needed: int | None = None) -> memoryview:
        """Return sector *number*; the file's last sector may be short (some writers do not pad it)
        when the bytes *needed* of it are there, but a table or directory sector must be whole."""
        start = (number + 1) * self.sector
        block = memoryview(self.data)[start : start + self.sector]
        if len(block) == self.sector:
            return block
        if needed is None or len(block) < needed:
            raise _Damaged  # cut short
        return memoryview(bytes(block).ljust(self.sector, b"\0"))

    def _read_chain(self, start: int, table: array, size: int | None, mini: bool = False) -> bytes:
        """Return the bytes of the chain from *start*: every link inside the file, no loop, and at
        least *size* bytes (None: the whole chain)."""
        unit = _MINI_SECTOR if mini else self.sector
        available = len(self.mini_stream) // unit if mini else self.sectors
        parts = []
        sector = start
        steps = 0
        while sector != _END_OF_CHAIN and (size is None or steps * unit < size):
            if sector >= available or sector >= len(table) or steps > available:
                raise _Damaged
            if mini:
                parts.append(self.mini_stream[sector * unit : (sector + 1) * unit])
            else:
                parts.append(bytes(self._sector(sector, None if size is None else size - steps * unit)))
            sector = table[sector]
            steps += 1
        data = b"".join(parts)
        if size is not None and len(data) < size:
            raise _Damaged
        return data if size is None else data[:size]

    @staticmethod
    def _directory(data: bytes) -> list[_Entry]:
        entries = []
        for offset in range(0, len(data) - 127, 128):
            name_bytes = struct.unpack_from("<H", data, offset + 64)[0]
            kind = data[offset + 66]
            start, size = struct.unpack_from("<II", data, offset + 116)
            name = data[offset : offset + min(name_bytes, 64)].decode("utf-16-le", "replace").rstrip("\0")
            if kind in (1, 2, 5):
                entries.append(_Entry(name, start, size))
        return entries

    def find(self, names) -> _Entry | None:
        return next((e for e in self.entries[1:] if e.name.lower() in names), None)

    def stream(self, entry: _Entry) -> bytes:
        if entry.size < _MINI_CUTOFF:
            return self._read_chain(entry.start, self.mini_fat, entry.size, mini=True)
        return self._read_chain(entry.start, self.fat, entry.size)


def ole_kind(path) -> str:
    """Return "xls" for an OLE2 file that holds an Excel workbook; refuse other Office files, a
    password-protected one, and a damaged or truncated one (a quick look: directory only)."""
    compound = _open_compound(path)
    if compound.find(_WORKBOOK_STREAMS):
        return "xls"
    for name, what in _OTHER_OFFICE.items():
        if compound.find({name}):
            raise FileProblem(f"The file is {what} {WHAT_TO_UPLOAD}")
    raise FileProblem(f"The file is an Office file (OLE2) that holds no Excel workbook. {WHAT_TO_UPLOAD}")


def _open_compound(path) -> _Compound:
    """Map the file (nothing is read but the sectors looked at: an upload's directory check stays quick)."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    if size > MAX_XLS_BYTES:
        raise FileProblem(
            f"The .xls workbook is larger than {MAX_XLS_BYTES >> 20} MB, the most bookapp reads of this old "
            "format. Save it as .xlsx or CSV and upload that."
        )
    try:
        return _Compound(data)
    except (_Damaged, struct.error, ValueError, IndexError):
        raise FileProblem(f"{_DAMAGED} {WHAT_TO_UPLOAD}") from None


def check_xls(path) -> dict[str, ShownCells]:
    """Refuse an .xls that is damaged, truncated, password-protected, or whose sheets declare or span
    more cells than is safe to read; return, by sheet name, its number cells shown with fewer decimals
    than they hold (row, column → decimals shown: see shown_numbers), once calamine may open it."""
    compound = _open_compound(path)
    entry = compound.find(_WORKBOOK_STREAMS)
    if entry is None:
        raise FileProblem(f"The file is an Office file (OLE2) that holds no Excel workbook. {WHAT_TO_UPLOAD}")
    try:
        stream = compound.stream(entry)
        return _check_biff(stream)
    except (_Damaged, struct.error, IndexError):
        raise FileProblem(_DAMAGED) from None


def _records(stream: bytes, offset: int):
    """Yield (type, start of data, length) for the records from *offset* to the end of the stream."""
    end = len(stream)
    unpack = struct.Struct("<HH").unpack_from
    while offset + 4 <= end:
        kind, length = unpack(stream, offset)
        if offset + 4 + length > end:
            raise _Damaged
        yield kind, offset + 4, length
        offset += 4 + length


def _check_biff(stream: bytes) -> dict[str, ShownCells]:
    sheets = []  # (position of its BOF, name)
    formats: dict[int, int | None] = {}  # a number format's index → the decimals it shows
    styles: list[int] = []  # each cell style's number format
    records = _records(stream, 0)
    first = next(records, None)
    if first is None or first[0] != _BOF:
        raise _Damaged
    for kind, start, length in records:
        if kind == _EOF:
            break
        if kind == _FILEPASS:
            raise FileProblem(f"The file is {_OTHER_OFFICE['encryptedpackage']}")
        if kind == _FORMAT and length >= 5:
            formats[struct.unpack_from("<H", stream, start)[0]] = rounding_of(_format_code(stream, start, length))
        elif kind == _XF and length >= 4:
            styles.append(struct.unpack_from("<H", stream, start + 2)[0])
        if kind == _BOUNDSHEET and length >= 8:
            position = struct.unpack_from("<I", stream, start)[0]
            name_length, wide = stream[start + 6], stream[start + 7] & 1  # BIFF8: 8-bit or UTF-16 characters
            name = stream[start + 8 : start + 8 + name_length * (2 if wide else 1)]
            sheets.append((position, name.decode("utf-16-le", "replace") if wide else name.decode("latin-1")))
    rounding = {}
    for index, number_format in enumerate(styles):
        shown = formats[number_format] if number_format in formats else BUILT_IN_DECIMALS.get(number_format)
        if shown is not None:
            rounding[index] = shown
    cells = 0
    found: dict[str, ShownCells] = {}
    for position, name in sheets:
        if position >= len(stream):
            raise _Damaged
        shown_cells = ShownCells()
        found.setdefault(name, shown_cells)  # a name twice: the first sheet's, as calamine reads it
        rows, columns = _sheet_extent(stream, position, name, rounding, shown_cells)
        cells += rows * columns
        if cells > MAX_WORKBOOK_CELLS:
            raise FileProblem(
                f"The workbook's sheets span more than {MAX_WORKBOOK_CELLS:,} cells (sheet {name!r} alone: "
                f"{rows:,} rows × {columns:,} columns, from its first to its last cell), more than is safe to "
                "read. Delete the cells far from the book list, or save the sheet as CSV, and upload again."
            )
    return {name: cells for name, cells in found.items() if cells}


def _format_code(stream: bytes, start: int, length: int) -> str:
    """A FORMAT record's code (BIFF8: its index, then a string of 8-bit or UTF-16 characters)."""
    count, flags = struct.unpack_from("<HB", stream, start + 2)
    raw = stream[start + 5 : start + length]
    return raw[: count * 2].decode("utf-16-le", "replace") if flags & 1 else raw[:count].decode("latin-1")


def _sheet_extent(
    stream: bytes, position: int, name: str, rounding: dict[int, int], shown: ShownCells
) -> tuple[int, int]:
    """Return the rows and columns a sheet spans, from its first to its last cell; refuse a declared
    dimension beyond what the format holds (calamine reserves memory for it). Add to *shown* the number
    cells whose style (*rounding*: style → decimals shown) shows fewer decimals than they hold.

    One pass over the sheet's records (a loop kept plain: it meets every cell of the sheet)."""
    header = struct.Struct("<HH").unpack_from
    end = len(stream)
    rows: list[int] = []
    columns: list[int] = []
    add_row, add_column = rows.append, columns.append
    cell_records = _CELL_RECORDS
    depth = 0
    offset = position + 4 + header(stream, position)[1]  # the sheet's own BOF
    while offset + 4 <= end:
        kind, length = header(stream, offset)
        start = offset + 4
        offset = start + length
        if offset > end:
            raise _Damaged
        if kind in cell_records:
            if not depth:
                row, column = header(stream, start)
                add_row(row)
                add_column(column)
                if rounding and kind in (_NUMBER, _RK, _FORMULA) and length >= 10:
                    _note_shown(stream, kind, start, rounding, shown)
        elif kind == _MULTIPLE_CELLS:
            if not depth:
                row, column = header(stream, start)
                add_row(row)
                add_column(column)
                add_column(header(stream, offset - 4)[1])
                for index in range((length - 6) // 6) if rounding else ():
                    style, rk = struct.unpack_from("<HI", stream, start + 4 + 6 * index)
                    if style in rounding:
                        _note_value(_rk_value(rk), row, column + index, rounding[style], shown)
        elif kind == _BOF:
            depth += 1  # a chart or other substream inside the sheet: its records are skipped
        elif kind == _EOF:
            if not depth:
                break
            depth -= 1
        elif kind == _DIMENSIONS and not depth:
            _check_dimensions(stream, start, length, name)
    if not rows:
        return 0, 0
    return max(rows) - min(rows) + 1, max(columns) - min(columns) + 1


def _note_shown(stream: bytes, kind: int, start: int, rounding: dict[int, int], shown: ShownCells) -> None:
    """Note a NUMBER, RK or FORMULA cell whose style shows its number with fewer decimals than it holds."""
    row, column, style = struct.unpack_from("<HHH", stream, start)
    if style not in rounding:
        return
    if kind == _RK:
        value = _rk_value(struct.unpack_from("<I", stream, start + 6)[0])
    elif kind == _FORMULA and stream[start + 12 : start + 14] == b"\xff\xff":
        return  # the formula's result is text, a boolean or an error
    else:
        value = struct.unpack_from("<d", stream, start + 6)[0]
    _note_value(value, row, column, rounding[style], shown)


def _note_value(value: float, row: int, column: int, decimals: int, shown: ShownCells) -> None:
    if needs_rounding(value, decimals):
        shown[(row, column)] = decimals


def _rk_value(rk: int) -> float:
    """An RK number: a 30-bit integer or the top of a double, divided by 100 when its low bit says so."""
    if rk & 2:
        value = float((rk >> 2) - (1 << 30) if rk & (1 << 31) else rk >> 2)
    else:
        value = struct.unpack("<d", struct.pack("<Q", (rk & 0xFFFFFFFC) << 32))[0]
    return value / 100 if rk & 1 else value


def _check_dimensions(stream: bytes, start: int, length: int, name: str) -> None:
    if length == 14:
        first_row, end_row, first_column, end_column = struct.unpack_from("<IIHH", stream, start)
    else:
        first_row, end_row, first_column, end_column = struct.unpack_from("<HHHH", stream, start)
    if not (first_row <= end_row <= BIFF_ROWS and first_column <= end_column <= BIFF_COLUMNS):
        raise FileProblem(
            f"Sheet {name!r} declares {end_row:,} rows and {end_column:,} columns, more than an .xls "
            f"holds ({BIFF_ROWS:,} × {BIFF_COLUMNS}): the file is damaged or made to harm, and is "
            "refused. Open it in Excel and save it as .xlsx if it is yours."
        )
