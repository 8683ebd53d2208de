"""Tell early that a file is not a book list at all: nearly every one of its first rows is rejected.

A price list, an address book or a file whose columns were shifted would otherwise run to its end
and leave a report of a million rejected rows. The run stops instead, after its first thousand rows,
saying which problem it met most (that usually names the column to look at).
"""

from collections import Counter
from collections.abc import Iterable

from .errors import RowProblem

#: Rows looked at before deciding a file is not a book list at all.
WRONG_FILE_SAMPLE = 1_000
#: Share of rejected rows in that sample that stops the import.
WRONG_FILE_REJECTED_SHARE = 0.9


class WrongFileCheck:
    """Count a run's first rows, chunk by chunk, and say when so many are rejected that it should stop.

    Only the first chunks are looked at, until WRONG_FILE_SAMPLE rows are counted (the last of them may
    take it past that): a file whose first thousand rows are mostly good is a book list with some bad
    rows, and its later rows are not judged as a whole.
    """

    def __init__(self, sample: int = WRONG_FILE_SAMPLE, rejected_share: float = WRONG_FILE_REJECTED_SHARE):
        self.sample = sample
        self.rejected_share = rejected_share
        self.sampled = 0
        self.rejected = 0
        #: How often each problem was met, by its first clause (the words before any ";" detail).
        self.problems: Counter[str] = Counter()

    def see(self, rows: int, problems: Iterable[RowProblem]) -> str | None:
        """Count a chunk of *rows* rows and its *problems*; return why the import should stop, or None."""
        if self.sampled >= self.sample:
            return None
        problems = list(problems)
        self.sampled += rows
        self.rejected += len({p.row_number for p in problems})
        self.problems.update(p.message.split(";")[0] for p in problems)
        if self.sampled < self.sample or self.rejected < self.rejected_share * self.sampled:
            return None
        common = self.problems.most_common(1)
        cause = f" The most common problem: {common[0][0]} ({common[0][1]:,} times)." if common else ""
        return (
            f"{self.rejected:,} of the first {self.sampled:,} rows were rejected, so the import stopped: "
            f"this file does not look like a book list in the expected layout.{cause} "
            "Check that the right file was chosen and that its columns hold what their headers say."
        )
