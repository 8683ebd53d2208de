"""Create, enqueue and run imports. The SQL row is the record; Redis only carries the job."""

from __future__ import annotations

import gc
import hashlib
import logging
import threading
import time
import uuid
from array import array
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from flask import current_app
from redis.exceptions import RedisError
from rq import Callback
from rq.timeouts import JobTimeoutException
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from ..config import IMPORT_CHUNK_SIZES, JOB_FAILURE_TTL_SECONDS
from ..extensions import db
from ..importer import BookRow, FileProblem, RowProblem, RowValidator, map_headers, open_table
from ..importer.duplicates import FirstRows
from ..importer.fields import LABELS
from ..importer.reading import LineMap, chunked, detect_kind
from ..importer.validation import ValidRows, drop_blank_rows
from ..models import (
    Import,
    ImportChunk,
    ImportMode,
    ImportPhase,
    ImportRowError,
    ImportStatus,
    RejectedRow,
    User,
    utcnow,
)
from ..queue import import_queue, index_queue
from . import search_index, sort_index
from .problems import outcome, problem_kind, problems_summary, wording
from .read_ahead import ReadAhead, ReadHere
from .read_ahead import available as read_ahead_available
from .saving import OUTCOME_NAMES, BookWriter, ConcurrentInsert, Outcome

log = logging.getLogger(__name__)

_COPY_BLOCK = 1 << 20


#: How long after an import's own deadline RQ's hard timeout fires.
HARD_TIMEOUT_GRACE_SECONDS = 30


class ImportCrashed(Exception):
    """An import stopped on an unexpected error; the message names its type, never its text."""


class TimedOut(Exception):
    """The run passed its deadline; it stopped at a chunk boundary."""


class StoredFileMissing(Exception):
    """The uploaded file is gone from the upload folder: an operational fault, not a bad file."""


def upload_path(imp: Import) -> Path:
    """Return where the file of *imp* is stored."""
    return Path(current_app.config["UPLOAD_FOLDER"]) / imp.stored_name


def job_timeout(file_size: int) -> int:
    """Return the RQ job timeout for a file of *file_size* bytes: a base plus a share per megabyte."""
    config = current_app.config
    return max(
        1, int(config["IMPORT_TIMEOUT_BASE_SECONDS"] + config["IMPORT_TIMEOUT_SECONDS_PER_MB"] * file_size / 2**20)
    )


@dataclass(frozen=True)
class ImportOptions:
    """What the uploader chose on the form, the API or the command line."""

    mode: ImportMode = ImportMode.CREATE_UPDATE
    dry_run: bool = False
    all_or_nothing: bool = False
    allow_repeat: bool = False


class RepeatedFile(Exception):
    """The same bytes were imported before; the uploader must say to import them anyway."""

    def __init__(self, previous: Import):
        who = f" by {previous.created_by.email}" if previous.created_by else ""
        message = f"This file was imported on {previous.created_at:%Y-%m-%d %H:%M} UTC{who} (import #{previous.id})."
        if previous.undone_at is not None:
            undone_by = f" by {previous.undone_by.email}" if previous.undone_by else ""
            message += f" That import was undone on {previous.undone_at:%Y-%m-%d %H:%M} UTC{undone_by}."
        super().__init__(message)
        self.previous = previous


class AlreadyConfirmed(Exception):
    """The dry run was confirmed before: a dry run is imported once."""

    def __init__(self, dry_run: Import, confirmed_as: Import):
        super().__init__(f"Dry run #{dry_run.id} was already confirmed as import #{confirmed_as.id}.")
        self.confirmed_as = confirmed_as


def previous_import(sha256: str) -> Import | None:
    """Return the latest real import of the same bytes that was not cancelled, if any."""
    return db.session.scalar(
        select(Import)
        .where(
            Import.sha256 == sha256,
            Import.dry_run.is_(False),
            Import.status != ImportStatus.CANCELLED.value,
        )
        .order_by(Import.id.desc())
        .limit(1)
    )


