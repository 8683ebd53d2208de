"""An import's pass over its file: read, validate and save a chunk at a time, with checkpoints."""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from array import array
from contextlib import contextmanager
from itertools import islice

from flask import current_app
from sqlalchemy import delete, insert, select

from ..config import IMPORT_CHUNK_SIZES
from ..extensions import db
from ..importer import BookRow, FileProblem, RowProblem, RowValidator
from ..importer.catalogue_values import punctuation_said
from ..importer.decimal_comma import PRICES_WITH_DECIMAL_COMMA
from ..importer.duplicates import FirstRows
from ..importer.left_out import left_out_count
from ..importer.validation import ValidRows
from ..importer.wrong_file import WrongFileCheck
from ..models import (
    Import,
    ImportChange,
    ImportChunk,
    ImportMode,
    ImportPhase,
    ImportRowError,
    RejectedRow,
    utcnow,
)
from .columns_read import columns_read
from .copy_writing import ConcurrentInsert
from .import_jobs import job_timeout, upload_path
from .outcomes import OUTCOME_NAMES, ChunkOutcome, Outcome
from .read_ahead import ReadAhead, ReadHere
from .row_check import comma_columns, punctuation_columns
from .row_reading import PIECE_ROWS, RowReading, ValidatedChunk
from .row_records import jsonable_cell, note_chunk_repairs, note_repairs, save_problems
from .saving import BookWriter
from .staged_inserts import correct_outcomes, merged_before_each_commit
from .write_turn import write_turn

log = logging.getLogger(__name__)

#: The niceness of the reading process of an import that waits for the write turn (Linux: 0 is the
#: default, 19 the lowest priority): it reads ahead on whatever CPU the writing import leaves. It is
#: never raised again (an unprivileged process may not), which only matters on a machine busy enough
#: that the two cores are not its own.
WAITING_NICENESS = 10


class TimedOut(Exception):
    """The run passed its deadline; it stopped at a chunk boundary."""


class StoredFileMissing(Exception):
    """The uploaded file is gone from the upload folder: an operational fault, not a bad file."""


class Cancelled(Exception):
    """Staff asked the import to stop; the message says what was kept."""


#: Rows a dry run shows as they would be stored.
PREVIEW_ROWS = 20


