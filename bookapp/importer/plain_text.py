"""Which of a column's cells are plain text already, as the text converter would give them back unchanged,
told with a few whole-column operations instead of a converter call per cell: the bulk checks that let a
column of clean titles, authors or descriptions skip its converter (importer.columns).

Plain is text without control characters, not blank, no longer than the field allows, without a space at
either end, not starting with ' or = (what spreadsheets and exports put before a value), in Unicode's
composed form (NFC), and none of the words the field reads as blank (text_values.BLANK_WORDS: nan, #N/A…). A cell these checks do not clear goes through the converter, which decides: they may
send it a plain cell, never let through one that is not.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np

from .text_values import ANY_CONTROL, BLANK_WORD_LENGTH

#: The cell types of a text column with blanks in it (a workbook gives a blank cell as None).
TEXT_OR_EMPTY = frozenset({str, type(None)})
#: First characters that keep a text cell from being plain (a space, ' and =).
_PLAIN_FIRST_REFUSED = np.array([ord(" "), ord("'"), ord("=")], dtype=np.uint32)


def all_plain(
    cells: Sequence[object], longest: int, *, text_cells: bool, blank_words: frozenset[str] = frozenset()
) -> bool:
    """Whether every cell is plain ASCII text of at most *longest* characters and none of *blank_words*,
    checked with a few whole-column string operations (*text_cells*: every cell is known to be text, a CSV's)."""
    if not cells or (not text_cells and set(map(type, cells)) != {str}):
        return False
    joined = "\x1f".join(cells)
    # ASCII text without control characters: isprintable() says so for all of it at once, and
    # the only whitespace such text can hold is the space, so "stripped" means no cell starts
    # or ends with one (the separator \x1f is a control character, so no cell holds it).
    if not (
        joined
        and joined.isascii()
        and "".join(cells).isprintable()
        and joined[0] not in " '="
        and joined[-1] != " "
        and "\x1f " not in joined
        and " \x1f" not in joined
        and "\x1f'" not in joined
        and "\x1f=" not in joined
    ):
        return False
    # One pass for the lengths (two min/max passes took 0.14 s for a million titles, this 0.08 s).
    lengths = np.fromiter(map(len, cells), dtype=np.int64, count=len(cells))
    return lengths.min() > 0 and lengths.max() <= longest and not blank_words_among(cells, lengths, blank_words)


def blank_words_among(cells: Sequence[object], lengths: np.ndarray, blank_words: frozenset[str]) -> list[int]:
    """Return the indexes of the cells (of *lengths* characters) that are one of *blank_words*: only the few
    cells short enough to be one are looked at."""
    if not blank_words:
        return []
    short = np.flatnonzero((lengths > 0) & (lengths <= BLANK_WORD_LENGTH)).tolist()
    return [index for index in short if cells[index] in blank_words]


def cells_to_convert(
    cells: Sequence[object],
    longest: int,
    *,
    text_cells: bool,
    required: bool,
    blank_words: frozenset[str] = frozenset(),
) -> tuple[list[int], list[int]]:
    """Return (the indexes of the cells that may not be plain text already, the blank cells of an optional
    field: *required* false). The first is a superset: each of its cells goes through the converter, which
    decides; every other cell is what the converter would return for it.

    Text cells are checked together, as the character codes of the joined column: a control character, a
    blank cell, a leading or trailing space, a leading ' or =, a cell longer than *longest* or one of
    *blank_words*; and non-ASCII
    cells together, as being in Unicode's composed form (NFC) already."""
    if not text_cells:  # a workbook's cells: text and blanks (None) are checked as a CSV's are
        types = set(map(type, cells))
        if not types <= TEXT_OR_EMPTY:  # numbers, dates…: one by one
            plain = [type(c) is str and is_plain(c, longest) and c not in blank_words for c in cells]
            return [i for i, ok in enumerate(plain) if not ok], []
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
    bad = lengths > longest
    bad[blank_words_among(cells, lengths, blank_words)] = True
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
    if required:
        return np.flatnonzero(bad | blank).tolist(), []
    return np.flatnonzero(bad).tolist(), np.flatnonzero(blank).tolist()


def is_plain(cell: str, longest: int) -> bool:
    """Whether one text cell is plain ASCII text of at most *longest* characters."""
    return (
        0 < len(cell) <= longest
        and cell.isascii()
        and cell.strip() == cell
        and cell[0] not in "'="
        and ANY_CONTROL.search(cell) is None
    )
