"""How many cells a workbook's sheets span, found before calamine builds them all.

calamine reads a sheet whole: a grid of every cell from the first to the last one holding a value, 32
bytes each, whatever lies between. A few bytes can ask for billions of them: one value at XFD1048576 (the
last cell of an Excel sheet) asks for 512 GB, and the process that reads the file aborts. Each zipped
sheet is followed here as the zip check inflates it: an .ods's content (whose rows and cells may say
they repeat), an .xlsx's sheets (whose cells name their place).
"""

import contextlib
import faulthandler
import html
import json
import os
import re

from .errors import FileProblem

#: The most cells an .ods may expand to (rows × columns of each sheet, from its first to its last
#: non-empty cell, all sheets together): calamine builds them all. About a million rows of ten columns.
MAX_WORKBOOK_CELLS = 10_000_000
#: An Excel sheet's last row.
EXCEL_ROWS = 1_048_576
#: The most cells an .xlsx sheet may span: Excel's every row in the 26 columns named by one letter, as
#: much as a sheet passed unmeasured can span (calamine's grid of it alone takes about 870 MB).
MAX_SHEET_CELLS = EXCEL_ROWS * 26


class XlsxExtent:
    """Follow an .xlsx sheet as it is inflated and note whether calamine could place a cell of it past
    column Z or past Excel's last row ("far").

    A sheet whose every cell and row names its place the way spreadsheet programs write it (``<c r="B12"``,
    ``<row r="12"``) within those bounds spans at most 26 columns of EXCEL_ROWS rows: at worst about
    0.85 GB in calamine (0.8 GB measured with values in A1 and Z999999), so it passes as it streams by
    (three searches, about 0.2 s for a sheet of 100,000 rows). Any other cell or row is "far": one further along, one that
    leaves its place to be counted (no r), names it otherwise, or has a prefixed tag (calamine reads
    ``<x:c>`` as ``<c>``). A far sheet is then measured by calamine itself, apart (``measure_apart``).
    """

    #: A row number up to EXCEL_ROWS (1,048,576).
    _ROW = rb"(?:\d{1,6}|10[0-3]\d{4}|104[0-7]\d{3}|1048[0-4]\d{2}|10485[0-6]\d|104857[0-6])"
    #: The rest of a tag after its place, as spreadsheet programs write it: attributes whose names do not
    #: start with r (calamine takes a tag's last r), double-quoted, then its end. Anything else is far.
    _REST = rb'(?:\s+[a-qs-zA-Z][\w:.-]*="[^"<]*")*\s*/?>'
    _SEARCHES = (
        re.compile(rb'<c(?! r="[A-Z]?' + _ROW + rb'"' + _REST + rb")[\s>/]"),
        re.compile(rb'<row(?! r="' + _ROW + rb'"' + _REST + rb")[\s>/]"),
        re.compile(rb":(?:c|row)[\s>/]"),
    )
    #: Bytes kept from the end of a block, so that a tag cut in two is seen whole with the next one (a
    #: longer one cut there is taken for far: measured, not refused).
    _OVERLAP = 1024

    def __init__(self) -> None:
        self.far = False
        self._tail = b""

    def feed(self, block: bytes) -> None:
        if self.far:
            return
        data = self._tail + block
        keep = max(len(data) - self._OVERLAP, 0)
        for search in self._SEARCHES:
            match = search.search(data)
            # One in the last bytes may be a tag the block cuts short: seen again, whole, with the next one.
            if match and match.start() < keep:
                self.far = True
                return
        self._tail = data[keep:]

    def finish(self) -> None:
        """Look at the sheet's last bytes, once it has been fed whole."""
        self.far = self.far or any(search.search(self._tail) for search in self._SEARCHES)


def measure_apart(path, sheets: list[str] | None) -> dict[str, tuple[int, int]] | None:
    """Open *sheets* (None: every visible sheet) of the workbook at *path* with calamine in a child
    process whose memory is capped, and return each one's rows and columns. A sheet calamine could not
    build within the cap is given as (0, 0), and the ones after it are left out; one it refused (damaged)
    is left out, for the reading to say so. None where no process can be forked (Windows: the sheet is
    then read unmeasured, as before this check)."""
    if not hasattr(os, "fork"):
        return None
    reading, writing = os.pipe()
    try:
        child = os.fork()
    except OSError:  # no process to spare: the reading goes on unmeasured, as where none can be forked
        os.close(reading)
        os.close(writing)
        return None
    if child == 0:  # pragma: no cover (the child ends with os._exit; what it sends is checked)
        status = 1
        try:
            os.close(reading)
            with quiet_aborts(), memory_capped(MEASURE_MEMORY):
                _measure(path, sheets, writing)
            status = 0
        except BaseException:  # nothing to report but the exit status
            pass
        finally:
            os._exit(status)
    os.close(writing)
    with os.fdopen(reading, "rb") as stream:
        lines = [json.loads(line) for line in stream.read().decode().splitlines()]
    _, status = os.waitpid(child, 0)
    measured = {line[0]: (line[1], line[2]) for line in lines if len(line) == 3}
    started = [line[0] for line in lines if len(line) == 1]
    sizes = {name: size for name, size in measured.items() if size[0] >= 0}
    if os.WIFSIGNALED(status) and not (started and started[-1] in measured):  # calamine aborted
        sizes[started[-1] if started else (sheets or ["1"])[0]] = (0, 0)  # on that sheet, or opening the file
    return sizes


