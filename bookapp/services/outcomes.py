"""What an import did with each row: one byte per row (Outcome), kept per chunk (ImportChunk.outcomes) and
counted; the writer (saving.BookWriter) returns a chunk's as a ChunkOutcome.
"""

import enum
from collections import Counter
from dataclasses import dataclass, field


class Outcome(bytes, enum.Enum):
    """What an import did with one row (one byte each in the per-chunk record)."""

    CREATED = b"c"
    UPDATED = b"u"
    UNCHANGED = b"="
    SKIPPED = b"s"
    REJECTED = b"x"


_CREATED, _UPDATED, _UNCHANGED, _SKIPPED, _REJECTED = (
    Outcome.CREATED.value, Outcome.UPDATED.value, Outcome.UNCHANGED.value, Outcome.SKIPPED.value,
    Outcome.REJECTED.value,
)  # fmt: skip
OUTCOME_NAMES = {o.value: o.name.lower() for o in Outcome}


@dataclass
class ChunkOutcome:
    """Each row's outcome code (row number → one byte), and why the writer refused any row."""

    rows: dict[int, bytes] = field(default_factory=dict)
    #: Rows valid alone that cannot be saved: row number → message (a stock total past the limit).
    refused: dict[int, str] = field(default_factory=dict)
    #: A dry run's stored books as each row would leave them: row number → values in storage form.
    stored: dict[int, tuple] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Return how many rows were created, updated, unchanged and skipped."""
        tally = Counter(self.rows.values())
        return {OUTCOME_NAMES[code]: tally[code] for code in (_CREATED, _UPDATED, _UNCHANGED, _SKIPPED)}

    def codes(self, numbers: list[int]) -> bytes:
        """Return one code per row number, in order (rejected for rows the writer never saw)."""
        rows = self.rows
        if len(rows) == len(numbers) and len(set(rows.values())) == 1:
            return next(iter(rows.values())) * len(numbers)  # the usual chunk: every row the same
        return b"".join([rows.get(n, _REJECTED) for n in numbers])
