"""Validate one row of cells into a book, or list every problem it has."""

from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import NamedTuple

from .errors import RowProblem, ValueProblem
from .fields import FIELDS, LABELS, MAX_LENGTHS, OPTIONAL_FIELDS
from .headers import HeaderMap
from .values import parse_book_type, parse_int, parse_isbn, parse_price, parse_text, parse_year

#: The longest cell value quoted back in a report.
SHOWN_VALUE_LENGTH = 80


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


class RowValidator:
    """Turn rows of cells into BookRows, using a file's header map."""

    def __init__(self, header_map: HeaderMap, *, decimal_comma: bool = False):
        self.width = len(header_map.headers)
        convert = converters(decimal_comma=decimal_comma)
        self._columns: list[tuple[str, int, str, Callable]] = [
            (fld, header_map.positions[fld], header_map.headers[header_map.positions[fld]], convert[fld])
            for fld in FIELDS
            if fld in header_map.positions
        ]
        self._absent = [fld for fld in FIELDS if fld not in header_map.positions]

    def validate(self, row_number: int, cells: Sequence[object]) -> BookRow | list[RowProblem]:
        """Return the row's BookRow, or every problem found in it."""
        problems: list[RowProblem] = []
        if len(cells) != self.width:
            if len(cells) < self.width:
                return [self._ragged(row_number, len(cells))]
            if any(c not in (None, "") for c in cells[self.width :]):
                return [self._ragged(row_number, len(cells))]
        values: dict[str, object] = dict.fromkeys(self._absent)
        for fld, position, header, convert in self._columns:
            cell = cells[position]
            try:
                value = convert(cell)
            except ValueProblem as exc:
                problems.append(RowProblem(row_number, header, shown(cell), f"{LABELS[fld]} {exc}"))
                continue
            if value is None and fld not in OPTIONAL_FIELDS:
                problems.append(RowProblem(row_number, header, None, f"{LABELS[fld]} is required"))
            values[fld] = value
        if problems:
            return problems
        return BookRow(row_number, **values)

    def _ragged(self, row_number: int, count: int) -> RowProblem:
        return RowProblem(
            row_number,
            None,
            None,
            f"Row has {count} cells but the header has {self.width}: check for a missing or extra "
            "delimiter, or a quote that is not closed",
        )
