"""Stream the book sheet of a workbook (.xlsx, .xlsb, .ods, .xls) with calamine, once it was checked.

Every kind is read the same way: the first visible sheet whose header row names the most book fields,
merged cells filled from their top-left cell, rows numbered as the sheet numbers them. (calamine reports
merged areas for .xlsx and .xls only: in an .ods or .xlsb a cell covered by a merge reads as empty.) What is checked
before calamine opens the file differs by container: the zip checks of xlsx.py, or the OLE2 and BIFF
checks of xls.py.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice

from openpyxl.utils.cell import get_column_letter

from .columns import BLANK_TO_NONE
from .errors import FileProblem, UnsavedFormula
from .extent import MEASURE_MEMORY, measure_apart, memory_capped, quiet_aborts, refuse_far_sheet
from .headers import HEADER_SEARCH_ROWS, header_index
from .shown_numbers import ShownCells, ShownRows, as_shown
from .xls import check_xls
from .xlsx import WorkbookCheck, check_workbook, declared_size

#: What each kind is called in messages and in the import's description.
KIND_NAMES = {"xlsx": "XLSX", "xlsb": "XLSB", "ods": "ODS", "xls": "XLS"}


@dataclass
class Sheet:
    """The sheet chosen for import."""

    name: str
    headers: list[object]
    rows: Iterator[tuple[int, list[object]]]
    estimated_rows: int
    #: Rows and columns the sheet spans, from its first to its last cell.
    height: int = 0
    width: int = 0
    #: The cells under the header read as their format shows them, not as held (see shown_numbers).
    shown: ShownRows | None = None
    #: The sheet's row the header was read from (its first, unless a title is above it: header_index).
    header_row: int = 1


@contextmanager
def open_book_sheet(path, choose, kind: str = "xlsx", *, alongside: bool = False) -> Iterator[Sheet]:
    """Open the first visible sheet *choose* prefers (given each sheet's header row) and stream it.

    The file is checked (check_workbook, check_xls), then calamine builds its visible sheets.

    With *alongside*, once the checks that need no inflating have passed, calamine builds them in a
    thread while the rest of the check runs (calamine lets go of the interpreter meanwhile: 0.63 s
    for both against 0.29 + 0.61 s one after the other, 100,000 rows). calamine then reads a file
    not yet wholly checked (a zip member that lies about its size, a grid of billions of cells), so
    the process's memory is capped meanwhile, at what such a file honestly needs (BUILD_MEMORY_PER_BYTE
    times what it unpacks to, plus BUILD_MEMORY_BASE; at most MEASURE_MEMORY): past it, calamine
    aborts the process. Only a process of its own that may die asks for this: its caller then opens
    the file again the careful way, check first, for the check's own message. After a refusal the
    build may still run in its thread, with the cap and a silenced stderr kept: the process must exit.
    """
    if alongside:
        check, built = _check_and_build(path, kind)
        if isinstance(built, BaseException):  # a far sheet's refusal comes first, as when measured apart
            if check.far:
                for name, size in (measure_apart(path, None) or {}).items():
                    refuse_far_sheet(name, size)
            raise built
        workbook, candidates = built
    else:
        check = _check(path, kind)
        workbook, candidates = _build(path, kind)
    try:
        if alongside and check.far:  # measured as built, and refused as check_workbook refuses one it measured
            for name, sheet, _ in candidates:
                refuse_far_sheet(name, (sheet.height, sheet.width))
        if not candidates:
            raise FileProblem("The workbook has no visible sheet with data.")
        name, sheet, first_rows = choose(candidates)
        candidates.clear()  # the other sheets' cells are held in memory until released
        index = header_index(first_rows)
        headers = [None if h == "" else h for h in (first_rows[index] if first_rows else [])]
        while headers and headers[-1] is None:
            headers.pop()
        member = check.sheet_members.get(name, name)  # an .xlsx's part; an .ods's or .xls's sheet name
        unsaved = check.unsaved_formulas.get(member, set())
        shown = (check.shown_decimals.get(member) or ShownCells()).rows(
            sheet.start[0] + index, sheet.start[1], len(headers)
        )
        yield Sheet(
            name=name,
            headers=headers,
            rows=_rows(sheet, len(headers), unsaved, shown, index),
            estimated_rows=max(sheet.height - 1 - index, 0),
            height=sheet.height,
            width=sheet.width,
            shown=shown,
            header_row=sheet.start[0] + 1 + index,
        )
    finally:
        workbook.close()


#: The memory (address space) calamine may take to build a workbook beside its check, per byte the
#: file unpacks to, and beyond: a 100,000-row .xlsx that unpacks to 52 MB took 133 MB, Excel's last
#: row (560 MB) 1,185 MB. A file that needs more is built again the careful way.
BUILD_MEMORY_PER_BYTE = 3
BUILD_MEMORY_BASE = 256 << 20


def _check_and_build(path, kind: str) -> tuple[WorkbookCheck, tuple | BaseException]:
    """Check the workbook while calamine builds it in a thread, under a memory cap; return the check
    and what _build returned (or the error it raised). A refusal by the check is raised at once."""
    unpacked = os.path.getsize(path) if kind == "xls" else declared_size(path, kind)
    budget = min(MEASURE_MEMORY, BUILD_MEMORY_PER_BYTE * unpacked + BUILD_MEMORY_BASE)
    with memory_capped(budget), quiet_aborts():
        building = _Building(path, kind)
        building.start()
        check = _check(path, kind, measure=False)
        building.join()
    try:
        return check, building.result()
    except FileProblem as exc:
        return check, exc


def _check(path, kind: str, *, measure: bool = True) -> WorkbookCheck:
    if kind == "xls":
        return WorkbookCheck(shown_decimals=check_xls(path))
    return check_workbook(path, kind, measure=measure)


def _build(path, kind: str):
    """Open the workbook with calamine and build its visible sheets that hold data: return the
    workbook and, for each of those sheets, its name, the sheet and its first rows (where its header
    may be: HEADER_SEARCH_ROWS)."""
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    with _calamine_errors(kind):
        workbook = CalamineWorkbook.from_path(str(path))
    try:
        candidates = []
        with _calamine_errors(kind):
            for meta in workbook.sheets_metadata:
                if meta.visible != SheetVisibleEnum.Visible:
                    continue
                sheet = workbook.get_sheet_by_name(meta.name)
                if sheet.start is None:
                    continue
                candidates.append((meta.name, sheet, list(islice(sheet.iter_rows(), HEADER_SEARCH_ROWS))))
    except BaseException:
        workbook.close()
        raise
    return workbook, candidates


class _Building(threading.Thread):
    """_build in a thread: its result, or its error raised again, once joined."""

    def __init__(self, path, kind: str):
        super().__init__(name="workbook-build", daemon=True)
        self._args = (path, kind)
        self._outcome: tuple | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._outcome = _build(*self._args)
        except BaseException as exc:  # a Rust panic is a BaseException: it is raised again in the caller
            self._error = exc

    def result(self):
        if self._error is not None:
            raise self._error
        return self._outcome


@contextmanager
def _calamine_errors(kind: str) -> Iterator[None]:
    """Turn calamine's errors on a damaged workbook into a FileProblem; let others (a job's timeout) through.

    A Rust panic reaches Python as PanicException, which is not even an Exception: calamine panics on
    some damaged .xls and .xlsb files."""
    from python_calamine import CalamineError

    try:
        yield
    except BaseException as exc:
        damaged = (CalamineError, OSError, ValueError, TypeError, IndexError, KeyError)
        if not isinstance(exc, damaged) and type(exc).__name__ != "PanicException":
            raise
        what = "password-protected" if "Password" in type(exc).__name__ else "damaged or unusual"
        raise FileProblem(
            f"The {KIND_NAMES[kind]} workbook cannot be read: it is {what} ({type(exc).__name__}). "
            "Open it in your spreadsheet program, save it again (as .xlsx, say), and upload that."
        ) from None


def _rows(
    sheet,
    width: int,
    unsaved: set[tuple[int, int]],
    shown: ShownRows,
    header_index: int = 0,
) -> Iterator[tuple[int, list[object]]]:
    """Yield the rows under the header (the sheet's first rows, up to and with it, are skipped)."""
    first_row, first_col = sheet.start
    merged = _merged_cells(sheet, first_row, first_col, width)
    any_shown = bool(shown)
    top_left_values: dict[tuple[int, int], object] = {}
    rows = islice(sheet.iter_rows(), header_index + 1, None)
    # The file's row; the sheet's (from 0) is number - 1.
    for number, values in enumerate(rows, start=first_row + 2 + header_index):
        if len(values) <= width and "" not in values:
            rounded = shown.at(number - 1) if any_shown else ()
            if not merged and not unsaved and not rounded:  # the usual row: calamine's own list
                yield number, values
                continue
            cells = values
        else:
            rounded = shown.at(number - 1) if any_shown else ()
            cells = list(map(BLANK_TO_NONE.get, values[:width], values[:width]))
            if len(values) > width and any(v != "" for v in values[width:]):
                cells.extend(None if v == "" else v for v in values[width:])
        sheet_row = number - 1
        for col, decimals in rounded:  # before a merged area's top-left value is kept
            if type(cells[col]) is float:
                cells[col] = as_shown(cells[col], decimals)
        if merged:
            for col in range(width):
                origin = merged.get((sheet_row, col))
                if origin is None:
                    continue
                if origin == (sheet_row, col):
                    top_left_values[origin] = cells[col]
                elif cells[col] is None:
                    cells[col] = top_left_values.get(origin)
        if unsaved:
            for col in range(len(cells)):
                if (sheet_row, first_col + col) in unsaved:
                    cells[col] = UnsavedFormula(f"{get_column_letter(first_col + col + 1)}{sheet_row + 1}")
        if cells.count(None) != len(cells):
            yield number, cells


#: Merged areas are filled only up to this many cells (a merged whole column is a formatting quirk).
MAX_MERGED_CELLS = 1_000_000


def _merged_cells(sheet, first_row: int, first_col: int, width: int) -> dict[tuple[int, int], tuple[int, int]]:
    """Map each cell of a merged area to the area's top-left cell (sheet coordinates, columns relative)."""
    cells: dict[tuple[int, int], tuple[int, int]] = {}
    for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []:
        c1, c2 = max(c1 - first_col, 0), min(c2 - first_col, width - 1)
        if c1 > c2 or (r2 - r1 + 1) * (c2 - c1 + 1) + len(cells) > MAX_MERGED_CELLS:
            continue
        for row in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                cells[(row, col)] = (r1, c1)
    return cells
