"""An import's job on the queue: where its file is, how long it may run, queueing it, cancelling it,
and queueing it again. The SQL row is the record; Redis only carries the job."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from flask import current_app
from redis.exceptions import RedisError
from rq import Callback
from sqlalchemy import select, update

from ..config import JOB_FAILURE_TTL_SECONDS
from ..extensions import db
from ..models import Import, ImportPhase, ImportStatus, utcnow
from ..queue import import_queue

log = logging.getLogger(__name__)


#: How long after an import's own deadline RQ's hard timeout fires.
HARD_TIMEOUT_GRACE_SECONDS = 30


def upload_path(imp: Import) -> Path:
    """Return where the file of *imp* is stored."""
    return Path(current_app.config["UPLOAD_FOLDER"]) / imp.stored_name


@contextmanager
def kept_if_recorded(stored: Path) -> Iterator[None]:
    """Commit what the block records for a file stored at *stored*, or roll it back and delete the file:
    no file is left behind that no import names. A commit whose answer was lost (the connection cut as it
    returned) may have been made: the file is deleted only once no import is found to name it."""
    try:
        yield
        db.session.commit()
    except BaseException:
        with suppress(Exception):
            db.session.rollback()
        if not _named_by_an_import(stored.name):
            stored.unlink(missing_ok=True)
        raise


def _named_by_an_import(stored_name: str) -> bool:
    """Whether an import names the stored file; True when the database cannot tell (the file is kept)."""
    try:
        found = db.session.scalar(select(Import.id).where(Import.stored_name == stored_name).limit(1))
        db.session.rollback()
    except Exception:
        return True
    return found is not None


def job_timeout(file_size: int) -> int:
    """Return the RQ job timeout for a file of *file_size* bytes: a base plus a share per megabyte."""
    config = current_app.config
    return max(
        1, int(config["IMPORT_TIMEOUT_BASE_SECONDS"] + config["IMPORT_TIMEOUT_SECONDS_PER_MB"] * file_size / 2**20)
    )


class ImportStateError(Exception):
    """The action does not fit the import's current status; the message says why."""


def cancel_import(imp: Import) -> None:
    """Cancel a queued import now, or ask a running one to stop at its next chunk boundary."""
    if imp.is_terminal:
        raise ImportStateError(f"Import #{imp.id} has already {imp.status}.")
    cancelled_now = db.session.execute(
        update(Import)
        .where(Import.id == imp.id, Import.status.in_([ImportStatus.QUEUED.value, ImportStatus.NEEDS_MAPPING.value]))
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


#: The job and its failure callback, by name: the queue finds them in bookapp.tasks, which imports the services.
RUN_IMPORT_JOB = "bookapp.tasks.run_import"
RECORD_FAILURE_CALLBACK = "bookapp.tasks.record_failure"
#: How long an import's job result stays in Redis (the SQL row is the record; this is for the dashboard).
JOB_RESULT_TTL_SECONDS = 24 * 3600


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
