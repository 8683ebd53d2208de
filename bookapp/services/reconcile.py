"""Find imports that Redis or a dead worker lost, and queue them again or fail them with a reason.

RQ is at-most-once and Redis may forget queued jobs; the SQL row is the record. Every worker runs
this at start and every few seconds between jobs (see queue.ImportWorker), and so does
`flask --app wsgi reconcile`.
"""

import logging
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import TERMINAL_STATUSES, Import, ImportPhase, ImportStatus, utcnow
from ..queue import redis_connection
from .imports import enqueue_import, upload_path
from .runner import catch_up_indexes

log = logging.getLogger(__name__)

#: RQ job states in which the job will still run (or is running).
_ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def reconcile() -> dict:
    """Queue again or fail every import that is stuck; return what was done."""
    config = current_app.config
    now = utcnow()
    done = {"requeued": [], "failed": []}
    stale = db.session.scalars(
        select(Import).where(
            Import.status == ImportStatus.RUNNING.value,
            Import.heartbeat_at < now - timedelta(seconds=config["STALE_HEARTBEAT_SECONDS"]),
        )
    ).all()
    for imp in stale:
        _requeue_or_fail(imp, "its worker stopped (no heartbeat)", done)
    waiting = db.session.scalars(
        select(Import).where(
            Import.status == ImportStatus.QUEUED.value,
            func.coalesce(Import.enqueued_at, Import.created_at)
            < now - timedelta(seconds=config["QUEUED_GRACE_SECONDS"]),
        )
    ).all()
    if waiting:
        try:
            connection = redis_connection()
            for imp in waiting:
                if _job_status(imp, connection) not in _ALIVE:
                    _requeue_or_fail(imp, "its job was not in the queue", done)
        except RedisError:
            log.warning("event=reconcile-skipped reason=redis-unavailable waiting=%s", len(waiting))
    db.session.commit()
    done["files_deleted"] = delete_expired_uploads()
    if done["requeued"] or done["failed"]:
        log.info("event=reconciled requeued=%s failed=%s", done["requeued"], done["failed"])
    return done


def _job_status(imp: Import, connection):
    try:
        return Job.fetch(imp.rq_job_id, connection=connection).get_status(refresh=False)
    except NoSuchJobError:
        return None


def _requeue_or_fail(imp: Import, reason: str, done: dict) -> None:
    """Give the import another attempt (it resumes after its checkpoint), or fail it past the limit."""
    old_status, old_attempt = imp.status, imp.attempts
    if old_attempt + 1 >= current_app.config["MAX_ATTEMPTS"]:
        values = {
            "status": ImportStatus.FAILED.value,
            "phase": ImportPhase.DONE.value,
            "finished_at": utcnow(),
            "error": f"The import was given up after {old_attempt + 1} attempts: {reason}.",
        }
        outcome = "failed"
    else:
        values = {"status": ImportStatus.QUEUED.value, "phase": ImportPhase.QUEUED.value, "attempts": old_attempt + 1}
        outcome = "requeued"
    # Compare-and-set on status and attempt: a run that is alive after all, or another reconciler, wins.
    changed = db.session.execute(
        update(Import)
        .where(Import.id == imp.id, Import.status == old_status, Import.attempts == old_attempt)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not changed:
        return
    db.session.expire(imp)
    log.info("import=%s event=reconcile-%s reason=%r attempt=%s", imp.id, outcome, reason, old_attempt + 1)
    done[outcome].append(imp.id)
    if outcome == "requeued":
        enqueue_import(imp)


def recover(import_id: int, reason: str) -> None:
    """Give a running import whose job died another attempt (or fail it past the limit)."""
    imp = db.session.get(Import, import_id)
    if imp is not None and imp.status == ImportStatus.RUNNING.value:
        done = {"requeued": [], "failed": []}
        _requeue_or_fail(imp, reason, done)


def delete_expired_uploads(limit: int = 100) -> int:
    """Delete the stored files of imports that ended more than UPLOAD_RETENTION_DAYS ago.

    A file shared with an import that has not ended (a confirmed dry run, a retry) is kept.
    """
    cutoff = utcnow() - timedelta(days=current_app.config["UPLOAD_RETENTION_DAYS"])
    expired = db.session.scalars(
        select(Import)
        .where(
            Import.status.in_([s.value for s in TERMINAL_STATUSES]),
            Import.finished_at < cutoff,
            Import.file_deleted_at.is_(None),
        )
        .limit(limit)
    ).all()
    deleted = 0
    for imp in expired:
        in_use = db.session.scalar(
            select(func.count())
            .select_from(Import)
            .where(Import.stored_name == imp.stored_name, Import.status.not_in([s.value for s in TERMINAL_STATUSES]))
        )
        if in_use:
            continue
        upload_path(imp).unlink(missing_ok=True)
        db.session.execute(
            update(Import)
            .where(Import.stored_name == imp.stored_name)
            .values(file_deleted_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        deleted += 1
        log.info("import=%s event=file-deleted reason=retention", imp.id)
    db.session.commit()
    return deleted


def between_jobs() -> None:
    """What a worker that catches up the indexes runs at start and every few seconds between jobs."""
    reconcile()
    catch_up_indexes()  # books made by hand, and any catch-up an import left unfinished


def between_imports() -> None:
    """What an imports-only worker runs between jobs: never a catch-up, which would keep it from the next
    import for seconds (the indexes' own worker does those)."""
    reconcile()
