"""Validate rows of cells into books, a chunk at a time, or list every problem each row has.

Each field has one scalar converter (values.py) that defines its rules and messages. A chunk is
validated column by column: cheap checks in bulk first (all-plain text, canonical ISBN-13 check
digits, repeated values remembered), and any cell that is not plainly valid goes through its
scalar converter, so the rules and the messages are those of the converter, always.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import compress
from operator import itemgetter
from typing import NamedTuple

from openpyxl.utils.cell import get_column_letter

from .cells import cell_text
from .columns import Column, is_blank_cell
from .errors import RowProblem, UnsavedFormula, ValueProblem
from .fields import FIELDS, LABELS, MARKUP_FIELDS, OPTIONAL_FIELDS
from .groups import continued, shared_positions
from .headers import HeaderMap
from .reading import MAX_CELL_CHARS
from .values import NUL_PROBLEM, converters, parse_isbn

#: The longest cell value quoted back in a report.
SHOWN_VALUE_LENGTH = 80


#: The lists of ValidRows that note rows read with a repair (the import counts each kind).
NOTED_ROWS = ("repaired", "from_markup", "first_of_several", "past_qualifier")


class BookRow(NamedTuple):
    """A valid row: the book's canonical values and the row they came from."""

    row_number: int
    title: str
    author: str
    book_type: str
    isbn: str
    year_published: str
    price: Decimal
    no_of_pages: int | None
    quantity: int
    description: str | None

    def values(self) -> dict:
        """Return the book's fields as a dict."""
        return {f: getattr(self, f) for f in FIELDS}


@dataclass
class ValidRows:
    """A chunk's valid rows, column by column: their row numbers and one list per field (FIELDS order).

    Filtering, converting and storing work a column at a time; BookRows are made only when the rows
    are iterated (a preview, a report, a single-row check), which costs more than the columns do.
    """

    numbers: list[int]
    columns: list[list]
    #: Rows whose ISBN was repaired on the way in (an ISBN-10 that lost its leading zero).
    repaired: list[int] = field(default_factory=list)
    #: Rows whose description was written in HTML and read as its text (importer.markup).
    from_markup: list[int] = field(default_factory=list)
    #: Rows whose ISBN cell held several ISBNs of the book, read as the first.
    first_of_several: list[int] = field(default_factory=list)
    #: Rows whose ISBN cell held a library catalogue's qualifier after the ISBN ("(pbk.)"), read as the ISBN.
    past_qualifier: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.numbers)

    def __iter__(self) -> Iterator[BookRow]:
        return map(BookRow._make, zip(self.numbers, *self.columns, strict=True))

    def column(self, field: str) -> list:
        """Return one field's values, in row order."""
        return self.columns[FIELDS.index(field)]

    def where(self, keep: Sequence[bool]) -> ValidRows:
        """Return the rows whose *keep* flag is true."""
        kept = ValidRows(list(compress(self.numbers, keep)), [list(compress(c, keep)) for c in self.columns])
        noted = [name for name in NOTED_ROWS if getattr(self, name)]
        if noted:
            still = set(kept.numbers)
            for name in noted:
                setattr(kept, name, [n for n in getattr(self, name) if n in still])
        return kept

    def records(self) -> list[tuple]:
        """Return each row's field values as a tuple (no row number), for bulk inserts."""
        return list(zip(*self.columns, strict=True))


def shown(value: object) -> str | None:
    """Return *value* as short text for a report, written as the spreadsheet showed it (a whole number
    without ".0"); None for a formula whose result was never saved (its problem names its cell)."""
    if value is None or isinstance(value, UnsavedFormula):
        return None
    text = cell_text(value)
    return text if len(text) <= SHOWN_VALUE_LENGTH else text[: SHOWN_VALUE_LENGTH - 1] + "…"


def validate_values(raw: dict[str, object], *, decimal_comma: bool = False) -> tuple[dict, dict[str, str]]:
    """Convert a mapping of field → raw value; return (values, {field: problem})."""
    values: dict[str, object] = {}
    problems: dict[str, str] = {}
    for fld, convert in converters(decimal_comma=decimal_comma).items():
        try:
            value = convert(raw.get(fld))
        except ValueProblem as exc:
            problems[fld] = f"{LABELS[fld]} {exc}"
            continue
        if value is None and fld not in OPTIONAL_FIELDS:
            problems[fld] = f"{LABELS[fld]} is required"
        values[fld] = value
    return values, problems


def is_blank_row(cells: Sequence[object]) -> bool:
    """Whether every cell is empty or only spaces: a row a spreadsheet shows as empty."""
    return all(c is None or (type(c) is str and not c.strip()) for c in cells)


