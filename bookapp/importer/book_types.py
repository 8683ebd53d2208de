"""What a file's Book type column holds, as its first rows show it when it is uploaded: the book types
(case, spacing and a plural aside), or other values, which want matching to the types (Match values)
before its rows are read. The upload asks holds_other_than_book_types; Match values asks pre_matched.
"""

from __future__ import annotations

from collections import Counter

from .errors import ValueProblem
from .headers import HeaderMap
from .values import parse_book_type

#: The share of a Book type column's first values that must be types for the file to be read without
#: matching them (more than half not types: a reading app's Genre, "Science Fiction").
BOOK_TYPE_SHARE = 0.5


def pre_matched(text: str) -> str | None:
    """Return the book type a file value already is, case and spacing aside ("sci-fi" is none)."""
    try:
        return parse_book_type(text)
    except ValueProblem:
        return None


def holds_other_than_book_types(header_map: HeaderMap, rows: list[list[object]]) -> bool:
    """Whether the column read for Book type (no default filling it) holds, in the file's first *rows*,
    values that are no book type and want matching before the rows are read, whatever the column is
    called: mostly such values (a reading app's Genre, "Science Fiction"), or one such value in more than
    one row, a shop's own kind of book (a German shop's Typ, "Roman" beside "Comic"). A value that is no
    type in one row only is a slip in that row: the row is rejected, to be fixed."""
    position = header_map.positions.get("book_type")
    if position is None or header_map.values.get("book_type"):
        return False
    values = [row[position] for row in rows if position < len(row) and row[position] and str(row[position]).strip()]
    others = Counter(str(v).strip().casefold() for v in values if pre_matched(str(v)) is None)
    return sum(others.values()) > BOOK_TYPE_SHARE * len(values) or any(n > 1 for n in others.values())