def _measure(path, sheets: list[str] | None, writing: int) -> None:
    """measure_apart's child: write a line as it starts each sheet, and one with its size once built."""
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    workbook = CalamineWorkbook.from_path(str(path))
    if sheets is None:
        sheets = [m.name for m in workbook.sheets_metadata if m.visible == SheetVisibleEnum.Visible]
    for name in sheets:
        os.write(writing, (json.dumps([name]) + "\n").encode())  # the sheet it starts on
        try:
            sheet = workbook.get_sheet_by_name(name)
            # An empty sheet spans nothing, and (0, 0) would say it could not be built: left out too.
            size = [name, sheet.height, sheet.width] if sheet.start is not None else [name, -1, -1]
        except Exception:  # damaged: left to the reading, which says so; the next sheets are measured
            size = [name, -1, -1]
        os.write(writing, (json.dumps(size) + "\n").encode())


#: Memory the measuring process may take beyond what it starts with: calamine's grid of a sheet of
#: MAX_SHEET_CELLS, with room for its strings.
MEASURE_MEMORY = MAX_SHEET_CELLS * 32 + (1 << 30)


@contextlib.contextmanager
def quiet_aborts():
    """While calamine may abort this process (a grid it cannot allocate, past a memory cap): no dump of
    the threads, no core dump of its gigabytes of address space, and calamine's own message and
    backtrace not written to stderr. After an error it stays so, as memory_capped's cap does, for a
    build still running in another thread."""
    faulthandler.disable()
    with contextlib.suppress(ImportError, OSError, ValueError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    saved = os.dup(2)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    os.close(quiet)
    yield
    os.dup2(saved, 2)
    os.close(saved)


@contextlib.contextmanager
def memory_capped(extra: int):
    """Cap this process's address space at its current size plus *extra* bytes (where the OS can),
    and lift the cap again when the block ends without an error (only the soft limit is lowered,
    which a process may raise back). After an error it stays: the process is on its way out, and a
    build still running in another thread of it must not outlive the cap."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        before = resource.getrlimit(resource.RLIMIT_AS)
        # Never above a limit already set (an operator's, or a cap this process inherited).
        cap = min([size + extra, *(limit for limit in before if limit != resource.RLIM_INFINITY)])
        resource.setrlimit(resource.RLIMIT_AS, (cap, before[1]))
    except (ImportError, OSError, ValueError):
        yield  # no /proc (macOS): a grid of billions of cells still fails at once
        return
    yield
    resource.setrlimit(resource.RLIMIT_AS, before)


def refuse_far_sheet(sheet: str, size: tuple[int, int]) -> None:
    """Raise a FileProblem if an .xlsx sheet of *size* (rows, columns; (0, 0): could not be built)
    spans more cells than is safe to read."""
    rows, columns = size
    if rows == columns == 0:
        raise FileProblem(
            f"Sheet {sheet!r} spans far more cells than is safe to read, from its first to its last value. "
            "Delete the cells far from the book list (in Excel, Ctrl+End goes to the last one), or save the "
            "sheet as CSV, and upload again."
        )
    if rows * columns > MAX_SHEET_CELLS:
        raise FileProblem(
            f"Sheet {sheet!r} spans {rows:,} rows and {columns:,} columns from its first to its last value "
            f"({rows * columns:,} cells), more than is safe to read (at most {MAX_SHEET_CELLS:,}). Delete the "
            "cells far from the book list (in Excel, Ctrl+End goes to the last one), or save the sheet as CSV, "
            "and upload again."
        )


class OdsExtent:
    """Follow an .ods content.xml as it is inflated and refuse it when its sheets expand to more than
    MAX_WORKBOOK_CELLS cells.

    A row or cell may say it repeats (table:number-rows-repeated, table:number-columns-repeated); a
    sheet's cells are counted as its rows down to the last one holding a value, times the columns up to
    its widest row's last value, repeats expanded. Cells with no value (self-closing, no office:value-type)
    cost nothing: spreadsheet programs repeat an empty cell to the sheet's edge.
    """

    _TAG = re.compile(rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*)>")
    _REPEATED = re.compile(rb'number-(?:rows|columns)-repeated="(\d{1,12})"')
    #: A number cell's value with decimals (one is enough: 9.5 shown as £10), or written with a negative
    #: exponent (1.5E-3); a whole number never shows rounded. The text the sheet shows is then read (note_shown).
    _LONG_VALUE = re.compile(rb'office:value="(-?\d*\.\d+(?:[eE][-+]?\d+)?|-?\d+[eE]-\d+)"')
    _SHOWN_TEXT = re.compile(rb"\s*<text:p>(.{0,256}?)</text:p>", re.DOTALL)
    _NAME = re.compile(rb'table:name="([^"]*)"')
    #: The most repeated rows or cells whose shown number is noted (a value repeated further is left as held).
    MAX_SHOWN_REPEAT = 100
    #: The longest tag followed (a cell's value may sit in an attribute, as long as the cell itself).
    MAX_TAG = 16 << 20

    def __init__(self, note_shown=None) -> None:
        self.cells = 0  # in the sheets before this one
        self.tail = b""
        #: Called with (sheet name, [(row, column)], value held, text shown) for each number cell with
        #: decimals and the text the sheet shows for it (shown_numbers reads it as shown).
        self.note_shown = note_shown
        self.sheet = ""
        self._pending: tuple | None = None  # a cell whose shown text the next block holds
        self._start_sheet()

    def _start_sheet(self) -> None:
        self.rows = self.height = self.width = 0
        self.row_repeat = 1
        self.column = self.row_width = 0

    def feed(self, block: bytes) -> None:
        if self._pending is not None:
            (sheet, places, value), text = self._pending[:3], self._pending[3] + block
            self._pending = None
            shown = self._SHOWN_TEXT.match(text)
            if shown:
                self.note_shown(sheet, places, value, shown.group(1))
        data = self.tail + block
        cut = data.rfind(b"<")
        if cut < 0:
            self.tail = b""
            return
        self.tail = data[cut:]
        if len(self.tail) > self.MAX_TAG:
            raise FileProblem("The spreadsheet holds an unusually large tag; it is refused as unsafe.")
        for match in self._TAG.finditer(data, 0, cut):
            closing, name, attributes = match.groups()
            if name == b"table-row":
                if closing:
                    self._end_row()
                else:
                    self.row_repeat, self.column, self.row_width = self._repeat(attributes), 0, 0
                    if attributes.endswith(b"/"):
                        self._end_row()
            elif name == b"table":
                if closing:
                    self.cells += self.height * self.width
                else:
                    found = self._NAME.search(attributes)
                    self.sheet = html.unescape(found.group(1).decode("utf-8", "replace")) if found else ""
                self._start_sheet()
            elif not closing:
                repeat = self._repeat(attributes)
                if self.note_shown is not None and b'office:value="' in attributes:
                    self._shown_cell(data, match.end(), attributes, repeat)
                self.column += repeat
                if not attributes.endswith(b"/") or b"value-type" in attributes:
                    self.row_width = self.column

    def _shown_cell(self, data: bytes, end: int, attributes: bytes, repeat: int) -> None:
        """Hand a float or currency cell with decimals to note_shown with the text the sheet shows for it
        (read from the next block when this one ends first)."""
        value = self._LONG_VALUE.search(attributes)
        if (
            value is None
            or attributes.endswith(b"/")
            or not (b'value-type="float"' in attributes or b'value-type="currency"' in attributes)
        ):
            return
        if repeat > self.MAX_SHOWN_REPEAT or self.row_repeat > self.MAX_SHOWN_REPEAT:
            return
        places = [(self.rows + r, self.column + c) for r in range(self.row_repeat) for c in range(repeat)]
        shown = self._SHOWN_TEXT.match(data, end)
        if shown:
            self.note_shown(self.sheet, places, float(value.group(1)), shown.group(1))
        elif b"</text:p>" not in data[end : end + 300]:
            self._pending = (self.sheet, places, float(value.group(1)), data[end:])

    def _repeat(self, attributes: bytes) -> int:
        match = self._REPEATED.search(attributes) if b"repeated" in attributes else None
        return int(match.group(1)) if match else 1

    def _end_row(self) -> None:
        self.rows += self.row_repeat
        if self.row_width:
            self.height = self.rows
            self.width = max(self.width, self.row_width)
            if self.cells + self.height * self.width > MAX_WORKBOOK_CELLS:
                raise FileProblem(
                    f"The spreadsheet's sheets expand to more than {MAX_WORKBOOK_CELLS:,} cells (repeated rows "
                    "and cells counted out), more than is safe to read. Delete the rows and columns far from the "
                    "book list, or save the sheet as CSV, and upload again."
                )
        self.row_repeat = 1
