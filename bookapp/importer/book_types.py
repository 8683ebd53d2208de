"""What a file's Book type column holds, as its first rows show it when it is uploaded: the book types
(case, accents, spacing and a plural aside, and as French, German and Spanish spell them: "Clásico"), a
typing slip of one in a row ("Comc", "Horor"), or kinds of book of the file's own ("Roman", "BD", "Science
Fiction", a type's name with another ending: "Magazin"), which want matching to the types (Match values)
before its rows are read. The upload asks
holds_other_than_book_types; Match values asks pre_matched, and offered_type for what to offer; each row's
cell is read by parse_book_type, the field's converter (values.converters).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from difflib import get_close_matches

from .errors import ValueProblem
from .fields import BOOK_TYPES
from .headers import HeaderMap
from .text_values import clean_text

#: The share of a Book type column's first values that must be types for the file to be read without
#: matching them (more than half not types: a reading app's Genre, "Science Fiction").
BOOK_TYPE_SHARE = 0.5
#: How alike (difflib's ratio, 0 to 1) a value must be to a book type to be a typing slip of it: "Comc"
#: and "Horor" are (0.89 and 0.91 to comic and horror); "Roman", "Manga", "Terror" and "Comedia" are not.
SLIP_LIKENESS = 0.8
#: The fewest letters a value holds to be a word of the file's own (a kind such as "BD"), not a stray mark.
_FEWEST_LETTERS = 2
#: The most letters of its own a value adds to a type's stem to be the type's name with another ending.
FOREIGN_ENDING = 2
#: A vowel a type's name may lose at its end in another language's form (Magazine: "Magazin").
_FINAL_VOWELS = "aeiou"
#: What book_type_key leaves aside between letters.
_TYPE_SPACING = re.compile(r"[\s_-]")


def book_type_key(text: str) -> str:
    """Return a value's spelling as compared with the book types': case, accents, spaces, underscores and
    hyphens aside ("Cómic" is "comic", as "COMIC" is: the same letters, which no type writes with an accent)."""
    key = _TYPE_SPACING.sub("", text.casefold())
    if not key.isascii():
        key = "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))
    return key


#: A book type's name as the other languages whose files the importer reads (French, German, Spanish: see
#: headers) spell the type itself, where that is not the English name with accents ("Cómic") or a plural:
#: a Spanish shop's "Clásico" (or "Clásica", as a novel is), a French one's "Classique" and "Horreur", a
#: German one's "Klassiker". A word of a shop's own for a kind of book ("Roman", "BD", "Novela") is none:
#: it is matched to a type on Match values (offered_type, below).
TYPE_SPELLINGS = {
    "Classic": ("Clásico", "Clásica", "Classique", "Klassiker"),
    "Horror": ("Horreur", "Terror"),
    "Magazine": ("Revista", "Zeitschrift", "Zeitschriften"),
}
_BOOK_TYPE_KEYS = {
    **{book_type_key(s): t for t, spellings in TYPE_SPELLINGS.items() for s in spellings},
    **{book_type_key(t): t for t in BOOK_TYPES},
}


def parse_book_type(value: object) -> str | None:
    """Return the book type in its stored spelling, matched ignoring case, accents, spaces and hyphens, in
    the singular or the plural (a shelf's "Classics", "Comics"; a Spanish shop's "Cómic"), and as French,
    German and Spanish spell it (TYPE_SPELLINGS: a Spanish shop's "Clásicos")."""
    text = clean_text(value)
    if text is None:
        return None
    key = book_type_key(text)
    found = _BOOK_TYPE_KEYS.get(key) or (_BOOK_TYPE_KEYS.get(key[:-1]) if key[-1:] == "s" else None)
    if found is None:
        raise ValueProblem("must be one of: " + ", ".join(BOOK_TYPES))
    return found


_TYPE_KEYS = {book_type_key(t): t for t in BOOK_TYPES}


def pre_matched(text: str) -> str | None:
    """Return the book type a file value already is, case, accents and spacing aside ("Cómic" is Comic;
    "Clásicos", as a Spanish shop writes Classic, is Classic: TYPE_SPELLINGS; "sci-fi" is none)."""
    try:
        return parse_book_type(text)
    except ValueProblem:
        return None


def own_kind(value: object) -> bool:
    """Whether a value that is no book type is a kind of book of the file's own ("Roman", "BD", "Novela"),
    to be matched to a type: a word (text of letters, no digits) not close to any book type, or a type's
    name with another ending (offered_type: "Magazin"). A typing slip of one ("Comc", "Horor", "Magazne"),
    a stray number ("19") or mark is none: its row's mistake, to be fixed there."""
    if type(value) is not str:
        return False
    key = book_type_key(value)
    if sum(c.isalpha() for c in key) < _FEWEST_LETTERS or any(c.isdigit() for c in key):
        return False
    return _ending_of(key) is not None or not get_close_matches(key, list(_TYPE_KEYS), n=1, cutoff=SLIP_LIKENESS)


def offered_type(text: str) -> str | None:
    """Return the book type a value that is none is offered as on Match values: the type whose name it
    is with another ending, as another language writes it ("Magazin" for Magazine, "Classico" for
    Classic), case and accents aside; else None (nothing else is guessed)."""
    return _ending_of(book_type_key(text))


def _ending_of(key: str) -> str | None:
    """Return the type whose stem *key* keeps whole, with an ending of at most FOREIGN_ENDING letters of
    its own: the type's name, less a final vowel ("magazin", "magazina"), else its whole name ("classico").
    Languages write a word's ending their own way; a slip falls anywhere, and one inside the stem ("comc",
    "horor", "magazne") or cutting it short ("sci tec", "comi") is caught as a slip, not offered."""
    for type_key, book_type in _TYPE_KEYS.items():
        stem = type_key[:-1] if type_key[-1] in _FINAL_VOWELS else type_key
        if key != type_key and key.startswith(stem) and len(key) - len(stem) <= FOREIGN_ENDING:
            return book_type
    return None


def holds_other_than_book_types(header_map: HeaderMap, rows: list[list[object]]) -> bool:
    """Whether the column read for Book type (no default filling it) holds, in the file's first *rows*,
    values that are no book type and want matching before the rows are read, whatever the column is
    called: mostly such values (a reading app's Genre, "Science Fiction"); one such value in more than one
    row; or a kind of book of the file's own even in one row (a German shop's Typ, "Roman" once beside
    "Comic": own_kind). Only a slip in one row ("Comc" for Comic) leaves the file to be read at once: that
    row is rejected, to be fixed."""
    position = header_map.positions.get("book_type")
    if position is None or header_map.values.get("book_type"):
        return False
    values = [row[position] for row in rows if position < len(row) and row[position] and str(row[position]).strip()]
    others = [value for value in values if pre_matched(str(value)) is None]
    counts = Counter(str(value).strip().casefold() for value in others)
    return (
        len(others) > BOOK_TYPE_SHARE * len(values) or any(n > 1 for n in counts.values()) or any(map(own_kind, others))
    )
