"""The grid of an import's rejected rows to fix: a page of them as read, edits over them, the tools
(replace in a column, set a column for some rows) and each row's problems.

A row is shown as the import read it: the file's cells, but for a shop export's variant row, which took
its product's details (title, vendor, …) from the product's first row where its own cells were blank;
those cells show what it took, marked so (GridRow.filled), and are imported with the row when it is fixed
(the fixed row alone has no product row above it to take them from).

A row's problems are the import's own while the row is as it was read (a repeated ISBN, which the
row alone does not show, included); once a cell of it changes, they are what checking the row again
finds (services/row_check.py). Either way a cell is marked in words for that cell, as a person fixes it:
a price with a decimal comma where the file's prices have a point says what to type (12.00), not how the
file's column is read; the follow-up import reads its prices as the import did, so the words hold there. Only changed rows are imported: a row left as it was would only be
rejected again, or, if it repeated an ISBN, now overwrite the book of the row it repeated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl.utils.cell import get_column_letter
from sqlalchemy import select

from ..extensions import db
from ..importer.cells import as_read
from ..importer.reading import MAX_CELL_CHARS
from ..models import Import, RejectedRow
from .fixes import FixState
from .row_check import CellProblem, RowChecker, cell_text, stored_problems

#: Rejected rows on one page of the grid (and in one follow-up import at most). Under the thousand rows
#: an import samples before deciding a file is not a book list at all, so a follow-up of rows still
#: mostly wrong is never stopped as a wrong file.
FIX_ROWS_PER_PAGE = 500


def same_text(a: str, b: str) -> bool:
    """Whether two cells read the same, whatever line breaks a browser sent (a text area sends CR LF)."""
    return a == b or _lf(a) == _lf(b)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass
class GridRow:
    """One rejected row: its cells as read, as edited, and its problems."""

    number: int
    line: int | None
    stored: list[str]
    cells: list[str]
    #: Cells too long to show in a box (more than a cell may hold): kept as read unless something is typed.
    hidden: set[int] = field(default_factory=set)
    problems: list[CellProblem] = field(default_factory=list)
    read_problems: list[CellProblem] = field(default_factory=list)
    blank: bool = False
    #: The cells its own row left blank, shown (and imported) as taken from its item's first row.
    filled: set[int] = field(default_factory=set)
    #: The number of that first row (None: not known).
    filled_from: int | None = None

    def value(self, position: int) -> str:
        """Return the cell as it would be imported."""
        cell = self.cells[position]
        return self.stored[position] if position in self.hidden and cell == "" else cell

    def values(self) -> list[str]:
        return [self.value(i) for i in range(len(self.cells))]

    @property
    def changed(self) -> bool:
        return any(not same_text(self.value(i), self.stored[i]) for i in range(len(self.cells)))

    def edit(self, position: int, text: str) -> bool:
        """Put *text* in a cell; return whether that changed it."""
        if position >= len(self.cells) or same_text(text, self.cells[position]):
            return False
        self.cells[position] = self.stored[position] if same_text(text, self.stored[position]) else _lf(text)
        return True

    def messages_at(self, position: int | None) -> list[str]:
        return [p.message for p in self.problems if p.position == position]

    def multiline(self, position: int) -> bool:
        """Whether the cell holds a line break (it is shown in a text area: a one-line box drops them)."""
        return "\n" in self.cells[position] or "\r" in self.cells[position]

    def check(self, checker: RowChecker) -> None:
        """Take the problems the import found while the row is as read; check it again once changed."""
        if not self.changed:
            self.problems, self.blank = list(self.read_problems), False
            return
        result = checker.check(self.number, self.values())
        self.problems, self.blank = result.problems, result.blank

    def as_json(self) -> dict:
        return {"row": self.number, "changed": self.changed, "blank": self.blank,
                "problems": [p.as_json() for p in self.problems]}  # fmt: skip


@dataclass
class Grid:
    """A page of an import's rejected rows still to fix."""

    imp: Import
    checker: RowChecker
    rows: list[GridRow]
    page: int
    pages: int
    #: Rows still to fix on this import (every page).
    left: int

    @property
    def width(self) -> int:
        return max([self.checker.width, *(len(r.cells) for r in self.rows)])

    @property
    def headers(self) -> list[str]:
        """The columns' names: the file's headers, "Column C" where one has none, then any extra cells."""
        names = [h or f"Column {get_column_letter(i + 1)}" for i, h in enumerate(self.checker.headers)]
        return names + [f"Extra cell {n}" for n in range(1, self.width - len(names) + 1)]

    @property
    def any_filled(self) -> bool:
        """Whether a row of the page shows cells taken from its item's first row."""
        return any(r.filled for r in self.rows)

    @property
    def fills(self) -> list[str | None]:
        return self.checker.fills + [None] * (self.width - self.checker.width)

    def row(self, number: int) -> GridRow | None:
        return next((r for r in self.rows if r.number == number), None)

    def edit(self, edits: dict[int, dict[int, str]]) -> None:
        """Put the cells a form or a script sent ({row: {position: text}}) over the rows as read."""
        for number, cells in edits.items():
            row = self.row(number)
            if row is not None:
                for position, text in cells.items():
                    row.edit(position, text)

    def check(self) -> None:
        for row in self.rows:
            row.check(self.checker)

    def replace(self, position: int, find: str, replacement: str, *, whole_cell: bool = False) -> int:
        """Replace *find* with *replacement* in one column of every row (the whole cell only, or any part
        of it); return how many cells changed."""
        if not find:
            return 0
        changed = 0
        for row in self.rows:
            if position >= len(row.cells) or (position in row.hidden and row.cells[position] == ""):
                continue
            cell = row.cells[position]
            if whole_cell:
                new = replacement if cell.strip() == find.strip() else cell
            else:
                new = cell.replace(find, replacement)
            changed += row.edit(position, new)
        return changed

    def set_column(self, position: int, value: str, numbers: set[int]) -> int:
        """Set one column of the rows numbered *numbers* to *value*; return how many cells changed."""
        return sum(row.edit(position, value) for row in self.rows if row.number in numbers)

    @property
    def changed_rows(self) -> list[GridRow]:
        return [r for r in self.rows if r.changed]


