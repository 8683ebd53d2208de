"""Where the rows of a CSV start in the file: a row's line differs from its number after a record whose
cells hold line breaks (reading's CSV rows note them a batch at a time; a chunk's rejected rows and
problems name their lines)."""

from __future__ import annotations

from bisect import bisect_right
from itertools import compress
from operator import add, methodcaller, sub

#: Joins a record's cells to count its line breaks (a control character: no break is made by joining).
_CELL_SEPARATOR = "\x1f"
#: How many rows behind the reading a LineMap still knows where rows start (a chunk is read, then
#: validated, so only the latest few thousand rows are ever asked about).
LINES_KEPT = 50_000


class LineMap:
    """Where CSV rows start in the file: line = row number + the number of line breaks inside the
    cells of the records before it (and of the header).

    Only the rows where that shift changes are kept (after a record with a multi-line cell): nothing
    at all for a file without one, and never more than LINES_KEPT rows' worth behind the reading.
    """

    __slots__ = ("_known_from", "_rows", "_shifts")

    def __init__(self) -> None:
        self._rows: list[int] = []  # ascending: from this row on…
        self._shifts: list[int] = []  # …a row's line is its number plus this
        self._known_from = 0

    def __bool__(self) -> bool:
        return bool(self._rows)

    def line(self, row: int) -> int | None:
        """Return the file line *row* starts on (None when that row is too far behind the reading)."""
        if row < self._known_from:
            return None
        index = bisect_right(self._rows, row) - 1
        return row + (self._shifts[index] if index >= 0 else 0)

    def part(self, first: int, last: int) -> LineMap | None:
        """Return the map of rows *first* to *last* (None when every one starts on its own line number)."""
        if not self._rows or (self._rows[-1] <= first and self._shifts[-1] == 0) or last < self._rows[0]:
            return None
        start = max(bisect_right(self._rows, first) - 1, 0)
        stop = bisect_right(self._rows, last)
        part = LineMap()
        part._rows, part._shifts = self._rows[start:stop], self._shifts[start:stop]
        part._known_from = first
        return part

    def __getstate__(self):
        return self._rows, self._shifts, self._known_from

    def __setstate__(self, state) -> None:
        self._rows, self._shifts, self._known_from = state

    def note(self, row: int, line: int) -> None:
        """Record that *row* starts on *line* (rows after it follow on, one line each)."""
        shift = line - row
        if shift != (self._shifts[-1] if self._shifts else 0):
            self._rows.append(row)
            self._shifts.append(shift)

    def note_batch(self, first_row: int, first_line: int, records: list[list[str]]) -> None:
        """Record where each of a batch's records starts, the first on *first_line*."""
        self.note(first_row, first_line)
        # Line breaks per record, counted with string methods over the whole batch; CR LF is one
        # break and a lone CR (an old line ending) is one too, as the file's lines are split.
        joined = list(map(_CELL_SEPARATOR.join, records))
        breaks = list(map(methodcaller("count", "\n"), joined))
        if any(map(methodcaller("__contains__", "\r"), joined)):
            lone_crs = map(sub, map(methodcaller("count", "\r"), joined), map(methodcaller("count", "\r\n"), joined))
            breaks = list(map(add, breaks, lone_crs))
        shift = first_line - first_row
        for index in compress(range(len(records)), breaks):
            shift += breaks[index]
            self.note(first_row + index + 1, first_row + index + 1 + shift)
        self._forget_before(first_row - LINES_KEPT)

    def _forget_before(self, row: int) -> None:
        if len(self._rows) > 1 and self._rows[1] <= row:
            cut = bisect_right(self._rows, row) - 1  # keep the shift in effect at *row*
            del self._rows[:cut], self._shifts[:cut]
            self._known_from = row
