"""Remember the row each ISBN first appeared in, for a whole file, in little memory.

A dict of a million ISBNs costs over 100 MB of Python objects; here the ISBNs seen so far live in two
sorted numpy arrays (8 + 4 bytes each) and only the latest ones in a small dict, merged in batches.
"""

import numpy as np

#: How many recent ISBNs are kept in the dict before they are merged into the sorted arrays.
MERGE_EVERY = 50_000


class FirstRows:
    """ISBN-13 → the row number it was first seen in."""

    def __init__(self) -> None:
        self._keys = np.empty(0, dtype=np.int64)
        self._rows = np.empty(0, dtype=np.int32)
        self._recent: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._keys) + len(self._recent)

    def earlier_rows(self, isbns: list[str], numbers: list[int]) -> list[int | None]:
        """For each (ISBN, row number) in order: the row that ISBN appeared in first, or None if this is it."""
        keys = list(map(int, isbns))
        recent = self._recent
        if len(self._keys):
            found = np.searchsorted(self._keys, np.array(keys, dtype=np.int64))
            found[found == len(self._keys)] = 0
            hits = self._keys[found] == np.array(keys, dtype=np.int64)
        else:
            hits = None
        if (hits is None or not hits.any()) and len(set(keys)) == len(keys) and recent.keys().isdisjoint(keys):
            recent.update(zip(keys, numbers, strict=True))  # the usual case: all new
            result: list[int | None] = [None] * len(keys)
        else:
            result = []
            for index, (key, number) in enumerate(zip(keys, numbers, strict=True)):
                if hits is not None and hits[index]:
                    result.append(int(self._rows[found[index]]))
                    continue
                first = recent.setdefault(key, number)
                result.append(None if first == number else first)
        if len(recent) >= MERGE_EVERY:
            self._merge()
        return result

    def _merge(self) -> None:
        """Insert the recent ISBNs into the sorted arrays (a sorted insert: linear, no full re-sort)."""
        count = len(self._recent)
        keys = np.fromiter(self._recent.keys(), dtype=np.int64, count=count)
        rows = np.fromiter(self._recent.values(), dtype=np.int32, count=count)
        order = np.argsort(keys)
        keys, rows = keys[order], rows[order]
        positions = np.searchsorted(self._keys, keys)
        self._keys = np.insert(self._keys, positions, keys)
        self._rows = np.insert(self._rows, positions, rows)
        self._recent = {}
