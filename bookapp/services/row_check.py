"""Check one row of an import's file again, as its follow-up import will read it.

A rejected row fixed in the browser is imported from a CSV (services/fixes.py), so it is checked as
text: RowValidator with the import's own header map (its mapping, fallback chains, defaults and
value maps) and its decimal comma, cell by cell through the importer's converters. The messages are
the importer's own, word for word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl.utils.cell import get_column_letter
from sqlalchemy import select

from ..extensions import db
from ..importer import BookRow, FileProblem, MappingError, RowValidator
from ..importer.catalogue_values import punctuation_read
from ..importer.decimal_comma import PRICES_WITH_DECIMAL_COMMA
from ..importer.fields import FIELDS, LABELS
from ..importer.left_out import is_blank_row
from ..importer.mapping import header_text
from ..importer.reading import header_row_in
from ..models import Import, ImportRowError


class RowCheckProblem(Exception):
    """The import's rows cannot be checked (its header row is unknown, or its mapping no longer fits)."""


@dataclass(frozen=True)
class CellProblem:
    """One problem of a row: the column it is in (None: the row as a whole) and the importer's message."""

    position: int | None
    column: str | None
    value: str | None
    message: str

    def as_json(self) -> dict:
        return {"position": self.position, "column": self.column, "value": self.value, "message": self.message}


@dataclass(frozen=True)
class RowResult:
    """What checking a row found: its problems, or the book it makes; a blank row is left out."""

    problems: list[CellProblem]
    book: BookRow | None = None
    blank: bool = False


def cell_text(cell: object) -> str:
    """Return a stored cell as the text a person edits (and a CSV holds): blank for none, a whole
    number written without ".0", TRUE/FALSE for a spreadsheet's booleans."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def reads_decimal_comma(imp: Import) -> bool:
    """Whether the import read its file's numbers with a decimal comma (a semicolon-separated CSV does: 12,50)."""
    return "semicolon-separated" in (imp.read_as or "")


def reads_prices_with_decimal_comma(imp: Import) -> bool:
    """Whether the import read its prices with a decimal comma in a file whose other numbers are not (a
    comma-separated file's price column of 9,99)."""
    return PRICES_WITH_DECIMAL_COMMA in (imp.read_as or "")


def comma_columns(imp: Import, table, header_map) -> frozenset[int]:
    """The columns of *table* (a reading.Table) whose numbers *imp* reads with a decimal comma: those its first
    rows show (decimal_comma.decimal_comma_columns), or, for a fix of another import's rejected rows (too few
    to tell), the price column if that import read its prices so: as the fix grid checked them."""
    if imp.fixes_import_id is None:
        return table.decimal_comma_columns
    original = db.session.get(Import, imp.fixes_import_id)
    price_at = header_map.positions.get("price")
    if original is None or price_at is None or not reads_prices_with_decimal_comma(original):
        return frozenset()
    return frozenset({price_at})


def punctuation_columns(imp: Import, table, header_map) -> frozenset[int]:
    """The columns of *table* (a reading.Table) that *imp* reads without a library catalogue's closing
    punctuation: those its first rows show (catalogue_values.catalogue_punctuation_columns), or, for a fix
    of another import's rejected rows (too few to tell), the ones that import read so."""
    if imp.fixes_import_id is None:
        return table.catalogue_punctuation_columns
    original = db.session.get(Import, imp.fixes_import_id)
    return read_without_punctuation(original, header_map)


def read_without_punctuation(imp: Import | None, header_map) -> frozenset[int]:
    """The positions, in *header_map*, of the fields *imp* read without a catalogue's closing punctuation."""
    fields = punctuation_read(imp.read_as if imp is not None else None)
    return frozenset(header_map.positions[f] for f in fields if f in header_map.positions)