def drop_blank_rows(
    rows: list[tuple[int, Sequence[object]]], problems: list[RowProblem]
) -> tuple[list[tuple[int, Sequence[object]]], list[RowProblem]]:
    """Leave out the rows whose cells are all blank after trimming (a line of spaces, `  ,  , `), and their
    problems: such a row is not there, so it is skipped like an empty one, not rejected.

    Only rejected rows are looked at (a blank row never passes, a title being required), so a chunk
    without problems costs nothing here; the reader skips rows with no text at all itself, for free.
    """
    rows, problems, _ = _leave_out_rejected(rows, problems, is_blank_row)
    return rows, problems


def rows_without_book_cells(
    rows: list[tuple[int, Sequence[object]]], problems: list[RowProblem], read_columns: list[int]
) -> tuple[list[tuple[int, Sequence[object]]], list[RowProblem], list[int]]:
    """Leave out the rejected rows with nothing in any column a field reads (a Shopify export's rows that
    only add an image to the product above them): they hold no book. Return the rows and problems
    kept, and the numbers of the rows left out (the import counts them and says so)."""
    if not read_columns:
        return rows, problems, []
    return _leave_out_rejected(
        rows, problems, lambda cells: all(is_blank_cell(cells[i]) for i in read_columns if i < len(cells))
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


def totals_rows(
    rows: list[tuple[int, Sequence[object]]],
    problems: list[RowProblem],
    isbn_columns: list[int],
    label_columns: Sequence[int] = (),
) -> tuple[list[tuple[int, Sequence[object]]], list[RowProblem], list[int]]:
    """Leave out the rejected rows that are a sheet's totals: no ISBN in any column ISBN reads (blank, or a
    count of them), and a totals word ("Total", "Grand total:", see TOTALS_WORDS) as the row's only text,
    every other cell a number or blank; or, without a label, only numbers ($63.23, 11) and nothing in the
    *label_columns* (those Title, Author and ISBN read). Return the rows and problems kept, and the
    numbers of the rows left out (the import counts them and says so).

    A row with an ISBN is a book whatever its title ("Total" is one), and so is one with an author or a
    type beside a title "Sum"; only rejected rows are looked at, so a chunk without problems costs
    nothing here."""

    def is_totals(cells: Sequence[object]) -> bool:
        text = only_text(cells)
        if text is None and label_columns and only_numbers(cells):
            return all(is_blank_cell(cells[i]) for i in label_columns if i < len(cells))
        if text is None or not is_totals_text(text):
            return False
        return not any(_is_isbn(cells[i]) for i in isbn_columns if i < len(cells))

    return _leave_out_rejected(rows, problems, is_totals)


#: The product types of a WooCommerce export whose own row holds no book: a variable product's variations
#: are the books (each with its own SKU, price and stock), and a grouped product's products.
CONTAINER_TYPES = frozenset({"variable", "grouped"})


def product_rows(
    rows: list[tuple[int, Sequence[object]]], type_at: int | None
) -> tuple[list[tuple[int, Sequence[object]]], list[int]]:
    """Leave out a product export's rows of a variable or a grouped product (its Type column at *type_at*):
    no book, whatever they hold (a price for every row would make one), only what their variations
    share (importer.groups). Return the rows kept and the numbers of those left out (told, not rejected).
    A file that is no product export (*type_at* None) costs nothing here."""
    if type_at is None:
        return rows, []
    left_out = [n for n, cells in rows if type_at < len(cells) and _product_type(cells[type_at]) in CONTAINER_TYPES]
    if not left_out:
        return rows, []
    gone = set(left_out)
    return [r for r in rows if r[0] not in gone], left_out


def _product_type(cell: object) -> str:
    return cell.strip().casefold() if type(cell) is str else ""


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


def second_header_rows(
    rows: list[tuple[int, Sequence[object]]], problems: list[RowProblem], first_row: int | None
) -> tuple[list[tuple[int, Sequence[object]]], list[RowProblem], list[int]]:
    """Leave out the file's first row under the header (*first_row*; None: not in these rows) when it was
    rejected and is a second header (see is_second_header); return the rows and problems kept, and the
    row left out, if any (the import counts it and says so)."""
    if (
        first_row is None
        or not rows
        or rows[0][0] != first_row
        or not problems
        or problems[0].row_number != first_row
        or not is_second_header(rows[0][1])
    ):
        return rows, problems, []
    return rows[1:], [p for p in problems if p.row_number != first_row], [first_row]


#: A cell of a sums row: a number, maybe with a currency sign or a percent sign, grouped or not ($1,299.50).
_SUM_CELL = re.compile(r"\s*[£$€¥₹]?\s*[+-]?\d[\d.,'\s\u00a0]*[£$€¥₹%]?\s*\Z")


def only_numbers(cells: Sequence[object]) -> bool:
    """Whether a row's filled cells are all numbers (a sheet's sums: $63.23, 11), and there is one."""
    filled = [c for c in cells if not is_blank_cell(c)]
    return bool(filled) and all((type(c) in (int, float) or (type(c) is str and _SUM_CELL.match(c))) for c in filled)


def note_rows(
    rows: list[tuple[int, Sequence[object]]], problems: list[RowProblem]
) -> tuple[list[tuple[int, Sequence[object]]], list[RowProblem], list[int]]:
    """Leave out the rejected rows whose only content is one cell of text that is no ISBN: a note under the
    books ("Notes: prices checked 3/2/2024"), no book. Return the rows and problems kept, and the numbers of
    the rows left out (the import counts them and says so). A row with a title and anything else (an ISBN,
    a year) is a book lacking fields, and stays rejected saying what it lacks."""

    def is_note(cells: Sequence[object]) -> bool:
        filled = [c for c in cells if not is_blank_cell(c)]
        return (
            len(filled) == 1 and type(filled[0]) is str and any(map(str.isalpha, filled[0])) and not _is_isbn(filled[0])
        )

    return _leave_out_rejected(rows, problems, is_note)


def _is_isbn(cell: object) -> bool:
    """Whether a cell reads as an ISBN (not blank, nor a totals row's count of them)."""
    try:
        return parse_isbn(cell) is not None
    except ValueProblem:
        return False


def _leave_out_rejected(rows, problems: list[RowProblem], empty: Callable[[Sequence[object]], bool]):
    """Leave out the rejected rows whose cells *empty* says hold nothing, with their problems; return the
    rows and problems kept and the numbers of those left out, in order."""
    if not problems:
        return rows, problems, []
    cells_of = dict(rows)
    left_out = sorted(n for n in {p.row_number for p in problems} if n in cells_of and empty(cells_of[n]))
    if not left_out:
        return rows, problems, []
    gone = set(left_out)
    return [r for r in rows if r[0] not in gone], [p for p in problems if p.row_number not in gone], left_out


class RowValidator:
    """Turn rows of cells into BookRows, using a file's header map."""

    def __init__(
        self,
        header_map: HeaderMap,
        *,
        decimal_comma: bool = False,
        decimal_comma_columns: Collection[int] = frozenset(),
        text_cells: bool = False,
        nul_cells: bool = False,
    ):
        """*decimal_comma*: the file's numbers are written with one (a semicolon-separated file's);
        *decimal_comma_columns*: the columns whose are (reading.Table's), read so where Price reads one."""
        self.width = len(header_map.headers)
        self.text_cells = text_cells
        #: Whether cells may hold a NUL byte (the file has one somewhere): then every column is checked.
        self.nul_cells = nul_cells
        mapped = set(header_map.positions.values()) | {p for c in header_map.fallbacks.values() for p in c}
        #: The columns some field reads (a row with nothing in any of them holds no book).
        self.read_columns = sorted(mapped)
        #: The columns ISBN reads (a row with nothing in them may be a sheet's totals: see totals_rows).
        isbn_at = header_map.positions.get("isbn")
        self.isbn_columns = [] if isbn_at is None else [isbn_at, *header_map.fallbacks.get("isbn", ())]
        #: The columns Title, Author and ISBN read (a row of numbers with nothing in them is a sheet's sums).
        self.label_columns = [
            p
            for f in ("title", "author", "isbn")
            if f in header_map.positions
            for p in (header_map.positions[f], *header_map.fallbacks.get(f, ()))
        ]
        #: The column naming each row's item, and the columns a row continuing one takes from its first row.
        self.group_by = header_map.group_by
        self.shared_columns = shared_positions(header_map.positions, header_map.fallbacks)
        self.item_names = header_map.item_names
        #: A product export's Type column: its variable and grouped products' rows hold no book (product_rows).
        self.product_type_at = header_map.product_type
        #: The columns no field reads: their cells are only checked for what makes a row unreadable.
        self.other_columns = [
            (position, header or f"Column {get_column_letter(position + 1)}")
            for position, header in enumerate(header_map.headers)
            if position not in mapped
        ]
        #: Whether prices are read with a decimal comma (as all of the file's numbers, or as its price column's).
        self.price_decimal_comma = decimal_comma or header_map.positions.get("price") in decimal_comma_columns
        convert = converters(decimal_comma=decimal_comma, markup=True)
        convert["price"] = converters(decimal_comma=self.price_decimal_comma)["price"]
        self.columns = [
            Column(
                fld,
                header_map.positions.get(fld),
                header_map.header_of(fld),
                convert[fld],
                text_cells=text_cells,
                fallbacks=header_map.fallbacks.get(fld, ()),
                default=header_map.defaults.get(fld),
                values=header_map.values.get(fld),
                markup=fld in MARKUP_FIELDS,
            )
            for fld in FIELDS
            if fld in header_map.positions or fld in header_map.defaults
        ]

    def continued(self, rows: Iterable[tuple[int, Sequence[object]]]) -> Iterable[tuple[int, Sequence[object]]]:
        """Return the file's *rows* (all of them, in order) as this import reads them: a row continuing
        the item above takes that item's details where its own are blank (importer.groups)."""
        if self.group_by is None:
            return rows
        return continued(rows, self.group_by, self.shared_columns, self.read_columns, self.item_names)

    def validate(self, row_number: int, cells: Sequence[object]) -> BookRow | list[RowProblem]:
        """Return the row's BookRow, or every problem found in it."""
        valid, problems = self.validate_chunk([(row_number, cells)])
        return next(iter(valid)) if valid else problems

    def validate_chunk(self, rows: list[tuple[int, Sequence[object]]]) -> tuple[ValidRows, list[RowProblem]]:
        """Validate rows of (row number, cells); return the valid rows and every problem, in row order."""
        problems: list[RowProblem] = []
        width = self.width
        shaped = rows
        if set(map(len, map(itemgetter(1), rows))) - {width}:
            shaped = []
            for n, cells in rows:
                if len(cells) == width or (len(cells) > width and not any(c not in (None, "") for c in cells[width:])):
                    shaped.append((n, cells))
                else:
                    problems.append(self._ragged(n, len(cells)))
        if not shaped:
            return ValidRows([], [[] for _ in FIELDS]), problems
        numbers = [n for n, _ in shaped]
        by_position = list(zip(*(cells for _, cells in shaped), strict=False))
        columns: dict[str, list[object]] = {}
        bad: dict[int, list[RowProblem]] = {}
        repaired: list[int] = []
        from_markup: list[int] = []
        several: list[int] = []
        qualified: list[int] = []
        for column in self.columns:
            cells, values, column_problems = column.convert_source(by_position, len(numbers))
            columns[column.field] = values
            repaired.extend(numbers[i] for i in column.repaired)
            from_markup.extend(numbers[i] for i in column.from_markup)
            several.extend(numbers[i] for i in column.first_of_several)
            qualified.extend(numbers[i] for i in column.past_qualifier)
            for index, message in column_problems.items():
                bad.setdefault(index, []).append(
                    RowProblem(numbers[index], column.header, shown(cells[index]), message)
                )
        for position, header in self.other_columns:
            cells = by_position[position]
            for index, message in self._other_cell_problems(cells).items():
                bad.setdefault(index, []).append(
                    RowProblem(numbers[index], header, shown(cells[index]), f"{header} {message}")
                )
        blank = [None] * len(shaped)
        valid = ValidRows(
            numbers,
            [columns.get(fld, blank) for fld in FIELDS],
            sorted(repaired),
            from_markup,
            sorted(several),
            sorted(qualified),
        )
        if bad:
            valid = valid.where([index not in bad for index in range(len(numbers))])
            for index in sorted(bad):
                problems.extend(bad[index])
            problems.sort(key=lambda p: p.row_number)
        return valid, problems

    def _other_cell_problems(self, cells: Sequence[object]) -> dict[int, str]:
        """Find the cells of a column no field reads that still make their row unreadable: one longer
        than MAX_CELL_CHARS, or one holding a NUL byte. Whole-column checks first: a file's ignored
        columns cost a string length per cell, and the NUL check runs only for a file that has one."""
        texts = cells if self.text_cells else [c if type(c) is str else "" for c in cells]
        if not texts or (max(map(len, texts)) <= MAX_CELL_CHARS and not (self.nul_cells and "\x00" in "".join(texts))):
            return {}
        problems = {}
        for index, text in enumerate(texts):
            if len(text) > MAX_CELL_CHARS:
                problems[index] = f"is {len(text):,} characters long; the most a cell may hold is {MAX_CELL_CHARS:,}"
            elif "\x00" in text:
                problems[index] = NUL_PROBLEM
        return problems

    def _ragged(self, row_number: int, count: int) -> RowProblem:
        if not self.text_cells and count > self.width:  # a sheet's row: a value past the header's columns
            return RowProblem(
                row_number,
                None,
                None,
                f"Row has a value right of the header's last column (the header has {self.width} columns): "
                "give that column a header, or clear the cell",
            )
        return RowProblem(
            row_number,
            None,
            None,
            f"Row has {count} cells but the header has {self.width}: check for a missing or extra "
            "delimiter, or a quote that is not closed",
        )
