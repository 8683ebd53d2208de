"""A cell's text as every field's converter reads it (clean_text), and the converter of the text fields
(parse_text): a title, an author, a description.

Cells are text when they come from a CSV and typed (int, float, bool, datetime) when they come from an
XLSX sheet; clean_text writes a typed cell as a spreadsheet shows it, takes off what spreadsheets and
exports put around a value (spaces, an apostrophe, ="…") and refuses control characters.
"""

import datetime as dt
import re
import unicodedata
from itertools import product

from .errors import ValueProblem
from .markup import looks_like_markup, markup_text

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f]")
#: What is wrong with a cell holding a NUL byte (a stray one in a text file, whichever column it is in).
NUL_PROBLEM = "contains a NUL byte (a stray control character); remove it"
#: First characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: A whole cell that is one text constant written as a formula, ="0375704027": what Goodreads and other
#: exports write to keep an ISBN's leading zero. It runs nothing; read, it is its text.
TEXT_CONSTANT = re.compile(r'="(?:[^"]|"")*"\Z', re.DOTALL)
#: Any character that makes a text cell need a closer look (public: the bulk checks use it).
ANY_CONTROL = _CONTROL_OR_NEWLINE
#: What numeric tools and spreadsheets write in a blank cell (pandas' nan, R's NA, a database's NULL,
#: Python's None, a spreadsheet's #N/A), compared with case set aside: a number column's blank.
MISSING_WORDS = frozenset({"nan", "na", "n/a", "#n/a", "null", "none"})
#: A file's text cells read as blank, by field, as written: a description is none of those words in any
#: case; a title or an author none of the spellings pandas, R, Python and a database dump write for a
#: missing one (a row without it is rejected saying so; "Nan" is a name, "Null" or "n/a" may be a title).
_NOT_A_NAME = frozenset({"nan", "NaN", "NA", "None", "NULL", "#N/A"})
BLANK_WORDS = {
    "title": _NOT_A_NAME,
    "author": _NOT_A_NAME,
    "description": frozenset(s for w in MISSING_WORDS for s in (w, w.upper(), w.capitalize())) | {"NaN"},
}
#: The longest of those words: a longer cell is none of them.
BLANK_WORD_LENGTH = max(len(word) for words in BLANK_WORDS.values() for word in words)
#: Every spelling of MISSING_WORDS, case aside (nan, NaN, NAN, NULL, #N/A…): a cell is looked up as written.
MISSING_SPELLINGS = frozenset(
    "".join(letters) for word in MISSING_WORDS for letters in product(*({c, c.upper()} for c in word))
)
#: The cells, as written (stripped), that a fallback chain passes over to its next column (or its default)
#: and a row continuing an item fills from the item's first row (importer.groups), by field: those the
#: field's converter reads as blank (a text field's BLANK_WORDS; a number's MISSING_WORDS in any case), or
#: refuses in any case (no ISBN or book type is nan). None the converter keeps as a value: "Nan" and
#: "n/a" are titles, read as written where no other column has one.
PASSED_OVER = {
    **dict.fromkeys(("isbn", "book_type", "year_published", "price", "no_of_pages", "quantity"), MISSING_SPELLINGS),
    **BLANK_WORDS,
}
#: The longest of those: a longer cell is none of them, and is not looked up.
PASSED_OVER_LENGTH = max(len(word) for words in PASSED_OVER.values() for word in words)


def clean_text(value: object, *, multiline: bool = False) -> str | None:
    """Return *value* as stripped NFC text, None when blank; refuse control characters."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, dt.datetime) and value.time() == dt.time(0):
        text = value.date().isoformat()
    else:
        text = str(value)
    text = text.strip()
    if not text:
        return None
    if text[0] == "'" and text[1:2] in FORMULA_PREFIXES:
        text = text[1:]  # the apostrophe bookapp's own downloads put before =, +, -, @ to keep them text
    if text[0] == "=" and text[1:2] == '"' and text[-1] == '"' and len(text) > 2:
        # ="0441172717": the formula many exports write to keep a number's leading zeros as text
        text = text[2:-1].replace('""', '"').strip()
        if not text:
            return None
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if (_CONTROL if multiline else _CONTROL_OR_NEWLINE).search(text):
        if "\x00" in text:
            raise ValueProblem(NUL_PROBLEM)
        raise ValueProblem(
            "contains a line break or a control character; keep it on one line"
            if not multiline
            else "contains a control character (such as a NUL byte); remove it"
        )
    return text


def parse_text(
    value: object,
    max_length: int,
    *,
    multiline: bool = False,
    markup: bool = False,
    blank_words: frozenset[str] = frozenset(),
) -> str | None:
    """Return clean text no longer than *max_length* characters, None for a blank cell or one of
    *blank_words* (a file's BLANK_WORDS); with *markup*, text written in HTML is read as the text it shows
    (importer.markup), and its limit is that text's."""
    text = clean_text(value, multiline=multiline)
    if text is None or text in blank_words:
        return None
    if markup and looks_like_markup(text):
        text = markup_text(text)
        if len(text) > max_length:
            raise ValueProblem(
                f"is {len(text):,} characters long once its HTML is read as text; the limit is {max_length:,}"
            )
        return text or None
    if len(text) > max_length:
        raise ValueProblem(f"is {len(text):,} characters long; the limit is {max_length:,}")
    return text
