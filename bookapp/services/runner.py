"""Run an import's job: claim its row, run it to a terminal status with a heartbeat, queue the catch-up."""

from __future__ import annotations

import errno
import logging
import re
import threading
import time

from flask import current_app
from redis.exceptions import RedisError
from rq import get_current_job
from rq.timeouts import JobTimeoutException
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm.exc import StaleDataError

from ..config import JOB_FAILURE_TTL_SECONDS
from ..extensions import db
from ..importer import FileProblem
from ..models import (
    Import,
    ImportPhase,
    ImportStatus,
    utcnow,
)
from ..queue import index_queue
from . import search_catch_up, sort_catch_up
from .columns_read import ColumnsUnmatched
from .import_jobs import JOB_RESULT_TTL_SECONDS
from .imports import NeedsMapping
from .pipeline import Cancelled, ImportRun, StoredFileMissing, TimedOut
from .process_memory import give_back_large_blocks

log = logging.getLogger(__name__)

#: The catch-up job, by name (bookapp.tasks imports this module), and its time limit: rebuilding both
#: indexes for several million books takes minutes.
CATCH_UP_JOB = "bookapp.tasks.catch_up_indexes"
CATCH_UP_TIMEOUT_SECONDS = 3600


#: An import attempt's job id (Import.rq_job_id): the import's id and its attempt.
IMPORT_JOB_ID = re.compile(r"import-(\d+)-(\d+)")


def disk_full(imp: Import) -> str:
    """What an import stopped by a full disk says: the fault is the server's, not the file's, and what
    Retry does once space is freed (all or nothing saved none of its rows, so it starts again)."""
    if imp.dry_run:
        return (
            "The server ran out of disk space while checking this file. Once the operators have freed space, "
            "Retry finishes the check."
        )
    if imp.all_or_nothing:
        return (
            "The server ran out of disk space while saving this import, so none of its rows were saved "
            "(all-or-nothing). Once the operators have freed space, Retry imports the file from its first row."
        )
    return (
        "The server ran out of disk space while saving this import. Rows saved before it are kept; once the "
        "operators have freed space, Retry goes on after the last saved row."
    )


def out_of_space(exc: BaseException) -> bool:
    """Whether *exc* says a disk is full: SQLite's database, log or temporary files, PostgreSQL's
    (SQLSTATE 53100), or a file of the server's own."""
    cause = getattr(exc, "orig", None) or exc
    return (
        getattr(cause, "sqlite_errorname", None) == "SQLITE_FULL"
        or getattr(cause, "sqlstate", None) == "53100"
        or (isinstance(cause, OSError) and cause.errno == errno.ENOSPC)
    )


class ImportCrashed(Exception):
    """An import stopped on an unexpected error; the message names its type, never its text."""


def claim(import_id: int) -> Import | None:
    """Move a queued import to running; return it, or None when another run owns it or it has ended.

    Run by a job, the import is claimed only for the attempt the job was queued for (its id names it):
    a job of an earlier attempt that runs late (taken from the queue before Redis went away, say, after
    which the import was queued again) leaves it to its own attempt's job."""
    now = utcnow()
    job = get_current_job()
    attempt = IMPORT_JOB_ID.fullmatch(job.id) if job is not None else None
    own_attempt = [Import.attempts == int(attempt.group(2))] if attempt and int(attempt.group(1)) == import_id else []
    claimed = db.session.execute(
        update(Import)
        .where(Import.id == import_id, Import.status == ImportStatus.QUEUED.value, *own_attempt)
        .values(
            status=ImportStatus.RUNNING.value,
            phase=ImportPhase.READING.value,  # its first step; "running · queued" would contradict itself
            started_at=func.coalesce(Import.started_at, now),
            attempt_started_at=now,
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
    give_back_large_blocks()  # the work horse's and its reading process's, which a long import would fragment
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
    except ColumnsUnmatched as unmatched:
        db.session.rollback()
        imp.headers = unmatched.headers
        if not (imp.matching_refused and unmatched.missing):
            imp.status = ImportStatus.NEEDS_MAPPING.value
            imp.phase = ImportPhase.QUEUED.value
            end_attempt(imp, utcnow())
            db.session.commit()
            log.info("import=%s event=needs-mapping", imp.id)
            return {"import_id": import_id, "needs_mapping": True}
        # Sent by the API or the command line, whose callers cannot use Match columns: refused as the upload
        # refuses a smaller file (its header read then), saying what is missing.
        imp.file_problem = True
        refused = NeedsMapping(unmatched.missing, unmatched.headers, header_row=unmatched.header_row)
        _finish(imp, ImportStatus.FAILED, refused.message)
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
        unexpected = (
            f"An unexpected error stopped the import ({type(exc).__name__}). "
            "Rows saved before it are kept; the operators can see the details in the worker's log."
        )
        _finish(imp, ImportStatus.FAILED, disk_full(imp) if out_of_space(exc) else unexpected)
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
    (searches and pages stay exact).

    Between jobs (no *import_id*) nothing is done while an import is running: its books would go into
    the indexes a few thousand at a time, which costs several times what one catch-up after it does
    (the job its end queues). On SQLite, which takes one writer at a time, the job waits too: a
    million books' sort index holds the write lock for seconds, which the import would spend waiting
    (and past its busy timeout, fail); the running import's own catch-up job, or the maintenance once
    no import runs, does the work. On PostgreSQL the job runs beside imports; the search index catches
    up first (a rebuild builds its two trigram indexes at once, on the two cores), then the sort index.
    """
    engine = db.engine
    running = db.session.scalar(select(exists().where(Import.status == ImportStatus.RUNNING.value)))
    db.session.rollback()  # no transaction held open while the indexes are built
    if running and (import_id is None or engine.dialect.name == "sqlite"):
        if import_id is not None:
            log.info("import=%s event=catch-up-deferred reason=import-running", import_id)
        return
    # Searches first: what staff notice most is a search that has to scan.
    for step in [("search", search_catch_up.catch_up), ("sort", sort_catch_up.catch_up)]:
        _catch_up_one(engine, import_id, *step)


def _catch_up_one(engine, import_id: int | None, name: str, catch_up) -> None:
    started = time.monotonic()
    try:
        copied = catch_up(engine)
    except Exception:
        log.warning("import=%s event=%s-catch-up-failed", import_id, name, exc_info=True)
        return
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


def end_attempt(imp: Import, last_sign_of_life) -> None:
    """Add the current attempt's time, from its claim to *last_sign_of_life*, to the import's working time."""
    if imp.attempt_started_at is not None and last_sign_of_life is not None:
        worked = max(0.0, (last_sign_of_life - imp.attempt_started_at).total_seconds())
        imp.working_seconds = (imp.working_seconds or 0.0) + worked
    imp.attempt_started_at = None


def _finish(imp: Import, status: ImportStatus, error: str | None) -> None:
    imp.status = status.value
    imp.phase = ImportPhase.DONE.value
    imp.error = error
    imp.finished_at = utcnow()
    end_attempt(imp, imp.finished_at)
    try:
        db.session.commit()
    except StaleDataError:  # a later attempt owns the import now: its outcome is the one to keep
        db.session.rollback()
        log.warning("import=%s event=superseded-at-finish", imp.id)
