"""Validate rows of cells into books, a chunk at a time, or list every problem each row has.

Each field has one scalar converter (values.py) that defines its rules and messages. A chunk is
validated column by column: cheap checks in bulk first (all-plain text, canonical ISBN-13 check
digits, repeated values remembered), and any cell that is not plainly valid goes through its
scalar converter, so the rules and the messages are those of the converter, always.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from itertools import compress, repeat
from operator import is_, itemgetter
from typing import NamedTuple

import numpy as np
from openpyxl.utils.cell import get_column_letter

from .errors import RowProblem, UnsavedFormula, ValueProblem
from .fields import FIELDS, LABELS, MAX_LENGTHS, OPTIONAL_FIELDS
from .headers import HeaderMap
from .reading import MAX_CELL_CHARS
from .values import (
    ANY_CONTROL,
    NUL_PROBLEM,
    parse_book_type,
    parse_int,
    parse_isbn,
    parse_price,
    parse_text,
    parse_year,
)

#: The longest cell value quoted back in a report.
SHOWN_VALUE_LENGTH = 80
#: Fields whose values repeat (types, years, prices…): each distinct cell is converted once.
MEMOISED_FIELDS = frozenset({"book_type", "year_published", "price", "no_of_pages", "quantity"})
#: How many distinct cells a memo keeps per field before it stops growing.
MEMO_LIMIT = 20_000
_TEXT_OR_EMPTY = frozenset({str, type(None)})
#: What a memo gives for a cell it has not converted yet.
_NOT_SEEN = object()
#: dict.get(cell, cell): a blank cell becomes None, any other cell stays itself.
_BLANK_TO_NONE: dict[object, None] = {"": None}
_EAN_WEIGHTS = np.array([1, 3] * 6 + [1], dtype=np.int32)


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

    def __len__(self) -> int:
        return len(self.numbers)

    def __iter__(self) -> Iterator[BookRow]:
        return map(BookRow._make, zip(self.numbers, *self.columns, strict=True))

    def column(self, field: str) -> list:
        """Return one field's values, in row order."""
        return self.columns[FIELDS.index(field)]

    def where(self, keep: Sequence[bool]) -> ValidRows:
        """Return the rows whose *keep* flag is true."""
        return ValidRows(list(compress(self.numbers, keep)), [list(compress(c, keep)) for c in self.columns])

    def records(self) -> list[tuple]:
        """Return each row's field values as a tuple (no row number), for bulk inserts."""
        return list(zip(*self.columns, strict=True))


def converters(*, decimal_comma: bool = False) -> dict[str, Callable[[object], object]]:
    """Return the converter of each field (shared by the importer and the book editor)."""
    return {
        "title": partial(parse_text, max_length=MAX_LENGTHS["title"]),
        "author": partial(parse_text, max_length=MAX_LENGTHS["author"]),
        "book_type": parse_book_type,
        "isbn": parse_isbn,
        "year_published": parse_year,
        "price": partial(parse_price, decimal_comma=decimal_comma),
        "no_of_pages": partial(parse_int, minimum=1),
        "quantity": partial(parse_int, minimum=0),
        "description": partial(parse_text, max_length=MAX_LENGTHS["description"], multiline=True),
    }


def shown(value: object) -> str | None:
    """Return *value* as short text for a report."""
    if value is None:
        return None
    text = str(value)
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


