"""Remember the row each ISBN first appeared in, for a whole file, in little memory.

A dict of a million ISBNs costs over 100 MB of Python objects; here the ISBNs seen so far live in
sorted numpy arrays, 8 bytes each (the ISBN and its row packed in one integer), and only the latest
ones in a small dict, merged in batches. The arrays are split by their code's lowest bits into BUCKETS:
merging into one array of five million ISBNs copied all 40 MB of it into a new one each time (80 MB
held for a moment); a bucket's copy is a 16th of that.
"""

from itertools import pairwise

import numpy as np

#: How many recent ISBNs are kept in the dict before they are merged into the sorted arrays.
MERGE_EVERY = 50_000
#: How many sorted arrays the ISBNs are split over, by their code's lowest bits (a power of two).
BUCKETS = 16
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
        self._buckets = [np.empty(0, dtype=np.int64) for _ in range(BUCKETS)]  # code << _ROW_BITS | row, sorted
        self._stored = 0
        self._recent: dict[int, int] = {}

    def __len__(self) -> int:
        return self._stored + len(self._recent)

    def earlier_rows(self, isbns: list[str], numbers: list[int]) -> list[int | None]:
        """For each (ISBN, row number) in order: the row that ISBN appeared in first, or None if this is it."""
        codes = isbn_codes(isbns) if isbns else np.empty(0, dtype=np.int64)
        keys = codes.tolist()
        recent = self._recent
        stored = self._stored_rows(codes) if self._stored else None
        if (stored is None or (stored < 0).all()) and len(set(keys)) == len(keys) and recent.keys().isdisjoint(keys):
            recent.update(zip(keys, numbers, strict=True))  # the usual case: all new
            result: list[int | None] = [None] * len(keys)
        else:
            result = []
            earlier = stored.tolist() if stored is not None else [-1] * len(keys)
            for key, number, row in zip(keys, numbers, earlier, strict=True):
                if row >= 0:
                    result.append(row)
                    continue
                first = recent.setdefault(key, number)
                result.append(None if first == number else first)
        if len(recent) >= MERGE_EVERY:
            self._merge()
        return result

    def _stored_rows(self, codes: np.ndarray) -> np.ndarray:
        """Return the first row of each code found in the sorted buckets, -1 where there is none."""
        rows = np.full(len(codes), -1, dtype=np.int64)
        bucket_of = codes & (BUCKETS - 1)
        order = np.argsort(bucket_of, kind="stable")
        bounds = np.searchsorted(bucket_of[order], np.arange(BUCKETS + 1))
        for bucket, (start, stop) in enumerate(pairwise(bounds)):
            packed = self._buckets[bucket]
            if start == stop or not len(packed):
                continue
            where = order[start:stop]
            wanted = codes[where]
            found = np.searchsorted(packed, wanted << _ROW_BITS)
            found[found == len(packed)] = 0
            entries = packed[found]
            hits = (entries >> _ROW_BITS) == wanted
            rows[where[hits]] = entries[hits] & _ROW_MASK
        return rows

    def _merge(self) -> None:
        """Insert the recent ISBNs into their buckets' sorted arrays (sorted inserts: linear, no re-sort)."""
        count = len(self._recent)
        codes = np.fromiter(self._recent.keys(), dtype=np.int64, count=count)
        rows = np.fromiter(self._recent.values(), dtype=np.int64, count=count)
        entries = (codes << _ROW_BITS) | rows
        bucket_of = codes & (BUCKETS - 1)
        entries = entries[np.lexsort((entries, bucket_of))]  # by bucket, then by code
        bounds = np.searchsorted(np.sort(bucket_of), np.arange(BUCKETS + 1))
        for bucket, (start, stop) in enumerate(pairwise(bounds)):
            if start < stop:
                packed = self._buckets[bucket]
                batch = entries[start:stop]
                self._buckets[bucket] = np.insert(packed, np.searchsorted(packed, batch), batch)
        self._stored += count
        self._recent = {}
