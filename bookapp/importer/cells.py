"""A spreadsheet cell as a person sees it, as the importer reads it, and as a profile keeps it in JSON;
and what a column of such cells looks like it holds. Plain Python: the import, its matching and its
preview use these without loading pandas (only profiling a whole file does)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from .errors import FileProblem, UnsavedFormula, ValueProblem
from .values import parse_isbn

#: The longest sample text kept.
SHOWN_CHARS = 80
#: The share of the values looked at (a profile looks at a column's first distinct ones) that must be ISBNs,
#: or years, for the column to suggest that field.
SUGGEST_SHARE = 0.9
#: Years a column of 4-digit numbers must stay within to suggest Year published (up to next year).
FIRST_PRINTED_YEAR = 1450
_BLANKS = frozenset({"", '=""'})


def is_blank_text(text: str) -> bool:
    """Whether a cell's text is blank as the importer sees it: empty, spaces, or the formula `=""`."""
    return text.strip() in _BLANKS


def cell_text(cell: object) -> str:
    """Return a cell as the text a person sees in the spreadsheet (a whole number without ".0")."""
    if cell is None:
        return ""
    if type(cell) is str:
        return cell
    if isinstance(cell, UnsavedFormula):
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime) and cell.time() == dt.time(0):
        return cell.date().isoformat()
    if isinstance(cell, (dt.date, dt.time)):
        return cell.isoformat()
    return str(cell)


def shown(text: str) -> str:
    """Return *text* short enough to show as a sample."""
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def as_read(text: str) -> str:
    """Return a cell's text as the importer reads it: ="0441172717" (a text formula that keeps the
    leading zero) is 0441172717."""
    text = text.strip()
    if len(text) > 2 and text[0] == "=" and text[1] == '"' and text[-1] == '"':
        return text[2:-1].replace('""', '"').strip()
    return text


def looks_like(values: Iterable[str]) -> str | None:
    """Return the field a column's values suggest: "isbn" when they are valid ISBNs, "year_published"
    when they are 4-digit years from FIRST_PRINTED_YEAR to next year; else None."""
    values = [v for v in values if v]
    if not values:
        return None
    if sum(map(_is_year, values)) >= SUGGEST_SHARE * len(values):
        return "year_published"
    if sum(map(_is_isbn, values)) >= SUGGEST_SHARE * len(values):
        return "isbn"
    return None


def _is_year(text: str) -> bool:
    text = text.removesuffix(".0")  # a year a numeric tool wrote as 2008.0
    return len(text) == 4 and text.isdigit() and FIRST_PRINTED_YEAR <= int(text) <= dt.date.today().year + 1


def _is_isbn(text: str) -> bool:
    try:
        return parse_isbn(text) is not None
    except ValueProblem:
        return False


_TAGS = {dt.datetime: "datetime", dt.date: "date", dt.time: "time"}


def encode_cell(cell: object) -> object:
    """Return a cell as JSON: text, numbers, booleans and None as they are, other types tagged."""
    if cell is None or type(cell) in (str, int, bool):
        return cell
    if isinstance(cell, UnsavedFormula):
        return {"$": "formula", "v": str(cell)}
    if isinstance(cell, float):
        return cell if math.isfinite(cell) else {"$": "float", "v": repr(cell)}
    for kind, tag in _TAGS.items():
        if isinstance(cell, kind):
            return {"$": tag, "v": cell.isoformat()}
    if isinstance(cell, dt.timedelta):
        return {"$": "timedelta", "v": cell.total_seconds()}
    return str(cell)


def decode_cell(value: object) -> object:
    """Return the cell encode_cell was given."""
    if not isinstance(value, dict):
        return value
    tag, data = value.get("$"), value.get("v")
    if tag == "formula":
        return UnsavedFormula(data)
    if tag == "float":
        return float(data)
    if tag == "datetime":
        return dt.datetime.fromisoformat(data)
    if tag == "date":
        return dt.date.fromisoformat(data)
    if tag == "time":
        return dt.time.fromisoformat(data)
    if tag == "timedelta":
        return dt.timedelta(seconds=data)
    raise FileProblem(f"The stored first rows hold a cell of an unknown kind ({tag!r}).")