def fix_grid(imp: Import, state: FixState, page: int, *, numbers: set[int] | None = None) -> Grid:
    """Return page *page* of the import's rejected rows still to fix (the ones no follow-up took), or the
    rows numbered *numbers* among them, as read, each with the import's problems."""
    checker = RowChecker(imp, alone=True)
    taken = state.taken
    left = state.left
    pages = max((left + FIX_ROWS_PER_PAGE - 1) // FIX_ROWS_PER_PAGE, 1)
    page = min(max(page, 1), pages)
    mine = RejectedRow.import_id == imp.id
    if numbers is not None:
        wanted = sorted(numbers - taken)
    elif not taken:
        wanted = list(
            db.session.scalars(
                select(RejectedRow.row_number)
                .where(mine)
                .order_by(RejectedRow.row_number)
                .offset((page - 1) * FIX_ROWS_PER_PAGE)
                .limit(FIX_ROWS_PER_PAGE)
            )
        )
    else:  # some rows went to follow-ups: skip them, in row order (only the numbers are read for that)
        start = (page - 1) * FIX_ROWS_PER_PAGE
        wanted = []
        for number in db.session.scalars(
            select(RejectedRow.row_number)
            .where(mine)
            .order_by(RejectedRow.row_number)
            .execution_options(yield_per=5000)
        ):
            if number in taken:
                continue
            if start:
                start -= 1
                continue
            wanted.append(number)
            if len(wanted) == FIX_ROWS_PER_PAGE:
                break
    found = db.session.execute(
        select(RejectedRow.row_number, RejectedRow.line, RejectedRow.cells, RejectedRow.filled)
        .where(mine, RejectedRow.row_number.in_(wanted))
        .order_by(RejectedRow.row_number)
    ).all()
    width = max([checker.width, *(len(cells or []) for _, _, cells, _ in found)])
    problems = stored_problems(imp, {n for n, *_ in found}, checker)
    rows = []
    for number, line, cells, filled in found:
        stored = [as_read(cell_text(c)) for c in cells or []]  # a text formula's ="…" as its text, as imported
        stored += [""] * (width - len(stored))
        hidden = {i for i, text in enumerate(stored) if len(text) > MAX_CELL_CHARS}
        shown = ["" if i in hidden else text for i, text in enumerate(stored)]
        read = checker.in_cell_words(number, stored, problems.get(number, []))
        row = GridRow(number, line, stored, shown, hidden, list(read), read)
        if isinstance(filled, dict):
            row.filled = {i for i in filled.get("cells") or () if isinstance(i, int) and 0 <= i < width}
            row.filled_from = filled.get("from_row") if isinstance(filled.get("from_row"), int) else None
        rows.append(row)
    return Grid(imp, checker, rows, page, pages, left)


def edits_from_form(form, limit: int = FIX_ROWS_PER_PAGE) -> dict[int, dict[int, str]]:
    """Read the grid's cells from a submitted form (fields named r<row>c<column>); at most *limit* rows.

    Raises ValueError when the form holds more rows than that."""
    edits: dict[int, dict[int, str]] = {}
    for name, value in form.items():
        if not name.startswith("r") or "c" not in name:
            continue
        row, _, column = name[1:].partition("c")
        if not (row.isdigit() and column.isdigit()) or len(row) > 9 or len(column) > 4:
            continue
        edits.setdefault(int(row), {})[int(column)] = value
        if len(edits) > limit:
            raise ValueError(f"At most {limit:,} rows are fixed at a time.")
    return edits
