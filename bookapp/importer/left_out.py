"""The rows an import leaves out instead of rejecting, telling how many: rows that hold no book.

RULES lists them in the order they are tried; the row reading (LeftOutRows, a chunk at a time) and the
Match columns preview (why_left_out, a row at a time) both walk that one list, so a row is left out,
counted and named alike by both, and a new kind of row is one entry. A rule tries only the rows that
could be nothing else: most only rejected rows (a row that passes is a book whatever it looks like), so
a chunk without problems costs nothing here, and one with problems a test or two per rejected row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from .columns import NOTHING_PASSED_OVER, is_blank_cell
from .errors import RowProblem, ValueProblem
from .values import parse_isbn

if TYPE_CHECKING:
    from .validation import RowValidator

Rows = list[tuple[int, Sequence[object]]]


class Tried(Enum):
    """Which rows a rule is tried on."""

    #: Every row, before it is validated: whatever it holds, it is no book (nor is it rejected).
    EVERY_ROW = "every row"
    #: Rejected rows.
    REJECTED = "rejected rows"
    #: The file's first row under the header (the first not left out), when rejected.
    FIRST_REJECTED = "the first row, rejected"


@dataclass(frozen=True)
class Rule:
    """One kind of row an import leaves out."""

    #: The name of the import's note of these rows, which counts them (Import.repairs, the API's
    #: "repairs", the import's page); None: left out untold, as an empty row is.
    key: str | None
    #: Whether a row is one of these, given its cells and the validator (the columns it reads).
    test: Callable[[Sequence[object], RowValidator], bool]
    #: Why the Match columns preview leaves the row out, in words ("": it does not say, and tries the
    #: rules after this one).
    shown: str
    #: Which rows the rule is tried on.
    tried: Tried = Tried.REJECTED
    #: Whether a file read with the validator can hold such rows at all (None: any file can); a rule
    #: that cannot is never tried, so a file that is no product export costs nothing for them.
    possible: Callable[[RowValidator], bool] | None = None


def is_blank_row(cells: Sequence[object]) -> bool:
    """Whether every cell is empty or only spaces: a row a spreadsheet shows as empty."""
    return all(c is None or (type(c) is str and not c.strip()) for c in cells)


#: The product types of a WooCommerce export whose own row holds no book: a variable product's variations
#: are the books (each with its own SKU, price and stock), and a grouped product's products.
CONTAINER_TYPES = frozenset({"variable", "grouped"})


def is_product_row(cells: Sequence[object], validator: RowValidator) -> bool:
    """Whether a row of a product export is a variable or a grouped product's (its Type column): no book,
    whatever it holds (a price for every row would make one), only what its variations share
    (importer.groups)."""
    type_at = validator.product_type_at
    return type_at is not None and type_at < len(cells) and is_container_type(cells[type_at])


def is_container_type(cell: object) -> bool:
    """Whether a product export's Type cell says the row is a variable or a grouped product's own."""
    return type(cell) is str and cell.strip().casefold() in CONTAINER_TYPES


def has_no_book_cells(cells: Sequence[object], validator: RowValidator) -> bool:
    """Whether a row has nothing in any column a field reads (a Shopify export's rows that only add an
    image to the product above them), as the field reads it (a numeric tool's nan where it is blank:
    groups.SharedColumns): it holds no book."""
    words = validator.shared_columns.passed_over
    return all(
        is_blank_cell(cells[i], words.get(i, NOTHING_PASSED_OVER)) for i in validator.read_columns if i < len(cells)
    )


#: What the first text of a sheet's totals row says, case, spacing and punctuation aside ("TOTAL:",
#: "Grand total", "Sub-total"). Kept short on purpose: a row is left out for it only when it was rejected
#: and has no ISBN, so a word a title could be ("Amount", "All") would still hide nothing a person meant
#: as a book; a longer list would only guess more.
TOTALS_WORDS = frozenset({"total", "totals", "grand total", "subtotal", "sub total", "sum",
                          "summe", "gesamt", "somme", "totale", "totaal", "suma"})  # fmt: skip
_NOT_A_WORD = re.compile(r"[\W_]+")


def is_totals_text(text: str) -> bool:
    """Whether *text* is a totals row's label: Total, Totals, Grand total, Subtotal or Sum."""
    return " ".join(_NOT_A_WORD.sub(" ", text.casefold()).split()) in TOTALS_WORDS


