"""The ISBN column's fast path: the ISBNs written one of the usual ways, checked in bulk with numpy.

Most ISBN cells of a real file are 13 plain digits, or a whole number a spreadsheet program took them
for; checking their digits a column at a time is what makes a million rows' ISBNs cheap. Every cell
this leaves goes through the ISBN converter, which says what is wrong with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_EAN_WEIGHTS = np.array([1, 3] * 6 + [1], dtype=np.int32)


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
