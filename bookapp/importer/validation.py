"""Validate rows of cells into books, a chunk at a time, or list every problem each row has.

Each field has one scalar converter (values.py) that defines its rules and messages. A chunk is
validated column by column: cheap checks in bulk first (all-plain text, canonical ISBN-13 check
digits, repeated values remembered), and any cell that is not plainly valid goes through its
scalar converter, so the rules and the messages are those of the converter, always.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from itertools import compress
from operator import itemgetter
from typing import NamedTuple

from openpyxl.utils.cell import get_column_letter

from .catalogue_values import PUNCTUATED_FIELDS, is_catalogue_date, is_catalogue_extent
from .cells import cell_text
from .columns import Column
from .decimal_comma import has_thousands_points
from .errors import RowProblem, UnsavedFormula, ValueProblem
from .fields import FIELDS, LABELS, MARKUP_FIELDS, OPTIONAL_FIELDS
from .groups import continued, shared_positions
from .headers import HeaderMap
from .reading import MAX_CELL_CHARS
from .text_values import NUL_PROBLEM
from .values import converters

#: The longest cell value quoted back in a report.
SHOWN_VALUE_LENGTH = 80
#: The forms of a field's cells its converter reads past that the import counts, by the list of ValidRows
#: noting the rows so read: a library catalogue's date and extent ("c1965.", "xii, 412 p. :").
CATALOGUE_FORMS = {
    "year_published": {"catalogue_year": is_catalogue_date},
    "no_of_pages": {"catalogue_pages": is_catalogue_extent},
}
#: The fields read as whole numbers: where a file's prices group thousands with points, so may their cells.
WHOLE_NUMBER_FIELDS = ("no_of_pages", "quantity")


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
    are iterated (a preview, a report, a single-row check), which costs more than the columns do. Each list
    of the rows read with a repair declares the note the import counts them under (its repairs' key).
    """

    numbers: list[int]
    columns: list[list]
    #: Rows whose ISBN was repaired on the way in (an ISBN-10 that lost its leading zero).
    repaired: list[int] = field(default_factory=list, metadata={"note": "isbn_leading_zero"})
    #: Rows whose description was written in HTML and read as its text (importer.markup).
    from_markup: list[int] = field(default_factory=list, metadata={"note": "descriptions_from_html"})
    #: Rows whose ISBN cell held several ISBNs of the book, read as the first.
    first_of_several: list[int] = field(default_factory=list, metadata={"note": "isbn_first_of_several"})
    #: Rows whose ISBN cell held a library catalogue's qualifier after the ISBN ("(pbk.)"), read as the ISBN.
    past_qualifier: list[int] = field(default_factory=list, metadata={"note": "isbn_past_qualifier"})
    #: Rows whose title or author had a library catalogue's closing punctuation taken off ("Dune /" → "Dune").
    punctuation_taken_off: list[int] = field(default_factory=list, metadata={"note": "catalogue_punctuation_taken_off"})
    #: Rows whose year was a library catalogue's date ("c1965.", "©1965", "[1965]"), read as its year.
    catalogue_year: list[int] = field(default_factory=list, metadata={"note": "year_read_from_catalogue"})
    #: Rows whose number of pages was a library catalogue's extent ("xii, 412 p. :"), read as its pages.
    catalogue_pages: list[int] = field(default_factory=list, metadata={"note": "pages_read_from_catalogue"})
    #: Rows whose author had the dates a library catalogue adds to a name taken off ("Herbert, Frank, 1920-1986").
    dates_taken_off: list[int] = field(default_factory=list, metadata={"note": "catalogue_dates_taken_off"})
    #: Rows whose quantity or number of pages was written with points grouping thousands (1.200), read so as
    #: the file's prices are (a comma-separated file's, whose prices have a decimal comma: 1.234,50).
    thousands_points: list[int] = field(default_factory=list, metadata={"note": "thousands_points_read"})

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
        lists = [name for name in NOTED_ROWS if getattr(self, name)]
        if lists:
            still = set(kept.numbers)
            for name in lists:
                setattr(kept, name, [n for n in getattr(self, name) if n in still])
        return kept

    def records(self) -> list[tuple]:
        """Return each row's field values as a tuple (no row number), for bulk inserts."""
        return list(zip(*self.columns, strict=True))


#: The lists of ValidRows that note rows read with a repair, each with the note the import counts it under.
NOTED_ROWS = {f.name: f.metadata["note"] for f in fields(ValidRows) if "note" in f.metadata}


def shown(value: object) -> str | None:
    """Return *value* as short text for a report, written as the spreadsheet showed it (a whole number
    without ".0"); None for a formula whose result was never saved (its problem names its cell)."""
    if value is None or isinstance(value, UnsavedFormula):
        return None
    text = cell_text(value)
    return text if len(text) <= SHOWN_VALUE_LENGTH else text[: SHOWN_VALUE_LENGTH - 1] + "…"