def only_text(cells: Sequence[object]) -> str | None:
    """Return the row's one cell of text with a letter in it (numbers, dates, a formula's result pass);
    None when it has none, or more than one (a book's title and its author)."""
    texts = [cell for cell in cells if type(cell) is str and any(map(str.isalpha, cell))]
    return texts[0] if len(texts) == 1 else None


#: A cell of a sums row: a number, maybe with a currency sign or a percent sign, grouped or not ($1,299.50).
_SUM_CELL = re.compile(r"\s*[£$€¥₹]?\s*[+-]?\d[\d.,'\s\u00a0]*[£$€¥₹%]?\s*\Z")


def only_numbers(cells: Sequence[object]) -> bool:
    """Whether a row's filled cells are all numbers (a sheet's sums: $63.23, 11), and there is one."""
    filled = [c for c in cells if not is_blank_cell(c)]
    return bool(filled) and all((type(c) in (int, float) or (type(c) is str and _SUM_CELL.match(c))) for c in filled)


def is_totals_row(cells: Sequence[object], validator: RowValidator) -> bool:
    """Whether a row is a sheet's totals: no ISBN in any column ISBN reads (blank, or a count of them), and
    a totals word ("Total", "Grand total:", see TOTALS_WORDS) as the row's only text, every other cell a
    number or blank; or, without a label, only numbers ($63.23, 11) and nothing in the columns Title,
    Author and ISBN read.

    A row with an ISBN is a book whatever its title ("Total" is one), and so is one with an author or a
    type beside a title "Sum"."""
    text = only_text(cells)
    if text is None and validator.label_columns and only_numbers(cells):
        return all(is_blank_cell(cells[i]) for i in validator.label_columns if i < len(cells))
    if text is None or not is_totals_text(text):
        return False
    return not any(_is_isbn(cells[i]) for i in validator.isbn_columns if i < len(cells))


def is_note_row(cells: Sequence[object], validator: RowValidator) -> bool:
    """Whether a row's only content is one cell of text that is no ISBN: a note under the books ("Notes:
    prices checked 3/2/2024"), no book. A row with a title and anything else (an ISBN, a year) is a book
    lacking fields, and stays rejected saying what it lacks."""
    filled = [c for c in cells if not is_blank_cell(c)]
    return len(filled) == 1 and type(filled[0]) is str and any(map(str.isalpha, filled[0])) and not _is_isbn(filled[0])


#: A cell of a second header row: a name a program reads rather than a person (item_sku,
#: external_product_id, author), a letter first and no spaces.
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[_.:-][A-Za-z0-9]+)*\Z")
#: The fewest names a second header row holds.
SECOND_HEADER_NAMES = 3


def is_second_header(cells: Sequence[object]) -> bool:
    """Whether a row is a second header, the field names a program reads under the labels a person does
    (a shop's inventory template: "Seller SKU" over item_sku): every filled cell such a name, at least
    SECOND_HEADER_NAMES of them, and half or more written snake_case or camelCase (no book's values are)."""
    names = [c for c in cells if not is_blank_cell(c)]
    if len(names) < SECOND_HEADER_NAMES or not all(type(c) is str and _FIELD_NAME.match(c.strip()) for c in names):
        return False
    joined = sum("_" in c or (c[:1].islower() and not c.islower()) for c in names)
    return 2 * joined >= len(names)


def _is_isbn(cell: object) -> bool:
    """Whether a cell reads as an ISBN (not blank, nor a totals row's count of them)."""
    try:
        return parse_isbn(cell) is not None
    except ValueProblem:
        return False


