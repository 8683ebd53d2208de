"""The reading half of an import's pass over its file: open it, then read and validate its rows a piece
at a time. Pure (no database): it runs in a second process where one can be forked (read_ahead.py),
so reading and validating on one core keep up with the writing on the other.

A workbook read ahead is opened by that process itself, under a memory cap, building its sheets while
it checks the file (open_book_sheet): the importing process only waits for the header. Should that
process die before it sends the header (a file the check would refuse, read by calamine meanwhile),
the file is opened in the importing process the careful way, check first, for the check's own message.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from ..importer import FileProblem, RowProblem, RowValidator, open_table
from ..importer.duplicates import FirstRows
from ..importer.fields import LABELS
from ..importer.groups import FilledCells
from ..importer.left_out import LeftOutRows
from ..importer.line_map import LineMap
from ..importer.reading import Table, chunked, detect_kind
from ..importer.shown_numbers import ShownRows
from ..importer.validation import ValidRows
from .read_ahead import ReadAhead, ReaderCrashed, ReadHere
from .read_ahead import available as read_ahead_available

log = logging.getLogger(__name__)

#: Rows the reading process may have read and validated ahead of the writing (in whole pieces, at
#: least two): about 10 MB pickled, whatever the piece size. 160,000 (25 MB) was no faster and took
#: 22 MB more at its peak on a million rows.
READ_AHEAD_ROWS = 60_000
#: The most rows the reading process validates and sends as one piece. A transaction (a chunk:
#: IMPORT_CHUNK_SIZES) may take several pieces (SQLite's take 10), so its size does not set the
#: memory an import needs: a piece's rows, their validated columns and their pickled form.
PIECE_ROWS = 5_000


@dataclass
class ValidatedChunk:
    """A chunk of the file, read and validated: what the writer needs, and no more (it may cross a pipe)."""

    numbers: list[int]
    #: The cells of each rejected row, kept so the rejected rows can be downloaded as they were.
    rejected_cells: dict[int, list]
    valid: ValidRows
    problems: list[RowProblem]
    #: Where the chunk's rows start in the file, when that is not at their row numbers (None: it is).
    lines: LineMap | None = None
    #: The rows left out as holding no book (a totals row, a note, …), by the note that tells them
    #: (importer.left_out's rule keys).
    left_out: dict[str, list[int]] = field(default_factory=dict)
    #: Rows of the chunk with a number read as its cell's format shows it, in a column a field reads.
    shown: list[int] = field(default_factory=list)
    #: The rejected rows that took blank cells from their item's first row (a shop's variant rows): which
    #: cells, and that row's number ({"from_row": 2, "cells": [1, 3]}), kept with their cells.
    filled: dict[int, dict] = field(default_factory=dict)

    def line(self, row_number: int) -> int | None:
        """Return the file line a row starts on, where it differs from the row number."""
        line = self.lines.line(row_number) if self.lines else None
        return line if line != row_number else None


#: What starts a pass's rows once the importing process has the header: given the validator, the ISBN
#: column's header and the last row an earlier run committed, the ValidatedChunks to iterate over.
StartRows = Callable[[RowValidator, object, int], "ReadAhead | ReadHere"]


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ReaderCrashed) else f"the reading process failed with {type(exc).__name__}"


@dataclass
class RowReading:
    """How one pass reads its file: what the reading process needs, and no more."""

    path: Path
    import_id: int
    piece_size: int
    max_rows: int
    #: Add-to-stock: a delivery note may list a book twice (the quantities are summed), so a repeated
    #: ISBN is not refused.
    repeats_allowed: bool
    #: The first row of each ISBN seen so far in the pass.
    first_rows: FirstRows
    isbn_header: object = None

    @contextlib.contextmanager
    def opened(self) -> Iterator[tuple[Table, StartRows]]:
        """Open the file; yield its Table and the function that starts its rows."""
        if current_app.config["IMPORT_READ_AHEAD"] and read_ahead_available() and detect_kind(self.path) != "csv":
            reader = ReadAhead(self._open_and_validate, ahead=self.ahead, instructed=True)
            try:
                table = next(reader)
            except BaseException as exc:
                reader.close()
                if isinstance(exc, FileProblem) or not isinstance(exc, Exception):  # the file's fault; a timeout
                    raise
                # It died (a build past its cap), or ran out of memory checking: the careful way, below.
                log.info("import=%s event=workbook-opened-again reason=%r", self.import_id, _reason(exc))
            else:
                with reader:

                    def start(validator: RowValidator, isbn_header: object, resume_after: int) -> ReadAhead:
                        reader.instruct((validator, isbn_header, resume_after))
                        return reader

                    yield table, start
                return
        with open_table(self.path) as table:

            def start_here(validator: RowValidator, isbn_header: object, resume_after: int) -> ReadAhead | ReadHere:
                self.isbn_header = isbn_header

                def produce():
                    return self.validated_chunks(table.rows, validator, resume_after, table.lines, table.shown)

                if current_app.config["IMPORT_READ_AHEAD"] and read_ahead_available():
                    return ReadAhead(produce, ahead=self.ahead)
                return ReadHere(produce)

            yield table, start_here

    @property
    def ahead(self) -> int:
        """Pieces the reading process may have ready before the importing process takes them."""
        return max(2, READ_AHEAD_ROWS // self.piece_size)

    def _open_and_validate(self, orders):
        """The reading process's work for a workbook: open it (checked and built at once, memory capped),
        send its Table (without its rows), then validate its rows as the importing process orders."""
        with open_table(self.path, alongside=True) as table:
            yield dataclasses.replace(table, rows=None, shown=None)  # the cells read as shown stay here
            order = orders()
            if order is None:  # the importing process stopped before the rows
                return 0
            validator, self.isbn_header, resume_after = order
            return (yield from self.validated_chunks(table.rows, validator, resume_after, table.lines, table.shown))

    def validated_chunks(
        self,
        rows,
        validator: RowValidator,
        resume_after: int,
        lines: LineMap | None = None,
        shown: ShownRows | None = None,
    ):
        """Yield a ValidatedChunk for each chunk after *resume_after*, return the rows seen; pure, no database.

        Row numbers are the spreadsheet's (they never depend on which rows are skipped as blank), so a
        resumed run meets every row under the number the first run gave it. *shown*: the cells read as
        their format shows them; each chunk names its rows with one in a column a field reads."""
        seen_rows = 0
        read_columns = frozenset(validator.read_columns) if shown else frozenset()
        leaving_out = LeftOutRows(validator)
        for chunk in chunked(validator.continued(rows), self.piece_size):
            seen_rows += len(chunk)
            if seen_rows > self.max_rows:
                raise FileProblem(
                    f"The file has more than {self.max_rows:,} rows, the most one import takes. "
                    "Split it into several files."
                )
            read = len(chunk)
            chunk, before = leaving_out.before_validation(chunk)
            valid, problems = validator.validate_chunk(chunk)
            chunk, problems, after = leaving_out.after_validation(chunk, problems)
            seen_rows -= read - len(chunk)
            left_out = {
                key: told
                for key, numbers in {**before, **after}.items()
                if (told := [n for n in numbers if n > resume_after])
            }
            if not chunk:
                if left_out:  # a chunk of them alone: still told
                    yield ValidatedChunk([], {}, valid, [], None, left_out)
                continue
            valid = self._drop_repeated_isbns(valid, problems)
            if chunk[-1][0] <= resume_after:
                continue  # committed by an earlier run: only the ISBNs seen were needed
            if resume_after:
                chunk = [row for row in chunk if row[0] > resume_after]
                valid = valid.where([n > resume_after for n in valid.numbers])
                problems = [p for p in problems if p.row_number > resume_after]
            rejected = {p.row_number for p in problems}
            numbers = [n for n, _ in chunk]
            rejected_cells = {n: cells for n, cells in chunk if n in rejected} if rejected else {}
            yield ValidatedChunk(
                numbers=numbers,
                rejected_cells=rejected_cells,
                valid=valid,
                problems=problems,
                lines=lines.part(chunk[0][0], chunk[-1][0]) if lines else None,
                left_out=left_out,
                shown=shown.among(numbers, read_columns) if read_columns else [],
                filled={
                    n: {"from_row": cells.first_row, "cells": list(cells.taken)}
                    for n, cells in rejected_cells.items()
                    if isinstance(cells, FilledCells) and cells.taken
                },
            )
        return seen_rows

    def _drop_repeated_isbns(self, valid: ValidRows, problems: list[RowProblem]) -> ValidRows:
        if self.repeats_allowed or not valid:
            return valid  # a delivery note may list a book twice: the quantities are summed
        isbns = valid.column("isbn")
        earlier = self.first_rows.earlier_rows(isbns, valid.numbers)
        if not any(earlier):
            return valid
        for number, isbn, first in zip(valid.numbers, isbns, earlier, strict=True):
            if first is not None:
                problems.append(
                    RowProblem(
                        number,
                        self.isbn_header,
                        isbn,
                        f"{LABELS['isbn']} {isbn} already appears in row {first}; only the first row with an ISBN is imported",
                    )
                )
        return valid.where([first is None for first in earlier])
