"""Numbers an .xlsx shows rounded by their cell's format: read as the sheet shows them.

A shop's price list works its prices out (=cost*1.2) and formats them as money: the cell holds 9.996
and the sheet shows £10.00. calamine reads the value held, which has more decimals than a price may,
so every such row was refused for a price the person never sees. The number format of each cell style
is in the workbook's styles part; a sheet's cells name their style (s="2"). While the sheet's XML
streams past the zip check, the cells with a style that shows a fixed number of decimals (one or more:
a whole-number format never rounds a count of copies) and a value with more are collected; the
reading then gives each the value shown, rounded half away from zero as a spreadsheet shows it, and
the import says how many cells it read so.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from decimal import ROUND_HALF_UP, Decimal

from defusedxml import ElementTree

from .unsaved_formulas import CellScan, cell_position

#: Built-in number formats (their codes are not written in the file) that show decimals: 0.00,
#: #,##0.00, the currency ones with cents (their symbol is the reader's locale's) and the accounting ones.
BUILT_IN_DECIMALS = {2: 2, 4: 2, 7: 2, 8: 2, 39: 2, 40: 2, 43: 2, 44: 2, 5: 0, 6: 0, 42: 0}
#: The most decimals a format is taken to show (more is no money or count format).
MAX_SHOWN_DECIMALS = 4
#: The most cells of a sheet read as shown (8 bytes each): a computed price in every row of Excel's last
#: row is a million. Past it, the rest are read as held (each then says what is wrong with it).
MAX_SHOWN_CELLS = 5_000_000
#: A cell's place in ShownCells: its row, then its column (16,384 at most in a sheet), then the decimals.
_COLUMN_BITS, _DECIMAL_BITS = 14, 3


class ShownCells:
    """A sheet's cells read as shown, kept compact: (row, column) → decimals shown, set like a dict and
    held as one integer each (a dict of a million of them took 190 MB)."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys = array("q")

    def __setitem__(self, place: tuple[int, int], decimals: int) -> None:
        row, column = place
        if len(self.keys) < MAX_SHOWN_CELLS and 0 <= column < 1 << _COLUMN_BITS:
            self.keys.append(((row << _COLUMN_BITS) | column) << _DECIMAL_BITS | decimals)

    def __len__(self) -> int:
        return len(self.keys)

    def rows(self, below: int, first_column: int, width: int) -> ShownRows:
        """Return the cells under the sheet row *below* (the header), in the header's columns."""
        return ShownRows(sorted(self.keys), below, first_column, width)


class ShownRows:
    """A sheet's cells read as shown, for reading its rows in order: ``at(row)`` gives a row's (column from
    the header's first, decimals) once, moving on; ``among`` names the rows for the import's note."""

    def __init__(self, keys: list[int], below: int, first_column: int, width: int) -> None:
        shift = _COLUMN_BITS + _DECIMAL_BITS
        start = bisect_right(keys, ((below + 1) << shift) - 1)
        self.keys = array("q", (k for k in keys[start:] if 0 <= ((k >> _DECIMAL_BITS) & 0x3FFF) - first_column < width))
        self.first_column = first_column
        self._next = 0

    def __bool__(self) -> bool:
        return bool(self.keys)

    def at(self, row: int) -> list[tuple[int, int]]:
        keys, shift, found = self.keys, _COLUMN_BITS + _DECIMAL_BITS, []
        while self._next < len(keys) and keys[self._next] >> shift < row:
            self._next += 1
        while self._next < len(keys) and keys[self._next] >> shift == row:
            key = keys[self._next]
            found.append((((key >> _DECIMAL_BITS) & 0x3FFF) - self.first_column, key & 7))
            self._next += 1
        return found

    def among(self, numbers: list[int], columns: frozenset[int]) -> list[int]:
        """Return those of *numbers* (rows as the file numbers them, ascending) with a cell read as shown in
        one of *columns* (from the header's first): the rows an import read, in the columns its fields
        read, not a totals row's rounded sum nor a column no field reads."""
        keys, shift = self.keys, _COLUMN_BITS + _DECIMAL_BITS
        if not keys or not numbers or not columns:
            return []
        start = bisect_left(keys, (numbers[0] - 1) << shift)
        stop = bisect_left(keys, numbers[-1] << shift, start)
        found: list[int] = []
        wanted = None
        for index in range(start, stop):  # in order: a row's cells are together
            key = keys[index]
            row = (key >> shift) + 1
            if (found and found[-1] == row) or ((key >> _DECIMAL_BITS) & 0x3FFF) - self.first_column not in columns:
                continue
            wanted = wanted or set(numbers)
            if row in wanted:
                found.append(row)
        return found


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
#: What a format code shows as literal text or spacing, never as digits: "…", \x, [$€-407], _x, *x.
_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def decimals_shown(code: str) -> int | None:
    """Return how many decimals a number format code shows for a positive number (None: not a fixed
    number of decimals: General, a date, a percentage, scientific notation, a fraction, text)."""
    first = _first_section(code)
    bare = _LITERALS.sub("", first)
    if not bare or bare.strip().casefold() == "general" or re.search(r"[%eEyYmMdDhHsS/@]", bare):
        return None
    point = bare.find(".")
    if point < 0:
        return 0 if re.search(r"[0#?]", bare) else None
    digits = len(re.match(r"[0#?]*", bare[point + 1 :]).group())
    return digits if re.search(r"[0#?]", bare[:point]) or digits else None


