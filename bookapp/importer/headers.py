"""Match a file's header row to book fields, tolerant of case, spacing, punctuation and synonyms."""

import re
from dataclasses import dataclass, field

from .errors import FileProblem
from .fields import FIELDS, LABELS, REQUIRED_FIELDS

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")

_SYNONYMS = {
    "title": ["title", "book title", "name", "book name", "book"],
    "author": ["author", "authors", "author name", "writer", "by"],
    "book_type": ["book type", "type", "genre", "category", "kind", "booktype"],
    "isbn": ["isbn", "isbn 13", "isbn13", "isbn 10", "isbn10", "ean", "isbn number", "isbn no"],
    "year_published": ["year published", "year", "published", "publication year", "pub year", "year of publication"],
    "price": ["price", "unit price", "cost", "retail price", "rrp"],
    "no_of_pages": ["no of pages", "number of pages", "pages", "page count", "num pages", "no pages"],
    "quantity": ["quantity", "qty", "stock", "in stock", "count", "copies", "units"],
    "description": ["description", "summary", "blurb", "notes", "synopsis"],
}

#: Columns that describe a stored row, never something a file may set.
PROTECTED = frozenset({"id", "pk", "createdat", "updatedat", "created", "updated", "importid", "createdbyimportid"})


def normalise_header(header: object) -> str:
    """Return *header* lower-cased with everything but letters and digits removed."""
    return _NOT_ALNUM.sub("", str(header if header is not None else "").casefold())


_LOOKUP = {normalise_header(name): fld for fld, names in _SYNONYMS.items() for name in names}
assert set(_LOOKUP.values()) == set(FIELDS)


@dataclass
class HeaderMap:
    """Which column holds which field, and what was left aside."""

    headers: list[str]
    positions: dict[str, int]
    ignored: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [f for f in REQUIRED_FIELDS if f not in self.positions]


def map_headers(headers: list[object]) -> HeaderMap:
    """Map *headers* to fields; refuse the file when a required column is missing."""
    texts = ["" if h is None else str(h).strip() for h in headers]
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, text in enumerate(texts):
        key = normalise_header(text)
        fld = _LOOKUP.get(key)
        if fld is None or fld in positions:
            if text:
                ignored.append(text)
            continue
        positions[fld] = index
    header_map = HeaderMap(texts, positions, ignored)
    if header_map.missing:
        found = ", ".join(repr(t) for t in texts if t) or "none"
        missing = ", ".join(LABELS[f] for f in header_map.missing)
        raise FileProblem(
            f"The file has no column for: {missing}. The header row (row 1) must name every "
            f"required column; headers found: {found}."
        )
    return header_map


def header_score(headers: list[object]) -> int:
    """Return how many required fields *headers* would fill (to pick the sheet with books)."""
    found = {_LOOKUP.get(normalise_header(h)) for h in headers}
    return sum(1 for f in REQUIRED_FIELDS if f in found)


def field_of(header: object) -> str | None:
    """Return the book field a header names, if any."""
    return _LOOKUP.get(normalise_header(header))
