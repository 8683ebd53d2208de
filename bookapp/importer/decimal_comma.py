"""Numbers written with a decimal comma (9,99; 1.234,50): which columns of a file write them so, and how
such a number, or one with a decimal point, reads as plain digits.

A semicolon-separated file writes all its numbers with decimal commas; a comma-separated file may still
write its prices so ("9,99 €", quoted): its first rows decide, for every reading of the file alike
(reading.Table.decimal_comma_columns), and the import's description says so. In such a file a point groups
thousands, as in its prices (1.234,50): a quantity of 1.200 is 1200, and the import counts the rows so read
(has_thousands_points). Plain functions of text: they import nothing of bookapp but its errors and how a
cell's text is read (text_values).
"""

import re
from collections.abc import Iterable, Sequence

from .errors import ValueProblem
from .text_values import clean_text

#: What an import's description (its read_as) adds when its prices are read with a decimal comma in a
#: file whose other numbers are not (a comma-separated file's price column of 9,99: decimal_comma_columns).
PRICES_WITH_DECIMAL_COMMA = ", prices with a decimal comma"
#: A currency written with a price: left out of it.
CURRENCY = re.compile(r"[£$€¥₹]|\b(?:USD|EUR|GBP)\b", re.IGNORECASE)
#: A whole number written with thousands separators, by the separator (1,234,567; 1.234.567).
GROUPED = {",": re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+$"), ".": re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+$")}


def plain_number(text: str, decimal_comma: bool, *, alone: bool = False) -> str:
    """Drop thousands separators and use a decimal point: "1,299.50" (or "1.299,50") → "1299.50".

    *alone*: the price is one value (a book's form, a row fixed on its own), not one of a file's column,
    and a refusal says so."""
    if decimal_comma:
        whole, comma, fraction = text.partition(",")
        if "." in whole and (comma or GROUPED["."].match(whole)):
            if not GROUPED["."].match(whole):
                raise ValueProblem("has a misplaced point: write it like 1.299,50 or 12,99")
            whole = whole.replace(".", "")
        elif comma and len(fraction) == 3 and fraction.isdigit() and whole.isdigit() and len(whole) <= 3:
            # 1,234: a thousand and more where points are decimal, and three decimals here: which is meant?
            raise ValueProblem(
                "has three digits after its comma, read here as a decimal comma, as the file's prices are "
                "written: write a thousand like 1.234,00 or 1234, and a price with at most 2 decimals"
            )
        return whole + ("." + fraction if comma else "")
    if "," in text:
        whole, point, fraction = text.partition(".")
        if not GROUPED[","].match(whole):
            if alone:
                raise ValueProblem(_with_a_point(text))
            raise ValueProblem(
                "uses a decimal comma, but the column's first prices do not all use one, so its prices are "
                "read with a decimal point: write it like 12.99"
            )
        return whole.replace(",", "") + point + fraction
    return text


def has_thousands_points(cell: object) -> bool:
    """Whether a whole-number cell the converter accepted was written with points grouping thousands (1.200,
    1.234.567), so read as a thousand and more, not as a number with decimals."""
    if type(cell) is not str:
        return False
    try:
        text = clean_text(cell)
    except ValueProblem:
        return False
    return text is not None and GROUPED["."].match(text.replace(" ", "").replace("\u00a0", "")) is not None


def _with_a_point(text: str) -> str:
    """What a single price written with a decimal comma should be: 12,00 → "write it with a point: 12.00"."""
    whole, _, fraction = text.partition(",")
    if whole.isdigit() and fraction.isdigit() and len(fraction) <= 2:
        return f"uses a decimal comma: write the price with a point: {whole}.{fraction}"
    return "uses a decimal comma: write the price with a point, like 12.99"


#: A number written with a decimal comma (9,99; 1.234,50) or with a decimal point (9.99; 1,234.50), once
#: its currency and spaces are left out: each reads as a price one way only (1,234 and 1.234 read both
#: ways, a thousand and more or three decimals, so they tell nothing).
_COMMA_DECIMALS = re.compile(r"(?:\d+|\d{1,3}(?:\.\d{3})+),\d{1,2}")
_POINT_DECIMALS = re.compile(r"(?:\d+|\d{1,3}(?:,\d{3})+)\.\d{1,2}")
#: Longer cells are no number (a title, a description): they are not looked at.
_NUMBER_CHARS = 32


def decimal_comma_columns(rows: Iterable[Sequence[object]]) -> frozenset[int]:
    """Return the columns whose text cells, in *rows* (a file's first), write numbers with a decimal comma:
    some end in a comma and one or two digits (9,99; "€ 1.234,50") and none in a point and one or two
    digits (12.99; 1,234.50). A column of both is not one: its prices are read with a decimal point and
    those with a comma refused, saying so."""
    commas: set[int] = set()
    points: set[int] = set()
    for cells in rows:
        for position, cell in enumerate(cells):
            if type(cell) is not str or len(cell) > _NUMBER_CHARS or ("," not in cell and "." not in cell):
                continue
            text = CURRENCY.sub("", cell).replace(" ", "").replace("\u00a0", "").replace("'", "")
            if _COMMA_DECIMALS.fullmatch(text):
                commas.add(position)
            elif _POINT_DECIMALS.fullmatch(text):
                points.add(position)
    return frozenset(commas - points)