def plain_isbn13_mask(cells: Sequence[object], *, text_cells: bool = False) -> list[bool]:
    """Return, per cell, whether it is already 13 digits with a 978/979 prefix and a right check digit.

    A fast path only: every other cell goes through the ISBN converter (python-stdnum).
    """
    if (
        cells
        and (text_cells or set(map(type, cells)) == {str})
        and min(map(len, cells)) == max(map(len, cells)) == 13
        and (joined := "".join(cells)).isascii()
        and joined.isdigit()
    ):  # the usual column, every cell 13 ASCII digits: check them all at once
        digits = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, 13) - 48
        prefix = (digits[:, 0] == 9) & (digits[:, 1] == 7) & ((digits[:, 2] == 8) | (digits[:, 2] == 9))
        return (prefix & ((digits @ _EAN_WEIGHTS) % 10 == 0)).tolist()
    shape_ok = [
        type(c) is str and len(c) == 13 and c.isascii() and c.isdigit() and c[:3] in ("978", "979") for c in cells
    ]
    if not any(shape_ok):
        return shape_ok
    candidates = [c for c, ok in zip(cells, shape_ok, strict=True) if ok]
    digits = np.frombuffer("".join(candidates).encode("ascii"), dtype=np.uint8).reshape(-1, 13) - 48
    checks = iter(((digits @ _EAN_WEIGHTS) % 10 == 0).tolist())
    return [ok and next(checks) for ok in shape_ok]


class _Column:
    """One field's column in the file, with its converter and memo."""

    def __init__(self, field: str, position: int, header: str, convert: Callable, *, text_cells: bool = False):
        self.field, self.position, self.header, self.convert = field, position, header, convert
        #: Whether every cell is known to be text (a CSV's are), so no cell's type needs checking.
        self.text_cells = text_cells
        self.required = field not in OPTIONAL_FIELDS
        self.memoised = field in MEMOISED_FIELDS
        self.memo: dict[object, object] = {}  # cell (or (type, cell)) → value
        self.memo_problems: dict[object, str] = {}  # the memo's cells that have a problem → message

    def convert_cell(self, cell: object) -> tuple[object, str | None]:
        """Return (value, problem message or None) for one cell."""
        if isinstance(cell, UnsavedFormula):
            return None, (
                f"{LABELS[self.field]} is a formula (cell {cell}) whose result was never saved: "
                "open the file in Excel, let it calculate, save it and upload it again"
            )
        try:
            value = self.convert(cell)
        except ValueProblem as exc:
            return None, f"{LABELS[self.field]} {exc}"
        if value is None and self.required:
            return None, f"{LABELS[self.field]} is required"
        return value, None

    def convert_cells(self, cells: Sequence[object]) -> tuple[list[object], dict[int, str]]:
        """Convert a column of cells; return the values and {index: problem}."""
        if self.memoised:
            return self._convert_memoised(cells)
        if self.field == "isbn":
            plain = plain_isbn13_mask(cells, text_cells=self.text_cells)
        else:
            if self._all_plain_text(cells):
                return list(cells), {}
            # An optional column with blanks: the other cells may all be plain text still.
            if (
                not self.required
                and (self.text_cells or set(map(type, cells)) <= _TEXT_OR_EMPTY)
                and self._all_plain_text(list(filter(None, cells)))
            ):
                return list(map(_BLANK_TO_NONE.get, cells, cells)), {}
            plain = self._plain_text_mask(cells)
        values: list[object] = []
        problems: dict[int, str] = {}
        for index, (cell, ok) in enumerate(zip(cells, plain, strict=True)):
            if ok:
                values.append(cell)
                continue
            value, problem = self.convert_cell(cell)
            values.append(value)
            if problem:
                problems[index] = problem
        return values, problems

    def _all_plain_text(self, cells: Sequence[object]) -> bool:
        """Whether every cell is already clean text, checked with a few whole-column string operations."""
        if not cells or (not self.text_cells and set(map(type, cells)) != {str}):
            return False
        joined = "\x1f".join(cells)
        # ASCII text without control characters: isprintable() says so for all of it at once, and
        # the only whitespace such text can hold is the space, so "stripped" means no cell starts
        # or ends with one (the separator \x1f is a control character, so no cell holds it).
        return (
            joined.isascii()
            and "".join(cells).isprintable()
            and min(map(len, cells)) > 0
            and max(map(len, cells)) <= MAX_LENGTHS[self.field]
            and joined[0] not in " '"
            and joined[-1] != " "
            and "\x1f " not in joined
            and " \x1f" not in joined
            and "\x1f'" not in joined
        )

    def _plain_text_mask(self, cells: Sequence[object]) -> list[bool]:
        """Cells that are already stripped, non-empty ASCII without control characters and short enough."""
        limit = MAX_LENGTHS[self.field]
        return [
            type(c) is str
            and 0 < len(c) <= limit
            and c.isascii()
            and c.strip() == c
            and c[0] != "'"
            and ANY_CONTROL.search(c) is None
            for c in cells
        ]

    def _convert_memoised(self, cells: Sequence[object]) -> tuple[list[object], dict[int, str]]:
        memo, memo_problems = self.memo, self.memo_problems
        if self.text_cells or set(map(type, cells)) == {str}:
            keys = cells
        else:  # typed XLSX cells: 1, 1.0 and True are equal as dict keys but not as values
            keys = [c if type(c) is str else (type(c), c) for c in cells]
        values = list(map(memo.get, keys, repeat(_NOT_SEEN)))
        if any(map(is_, values, repeat(_NOT_SEEN))):  # cells not met before (mostly in the first chunks)
            for key in set(keys).difference(memo):
                if len(memo) >= MEMO_LIMIT:
                    return self._convert_one_by_one(cells)
                memo[key], problem = self.convert_cell(key if type(key) is str else key[1])
                if problem is not None:
                    memo_problems[key] = problem
            values = list(map(memo.__getitem__, keys))
        if not memo_problems or memo_problems.keys().isdisjoint(keys):
            return values, {}
        return values, {i: memo_problems[key] for i, key in enumerate(keys) if key in memo_problems}

    def _convert_one_by_one(self, cells: Sequence[object]) -> tuple[list[object], dict[int, str]]:
        values: list[object] = []
        problems: dict[int, str] = {}
        for index, cell in enumerate(cells):
            key = cell if type(cell) is str else (type(cell), cell)
            if key in self.memo:
                value, problem = self.memo[key], self.memo_problems.get(key)
            else:
                value, problem = self.convert_cell(cell)
            values.append(value)
            if problem:
                problems[index] = problem
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
    if not problems:
        return rows, problems
    cells_of = dict(rows)
    blank = {n for n in {p.row_number for p in problems} if n in cells_of and is_blank_row(cells_of[n])}
    if not blank:
        return rows, problems
    return [r for r in rows if r[0] not in blank], [p for p in problems if p.row_number not in blank]