def rounding_of(code: str) -> int | None:
    """Return the decimals a number format rounds what it shows to: 1 to MAX_SHOWN_DECIMALS, or none for
    money ("£#,##0": a price shown as £10); None for a format read as held (a whole-number format that is
    no money never rounds a count of copies, nor do General, dates and percentages)."""
    shown = decimals_shown(code)
    if shown == 0:
        return 0 if _MONEY.search(_first_section(code)) else None
    return shown if shown is not None and shown <= MAX_SHOWN_DECIMALS else None


#: A currency in a format code: a symbol, or a locale's currency tag ([$€-407]).
_MONEY = re.compile(r"[$£€¥]|\[\$")


def _first_section(code: str) -> str:
    """The part of a format code for positive numbers (sections are split at ; outside quotes)."""
    quoted = False
    for index, char in enumerate(code):
        if char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            return code[:index]
    return code


def rounding_styles(styles_xml: bytes) -> dict[int, int]:
    """Return the cell styles (their index, as a cell's s="…" names it) whose format shows 1 to
    MAX_SHOWN_DECIMALS decimals, with that number; {} for a workbook without such a style."""
    root = ElementTree.fromstring(styles_xml)
    custom = {}
    for fmt in root.iterfind(f"{_MAIN}numFmts/{_MAIN}numFmt"):
        try:
            custom[int(fmt.get("numFmtId", ""))] = rounding_of(fmt.get("formatCode") or "")
        except ValueError:
            continue
    styles = {}
    for index, xf in enumerate(root.iterfind(f"{_MAIN}cellXfs/{_MAIN}xf")):
        try:
            fmt_id = int(xf.get("numFmtId") or 0)
        except ValueError:
            continue
        shown = custom[fmt_id] if fmt_id in custom else BUILT_IN_DECIMALS.get(fmt_id)
        if shown is not None:
            styles[index] = shown
    return styles