def validate_values(
    raw: dict[str, object], *, decimal_comma: bool = False, alone: bool = True
) -> tuple[dict, dict[str, str]]:
    """Convert a mapping of field → raw value (one book's: a form's, the API's; *alone* false: as a file's
    columns read them); return (values, {field: problem})."""
    values: dict[str, object] = {}
    problems: dict[str, str] = {}
    for fld, convert in converters(decimal_comma=decimal_comma, alone=alone).items():
        try:
            value = convert(raw.get(fld))
        except ValueProblem as exc:
            problems[fld] = f"{LABELS[fld]} {exc}"
            continue
        if value is None and fld not in OPTIONAL_FIELDS:
            problems[fld] = f"{LABELS[fld]} is required"
        values[fld] = value
    return values, problems


class RowValidator:
    """Turn rows of cells into BookRows, using a file's header map."""

    def __init__(
        self,
        header_map: HeaderMap,
        *,
        decimal_comma: bool = False,
        decimal_comma_columns: Collection[int] = frozenset(),
        catalogue_punctuation_columns: Collection[int] = frozenset(),
        text_cells: bool = False,
        nul_cells: bool = False,
        alone: bool = False,
    ):
        """*decimal_comma*: the file's numbers are written with one (a semicolon-separated file's);
        *decimal_comma_columns*: the columns whose are (reading.Table's), read so where Price reads one;
        *catalogue_punctuation_columns*: the columns that close their cells with a library catalogue's
        punctuation (reading.Table's), read without it where Title or Author reads one; *alone*: each row is
        one a person fixes on its own (the fix grid), so a refused price says what to type in its cell
        (12,00: "write the price with a point: 12.00"), not how the file's column is read."""
        self.width = len(header_map.headers)
        self.text_cells = text_cells
        #: Whether cells may hold a NUL byte (the file has one somewhere): then every column is checked.
        self.nul_cells = nul_cells
        mapped = set(header_map.positions.values()) | {p for c in header_map.fallbacks.values() for p in c}
        #: The columns some field reads (a row with nothing in any of them holds no book).
        self.read_columns = sorted(mapped)
        #: The columns ISBN reads (a row with nothing in them may be a sheet's totals: see left_out).
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
        #: A product export's Type column: its variable and grouped products' rows hold no book (left_out).
        self.product_type_at = header_map.product_type
        #: The columns no field reads: their cells are only checked for what makes a row unreadable.
        self.other_columns = [
            (position, header or f"Column {get_column_letter(position + 1)}")
            for position, header in enumerate(header_map.headers)
            if position not in mapped
        ]
        #: Whether prices are read with a decimal comma (as all of the file's numbers, or as its price column's).
        self.price_decimal_comma = decimal_comma or header_map.positions.get("price") in decimal_comma_columns
        #: Whether whole numbers read a point as grouping thousands because the prices do, in a file whose
        #: other numbers do not say so (a comma-separated one): the rows so read are counted.
        thousands_point = self.price_decimal_comma and not decimal_comma
        forms = {fld: dict(CATALOGUE_FORMS.get(fld, {})) for fld in FIELDS}
        if thousands_point:
            for fld in WHOLE_NUMBER_FIELDS:
                forms[fld]["thousands_points"] = has_thousands_points
        convert = converters(decimal_comma=decimal_comma, markup=True, thousands_point=thousands_point)
        convert["price"] = converters(decimal_comma=self.price_decimal_comma, alone=alone)["price"]
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
                catalogue_punctuation=fld in PUNCTUATED_FIELDS
                and header_map.positions.get(fld) in catalogue_punctuation_columns,
                forms=forms[fld],
            )
            for fld in FIELDS
            if fld in header_map.positions or fld in header_map.defaults
        ]

    @property
    def punctuated_fields(self) -> list[str]:
        """The fields read without a library catalogue's closing punctuation."""
        return [column.field for column in self.columns if column.catalogue_punctuation]

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
        punctuated: set[int] = set()
        formed: dict[str, set[int]] = {}
        dated: list[int] = []
        for column in self.columns:
            cells, values, column_problems = column.convert_source(by_position, len(numbers))
            columns[column.field] = values
            repaired.extend(numbers[i] for i in column.repaired)
            from_markup.extend(numbers[i] for i in column.from_markup)
            several.extend(numbers[i] for i in column.first_of_several)
            qualified.extend(numbers[i] for i in column.past_qualifier)
            punctuated.update(numbers[i] for i in column.punctuation_taken_off)
            for name, indexes in column.read_forms.items():
                formed.setdefault(name, set()).update(numbers[i] for i in indexes)
            dated.extend(numbers[i] for i in column.dates_taken_off)
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
            repaired=sorted(repaired),
            from_markup=from_markup,
            first_of_several=sorted(several),
            past_qualifier=sorted(qualified),
            punctuation_taken_off=sorted(punctuated),
            dates_taken_off=dated,
            **{name: sorted(rows) for name, rows in formed.items()},
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