#: The rows an import leaves out, in the order they are tried: a row is left out by the first that
#: takes it (a lone "Total" is a totals row, not a note). The keys are the import's notes of them.
RULES = (
    Rule(
        key="product_rows",
        test=is_product_row,
        shown="a variable or grouped product's own row (its variations are the books)",
        tried=Tried.EVERY_ROW,
        possible=lambda validator: validator.product_type_at is not None,
    ),
    # A line of spaces (`  ,  , `) is not there, so it is left out untold, like an empty one (which the
    # reader skips itself, for free); the preview goes on to say it has nothing in the matched columns.
    Rule(key=None, test=lambda cells, _: is_blank_row(cells), shown=""),
    Rule(
        key="rows_without_book_cells",
        test=has_no_book_cells,
        shown="nothing in the matched columns",
        possible=lambda validator: bool(validator.read_columns),
    ),
    Rule(key="totals_rows", test=is_totals_row, shown="a totals row (no ISBN; it sums up the sheet)"),
    Rule(key="note_rows", test=is_note_row, shown="a note (one cell of text, nothing else)"),
    Rule(
        key="second_header_row",
        test=lambda cells, _: is_second_header(cells),
        shown="a second header (the field names a program reads, under the header)",
        tried=Tried.FIRST_REJECTED,
    ),
)


#: The import's notes of the rows it leaves out (Import.repairs), each counting its rows.
NOTES = tuple(rule.key for rule in RULES if rule.key)


def left_out_count(repairs: dict | None) -> int:
    """Return how many rows an import's notes say it left out (empty rows, left out untold, aside)."""
    return sum(note.get("count", 0) for key, note in (repairs or {}).items() if key in NOTES)


def _possible(validator: RowValidator) -> list[Rule]:
    return [rule for rule in RULES if rule.possible is None or rule.possible(validator)]


class LeftOutRows:
    """Leave out one reading's rows that hold no book, a chunk at a time, in row order: walk RULES."""

    def __init__(self, validator: RowValidator):
        self.validator = validator
        possible = _possible(validator)
        self.every_row = [rule for rule in possible if rule.tried is Tried.EVERY_ROW]
        self.if_rejected = [rule for rule in possible if rule.tried is not Tried.EVERY_ROW]
        #: Whether the file's first row under the header is still to come (rows left out do not count).
        self.first_to_come = True

    def before_validation(self, rows: Rows) -> tuple[Rows, dict[str, list[int]]]:
        """Leave out the chunk's rows that are no book whatever they hold; return the rows kept and the
        numbers of those left out, by note."""
        if not self.every_row:
            return rows, {}
        kept: Rows = []
        left_out: dict[str | None, list[int]] = {}
        for row in rows:
            for rule in self.every_row:
                if rule.test(row[1], self.validator):
                    left_out.setdefault(rule.key, []).append(row[0])
                    break
            else:
                kept.append(row)
        left_out.pop(None, None)
        return kept, left_out

    def after_validation(
        self, rows: Rows, problems: list[RowProblem]
    ) -> tuple[Rows, list[RowProblem], dict[str, list[int]]]:
        """Leave out the chunk's rejected rows that hold no book, with their problems; return the rows and
        problems kept and the numbers of those left out, by note (not the untold ones)."""
        left_out: dict[str | None, list[int]] = {}
        took_first = False
        if problems and self.if_rejected:
            cells_of = dict(rows)
            gone: list[int] = []
            for number in sorted({p.row_number for p in problems}):
                cells = cells_of.get(number)
                if cells is None:
                    continue
                # The first row under the header is the first not left out: every row above it was.
                first = self.first_to_come and rows[len(gone)][0] == number
                for rule in self.if_rejected:
                    if (first or rule.tried is not Tried.FIRST_REJECTED) and rule.test(cells, self.validator):
                        gone.append(number)
                        left_out.setdefault(rule.key, []).append(number)
                        took_first = took_first or rule.tried is Tried.FIRST_REJECTED
                        break
            if gone:
                dropped = set(gone)
                rows = [row for row in rows if row[0] not in dropped]
                problems = [p for p in problems if p.row_number not in dropped]
        self.first_to_come = self.first_to_come and not rows and not took_first
        left_out.pop(None, None)
        return rows, problems, left_out


def why_left_out(cells: Sequence[object], validator: RowValidator, *, rejected: bool, first: bool = False) -> str:
    """Return why the import leaves a row out, in the preview's words ("": it does not): before the row
    is validated (*rejected* False), by the rules tried on every row; once it is rejected, by the rules
    tried on rejected rows (*first*: the row is the file's first under the header)."""
    for rule in _possible(validator):
        if not rule.shown or (rule.tried is not Tried.EVERY_ROW) != rejected:
            continue
        if (first or rule.tried is not Tried.FIRST_REJECTED) and rule.test(cells, validator):
            return rule.shown
    return ""
