"""One field's column of a chunk: where its cells come from (a column, a fallback chain, a default, a
value map) and how they are converted, in bulk where the cells allow it and one by one where not."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import is_

import numpy as np

from .errors import UnsavedFormula, ValueProblem
from .fields import LABELS, MAX_LENGTHS, OPTIONAL_FIELDS
from .mapping import value_key
from .values import ANY_CONTROL, lost_leading_zero

#: Fields whose values repeat (types, years, prices…): each distinct cell is converted once.
MEMOISED_FIELDS = frozenset({"book_type", "year_published", "price", "no_of_pages", "quantity"})
#: How many distinct cells a memo keeps per field before it stops growing.
MEMO_LIMIT = 20_000
_TEXT_OR_EMPTY = frozenset({str, type(None)})
#: Cell types a memo keys by the cell itself (no key of another type equals one of them); cells of other
#: types are keyed as (type, cell).
_OWN_KEYS = frozenset({str, float})
#: What a memo gives for a cell it has not converted yet.
_NOT_SEEN = object()
#: dict.get(cell, cell): a blank cell ("", as a CSV and calamine give it) becomes None, any other stays itself.
BLANK_TO_NONE: dict[object, None] = {"": None}
_EAN_WEIGHTS = np.array([1, 3] * 6 + [1], dtype=np.int32)
#: First characters that keep a text cell from being plain (a space, ' and =).
_PLAIN_FIRST_REFUSED = np.array([ord(" "), ord("'"), ord("=")], dtype=np.uint32)
#: What a value map gives for a file value it does not list.
_UNLISTED = object()


def is_blank_cell(cell: object) -> bool:
    """Whether a cell holds nothing: empty, spaces only, or the empty text formula `=""`."""
    if cell is None:
        return True
    if type(cell) is not str:
        return False
    text = cell.strip()
    return not text or text == '=""'


def first_filled(*cells: object) -> object:
    """Return the first cell that is not blank (a fallback chain's cell), else an empty cell ("", as a
    CSV's blank cell is: a column of text stays all text)."""
    for cell in cells:
        if not is_blank_cell(cell):
            return cell
    return ""


def plain_isbn13_mask(cells: Sequence[object], *, text_cells: bool = False) -> list[bool]:
    """Return, per cell, whether it is already 13 digits with a 978/979 prefix and a right check digit."""
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
    checks = iter(_ean_check_ok(candidates))
    return [ok and next(checks) for ok in shape_ok]


def fast_isbns(cells: Sequence[object], *, text_cells: bool = False) -> list[str | None]:
    """Return, per cell, its ISBN-13 digits where the cell is a valid ISBN written one of the usual ways
    (13 digits; ISBN-13 or ISBN-10 with hyphens or spaces between digits; ISBN-10 ending in X; a whole
    number of 10 or 13 digits, as a workbook's number cell holds it), else None.

    A fast path only, checked in bulk: every cell it leaves (None) goes through the ISBN converter
    (python-stdnum), which gives the same digits for every cell this accepts (tests compare them)
    and says what is wrong with the others.
    """
    if cells and not text_cells and set(map(type, cells)) == {float}:  # a workbook's column of numbers
        numbers = np.array(cells, dtype=np.float64)
        if ((numbers >= 978e10) & (numbers < 980e10) & (numbers == np.floor(numbers))).all():
            texts = list(map(str, numbers.astype(np.int64).tolist()))  # each 13 digits, 978 or 979 first
            return [t if ok else None for t, ok in zip(texts, plain_isbn13_mask(texts, text_cells=True), strict=True)]
    plain = plain_isbn13_mask(cells, text_cells=text_cells)
    found: list[str | None] = [c if ok else None for c, ok in zip(cells, plain, strict=True)]  # type: ignore[misc]
    if all(plain):
        return found
    spelled13: list[tuple[int, str]] = []
    spelled10: list[tuple[int, str]] = []
    for index, cell in enumerate(cells):
        if plain[index]:
            continue
        kind = type(cell)
        if kind is str:
            if not _SPELLED_ISBN.match(cell):
                continue
            digits = cell.replace("-", "").replace(" ", "")
        elif kind is float and 1e9 <= cell < 1e13 and cell.is_integer():  # a number cell of a workbook
            digits = str(int(cell))
        elif kind is int and 10**9 <= cell < 10**13:
            digits = str(cell)
        else:
            continue
        if len(digits) == 13 and digits.isdigit() and digits[:3] in ("978", "979"):
            spelled13.append((index, digits))
        elif len(digits) == 10 and digits[:9].isdigit():
            spelled10.append((index, digits))
    if spelled13:
        for (index, digits), ok in zip(spelled13, _ean_check_ok([d for _, d in spelled13]), strict=True):
            if ok:
                found[index] = digits
    if spelled10:
        for (index, _), isbn13 in zip(spelled10, _isbn10_as_13([d for _, d in spelled10]), strict=True):
            found[index] = isbn13
    return found


#: A cell that may be an ISBN spelled with hyphens or spaces: digits, then digits, hyphens and spaces,
#: ending in a digit or X (anything else, leading spaces or an "ISBN" prefix included, takes the converter).
_SPELLED_ISBN = re.compile(r"\d[\d -]{8,15}[\dXx]\Z", re.ASCII)
#: The ISBN-10 check's weights for its first nine digits; those digits' EAN weights after the 978 prefix.
_ISBN10_WEIGHTS = np.arange(10, 1, -1, dtype=np.int32)
_EAN_BODY_WEIGHTS = np.array([3, 1] * 4 + [3], dtype=np.int32)
_EAN_978 = 9 * 1 + 7 * 3 + 8 * 1


def _ean_check_ok(candidates: list[str]) -> list[bool]:
    """Whether each 13-digit ASCII text has a right EAN-13 check digit."""
    digits = np.frombuffer("".join(candidates).encode("ascii"), dtype=np.uint8).reshape(-1, 13) - 48
    return ((digits @ _EAN_WEIGHTS) % 10 == 0).tolist()


def _isbn10_as_13(candidates: list[str]) -> list[str | None]:
    """Return each ISBN-10 (nine digits, then a digit or X) as ISBN-13 digits, None where its check fails."""
    body = np.frombuffer("".join(c[:9] for c in candidates).encode("ascii"), dtype=np.uint8).reshape(-1, 9) - 48
    body = body.astype(np.int32)
    last = np.array([10 if c[9] in "Xx" else ord(c[9]) - 48 for c in candidates], dtype=np.int32)
    valid = ((body @ _ISBN10_WEIGHTS + last) % 11 == 0).tolist()
    checks = ((10 - (_EAN_978 + body @ _EAN_BODY_WEIGHTS) % 10) % 10).tolist()
    return [f"978{c[:9]}{check}" if ok else None for c, ok, check in zip(candidates, valid, checks, strict=True)]


class Column:
    """One field's column in the file, with its converter and memo.

    *position* is the column read first (None: the field takes its default in every row);
    *fallbacks* the columns read, in order, where it is blank or its cell cannot be read;
    *default* the text used where every column is blank; *values* a value map (file value →
    stored value, None to reject the row)."""

    def __init__(
        self,
        field: str,
        position: int | None,
        header: str,
        convert: Callable,
        *,
        text_cells: bool = False,
        fallbacks: tuple[int, ...] = (),
        default: str | None = None,
        values: dict[str, str | None] | None = None,
    ):
        self.field, self.position, self.header, self.convert = field, position, header, convert
        self.fallbacks, self.default = fallbacks, default
        self.values = {value_key(k): v for k, v in values.items()} if values else None
        #: Rows (indexes into the last chunk) whose cell was repaired on the way in.
        self.repaired: list[int] = []
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

    def source_cells(self, by_position: list[Sequence[object]], count: int) -> list[object]:
        """Return the chunk's cells for this field as the file gives them (the chain's first filled
        cell, or the default)."""
        if self.position is None:
            return [self.default] * count
        cells = by_position[self.position]
        if not self.fallbacks and self.default is None:
            return cells
        chain = [by_position[p] for p in self.fallbacks]
        if self.default is not None:
            chain.append(repeat(self.default, count))
        filled = list(map(first_filled, cells, *chain))
        if self.text_cells and self.default is None:
            # Every column of the chain blank: a blank text cell, as a CSV has (the bulk checks take text only).
            filled = ["" if cell is None else cell for cell in filled]
        return filled

    def convert_source(
        self, by_position: list[Sequence[object]], count: int
    ) -> tuple[list[object], list[object], dict[int, str]]:
        """Convert the chunk's cells for this field; return (cells as read, values, {index: problem})."""
        cells = self.source_cells(by_position, count)
        rejected: list[int] = []
        if self.values is not None:
            cells, rejected = self._mapped(cells)
        values, problems = self.convert_cells(cells)
        if self.fallbacks and problems:
            self._try_fallbacks(by_position, values, problems)
        for index in rejected:
            values[index] = None
            problems[index] = f"{LABELS[self.field]} {cells[index]!r} is rejected by the value matching of this import"
        return cells, values, problems

    def _mapped(self, cells: list[object]) -> tuple[list[object], list[int]]:
        """Apply the value map; return the cells to convert and the rows whose value is to be rejected."""
        table = self.values
        found = [table.get(value_key(c), _UNLISTED) if c is not None else _UNLISTED for c in cells]
        rejected = [i for i, target in enumerate(found) if target is None]
        mapped = [c if t is _UNLISTED or t is None else t for c, t in zip(cells, found, strict=True)]
        return mapped, rejected

    def _try_fallbacks(self, by_position, values: list[object], problems: dict[int, str]) -> None:
        """Where the chosen cell cannot be read, use the next column of the chain that can."""
        for index in list(problems):
            chosen = None
            for position in (self.position, *self.fallbacks):
                cell = by_position[position][index]
                if is_blank_cell(cell):
                    continue
                if chosen is None:
                    chosen = cell  # the cell that failed
                    continue
                if self.values is not None:
                    target = self.values.get(value_key(cell), cell)
                    if target is None:
                        continue
                    cell = target
                value, problem = self.convert_cell(cell)
                if problem is None:
                    values[index] = value
                    del problems[index]
                    if self.field == "isbn" and lost_leading_zero(cell):
                        self.repaired.append(index)
                    break

    def convert_cells(self, cells: Sequence[object]) -> tuple[list[object], dict[int, str]]:
        """Convert a column of cells; return the values and {index: problem}."""
        self.repaired = []
        if self.memoised:
            return self._convert_memoised(cells)
        if self.field == "isbn":
            return self._convert_isbns(cells)
        if self._all_plain_text(cells):
            return list(cells), {}
        # An optional column with blanks: the other cells may all be plain text still.
        if (
            not self.required
            and (self.text_cells or set(map(type, cells)) <= _TEXT_OR_EMPTY)
            and self._all_plain_text(list(filter(None, cells)))
        ):
            return list(map(BLANK_TO_NONE.get, cells, cells)), {}
        values = list(cells)
        problems: dict[int, str] = {}
        to_convert, blanks = self._text_check(cells)
        for index in blanks:
            values[index] = None
        for index in to_convert:
            values[index], problem = self.convert_cell(cells[index])
            if problem:
                problems[index] = problem
        return values, problems

    def _convert_isbns(self, cells: Sequence[object]) -> tuple[list[object], dict[int, str]]:
        values: list[object] = fast_isbns(cells, text_cells=self.text_cells)
        problems: dict[int, str] = {}
        for index, value in enumerate(values):
            if value is not None:
                continue
            cell = cells[index]
            values[index], problem = self.convert_cell(cell)
            if problem:
                problems[index] = problem
            elif lost_leading_zero(cell):
                self.repaired.append(index)
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
            and joined[0] not in " '="
            and joined[-1] != " "
            and "\x1f " not in joined
            and " \x1f" not in joined
            and "\x1f'" not in joined
            and "\x1f=" not in joined
        )

    def _text_check(self, cells: Sequence[object]) -> tuple[list[int], list[int]]:
        """Return (the indexes of the cells that may not be clean text already, the blank cells of an
        optional field). The first is a superset: each of its cells goes through the converter, which
        decides; every other cell is what the converter would return for it.

        Text cells are checked together, as the character codes of the joined column: a control
        character, a blank cell, a leading or trailing space, a leading ' or =, or a cell too long; and
        non-ASCII cells together, as being in Unicode's composed form (NFC) already."""
        if not self.text_cells:  # a workbook's cells: text and blanks (None) are checked as a CSV's are
            types = set(map(type, cells))
            if not types <= _TEXT_OR_EMPTY:  # numbers, dates…: one by one
                return [i for i, c in enumerate(cells) if type(c) is not str or not self._plain(c)], []
            if type(None) in types:
                cells = ["" if cell is None else cell for cell in cells]
        count = len(cells)
        lengths = np.fromiter(map(len, cells), dtype=np.int64, count=count)
        starts = np.zeros(count, dtype=np.int64)
        np.cumsum(lengths[:-1] + 1, out=starts[1:])
        codes = np.frombuffer("\x1f".join(cells).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        control = (codes < 0x20) | (codes == 0x7F) | ((codes >= 0xD800) & (codes <= 0xDFFF))
        control[starts[1:] - 1] = False  # the separators
        blank = lengths == 0
        bad = lengths > MAX_LENGTHS[self.field]
        filled = np.flatnonzero(~blank)
        first, last = codes[starts[filled]], codes[starts[filled] + lengths[filled] - 1]
        # A space, ' or = first, a space last, or any non-ASCII character first or last (it may be a space).
        bad[filled] |= np.isin(first, _PLAIN_FIRST_REFUSED) | (first > 0x7E) | (last == 0x20) | (last > 0x7E)
        if control.any():
            bad[np.searchsorted(starts, np.flatnonzero(control), side="right") - 1] = True
        wide = np.flatnonzero(codes > 0x7E)
        if len(wide):
            unicode_cells = np.unique(np.searchsorted(starts, wide, side="right") - 1)
            joined = "\x1f".join([cells[i] for i in unicode_cells.tolist()])
            if not unicodedata.is_normalized("NFC", joined):
                bad[unicode_cells] = True  # some cell is not composed: the converter finds which
        if self.required:
            return np.flatnonzero(bad | blank).tolist(), []
        return np.flatnonzero(bad).tolist(), np.flatnonzero(blank).tolist()

    def _plain(self, cell: str) -> bool:
        return (
            0 < len(cell) <= MAX_LENGTHS[self.field]
            and cell.isascii()
            and cell.strip() == cell
            and cell[0] not in "'="
            and ANY_CONTROL.search(cell) is None
        )

    def _convert_memoised(self, cells: Sequence[object]) -> tuple[list[object], dict[int, str]]:
        memo, memo_problems = self.memo, self.memo_problems
        if self.text_cells or (len(types := set(map(type, cells))) == 1 and types <= _OWN_KEYS):
            keys = cells
        else:  # typed cells: 1, 1.0 and True are equal as dict keys but not as values
            keys = [c if type(c) in _OWN_KEYS else (type(c), c) for c in cells]
        values = list(map(memo.get, keys, repeat(_NOT_SEEN)))
        if any(map(is_, values, repeat(_NOT_SEEN))):  # cells not met before (mostly in the first chunks)
            for key in set(keys).difference(memo):
                if len(memo) >= MEMO_LIMIT:
                    return self._convert_one_by_one(cells)
                memo[key], problem = self.convert_cell(key[1] if type(key) is tuple else key)
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
            key = cell if type(cell) in _OWN_KEYS else (type(cell), cell)
            if key in self.memo:
                value, problem = self.memo[key], self.memo_problems.get(key)
            else:
                value, problem = self.convert_cell(cell)
            values.append(value)
            if problem:
                problems[index] = problem
        return values, problems