class RowChecker:
    """Checks rows of one import's file, with its header map, one row or a few at a time (*alone*: rows a
    person fixes on their own, whose refused cells say what to type there: see RowValidator)."""

    def __init__(self, imp: Import, *, alone: bool = False):
        if not imp.headers:
            raise RowCheckProblem(f"The header row of import #{imp.id} is not known yet: wait until it has started.")
        self.headers = [header_text(h) for h in imp.headers]
        try:
            self.header_map = imp.reads_with().header_map(self.headers, header_row_in(imp.read_as))
        except FileProblem as problem:
            raise RowCheckProblem(problem.message) from None
        except MappingError as problem:
            raise RowCheckProblem(f"The mapping of import #{imp.id} cannot be read: {problem}") from None
        price_at = self.header_map.positions.get("price")
        self.validator = RowValidator(
            self.header_map,
            decimal_comma=reads_decimal_comma(imp),
            decimal_comma_columns={price_at} if reads_prices_with_decimal_comma(imp) else (),
            catalogue_punctuation_columns=read_without_punctuation(imp, self.header_map),
            text_cells=True,
            nul_cells=True,
            alone=alone,
        )
        #: The column whose refusals a row checked alone words for its own cell (None: words as the import's).
        self.worded_alone = price_at if alone else None
        #: Where the columns that problems name are: the names the validator reports them under.
        self.position_of: dict[str, int] = {}
        for fld in FIELDS:
            if fld in self.header_map.positions:
                self.position_of.setdefault(self.header_map.header_of(fld), self.header_map.positions[fld])
        for position, name in self.validator.other_columns:
            self.position_of.setdefault(name, position)
        #: Which field each column fills, in words ("ISBN", and for a fallback "ISBN, where ISBN13 is blank").
        self.fills: list[str | None] = [None] * len(self.headers)
        for fld, position in self.header_map.positions.items():
            self.fills[position] = LABELS[fld]
        for fld, chain in self.header_map.fallbacks.items():
            before = [str(self.header_map.header_of(fld))]
            for position in chain:
                blank = " and ".join(before) + (" is" if len(before) == 1 else " are")
                self.fills[position] = f"{LABELS[fld]}, where {blank} blank"
                before.append(str(self.headers[position]))

    @property
    def width(self) -> int:
        return len(self.headers)

    def position(self, column: str | None) -> int | None:
        """Return the position of the column a problem names (None: a row's problem, or a default's)."""
        return None if column is None else self.position_of.get(column)

    def check(self, row_number: int, cells: Sequence[object]) -> RowResult:
        """Check one row's cells (text, in the file's column order)."""
        if is_blank_row(cells):
            return RowResult([], blank=True)
        found = self.validator.validate(row_number, list(cells))
        if isinstance(found, BookRow):
            return RowResult([], book=found)
        return RowResult([CellProblem(self.position(p.column), p.column, p.value, p.message) for p in found])

    def in_cell_words(self, row_number: int, cells: Sequence[object], problems: list[CellProblem]) -> list[CellProblem]:
        """Return the import's *problems* of a row as read, those of the column a row checked alone words for
        its cell (a price with a decimal comma the import's column read with a point) in those words."""
        at = self.worded_alone
        if at is None or all(p.position != at for p in problems):
            return problems
        own = [p for p in self.check(row_number, cells).problems if p.position == at]
        if not own:
            return problems
        first = next(i for i, p in enumerate(problems) if p.position == at)
        others = [p for p in problems if p.position != at]
        return others[:first] + own + others[first:]

    def cells_by_header(self, given: dict[str, object]) -> list[str]:
        """Return the cells of a row given as {header: text}, in the file's column order.

        Raises ValueError naming the headers the file does not have. A header the file has twice
        takes the first of its columns; a column without a header is named like a spreadsheet names
        it ("Column C")."""
        names: dict[str, int] = {}
        for position, header in enumerate(self.headers):
            names.setdefault(header.casefold() if header else _letter_name(position).casefold(), position)
        cells = [""] * self.width
        unknown = []
        for key, value in given.items():
            position = names.get(str(key).strip().casefold())
            if position is None:
                unknown.append(str(key))
            else:
                cells[position] = cell_text(value)
        if unknown:
            known = ", ".join(repr(h or _letter_name(i)) for i, h in enumerate(self.headers))
            raise ValueError(f"The file has no column {', '.join(map(repr, unknown))}; its columns are: {known}.")
        return cells


def _letter_name(position: int) -> str:
    return f"Column {get_column_letter(position + 1)}"


def stored_problems(imp: Import, numbers: set[int], checker: RowChecker) -> dict[int, list[CellProblem]]:
    """Return the problems the import found in some of its rows, by row number, as it reported them
    (a repeated ISBN or a stock total past the limit too, which a row alone does not show)."""
    if not numbers:
        return {}
    found: dict[int, list[CellProblem]] = {}
    for row_number, column, value, message in db.session.execute(
        select(ImportRowError.row_number, ImportRowError.column, ImportRowError.value, ImportRowError.message)
        .where(ImportRowError.import_id == imp.id, ImportRowError.row_number.in_(numbers))
        .order_by(ImportRowError.row_number, ImportRowError.id)
    ):
        found.setdefault(row_number, []).append(CellProblem(checker.position(column), column, value, message))
    return found