class RowValidator:
    """Turn rows of cells into BookRows, using a file's header map."""

    def __init__(
        self,
        header_map: HeaderMap,
        *,
        decimal_comma: bool = False,
        text_cells: bool = False,
        nul_cells: bool = False,
    ):
        self.width = len(header_map.headers)
        self.text_cells = text_cells
        #: Whether cells may hold a NUL byte (the file has one somewhere): then every column is checked.
        self.nul_cells = nul_cells
        mapped = set(header_map.positions.values())
        #: The columns no field reads: their cells are only checked for what makes a row unreadable.
        self.other_columns = [
            (position, header or f"Column {get_column_letter(position + 1)}")
            for position, header in enumerate(header_map.headers)
            if position not in mapped
        ]
        convert = converters(decimal_comma=decimal_comma)
        self.columns = [
            _Column(
                fld,
                header_map.positions[fld],
                header_map.headers[header_map.positions[fld]],
                convert[fld],
                text_cells=text_cells,
            )
            for fld in FIELDS
            if fld in header_map.positions
        ]

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
        for column in self.columns:
            cells = by_position[column.position]
            values, column_problems = column.convert_cells(cells)
            columns[column.field] = values
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
        valid = ValidRows(numbers, [columns.get(fld, blank) for fld in FIELDS])
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
        return RowProblem(
            row_number,
            None,
            None,
            f"Row has {count} cells but the header has {self.width}: check for a missing or extra "
            "delimiter, or a quote that is not closed",
        )