def create_import(upload: FileStorage, user: User | None, options: ImportOptions | None = None) -> Import:
    """Store the uploaded file, record the import and enqueue its job.

    Raises FileProblem, before anything is recorded, when the bytes are not a CSV or XLSX file, and
    RepeatedFile when the same bytes were imported before (unless options.allow_repeat).
    The request's time depends on the file's size only: nothing is parsed here.
    """
    options = options or ImportOptions()
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    size = 0
    with open(temporary, "wb") as out:
        while block := upload.stream.read(_COPY_BLOCK):
            digest.update(block)
            out.write(block)
            size += len(block)
    try:
        kind = detect_kind(temporary)
        if not options.allow_repeat and not options.dry_run:
            previous = previous_import(digest.hexdigest())
            if previous is not None:
                raise RepeatedFile(previous)
    except (FileProblem, RepeatedFile):
        temporary.unlink(missing_ok=True)
        raise
    stored_name = f"{uuid.uuid4().hex}.{kind}"
    temporary.rename(folder / stored_name)
    imp = Import(
        filename=Path(upload.filename or "upload").name[:255],
        stored_name=stored_name,
        file_kind=kind,
        file_size=size,
        sha256=digest.hexdigest(),
        mode=ImportMode(options.mode).value,
        dry_run=options.dry_run,
        all_or_nothing=options.all_or_nothing,
        created_by=user,
        status=ImportStatus.QUEUED.value,
    )
    return _record_and_enqueue(imp)


def _record_and_enqueue(imp: Import) -> Import:
    """Commit the new import row (the record, from now on), then put its job on the queue."""
    db.session.add(imp)
    db.session.commit()
    log.info(
        "import=%s event=queued kind=%s bytes=%s dry_run=%s source_import=%s",
        imp.id, imp.file_kind, imp.file_size, imp.dry_run, imp.source_import_id,
    )  # fmt: skip
    enqueue_import(imp)
    return imp


