"""Convert one cell to a field's canonical value, or say in plain words why it cannot be.

Cells are text when they come from a CSV and typed (int, float, bool, datetime) when they come
from an XLSX sheet. Each converter returns the value to store, or None for a blank cell. A cell's text is
read by text_values (which has the text fields' converter too), what a library catalogue writes (an ISBN's
qualifier, c1965., xii, 412 p.) by catalogue_values, and numbers written with a decimal comma by decimal_comma.
"""

import datetime as dt
import math
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import partial

from stdnum import isbn as stdnum_isbn
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError

from .book_types import parse_book_type
from .catalogue_values import catalogue_pages, catalogue_year, without_qualifier
from .decimal_comma import CURRENCY, GROUPED, plain_number
from .errors import ValueProblem
from .fields import MAX_INT, MAX_LENGTHS, MAX_PRICE_DIGITS
from .text_values import BLANK_WORDS, MISSING_WORDS, clean_text, parse_text

_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
_ISBN_PREFIX = re.compile(r"^isbn(?:[- ]?1[03])?[:\s]*", re.IGNORECASE)
_CENT = Decimal("0.01")
_MAX_PRICE = Decimal(10**MAX_PRICE_DIGITS) - _CENT


def parse_isbn(value: object) -> str | None:
    """Return the ISBN-13 digits of an ISBN-10 or ISBN-13 in any usual spelling."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueProblem("is TRUE/FALSE, not an ISBN")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueProblem("is a number with decimals, not an ISBN")
        value = int(value)
    if isinstance(value, int):
        # A number cell: Excel drops leading zeros, so a 9-digit value may be an ISBN-10 starting with 0.
        digits = str(value)
        if len(digits) == 9 and stdnum_isbn.is_valid("0" + digits):
            digits = "0" + digits
        return _isbn13(digits, shown=str(value))
    text = clean_text(value)
    if text is None:
        return None
    if _SCIENTIFIC.match(text):
        whole = every_digit(text)
        if whole is not None:
            return parse_isbn(whole)
        raise ValueProblem(
            "is written in scientific notation, so its digits are lost; format the ISBN column as "
            "Text in the spreadsheet, type the full ISBN and export again"
        )
    if text[0] == "[" and text[-1] == "]":
        text = text[1:-1].strip()  # [0441172717]: how some catalogue exports write it
        if not text:
            return None
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if len(text) == 9 and text.isdigit() and stdnum_isbn.is_valid("0" + text):
        text = "0" + text  # an ISBN-10 whose leading 0 a numeric column dropped
    try:
        return _isbn13(_ISBN_PREFIX.sub("", text), shown=text)
    except ValueProblem:
        found = several_isbns(text)
        if found is None:
            found = qualified_isbn(text)
        if found is None:
            raise
        return found


def every_digit(text: str) -> int | None:
    """Return the whole number *text* writes in scientific notation when it writes every digit of it
    (9.780441013593e+12; numpy's savetxt writes 9.780441013593000000e+12), else None: 9.78E+12, a cell a
    spreadsheet wrote as it showed it, lost the number's last digits."""
    mantissa, _, exponent = text.replace(",", ".").lower().partition("e")
    value = Decimal(f"{mantissa}e{exponent}")
    # A number longer than an ISBN's 13 digits (1e5000) is none, and is not written out in full to find so.
    if value.adjusted() >= 13 or value != value.to_integral_value():
        return None
    whole = int(value)
    written = len(mantissa.lstrip("+-").replace(".", "").lstrip("0"))
    return whole if written >= len(str(abs(whole))) else None


#: What separates the ISBNs of a cell holding several (a catalogue program's "9780441172719 0441172717").
_ISBN_LIST_SEPARATORS = re.compile(r"\s*[,;|/]\s*")
_ISBN_TOKEN = re.compile(r"(?:isbn(?:[- ]?1[03])?:?)?[\dXx-]{10,17}\Z", re.IGNORECASE)


def several_isbns(text: str) -> str | None:
    """Return the ISBN-13 digits of a cell holding several ISBNs of one book (an ISBN-13 and its ISBN-10,
    separated by spaces, commas or semicolons): the first. None when the cell is not a list of ISBNs;
    refuse a cell whose ISBNs are of different books (or one of them is wrong): which one is meant?"""
    parts = [p for p in _ISBN_LIST_SEPARATORS.split(text.strip()) if p]
    if len(parts) < 2:
        parts = text.split()
    if len(parts) < 2 or not all(_ISBN_TOKEN.match(p) for p in parts):
        return None
    found = set()
    for part in parts:
        try:
            found.add(_isbn13(_ISBN_PREFIX.sub("", part), shown=part))
        except ValueProblem:
            found.add(part)
    if len(found) > 1:
        raise ValueProblem("holds more than one ISBN, and not all of one book; keep one ISBN per cell")
    return _isbn13(_ISBN_PREFIX.sub("", parts[0]), shown=parts[0])


def held_several_isbns(cell: object) -> bool:
    """Whether a cell the ISBN converter accepted held several ISBNs of its book (it was read as the first),
    a library catalogue's qualifier after each or not."""
    if type(cell) is not str:
        return False
    text = clean_text(cell)
    return text is not None and several_isbns(without_qualifier(_ISBN_PREFIX.sub("", text)) or text) is not None


def qualified_isbn(text: str) -> str | None:
    """Return the ISBN-13 digits of an ISBN a library catalogue wrote with its qualifier ("0441172717
    (pbk.)", "9780441172719 (hardcover : alk. paper)"), or of several ISBNs of one book so written (the
    first). None when the cell has no qualifier; an ISBN that is wrong once its qualifier is set aside is
    refused saying what is wrong with it."""
    bare = without_qualifier(_ISBN_PREFIX.sub("", text))
    if bare is None:
        return None
    try:
        return _isbn13(bare, shown=bare)
    except ValueProblem:
        found = several_isbns(bare)
        if found is None:
            raise
        return found


def read_past_qualifier(cell: object) -> bool:
    """Whether a cell the ISBN converter accepted held a library catalogue's qualifier after its ISBN
    ("0441172717 (pbk.)": it was read as the ISBN before it)."""
    if type(cell) is not str:
        return False
    text = clean_text(cell)
    return text is not None and without_qualifier(_ISBN_PREFIX.sub("", text)) is not None


def lost_leading_zero(cell: object) -> bool:
    """Whether a cell the ISBN converter accepted was an ISBN-10 missing its leading 0 (9 digits)."""
    if isinstance(cell, bool):
        return False
    if isinstance(cell, (int, float)):
        return 10**8 <= cell < 10**9
    text = clean_text(cell) if isinstance(cell, str) else None
    if text is None:
        return False
    if text.endswith(".0"):
        text = text[:-2]
    return len(text) == 9 and text.isdigit()


def _isbn13(candidate: str, shown: str) -> str:
    try:
        compact = stdnum_isbn.validate(candidate)
    except InvalidChecksum:
        raise ValueProblem("has a wrong check digit; check it for a typo") from None
    except InvalidLength:
        raise ValueProblem("must have 10 or 13 digits (hyphens and spaces are fine)") from None
    except InvalidComponent:
        raise ValueProblem("is 13 digits but does not start with 978 or 979") from None
    except ValidationError:
        raise ValueProblem("is not an ISBN: use digits, hyphens and a final X only") from None
    return stdnum_isbn.to_isbn13(compact)


def parse_price(value: object, *, decimal_comma: bool = False, alone: bool = False) -> Decimal | None:
    """Return an exact price with 2 decimal places, from text, a number or a money cell (*alone*: a
    single value, not a file column's: see plain_number)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueProblem("is TRUE/FALSE, not a price")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueProblem("is not a number")
        amount = Decimal(repr(value))
    elif isinstance(value, int):
        amount = Decimal(value)
    else:
        text = clean_text(value)
        if text is None or text.casefold() in MISSING_NUMBER:
            return None
        text = CURRENCY.sub("", text).replace(" ", "").replace("\u00a0", "").replace("'", "")
        text = plain_number(text, decimal_comma, alone=alone)
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueProblem("is not a price: write it like 12.99") from None
    if not amount.is_finite():
        raise ValueProblem("is not a number")
    if amount < 0:
        raise ValueProblem("is negative; a price must be 0 or more")
    rounded = amount.quantize(_CENT) if amount.adjusted() < 20 else amount
    if rounded != amount and not _float_noise(amount, rounded):
        raise ValueProblem("has more than 2 decimal places")
    if rounded > _MAX_PRICE:
        raise ValueProblem(f"is too large; the largest price is {_MAX_PRICE:,}")
    return rounded


#: A price written with this many decimal places or more, within _NOISE of a whole cent, is a binary
#: float's rounding as a numeric tool wrote it (3.3000000000000003): it is that cent. 12.989999 is not.
NOISE_DECIMALS = 12
_NOISE = Decimal("1e-9")


def _float_noise(amount: Decimal, rounded: Decimal) -> bool:
    return -amount.as_tuple().exponent >= NOISE_DECIMALS and abs(amount - rounded) < _NOISE


def parse_int(value: object, *, minimum: int, decimal_comma: bool = False, thousands_point: bool = False) -> int | None:
    """Return a whole number from minimum to 2,147,483,647; accept 304, 304.0, 3e2 and 1,200 (1.200 in a
    file with decimal commas, or, with *thousands_point*, in one whose prices have them: there a comma that
    groups no thousands is a decimal one, and 1,5 is refused, not read as 15)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueProblem("is TRUE/FALSE, not a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueProblem("must be a whole number")
        number = int(value)
    else:
        text = clean_text(value)
        if text is None or text.casefold() in MISSING_NUMBER:
            return None
        if text.isdigit():
            number = int(text)
        else:
            plain = text.replace(" ", "").replace("\u00a0", "")
            comma_decimal = thousands_point and "," in plain and not GROUPED[","].match(plain)
            if decimal_comma or comma_decimal:  # 1.200 is a thousand and two hundred there; 1,5 is one and a half
                # (as the file's prices read it, 1.234,50; in a file whose other numbers do not say so, 1,500
                # is still a thousand and more: a number of copies or pages has no three decimals)
                plain = (plain.replace(".", "") if GROUPED["."].match(plain) else plain).replace(",", ".")
            elif thousands_point and GROUPED["."].match(plain):
                plain = plain.replace(".", "")
            else:
                plain = plain.replace(",", "")
            try:
                amount = Decimal(plain)
            except InvalidOperation:
                raise ValueProblem("must be a whole number") from None
            if not amount.is_finite() or amount != amount.to_integral_value():
                if comma_decimal:
                    raise ValueProblem(
                        f"must be a whole number: {text} is read with a decimal comma, as the file's prices are, "
                        "so it has decimals"
                    )
                raise ValueProblem("must be a whole number")
            if abs(amount) > MAX_INT:
                raise ValueProblem(f"is too large; the largest allowed is {MAX_INT:,}")
            number = int(amount)
    if number < minimum:
        raise ValueProblem(f"must be {minimum} or more")
    if number > MAX_INT:
        raise ValueProblem(f"is too large; the largest allowed is {MAX_INT:,}")
    return number


def parse_pages(value: object, *, decimal_comma: bool = False, thousands_point: bool = False) -> int | None:
    """Return a number of pages: a whole number from 1 (as parse_int reads it), or a library catalogue's
    extent ("412 p.", "xii, 412 p. ;", "412 pages"), read only where the whole number is refused."""
    try:
        return parse_int(value, minimum=1, decimal_comma=decimal_comma, thousands_point=thousands_point)
    except ValueProblem:
        pages = catalogue_pages(clean_text(value) or "") if type(value) is str else None
        if pages is None:
            raise
    return parse_int(pages, minimum=1)


def parse_year(value: object) -> str | None:
    """Return a 4-digit year from text, a number (1969 or 1969.0), a date cell, or a library catalogue's
    date ("c1969.", "[1969]")."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        year = str(value.year)
    elif isinstance(value, bool):
        raise ValueProblem("is TRUE/FALSE, not a year")
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueProblem("must be a 4-digit year, like 1969")
        year = str(int(value))
    else:
        year = clean_text(value)
        if year is None or year.casefold() in MISSING_NUMBER:
            return None
        if year.endswith(".0"):
            year = year[:-2]
        elif dated := _DATE_TEXT.fullmatch(year):  # 1895-01-01, 2001-05-03 00:00:00, 03/05/2001
            year = dated["year"] or dated["last"]
        elif year[:1].isalpha() or " " in year:  # Jan 01, 1965; 1 January 1965; January 1965
            year = _month_name_year(year) or year
    if year[:1] == "-" and year[1:].isdigit():
        raise ValueProblem(f"is before the year 1000; a year must be from 1000 to {_next_year()}")
    if len(year) != 4 or not year.isdigit():
        year = catalogue_year(year) or year  # c1965., [1965]: only a cell the plain reading refuses
    if len(year) != 4 or not year.isdigit():
        raise ValueProblem("must be a 4-digit year, like 1969")
    if not 1000 <= int(year) <= _next_year():
        raise ValueProblem(f"must be a year from 1000 to {_next_year()}")
    return year


#: What a number column's blank cell is written as by numeric tools: blank, as an empty cell (text columns
#: read fewer of the words as blank: text_values.BLANK_WORDS).
MISSING_NUMBER = MISSING_WORDS
#: A date written as text: ISO (year first, a time and a time zone after it or not: a catalogue
#: program's 1990-09-01T00:00:00+00:00) or day and month first, year last.
_DATE_TEXT = re.compile(
    r"(?P<year>\d{4})-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[/.-]\d{1,2}[/.-](?P<last>\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?"
)


#: A date written with its month's name, in English (a catalogue program's "Jan 01, 1965", "1 January
#: 1965", "January 1965"): its year.
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_MONTH_NAME_DATE = re.compile(
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\.?\s+)?(?:{_MONTHS})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?,?\s+(?P<year>\d{{4}})",
    re.IGNORECASE,
)


def _month_name_year(text: str) -> str | None:
    """Return the year of a date written with its month's name, else None."""
    dated = _MONTH_NAME_DATE.fullmatch(text)
    return dated["year"] if dated else None


def _next_year() -> int:
    return dt.date.today().year + 1


def converters(
    *, decimal_comma: bool = False, markup: bool = False, alone: bool = False, thousands_point: bool = False
) -> dict[str, Callable[[object], object]]:
    """Return the converter of each field (shared by the importer and the book editor); with *markup* (a
    file's), a description written in HTML is read as its text (what a person types is kept as typed);
    *alone*: the values are one book's (a form's, a row fixed on its own), not a file column's (only a file's
    text cells are read as blank when they are a numeric tool's word for it: a person's "nan" is kept);
    *thousands_point*: whole numbers read a point as grouping thousands (1.200), as the file's prices do."""
    blank = {field: frozenset() if alone else words for field, words in BLANK_WORDS.items()}
    return {
        "title": partial(parse_text, max_length=MAX_LENGTHS["title"], blank_words=blank["title"]),
        "author": partial(parse_text, max_length=MAX_LENGTHS["author"], blank_words=blank["author"]),
        "book_type": parse_book_type,
        "isbn": parse_isbn,
        "year_published": parse_year,
        "price": partial(parse_price, decimal_comma=decimal_comma, alone=alone),
        "no_of_pages": partial(parse_pages, decimal_comma=decimal_comma, thousands_point=thousands_point),
        "quantity": partial(parse_int, minimum=0, decimal_comma=decimal_comma, thousands_point=thousands_point),
        "description": partial(
            parse_text,
            max_length=MAX_LENGTHS["description"],
            multiline=True,
            markup=markup,
            blank_words=blank["description"],
        ),
    }