class ShownNumbers(CellScan):
    """Fed a sheet's XML block by block: each number cell with a rounding style whose value has more
    decimals than the style shows, as (row, column), both from 0 → decimals shown, in ``found``."""

    def __init__(self, styles: dict[int, int]) -> None:
        super().__init__()
        self.styles = styles
        self.found = ShownCells()
        more = str(min(styles.values(), default=0) + 1).encode()
        # The decimals of a value with more of them than any rounding style shows, found by the regular
        # expression engine's own search for the point (a clean price, 12.99, is passed over there; the
        # cell's tag is only looked at for the few that match).
        self._long_decimals = re.compile(rb"\.\d{" + more + rb",}(?:[eE][-+]?\d+)?</v>")

    def wanted(self, block: bytes) -> bool:
        return bool(self.styles)

    def scan(self, data: bytes, end: int) -> None:
        for match in self._long_decimals.finditer(data, 0, end):
            opened = data.rfind(b"<v>", max(match.start() - 32, 0), match.start())
            start = data.rfind(b"<c ", 0, opened) if opened >= 0 else -1
            tag = _CELL_TAG.match(data, start) if start >= 0 else None
            if tag is None or tag.group(4) not in (None, b"n"):  # no reference, or not a number cell
                continue
            shown = self.styles.get(int(tag.group(3) or 0))
            if shown is None:
                continue
            try:
                value = float(data[opened + 3 : match.end() - 4])
            except ValueError:
                continue
            if needs_rounding(value, shown):
                self.found[cell_position(tag.group(1), tag.group(2))] = shown


#: A cell's start tag: its reference, its style and its type, its attributes in any order (spreadsheet
#: programs write r first; other writers put s or t before it). Only the few cells whose value has long
#: decimals are matched with it, so looking ahead for each attribute costs nothing measurable.
_CELL_TAG = re.compile(
    rb'<c(?=\s)(?=[^>]*?\sr="([A-Z]{1,3})(\d{1,7})")(?=(?:[^>]*?\ss="(\d+)")?)(?=(?:[^>]*?\st="(\w+)")?)[^>]*>'
)


def needs_rounding(value: float, decimals: int) -> bool:
    """Whether *value* shown with *decimals* is another number than the one held."""
    return (
        value == value
        and abs(value) != float("inf")
        and round(value, decimals) != value
        and as_shown(value, decimals) != value
    )


def as_shown(value: float, decimals: int) -> float:
    """Return *value* rounded as a spreadsheet shows it with *decimals* (half away from zero, from the
    value's shortest decimal form: 2.675 shows as 2.68)."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)) + 0.0  # no -0.0


class OdsShownNumbers:
    """An .ods's number cells shown with fewer decimals than they hold, told by the text the sheet shows
    for each (an .ods keeps it beside the value: office:value="9.996", "10.00 €"), not by its style, as
    OdsExtent follows the content: by sheet name, (row, column) → decimals shown."""

    def __init__(self) -> None:
        self.found: dict[str, ShownCells] = {}

    def __call__(self, sheet: str, places: list[tuple[int, int]], value: float, shown: bytes) -> None:
        decimals = shown_decimals(re.sub(rb"<[^>]*>", b"", shown).decode("utf-8", "replace"), value)
        if decimals is not None:
            cells = self.found.setdefault(sheet, ShownCells())
            for place in places:
                cells[place] = decimals


def shown_decimals(text: str, value: float) -> int | None:
    """Return the decimals a sheet's *text* for *value* shows when it is *value* rounded to them ("10.00 €"
    for 9.996: 2; "1.234,57" for 1234.5678: 2; "£10" for 9.5 and "£1,234" for 1234.4: 0), else None (the
    text is the number as held, a percentage, a date, or not the number at all)."""
    if "%" in text:
        return None
    found = _LAST_DECIMALS.search(text)
    money = _MONEY.search(text) is not None
    # The digits after the last separator are decimals, or, three of them in money, thousands ("£1,234":
    # a whole-money format); the value held tells which, as its digits are the ones shown.
    candidates = [len(found.group(1))] if found else []
    if money and (not found or len(found.group(1)) == 3):
        candidates.append(0)
    digits = re.sub(r"\D", "", text).lstrip("0")
    for decimals in candidates:
        if decimals <= MAX_SHOWN_DECIMALS and needs_rounding(value, decimals):
            rounded = f"{abs(as_shown(value, decimals)):.{decimals}f}"
            if digits == re.sub(r"\D", "", rounded).lstrip("0"):
                return decimals
    return None


#: The digits after a number's last decimal separator, before any symbol or space that ends it.
_LAST_DECIMALS = re.compile(r"\d[.,](\d+)\D*$")
