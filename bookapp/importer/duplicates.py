"""Remember the row each ISBN first appeared in, for a whole file, in little memory.

A dict of a million ISBNs costs over 100 MB of Python objects; here the ISBNs seen so far live in one
sorted numpy array, 8 bytes each (the ISBN and its row packed in one integer), and only the latest
ones in a small dict, merged in batches.
"""

import numpy as np

#: How many recent ISBNs are kept in the dict before they are merged into the sorted array.
MERGE_EVERY = 50_000
#: Bits of a packed entry that hold the row number (below them: the ISBN's code).
_ROW_BITS = 32
_ROW_MASK = (1 << _ROW_BITS) - 1
#: The weights of an ISBN-13's digits 3 to 12 (its prefix's last digit, 8 or 9, and the nine after it).
_CODE_WEIGHTS = 10 ** np.arange(9, -1, -1, dtype=np.int64)
_CODE_START = 8 * 10**9


def isbn_codes(isbns: list[str]) -> np.ndarray:
    """Return each ISBN-13 (13 ASCII digits starting 978 or 979) as a number below 2 × 10⁹: its digits
    after 97, without the check digit (which the others decide), less 8 × 10⁹."""
    digits = np.frombuffer("".join(isbns).encode("ascii"), dtype=np.uint8).reshape(-1, 13)[:, 2:12]
    return (digits - 48).astype(np.int64) @ _CODE_WEIGHTS - _CODE_START


class FirstRows:
    """ISBN-13 → the row number it was first seen in."""

    def __init__(self) -> None:
        self._packed = np.empty(0, dtype=np.int64)  # code << _ROW_BITS | row, sorted
        self._recent: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._packed) + len(self._recent)

    def earlier_rows(self, isbns: list[str], numbers: list[int]) -> list[int | None]:
        """For each (ISBN, row number) in order: the row that ISBN appeared in first, or None if this is it."""
        codes = isbn_codes(isbns) if isbns else np.empty(0, dtype=np.int64)
        keys = codes.tolist()
        recent = self._recent
        packed = self._packed
        if len(packed):
            found = np.searchsorted(packed, codes << _ROW_BITS)
            found[found == len(packed)] = 0
            hits = (packed[found] >> _ROW_BITS) == codes
        else:
            hits = None
        if (hits is None or not hits.any()) and len(set(keys)) == len(keys) and recent.keys().isdisjoint(keys):
            recent.update(zip(keys, numbers, strict=True))  # the usual case: all new
            result: list[int | None] = [None] * len(keys)
        else:
            result = []
            for index, (key, number) in enumerate(zip(keys, numbers, strict=True)):
                if hits is not None and hits[index]:
                    result.append(int(packed[found[index]] & _ROW_MASK))
                    continue
                first = recent.setdefault(key, number)
                result.append(None if first == number else first)
        if len(recent) >= MERGE_EVERY:
            self._merge()
        return result

    def _merge(self) -> None:
        """Insert the recent ISBNs into the sorted array (a sorted insert: linear, no full re-sort)."""
        count = len(self._recent)
        codes = np.fromiter(self._recent.keys(), dtype=np.int64, count=count)
        rows = np.fromiter(self._recent.values(), dtype=np.int64, count=count)
        entries = np.sort((codes << _ROW_BITS) | rows)
        self._packed = np.insert(self._packed, np.searchsorted(self._packed, entries), entries)
        self._recent = {}