def confirm_dry_run(dry_run: Import, user: User | None, *, allow_repeat: bool = False) -> Import:
    """Queue the real import of a finished dry run's stored file (no re-upload), once.

    Raises AlreadyConfirmed when it was confirmed before (two clicks, two tabs, two clients at once:
    only one wins the compare-and-set), and RepeatedFile when the same bytes were imported before
    (unless allow_repeat), as an upload does.
    """
    if not dry_run.dry_run or dry_run.status != ImportStatus.SUCCEEDED.value:
        raise ImportStateError("Only a dry run that has finished can be confirmed.")
    if dry_run.confirmed_as is not None:
        raise AlreadyConfirmed(dry_run, dry_run.confirmed_as)
    if dry_run.rejected and not (dry_run.created + dry_run.updated + dry_run.unchanged + dry_run.skipped):
        raise ImportStateError(
            "Every row of this dry run was rejected, so there is nothing to import. "
            "Fix the file (download the rejected rows) and upload it again."
        )
    if not allow_repeat:
        previous = previous_import(dry_run.sha256)
        if previous is not None and previous.source_import_id == dry_run.id:
            raise AlreadyConfirmed(dry_run, previous)
        if previous is not None:
            raise RepeatedFile(previous)
    values = {
        "filename": dry_run.filename,
        "stored_name": dry_run.stored_name,
        "file_kind": dry_run.file_kind,
        "file_size": dry_run.file_size,
        "sha256": dry_run.sha256,
        "mode": dry_run.mode,
        "all_or_nothing": dry_run.all_or_nothing,
        "source_import_id": dry_run.id,
        "created_by_id": user.id if user else None,
        "status": ImportStatus.QUEUED.value,
    }
    # End the transaction that read the dry run, so the next one starts with a write: on SQLite it then
    # waits for the write lock (and sees the other confirm's commit) instead of failing on a stale snapshot.
    db.session.commit()
    imp = Import(**values)
    db.session.add(imp)
    db.session.flush()
    # Compare-and-set on the dry run's row: of two confirms at once, the second waits for the first's
    # commit (the row lock on PostgreSQL, the write lock on SQLite), then finds it set and changes nothing.
    claimed = db.session.execute(
        update(Import)
        .where(Import.id == values["source_import_id"], Import.confirmed_as_id.is_(None))
        .values(confirmed_as_id=imp.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        db.session.refresh(dry_run)
        raise AlreadyConfirmed(dry_run, dry_run.confirmed_as)
    db.session.expire(dry_run)
    return _record_and_enqueue(imp)


class ImportStateError(Exception):
    """The action does not fit the import's current status; the message says why."""


def cancel_import(imp: Import) -> None:
    """Cancel a queued import now, or ask a running one to stop at its next chunk boundary."""
    if imp.is_terminal:
        raise ImportStateError(f"Import #{imp.id} has already {imp.status}.")
    cancelled_now = db.session.execute(
        update(Import)
        .where(Import.id == imp.id, Import.status == ImportStatus.QUEUED.value)
        .values(
            status=ImportStatus.CANCELLED.value,
            phase=ImportPhase.DONE.value,
            finished_at=utcnow(),
            error="Cancelled by staff before it started; nothing was saved.",
        )
    ).rowcount
    if not cancelled_now:
        imp.cancel_requested = True
    db.session.commit()
    log.info("import=%s event=cancel-requested queued=%s", imp.id, bool(cancelled_now))


def retry_import(imp: Import) -> None:
    """Queue a failed or cancelled import again; it resumes after its last committed chunk."""
    if imp.status not in (ImportStatus.FAILED.value, ImportStatus.CANCELLED.value):
        raise ImportStateError("Only a failed or cancelled import can be retried.")
    if imp.file_problem:
        raise ImportStateError(
            "The file itself is the problem, so a retry would fail the same way. Correct the file and upload it again."
        )
    if not upload_path(imp).exists():
        raise ImportStateError("The uploaded file is no longer on the server; upload it again.")
    imp.status = ImportStatus.QUEUED.value
    imp.phase = ImportPhase.QUEUED.value
    imp.cancel_requested = False
    imp.error = None
    imp.finished_at = None
    imp.attempts += 1
    db.session.commit()
    log.info("import=%s event=retry attempt=%s resume_after_row=%s", imp.id, imp.attempts, imp.checkpoint_row)
    enqueue_import(imp)


#: The jobs and the failure callback, by name: the queue finds them in bookapp.tasks, which imports this module.
RUN_IMPORT_JOB = "bookapp.tasks.run_import"
RECORD_FAILURE_CALLBACK = "bookapp.tasks.record_failure"
CATCH_UP_JOB = "bookapp.tasks.catch_up_indexes"
#: How long an import's job result stays in Redis (the SQL row is the record; this is for the dashboard).
JOB_RESULT_TTL_SECONDS = 24 * 3600
#: A catch-up's time limit: rebuilding both indexes for several million books takes minutes.
CATCH_UP_TIMEOUT_SECONDS = 3600


def enqueue_import(imp: Import) -> bool:
    """Put the import's job on the queue; return False (and leave it queued in SQL) when Redis is down."""
    try:
        import_queue().enqueue(
            RUN_IMPORT_JOB,
            imp.id,
            job_id=imp.rq_job_id,
            # The run stops itself cleanly at its own deadline (a chunk boundary); RQ's alarm, a little
            # later, is only the backstop (a signal can land where Python swallows the exception).
            job_timeout=job_timeout(imp.file_size) + HARD_TIMEOUT_GRACE_SECONDS,
            description=f"Import #{imp.id}",  # never the file name or cell text: the dashboard shows it raw
            meta={"import_id": imp.id, "kind": imp.file_kind},
            result_ttl=JOB_RESULT_TTL_SECONDS,
            failure_ttl=current_app.config.get("JOB_FAILURE_TTL", JOB_FAILURE_TTL_SECONDS),
            on_failure=Callback(RECORD_FAILURE_CALLBACK),
        )
    except RedisError as exc:
        log.warning("import=%s event=enqueue-failed error=%s", imp.id, type(exc).__name__)
        return False
    imp.enqueued_at = utcnow()
    db.session.commit()
    return True


def claim(import_id: int) -> Import | None:
    """Move a queued import to running; return it, or None when another run owns it or it has ended."""
    now = utcnow()
    claimed = db.session.execute(
        update(Import)
        .where(Import.id == import_id, Import.status == ImportStatus.QUEUED.value)
        .values(
            status=ImportStatus.RUNNING.value,
            phase=ImportPhase.READING.value,  # its first step; "running · queued" would contradict itself
            started_at=func.coalesce(Import.started_at, now),
            heartbeat_at=now,
            error=None,
            cancel_requested=False,
        )
    ).rowcount
    db.session.commit()
    return db.session.get(Import, import_id) if claimed else None


def run_import(import_id: int) -> dict:
    """Read, validate and save the import's file, then leave the row in a terminal status."""
    imp = claim(import_id)
    if imp is None:
        current = db.session.get(Import, import_id)
        log.info("import=%s event=not-claimed status=%s", import_id, current and current.status)
        return {"import_id": import_id, "claimed": False}
    started = time.monotonic()
    log.info(
        "import=%s event=started attempt=%s file=%s resume_after_row=%s",
        imp.id, imp.attempts, imp.stored_name, imp.checkpoint_row,
    )  # fmt: skip
    heartbeat = Heartbeat(db.engine, imp.id, imp.attempts, current_app.config["HEARTBEAT_SECONDS"])
    try:
        with heartbeat:
            ImportRun(imp).run()
    except StaleDataError:
        db.session.rollback()
        log.warning("import=%s event=superseded attempt=%s", import_id, heartbeat.attempt)
        return {"import_id": import_id, "superseded": True}
    except Cancelled as cancelled:
        db.session.rollback()
        _finish(imp, ImportStatus.CANCELLED, str(cancelled))
    except FileProblem as problem:
        db.session.rollback()
        imp.file_problem = True  # its header, format or rows: the same file fails the same way again
        _finish(imp, ImportStatus.FAILED, problem.message)
    except StoredFileMissing:
        db.session.rollback()
        log.error("import=%s event=file-missing file=%s", imp.id, imp.stored_name)
        _finish(imp, ImportStatus.FAILED, "The uploaded file is no longer on the server. Upload it again.")
        raise
    except TimedOut as timed_out:
        db.session.rollback()
        _finish(
            imp,
            ImportStatus.FAILED,
            f"The import timed out after {timed_out.args[0]:,} seconds; rows saved before it are kept. "
            "Retry resumes after the last saved row.",
        )
    except JobTimeoutException:
        # The alarm may have interrupted the driver mid-query: that connection cannot be trusted.
        imp = _discard_connection(imp, import_id)
        _finish(imp, ImportStatus.FAILED, "The import timed out: the file took longer than allowed. Retry resumes it.")
        raise
    except Exception as exc:
        imp = _discard_connection(imp, import_id)
        log.exception("import=%s event=crashed", import_id)
        _finish(
            imp,
            ImportStatus.FAILED,
            f"An unexpected error stopped the import ({type(exc).__name__}). "
            "Rows saved before it are kept; the operators can see the details in the worker's log.",
        )
        # RQ and its dashboard show the exception text unescaped, and a database error's text can quote
        # cell values: they get the exception's type only; the worker's log has the whole traceback.
        raise ImportCrashed(f"import {import_id} failed: {type(exc).__name__} (see the worker's log)") from None
    else:
        _finish(imp, ImportStatus.SUCCEEDED, None)
    log.info(
        "import=%s event=finished status=%s rows=%s created=%s updated=%s unchanged=%s skipped=%s "
        "rejected=%s seconds=%.3f",
        imp.id, imp.status, imp.processed_rows, imp.created, imp.updated, imp.unchanged, imp.skipped,
        imp.rejected, time.monotonic() - started,
    )  # fmt: skip
    if not imp.dry_run and (imp.created or imp.updated):
        enqueue_catch_up(imp.id)
    return counts(imp)


def enqueue_catch_up(import_id: int) -> None:
    """Queue the search and sort indexes' catch-up as a job of its own, after the imports waiting.

    An import's job ends when its books are saved: its worker takes the next import at once (a
    catch-up after a million books takes 10-30 s). Until the catch-up runs, searches and pages stay
    exact (they scan the books the indexes lack); if Redis is down, the workers' maintenance does it.
    """
    try:
        index_queue().enqueue(
            CATCH_UP_JOB,
            import_id,
            job_id=f"catch-up-after-import-{import_id}",
            description=f"Catch up the search and sort indexes after import #{import_id}",
            job_timeout=CATCH_UP_TIMEOUT_SECONDS,
            result_ttl=JOB_RESULT_TTL_SECONDS,
            failure_ttl=current_app.config.get("JOB_FAILURE_TTL", JOB_FAILURE_TTL_SECONDS),
        )
    except RedisError as exc:
        log.warning("import=%s event=catch-up-enqueue-failed error=%s", import_id, type(exc).__name__)


def catch_up_indexes(import_id: int | None = None) -> None:
    """Bring the search and sort indexes up to the books just saved; a failure only delays them
    (searches and pages stay exact)."""
    for name, catch_up in (("search", search_index.catch_up), ("sort", sort_index.catch_up)):
        started = time.monotonic()
        try:
            copied = catch_up(db.engine)
        except Exception:
            log.warning("import=%s event=%s-catch-up-failed", import_id, name, exc_info=True)
            continue
        if copied:
            log.info("import=%s event=%s-indexed books=%s seconds=%.3f", import_id, name, copied,
                     time.monotonic() - started)  # fmt: skip


def counts(imp: Import) -> dict:
    """Return the import's outcome counts."""
    return {
        "import_id": imp.id,
        "status": imp.status,
        "created": imp.created,
        "updated": imp.updated,
        "unchanged": imp.unchanged,
        "skipped": imp.skipped,
        "rejected": imp.rejected,
    }


class Heartbeat:
    """Write the import's heartbeat every few seconds from a thread, while its run is alive.

    Liveness does not depend on chunk progress (reading a big workbook takes a while before the first
    chunk). The update only touches a row still running under this attempt.
    """

    def __init__(self, engine, import_id: int, attempt: int, interval: float):
        self.engine, self.import_id, self.attempt, self.interval = engine, import_id, attempt, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{import_id}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _beat(self) -> None:
        imports = Import.__table__
        mine = (
            imports.c.id == self.import_id,
            imports.c.attempts == self.attempt,
            imports.c.status == ImportStatus.RUNNING.value,
        )
        while not self._stop.wait(self.interval):
            try:
                with self.engine.begin() as connection:
                    connection.execute(update(imports).where(*mine).values(heartbeat_at=utcnow()))
            except Exception:  # a database hiccup: the next beat tries again
                log.warning("import=%s event=heartbeat-failed", self.import_id, exc_info=True)


class Cancelled(Exception):
    """Staff asked the import to stop; the message says what was kept."""


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

    def line(self, row_number: int) -> int | None:
        """Return the file line a row starts on, where it differs from the row number."""
        line = self.lines.line(row_number) if self.lines else None
        return line if line != row_number else None


def _reading(produce):
    """Run the reading and validating in a second process when configured (the default) and possible."""
    if current_app.config["IMPORT_READ_AHEAD"] and read_ahead_available():
        return ReadAhead(produce)
    return ReadHere(produce)


#: Rows looked at before deciding a file is not a book list at all.
WRONG_FILE_SAMPLE = 1_000
#: Share of rejected rows in that sample that stops the import.
WRONG_FILE_REJECTED_SHARE = 0.9
#: Rows a dry run shows as they would be stored.
PREVIEW_ROWS = 20


class ImportRun:
    """One run of an import: stream the file in chunks, validate, save, record, commit."""

    def __init__(self, imp: Import):
        self.imp = imp
        self.import_id = imp.id
        self.path = upload_path(imp)
        self.mode = ImportMode(imp.mode)
        self.chunk_size = current_app.config["IMPORT_CHUNK_SIZE"] or IMPORT_CHUNK_SIZES.get(
            db.engine.dialect.name, 2_000
        )
        self.timeout = job_timeout(imp.file_size)
        self.max_rows = current_app.config["IMPORT_MAX_ROWS"]
        self.deadline = time.monotonic() + self.timeout
        self.first_rows = FirstRows()
        self.sampled = 0
        self.sample_problems: list[RowProblem] = []
        self.sample_rejected = 0

    def run(self) -> None:
        imp = self.imp
        if not self.path.exists():
            raise StoredFileMissing(imp.stored_name)
        if imp.all_or_nothing and not imp.dry_run:
            self._reset_counts()  # nothing of an all-or-nothing run is ever committed: start afresh
            self._pass(write=False)
            if imp.rejected:
                raise FileProblem(
                    f"{imp.rejected:,} rows were rejected, so nothing was saved (all-or-nothing). "
                    "Fix them (download the rejected rows) and upload the file again."
                )
            self._reset_counts(keep_problems=True)
            self._pass(write=True, single_transaction=True)
        else:
            self._pass(write=True)
        imp.total_rows = imp.processed_rows
        imp.phase = ImportPhase.DONE.value

    def _reset_counts(self, keep_problems: bool = False) -> None:
        imp = self.imp
        imp.created = imp.updated = imp.unchanged = imp.skipped = imp.processed_rows = imp.checkpoint_row = 0
        if not keep_problems:
            imp.rejected = 0
            db.session.execute(delete(ImportRowError).where(ImportRowError.import_id == imp.id))
            db.session.execute(delete(RejectedRow).where(RejectedRow.import_id == imp.id))
        db.session.execute(delete(ImportChunk).where(ImportChunk.import_id == imp.id))
        db.session.commit()
        self.first_rows = FirstRows()

    def _pass(self, *, write: bool, single_transaction: bool = False) -> None:
        """Go through the file once; with write=False only validate and record problems."""
        imp = self.imp
        imp.phase = ImportPhase.READING.value
        db.session.commit()
        with open_table(self.path) as table:
            header_map = map_headers(table.headers)
            self.isbn_header = header_map.headers[header_map.positions["isbn"]]
            self.quantity_header = header_map.headers[header_map.positions["quantity"]]
            self.header_positions = header_map.positions
            self.header_count = len(table.headers)
            imp.ignored_columns = header_map.ignored
            imp.headers = [_jsonable_cell(h) for h in table.headers]
            imp.read_as = table.description[:255]
            imp.total_rows = max(table.estimated_rows, imp.processed_rows) or None
            imp.phase = (ImportPhase.SAVING if write and not imp.dry_run else ImportPhase.VALIDATING).value
            db.session.commit()
            validator = RowValidator(
                header_map,
                decimal_comma=table.decimal_comma,
                text_cells=table.text_cells,
                nul_cells=table.nul_cells,
            )
            writer = BookWriter(db.session, imp.id, self.mode, dry_run=imp.dry_run or not write)

            def produce():
                return self._validated_chunks(table.rows, validator, imp.checkpoint_row, table.lines)

            with _fewer_collections(), _reading(produce) as chunks, _not_reloading_after_commit(db.session()):
                for chunk in chunks:
                    self._check_wrong_file(chunk)
                    self._save_chunk(chunk, writer, commit=not single_transaction)
            if chunks.result == 0:
                raise FileProblem("The file has a header row but no rows of books below it.")
            if single_transaction:
                db.session.commit()

    def _validated_chunks(self, rows, validator: RowValidator, resume_after: int, lines: LineMap | None = None):
        """Yield a ValidatedChunk for each chunk after *resume_after*, return the rows seen; pure, no database.

        Row numbers are the spreadsheet's (they never depend on which rows are skipped as blank), so a
        resumed run meets every row under the number the first run gave it."""
        seen_rows = 0
        for chunk in chunked(rows, self.chunk_size):
            seen_rows += len(chunk)
            if seen_rows > self.max_rows:
                raise FileProblem(
                    f"The file has more than {self.max_rows:,} rows, the most one import takes. "
                    "Split it into several files."
                )
            valid, problems = validator.validate_chunk(chunk)
            read = len(chunk)
            chunk, problems = drop_blank_rows(chunk, problems)
            seen_rows -= read - len(chunk)
            if not chunk:
                continue
            valid = self._drop_repeated_isbns(valid, problems)
            if chunk[-1][0] <= resume_after:
                continue  # committed by an earlier run: only the ISBNs seen were needed
            if resume_after:
                chunk = [row for row in chunk if row[0] > resume_after]
                valid = valid.where([n > resume_after for n in valid.numbers])
                problems = [p for p in problems if p.row_number > resume_after]
            rejected = {p.row_number for p in problems}
            yield ValidatedChunk(
                numbers=[n for n, _ in chunk],
                rejected_cells={n: cells for n, cells in chunk if n in rejected} if rejected else {},
                valid=valid,
                problems=problems,
                lines=lines.part(chunk[0][0], chunk[-1][0]) if lines else None,
            )
        return seen_rows

    def _drop_repeated_isbns(self, valid: ValidRows, problems: list[RowProblem]) -> ValidRows:
        if self.mode is ImportMode.ADD_STOCK or not valid:
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
        """Stop early when nearly every row of the first thousand is rejected."""
        if self.sampled >= WRONG_FILE_SAMPLE:
            return
        rows, problems = len(chunk.numbers), chunk.problems
        self.sampled += rows
        self.sample_rejected += len({p.row_number for p in problems})
        self.sample_problems.extend(problems)
        if self.sampled < WRONG_FILE_SAMPLE or self.sample_rejected < WRONG_FILE_REJECTED_SHARE * self.sampled:
            return
        common = Counter(p.message.split(";")[0] for p in self.sample_problems).most_common(1)
        cause = f" The most common problem: {common[0][0]} ({common[0][1]:,} times)." if common else ""
        # Keep this chunk's problems and cells (earlier chunks' are saved already) so the report shows them.
        _save_problems(self.imp.id, problems, chunk.rejected_cells, chunk.line)
        self.imp.rejected += len({p.row_number for p in problems})
        self.imp.processed_rows += rows
        db.session.commit()
        raise FileProblem(
            f"{self.sample_rejected:,} of the first {self.sampled:,} rows were rejected, so the import stopped: "
            f"this file does not look like a book list in the expected layout.{cause} "
            "Check that the right file was chosen and that its columns hold what their headers say."
        )

    def _save_chunk(self, chunk: ValidatedChunk, writer: BookWriter, *, commit: bool) -> None:
        imp = self.imp
        problems = chunk.problems
        for attempt in range(4):
            try:
                outcome = writer.write(chunk.valid)
                break
            except ConcurrentInsert:
                if attempt == 3 or not commit:
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
        _save_problems(imp.id, problems, rejected_cells, chunk.line)
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
                {**_display(row), "row_number": row.row_number, "outcome": OUTCOME_NAMES[outcome.rows[row.row_number]]}
                for row in islice(chunk.valid, PREVIEW_ROWS - len(imp.preview or []))
            ]
        counted = outcome.counts()
        imp.created += counted["created"]
        imp.updated += counted["updated"]
        imp.unchanged += counted["unchanged"]
        imp.skipped += counted["skipped"]
        imp.rejected += len(rejected_rows)
        imp.processed_rows += len(numbers)
        imp.checkpoint_row = numbers[-1] if commit else 0
        imp.heartbeat_at = utcnow()
        if imp.total_rows is not None and imp.processed_rows > imp.total_rows:
            imp.total_rows = imp.processed_rows
        if commit:
            db.session.commit()
        if time.monotonic() > self.deadline:
            raise TimedOut(self.timeout)
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


def _save_problems(
    import_id: int, problems: list[RowProblem], cells_of: dict[int, list], line_of: Callable[[int], int | None]
) -> None:
    if problems:
        db.session.execute(
            insert(ImportRowError.__table__),
            [
                {
                    "import_id": import_id,
                    "row_number": p.row_number,
                    "line": line_of(p.row_number),
                    "column": p.column and _storable(p.column[:255]),
                    "value": p.value and _storable(p.value[:255]),
                    "message": _storable(p.message),
                    "kind": problem_kind(p),
                    "wording": wording(p.message),
                }
                for p in problems
            ],
        )
    if cells_of:
        messages: dict[int, list[str]] = {}
        for p in problems:
            messages.setdefault(p.row_number, []).append(p.message)
        db.session.execute(
            insert(RejectedRow.__table__),
            [
                {
                    "import_id": import_id,
                    "row_number": number,
                    "line": line_of(number),
                    "cells": [_jsonable_cell(c) for c in cells],
                    "errors": _storable("; ".join(messages.get(number, []))),
                }
                for number, cells in cells_of.items()
            ],
        )


def _storable(text: str) -> str:
    """Return *text* without NUL bytes, which PostgreSQL refuses in text (the cells, stored as JSON,
    keep theirs: JSON writes it as an escape)."""
    return text.replace("\x00", "\N{SYMBOL FOR NULL}") if "\x00" in text else text


def _jsonable_cell(cell):
    if cell is None or isinstance(cell, (str, int, float, bool)):
        return cell
    return cell.isoformat() if hasattr(cell, "isoformat") else str(cell)


def _discard_connection(imp: Import, import_id: int) -> Import:
    """Roll back; if the connection is unusable, drop it (and the pool) and load the import afresh."""
    try:
        db.session.rollback()
        return imp
    except Exception:
        log.warning("import=%s event=connection-discarded", import_id, exc_info=True)
    db.session.close()
    db.engine.dispose()
    return db.session.get(Import, import_id)


def _finish(imp: Import, status: ImportStatus, error: str | None) -> None:
    imp.status = status.value
    imp.phase = ImportPhase.DONE.value
    imp.error = error
    imp.finished_at = utcnow()
    try:
        db.session.commit()
    except StaleDataError:  # a later attempt owns the import now: its outcome is the one to keep
        db.session.rollback()
        log.warning("import=%s event=superseded-at-finish", imp.id)


def import_json(imp: Import, *, with_problems: bool = False) -> dict:
    """Return the import as the API and the progress poller show it; with_problems adds the summary of
    its rejected rows (one GROUP BY: for one import's page, not for lists)."""

    def iso(value):
        return value.isoformat() if value else None

    elapsed = rate = eta = None
    if imp.started_at:
        elapsed = ((imp.finished_at or utcnow()) - imp.started_at).total_seconds()
        if elapsed > 0 and imp.processed_rows:
            rate = round(imp.processed_rows / elapsed)
            if not imp.is_terminal and imp.total_rows and rate:
                eta = max(0, round((imp.total_rows - imp.processed_rows) / rate))
    return {
        "id": imp.id,
        "status": imp.status,
        "phase": imp.phase,
        "mode": imp.mode,
        "dry_run": imp.dry_run,
        "all_or_nothing": imp.all_or_nothing,
        "filename": imp.filename,
        "total_rows": imp.total_rows,
        "processed_rows": imp.processed_rows,
        "percent": percent(imp),
        "created": imp.created,
        "updated": imp.updated,
        "unchanged": imp.unchanged,
        "skipped": imp.skipped,
        "rejected": imp.rejected,
        "ignored_columns": imp.ignored_columns or [],
        "read_as": imp.read_as,
        "created_at": iso(imp.created_at),
        "started_at": iso(imp.started_at),
        "finished_at": iso(imp.finished_at),
        "elapsed_seconds": None if elapsed is None else round(elapsed, 3),
        "rows_per_second": rate,
        "eta_seconds": eta,
        "error": imp.error,
        "source_import_id": imp.source_import_id,
        "confirmed_as_id": imp.confirmed_as_id,
        "file_problem": imp.file_problem,
        "undone_at": iso(imp.undone_at),
        "undone_by": imp.undone_by.email if imp.undone_by else None,
        "outcome": outcome(imp),
        "terminal": imp.is_terminal,
    } | (
        {"problems_summary": [kind.as_json() for kind in problems_summary(imp.id)] if imp.rejected else []}
        if with_problems
        else {}
    )


def percent(imp: Import) -> int:
    """Return how far the import has got, 0–100."""
    if imp.status == ImportStatus.SUCCEEDED.value:
        return 100
    if not imp.total_rows:
        return 0
    return min(99, imp.processed_rows * 100 // imp.total_rows)