class ImportRun:
    """One run of an import: stream the file in chunks, validate, save, record, commit."""

    def __init__(self, imp: Import):
        self.imp = imp
        self.import_id = imp.id
        self.path = upload_path(imp)
        self.mode = ImportMode(imp.mode)
        #: Rows per transaction (each commit is a checkpoint a resumed run starts after).
        self.chunk_size = current_app.config["IMPORT_CHUNK_SIZE"] or IMPORT_CHUNK_SIZES.get(
            db.engine.dialect.name, 2_000
        )
        #: Rows per piece the reading process validates and sends; a transaction is one or more pieces.
        self.piece_size = min(self.chunk_size, PIECE_ROWS)
        self.pieces_per_commit = max(1, self.chunk_size // self.piece_size)
        #: Pieces saved since the last commit.
        self.uncommitted = 0
        self.timeout = job_timeout(imp.file_size)
        self.max_rows = current_app.config["IMPORT_MAX_ROWS"]
        self.deadline = time.monotonic() + self.timeout
        self.first_rows = FirstRows()
        self.wrong_file = WrongFileCheck()
        #: Whether the rows' outcomes are counted as done: not in an all-or-nothing import's check of its
        #: rows, which saves nothing (its valid rows are those not rejected).
        self.counting = True

    def run(self) -> None:
        imp = self.imp
        if not self.path.exists():
            raise StoredFileMissing(imp.stored_name)
        if imp.all_or_nothing and not imp.dry_run:
            self._reset_counts()  # nothing of an all-or-nothing run is ever committed: start afresh
            self.counting = False
            self._pass(write=False)
            self.counting = True
            if imp.rejected:
                # Every row was checked and none saved: the import has been through its file.
                imp.total_rows = imp.processed_rows + left_out_count(imp.repairs)
                db.session.commit()
                raise FileProblem(
                    f"{imp.rejected:,} rows were rejected, so nothing was saved (all-or-nothing). "
                    "Fix them (download the rejected rows) and upload the file again."
                )
            self._reset_counts(keep_problems=True)
            self._pass(write=True, single_transaction=True)
        else:
            if imp.dry_run and self.mode is ImportMode.ADD_STOCK and imp.checkpoint_row:
                self._start_again()
            self._pass(write=True)
        imp.total_rows = imp.processed_rows
        imp.phase = ImportPhase.DONE.value

    def _reset_counts(self, keep_problems: bool = False) -> None:
        imp = self.imp
        imp.created = imp.updated = imp.unchanged = imp.skipped = imp.processed_rows = imp.checkpoint_row = 0
        imp.repairs = None  # noted again as the rows are read again (all or nothing reads them twice)
        if not keep_problems:
            imp.rejected = 0
            db.session.execute(delete(ImportRowError).where(ImportRowError.import_id == imp.id))
            db.session.execute(delete(RejectedRow).where(RejectedRow.import_id == imp.id))
        db.session.execute(delete(ImportChunk).where(ImportChunk.import_id == imp.id))
        db.session.commit()
        self.first_rows = FirstRows()

    def _start_again(self) -> None:
        """Check an Add to stock dry run's file again from its first row: the totals it carried across
        pieces lived in the run that stopped (a real import reads them back from the books it saved)."""
        self.imp.preview = None
        db.session.execute(delete(ImportChange).where(ImportChange.import_id == self.import_id))
        self._reset_counts()

    def _pass(self, *, write: bool, single_transaction: bool = False) -> None:
        """Go through the file once; with write=False only validate and record problems."""
        imp = self.imp
        imp.phase = ImportPhase.READING.value
        db.session.commit()
        saving = write and not imp.dry_run
        # The file is opened (a CSV's encoding sniffed, a workbook checked and loaded), its columns
        # resolved and its reading process started before waiting for the write turn: a file that
        # cannot be read says so at once, and an import that waits has its first rows read and
        # validated (at a lower priority: see _write_turn) when the turn becomes its own.
        reading = RowReading(self.path, self.import_id, self.piece_size, self.max_rows,
                             repeats_allowed=self.mode is ImportMode.ADD_STOCK, first_rows=self.first_rows)  # fmt: skip
        with reading.opened() as (table, start_reading):
            # A file the upload read the first rows of was checked then (a large workbook was not).
            unread = table.first_rows if imp.headers is None else None
            header_map = columns_read(imp, table.headers, table.header_row, unread)
            self.isbn_header = header_map.header_of("isbn")
            self.quantity_header = header_map.header_of("quantity")
            self.header_positions = header_map.positions
            self.header_count = len(table.headers)
            imp.ignored_columns = header_map.ignored
            imp.headers = [jsonable_cell(h) for h in table.headers]
            validator = RowValidator(
                header_map,
                decimal_comma=table.decimal_comma,
                decimal_comma_columns=comma_columns(imp, table, header_map),
                catalogue_punctuation_columns=punctuation_columns(imp, table, header_map),
                text_cells=table.text_cells,
                nul_cells=table.nul_cells,
            )
            prices = PRICES_WITH_DECIMAL_COMMA if validator.price_decimal_comma and not table.decimal_comma else ""
            imp.read_as = (table.description + prices + punctuation_said(validator.punctuated_fields))[:255]
            imp.total_rows = max(table.estimated_rows, imp.processed_rows + left_out_count(imp.repairs)) or None
            imp.phase = (ImportPhase.SAVING if write and not imp.dry_run else ImportPhase.VALIDATING).value
            db.session.commit()
            writer = BookWriter(
                db.session, imp.id, self.mode, dry_run=imp.dry_run or not write, absent=header_map.absent,
                records_changes=write, sqlite_cache_mb=current_app.config["SQLITE_IMPORT_CACHE_MB"],
                stage_past_books=current_app.config.get("SQLITE_IMPORT_STAGE_PAST_BOOKS"),
            )  # fmt: skip

            def merge_staged() -> None:
                correct_outcomes(db.session, imp, writer.merge_staged())

            with (
                _fewer_collections(),
                start_reading(validator, self.isbn_header, imp.checkpoint_row) as chunks,
                self._write_turn(saving, committing=not single_transaction, reader=chunks),
                _not_reloading_after_commit(db.session()),
                merged_before_each_commit(db.session(), merge_staged),
            ):
                for chunk in chunks:
                    for kind, rows in chunk.left_out.items():  # rows that hold no book: told, not rejected
                        note_repairs(imp, kind, rows)
                    if not chunk.numbers:  # a piece of such rows alone
                        continue
                    self._check_wrong_file(chunk)
                    self.uncommitted += 1
                    ends = not single_transaction and self.uncommitted >= self.pieces_per_commit
                    self._save_chunk(chunk, writer, commit=ends, checkpoint=not single_transaction)
                    if single_transaction and self.uncommitted % self.pieces_per_commit == 0:
                        merge_staged()  # as often as a commit would: the staged rows stay few
                if chunks.result == 0:
                    raise FileProblem("The file has a header row but no rows of books below it.")
                # The last commit too is made in the write turn, with the hook merging its staged books.
                if single_transaction:
                    db.session.commit()  # all or nothing: its one commit
                elif self.uncommitted:  # the file ended inside a transaction
                    self._commit()

    def _write_turn(self, saving: bool, *, committing: bool, reader: ReadAhead | ReadHere):
        """Take the database's write turn (SQLite: one import writes at a time) before writing, showing
        the wait if another import has it. Meanwhile *reader*'s process reads ahead at a lower priority
        (WAITING_NICENESS): on the cores the writing import leaves idle, never slowing it, so that when
        the turn comes its first pieces are ready."""
        if not saving:
            return contextlib.nullcontext(False)
        imp = self.imp
        phase = imp.phase

        def waiting() -> None:
            reader.lower_priority(WAITING_NICENESS)
            imp.phase = ImportPhase.WAITING.value
            db.session.commit()
            log.info("import=%s event=waiting-for-database", imp.id)

        def check() -> None:
            self._stop_if_late_or_cancelled(committing=committing)
            db.session.rollback()  # end the read transaction: a reader in WAL mode holds back checkpoints

        @contextlib.contextmanager
        def turn():
            with write_turn(db.engine, waiting=waiting, check=check) as waited:
                if waited:
                    imp.phase = phase
                    db.session.commit()
                    log.info("import=%s event=database-turn", imp.id)
                yield waited

        return turn()

    def _cells_as_read(self, valid: ValidRows, numbers) -> dict[int, list]:
        """Rebuild the cells of some valid rows in the file's column order (their raw cells stayed
        with the reading process): each field's value in its column, other columns blank."""
        rebuilt = {}
        for row in valid:
            if row.row_number in numbers:
                cells: list[object] = [None] * self.header_count
                for name, position in self.header_positions.items():
                    value = getattr(row, name)
                    cells[position] = None if value is None else str(value)
                rebuilt[row.row_number] = cells
        return rebuilt

    def _check_wrong_file(self, chunk: ValidatedChunk) -> None:
        """Stop early when nearly every row of the first thousand is rejected (WrongFileCheck decides)."""
        rows, problems = len(chunk.numbers), chunk.problems
        stop = self.wrong_file.see(rows, problems)
        if stop is None:
            return
        # Keep this chunk's problems and cells (earlier chunks' are saved already) so the report shows them.
        save_problems(self.imp.id, problems, chunk.rejected_cells, chunk.line, chunk.filled)
        self.imp.rejected += len({p.row_number for p in problems})
        self.imp.processed_rows += rows
        db.session.commit()
        raise FileProblem(stop)

    def _save_chunk(self, chunk: ValidatedChunk, writer: BookWriter, *, commit: bool, checkpoint: bool) -> None:
        """Save a piece of the file and record it; with *commit*, commit the transaction it ends.

        With *checkpoint* false (all-or-nothing), nothing is committed until the whole file is saved."""
        imp = self.imp
        problems = chunk.problems
        alone = self.uncommitted == 1  # no earlier piece waits in this transaction
        for attempt in range(4):
            try:
                outcome = writer.write(chunk.valid)
                break
            except ConcurrentInsert:
                if attempt == 3 or not checkpoint or not alone:
                    raise
                db.session.rollback()  # another import inserted some of these ISBNs first: look again
        rejected_cells = chunk.rejected_cells
        if outcome.refused:  # valid rows the writer could not save (a stock total past the limit)
            problems = problems + [
                RowProblem(row.row_number, self.quantity_header, str(row.quantity), outcome.refused[row.row_number])
                for row in chunk.valid
                if row.row_number in outcome.refused
            ]
            rejected_cells = {**rejected_cells, **self._cells_as_read(chunk.valid, outcome.refused)}
        rejected_rows = sorted(rejected_cells)
        save_problems(imp.id, problems, rejected_cells, chunk.line, chunk.filled)
        for number in rejected_rows:
            outcome.rows[number] = Outcome.REJECTED.value
        numbers = chunk.numbers
        db.session.execute(
            insert(ImportChunk.__table__),
            {
                "import_id": imp.id,
                "first_row": numbers[0],
                "last_row": numbers[-1],
                "row_numbers": array("I", numbers).tobytes(),
                "outcomes": outcome.codes(numbers),
            },
        )
        if imp.dry_run and len(imp.preview or []) < PREVIEW_ROWS:
            imp.preview = (imp.preview or []) + [
                {**self._previewed(row, outcome, writer), "row_number": row.row_number,
                 "outcome": OUTCOME_NAMES[outcome.rows[row.row_number]]}
                for row in islice(chunk.valid, PREVIEW_ROWS - len(imp.preview or []))
            ]  # fmt: skip
        if self.counting:
            counted = outcome.counts()
            imp.created += counted["created"]
            imp.updated += counted["updated"]
            imp.unchanged += counted["unchanged"]
            imp.skipped += counted["skipped"]
        imp.rejected += len(rejected_rows)
        imp.processed_rows += len(numbers)
        note_chunk_repairs(imp, chunk)
        imp.checkpoint_row = numbers[-1] if checkpoint else 0
        imp.heartbeat_at = utcnow()
        if imp.total_rows is not None:  # an estimate while it runs, the rows left out among them
            imp.total_rows = max(imp.total_rows, imp.processed_rows + left_out_count(imp.repairs))
        if commit:
            self._commit()
        elif not checkpoint:
            self._stop_if_late_or_cancelled(committing=False)

    def _previewed(self, row: BookRow, outcome: ChunkOutcome, writer: BookWriter) -> dict:
        """A dry run's row as it would be stored: a stored book keeps what the import would not change, and
        with Add to stock its quantity is the stock after the delivery, said with both ("16 (8 + 8)")."""
        stored = outcome.stored.get(row.row_number)
        if stored is None or outcome.rows[row.row_number] == Outcome.REJECTED.value:
            return _display(row)
        shown = writer.shown_values(stored)
        if self.mode is ImportMode.ADD_STOCK and row.quantity:
            shown["quantity_added"] = [shown["quantity"] - row.quantity, row.quantity]
        return shown

    def _commit(self) -> None:
        """Commit the pieces saved since the last commit, with their counts and checkpoint; then stop
        if the run is past its deadline or cancelled (between transactions: what was said kept is)."""
        db.session.commit()
        self.uncommitted = 0
        self._stop_if_late_or_cancelled(committing=True)

    def _stop_if_late_or_cancelled(self, *, committing: bool) -> None:
        if time.monotonic() > self.deadline:
            raise TimedOut(self.timeout)
        self._stop_if_cancelled(committing)

    def _stop_if_cancelled(self, commit: bool) -> None:
        """Raise Cancelled when staff asked the import to stop (the row's flag, read afresh)."""
        imp = self.imp
        if db.session.scalar(select(Import.cancel_requested).where(Import.id == self.import_id)):
            if not commit:
                raise Cancelled("Cancelled by staff; nothing was saved (all-or-nothing).")
            raise Cancelled(
                f"Cancelled by staff after {imp.processed_rows:,} rows: {imp.created:,} created and "
                f"{imp.updated:,} updated before it stopped are kept."
            )


#: Allocations between the garbage collector's passes during an import (Python's default is 700).
#: A chunk's rows live long enough to be carried into the older generations, which made the
#: collector rescan every long-lived object of the process many times per million rows: about a
#: fifth of the reading process's time. Nearly all of an import's objects are freed by their
#: reference counts; the collector still runs, about seventy times less often.
IMPORT_GC_THRESHOLD = 50_000


@contextmanager
def _fewer_collections():
    """Run the garbage collector's youngest generation every IMPORT_GC_THRESHOLD allocations."""
    before = gc.get_threshold()
    gc.set_threshold(IMPORT_GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def _not_reloading_after_commit(session):
    """Keep loaded rows loaded across commits: the import row is this run's own to update (the
    version check on `attempts` still stops a superseded run), and reloading it after each chunk's
    commit cost a whole SELECT of it per chunk. Only cancel_requested comes from elsewhere, and
    each chunk reads it alone."""
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = True


def _display(row: BookRow) -> dict:
    return {f: (str(v) if v is not None and not isinstance(v, (int, str)) else v) for f, v in row.values().items()}
