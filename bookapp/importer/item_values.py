"""The values a file's rows are read with that are not their own cells, for Match values' counts (a shop
export's rows that take a value from their product's first row; its variable products' own rows, left out):
part of the column profile (profiling) of a file with a column naming each row's item."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from .groups import Items
from .headers import parent_names, product_type_column
from .left_out import is_container_type

#: The most text a column's listed values may hold together (the profile is kept on the import's row).
VALUES_TEXT_LIMIT = 32_000
#: The most counts of (value, kind of row) a column keeps of the values rows take from their item's first
#: row: past it, they are not counted, and Match values says its counts leave such rows out.
CONTINUED_LIMIT = 2_000


class ItemValues:
    """The values a file's rows are read with that are not their own cells, for the column suggested as
    naming each row's item (*group*; see importer.groups), per column whose values are listed:

    - `continued`: the value a row continuing an item takes from the item's first row where its own cell
      is blank, counted per kind of row (`kinds`: the columns it fills; a variant's row, a row that only
      adds an image), since whether such a row is read or left out for holding nothing in the matched
      columns depends on the columns matched (groups.continued);
    - `left_out`: the values of a product export's variable and grouped products' own rows, which the
      import leaves out whatever is matched (left_out.is_product_row).

    A column with more than CONTINUED_LIMIT such counts, or VALUES_TEXT_LIMIT characters of their values
    (every product's title), is `uncounted` (a Book type column has few values); every column is, past
    CONTINUED_LIMIT kinds of row.
    """

    def __init__(self, headers: list[str], group: str):
        self.group = group
        group_at = [h.casefold() for h in headers].index(group.casefold())
        names = parent_names(headers, group_at)
        #: The group cell and the item-name cells of each row, with its index in the file, walked by Items.
        self.walked = (group_at, *(position for position, _ in names))
        self.items = Items(0, tuple((k + 1, prefix) for k, (_, prefix) in enumerate(names)))
        self.type_at = product_type_column(headers)
        #: Rows walked so far.
        self.seen = 0
        #: The first row of the item open at the end of the last chunk, per column: its cell, and whether blank.
        self.carried: dict[int, tuple[object, bool]] = {}
        self.kinds: dict[bytes, tuple[int, list[int]]] = {}
        #: Per column: (value, kind) → rows continuing an item that take the value; value → product rows.
        self.continued: dict[int, Counter] = {}
        self.left_out: dict[int, Counter] = {}
        self.uncounted: set[int] = set()

    def add(self, frame: pd.DataFrame, blank: np.ndarray, listed: list[int]) -> None:
        """Count a chunk's rows (*blank*: per row and column, whether its cell is blank) in the *listed* columns."""
        n = len(frame)
        first_at = np.full(n, -1)
        walked = zip(*(frame.iloc[:, p].tolist() for p in self.walked), range(self.seen, self.seen + n), strict=True)
        for i, row in enumerate(walked):
            first = self.items.first_row(row)
            if first is not None:
                first_at[i] = first[-1]
        columns = {c: frame.iloc[:, c].to_numpy(dtype=object) for c in listed}
        if self.type_at is not None:
            products = np.fromiter(map(is_container_type, frame.iloc[:, self.type_at]), bool, n)
            for c in listed:
                self.left_out.setdefault(c, Counter()).update(columns[c][products & ~blank[:, c]].tolist())
        if (first_at >= 0).any() and len(self.kinds) <= CONTINUED_LIMIT:
            self._count_continued(columns, blank, first_at)
        last = self.items.first
        if last is not None and last[-1] >= self.seen:  # an item that started in this chunk may go on
            at = last[-1] - self.seen
            self.carried = {c: (columns[c][at], bool(blank[at, c])) for c in listed}
        self.seen += n
        for c, counted in list(self.continued.items()):
            if len(counted) + len(self.left_out.get(c, ())) > CONTINUED_LIMIT:  # too many to keep: not counted on
                self.uncounted.add(c)
                del self.continued[c]

    def _count_continued(self, columns: dict, blank: np.ndarray, first_at: np.ndarray) -> None:
        """Count the values the chunk's continuing rows take (*first_at*: the index in the file of their
        item's first row, in this chunk or an earlier one; -1 for a row that continues none)."""
        continuing, local = first_at >= 0, first_at - self.seen
        here, at = local >= 0, local.clip(0)
        taken = {}
        for c, cells in columns.items():
            if c in self.uncounted:
                continue
            value, was_blank = self.carried.get(c, ("", True))
            rows = continuing & blank[:, c] & ~np.where(here, blank[at, c], was_blank)
            if rows.any():
                taken[c] = (rows, np.where(here, cells[at], value))
        if not taken:
            return
        kind_of = np.full(len(blank), -1)
        some = np.logical_or.reduce([rows for rows, _ in taken.values()])
        filled = ~blank[some]
        packed = np.packbits(filled, axis=1)
        # Each row's filled columns as one bytes value; factorize numbers them as the file first has them.
        codes, patterns = pd.factorize(packed.view(f"S{packed.shape[1]}").ravel())
        first = np.full(len(patterns), len(codes))
        np.minimum.at(first, codes, np.arange(len(codes)))
        kinds = np.array([self._kind(bytes(p), filled[at]) for p, at in zip(patterns, first, strict=True)])
        kind_of[some] = kinds[codes]
        for c, (rows, values) in taken.items():
            value_codes, uniques = pd.factorize(values[rows], use_na_sentinel=False)
            pairs, counts = np.unique(value_codes * (len(self.kinds) + 1) + kind_of[rows], return_counts=True)
            counted = self.continued.setdefault(c, Counter())
            for pair, count in zip(pairs.tolist(), counts.tolist(), strict=True):
                counted[uniques[pair // (len(self.kinds) + 1)], pair % (len(self.kinds) + 1)] += count

    def _kind(self, key: bytes, filled: np.ndarray) -> int:
        """Return the number of the kind of row that fills the *filled* columns (*key*: them, packed)."""
        if key not in self.kinds:
            self.kinds[key] = (len(self.kinds), np.flatnonzero(filled).tolist())
        return self.kinds[key][0]

    def result(self, listed: set[int]) -> dict:
        """Return the counts as the profile keeps them, for the columns whose values it lists."""
        if len(self.kinds) > CONTINUED_LIMIT:
            self.uncounted, self.continued, self.kinds = set(listed), {}, {}
        columns, uncounted = {}, self.uncounted & listed
        for c in sorted((set(self.continued) | {c for c, n in self.left_out.items() if n} | uncounted) & listed):
            continued = [[v, k, n] for (v, k), n in sorted(self.continued.get(c, {}).items())]
            left_out = [[v, n] for v, n in sorted(self.left_out.get(c, {}).items())]
            if sum(len(v) for v, *_ in continued + left_out) > VALUES_TEXT_LIMIT:
                uncounted.add(c)
            elif continued or left_out:
                columns[str(c)] = {"continued": continued, "left_out": left_out}
        kinds = [filled for _, filled in sorted(self.kinds.values())]
        return {"by": self.group, "kinds": kinds, "columns": columns, "uncounted": sorted(uncounted)}
