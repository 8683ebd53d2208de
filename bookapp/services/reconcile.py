"""Find imports that Redis or a dead worker lost, and queue them again or fail them with a reason.

RQ is at-most-once and Redis may forget queued jobs; the SQL row is the record. Every worker runs
this at start and every few seconds between jobs (see queue.ImportWorker), and so does
`flask --app wsgi reconcile`.
"""

import logging
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from sqlalchemy import delete, func, or_, select, update

from ..extensions import db
from ..models import TERMINAL_STATUSES, Import, ImportChange, ImportPhase, ImportStatus, utcnow
from ..queue import queue_names, redis_connection
from .import_jobs import enqueue_import, upload_path
from .kept_uploads import sweep_kept_uploads
from .runner import IMPORT_JOB_ID, catch_up_indexes

log = logging.getLogger(__name__)

#: RQ job states in which the job will still run (or is running).
_ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}
#: When a job marked queued was first seen in no queue (a Redis key per job, so every worker's and the
#: CLI's rounds share it): it counts as lost only when seen so again LOST_JOB_CONFIRM_SECONDS later,
#: within a few reconcile rounds.
_UNQUEUED_KEY = "bookapp:unqueued:{}"
#: An upload's file while it is received and checked is named ".<random>.part" in the upload folder,
#: for a request's time (seconds, or minutes on a slow line). One older than this was left by a
#: process that died meanwhile (killed, out of memory, the machine down) and is deleted. A day,
#: not an hour: the folder may be shared by several machines whose clocks differ.
PARTIAL_UPLOAD_SECONDS = 24 * 3600


def reconcile() -> dict:
    """Queue again or fail every import that is stuck; return what was done."""
    config = current_app.config
    now = utcnow()
    done = {"requeued": [], "failed": [], "failed_jobs_cleared": []}
    late = db.session.scalars(
        select(Import).where(
            Import.status == ImportStatus.RUNNING.value,
            Import.heartbeat_at
            < now - timedelta(seconds=min(config["LOST_HEARTBEAT_SECONDS"], config["STALE_HEARTBEAT_SECONDS"])),
        )
    ).all()
    for imp in late:
        silent = (now - imp.heartbeat_at).total_seconds()
        if silent > config["STALE_HEARTBEAT_SECONDS"]:
            _requeue_or_fail(imp, f"its worker stopped (no heartbeat for {silent:.0f} s)", done)
        elif worker := _lost_worker(imp):
            _requeue_or_fail(imp, f"its worker {worker} is gone (no heartbeat for {silent:.0f} s)", done)
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
    done["failed_jobs_cleared"] = clear_superseded_failures()
    done["files_deleted"] = delete_expired_uploads()
    done["kept_uploads_deleted"] = sweep_kept_uploads()
    done["partial_uploads_deleted"] = delete_partial_uploads()
    if done["requeued"] or done["failed"]:
        log.info("event=reconciled requeued=%s failed=%s", done["requeued"], done["failed"])
    return done


def _job_status(imp: Import, connection):
    """The import's job's status; None if Redis forgot the job, or if it says queued but was in no queue
    on two looks apart (a worker took it and was gone, or Redis away, before starting it: nothing would
    ever run it)."""
    try:
        job = Job.fetch(imp.rq_job_id, connection=connection)
    except NoSuchJobError:
        return None
    status = job.get_status(refresh=False)
    if status == JobStatus.QUEUED:
        queue = Queue(job.origin, connection=connection)
        waiting = queue.get_job_position(job.id) is not None
        if (
            not waiting
            and connection.lpos(queue.intermediate_queue_key, job.id) is None
            and _still_unqueued(job.id, connection)
        ):
            return None
    return status


def _still_unqueued(job_id: str, connection) -> bool:
    """Whether a queued job now in no queue was already so on a look LOST_JOB_CONFIRM_SECONDS ago.

    A worker that listens on more than one queue pops a job with LPOP, and its horse marks it started
    after the fork: between the two, the job is in no list and says queued. One look there would queue
    the import again and use up an attempt; two looks apart cannot both land in that window.
    """
    config = current_app.config
    key = _UNQUEUED_KEY.format(job_id)
    # The look lasts a few rounds: a job seen so long ago and queued again since (requeued from the
    # failed registry, the same id) starts with a first look of its own.
    lasts = int(config["LOST_JOB_CONFIRM_SECONDS"] + 3 * config["RECONCILE_SECONDS"]) + 1
    if connection.set(key, time.time(), nx=True, ex=lasts):
        return False  # the first look
    first = float(connection.get(key) or time.time())
    return time.time() - first >= config["LOST_JOB_CONFIRM_SECONDS"]


def _lost_worker(imp: Import) -> str | None:
    """Return the name of the worker that took the import's job if RQ says it is gone (its key, which a
    busy worker renews every few seconds, expired), else None (alive, or unknown: Redis is down or
    forgot the job; then the heartbeat's age decides)."""
    try:
        connection = redis_connection()
        job = Job.fetch(imp.rq_job_id, connection=connection)
        if job.get_status(refresh=False) != JobStatus.STARTED or not job.worker_name:
            return None
        if connection.exists(Worker.redis_worker_namespace_prefix + job.worker_name):
            return None
        return job.worker_name
    except (NoSuchJobError, RedisError):
        return None


def clear_superseded_failures() -> list[str]:
    """Take out of RQ's failed registry the jobs of earlier attempts of imports that succeeded since.

    A worker lost mid-import leaves its job "abandoned" in the failed registry; once a later attempt
    finished the import, the dashboard would still say it failed. Return the ids of the jobs removed.
    """
    try:
        registry = FailedJobRegistry(queue_names()[0], connection=redis_connection())
        attempts = {}
        for job_id in registry.get_job_ids():
            if match := IMPORT_JOB_ID.fullmatch(job_id):
                attempts.setdefault(int(match[1]), []).append((int(match[2]), job_id))
        if not attempts:
            return []
        succeeded = db.session.execute(
            select(Import.id, Import.attempts).where(
                Import.id.in_(attempts), Import.status == ImportStatus.SUCCEEDED.value
            )
        ).all()
        db.session.commit()  # end the read's transaction: this runs between jobs
        cleared = []
        for import_id, final_attempt in succeeded:
            for attempt, job_id in attempts[import_id]:
                if attempt < final_attempt:
                    registry.remove(job_id)
                    # Its record too (Job.delete fails on an abandoned job, whose execution Redis dropped).
                    registry.connection.delete(Job.key_for(job_id))
                    cleared.append(job_id)
                    log.info("import=%s event=failed-job-cleared job=%s reason=%r", import_id, job_id,
                             f"attempt {final_attempt + 1} finished the import")  # fmt: skip
        return cleared
    except (RedisError, NoSuchJobError):
        return []


def _requeue_or_fail(imp: Import, reason: str, done: dict) -> None:
    """Give the import another attempt (it resumes after its checkpoint), or fail it past the limit."""
    old_status, old_attempt = imp.status, imp.attempts
    # The lost attempt worked until its last heartbeat: the rest of the wait is not working time.
    worked = (imp.working_seconds or 0.0) + (
        max(0.0, (imp.heartbeat_at - imp.attempt_started_at).total_seconds())
        if imp.heartbeat_at and imp.attempt_started_at and old_status == ImportStatus.RUNNING.value
        else 0.0
    )
    ended_attempt = {"attempt_started_at": None, "working_seconds": worked if imp.working_seconds is not None else None}
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
    values |= ended_attempt
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


def recover(import_id: int, job_id: str, reason: str, *, certain: bool = True) -> None:
    """Give a running import whose job *job_id* died another attempt (or fail it past the limit).

    RQ calls this from its failure callback: at once when a work horse dies, and when a worker's
    registry cleanup finds a job abandoned by a worker that vanished, often long after the import was
    resumed and finished. It always ends its transaction: the worker holds its connection between jobs.
    """
    try:
        imp = db.session.get(Import, import_id)
        if imp is None:
            log.info(
                "import=%s event=job-failure-noted action=none job=%s reason='the import was deleted'",
                import_id,
                job_id,
            )
        elif imp.status == ImportStatus.RUNNING.value and imp.rq_job_id == job_id:
            silent = (utcnow() - imp.heartbeat_at).total_seconds() if imp.heartbeat_at else float("inf")
            if certain or silent > current_app.config["LOST_HEARTBEAT_SECONDS"]:
                _requeue_or_fail(imp, reason, {"requeued": [], "failed": []})
            else:
                log.info("import=%s event=job-died-ignored job=%s reason='its heartbeat is %.0f s old: alive'",
                         import_id, job_id, silent)  # fmt: skip
        else:
            log.info("import=%s event=job-failure-noted action=none job=%s status=%s current_job=%s", import_id, job_id,
                     imp.status, imp.rq_job_id)  # fmt: skip
    finally:
        db.session.rollback()


def cancel_unmatched(cutoff, limit: int = 100) -> list[int]:
    """Cancel the imports left waiting at Match columns since before *cutoff*: nothing of theirs was saved,
    and their files are then deleted like those of imports that ended long ago."""
    days = current_app.config["UPLOAD_RETENTION_DAYS"]
    ids = db.session.scalars(
        select(Import.id)
        .where(Import.status == ImportStatus.NEEDS_MAPPING.value, Import.created_at < cutoff)
        .limit(limit)
    ).all()
    if ids:
        db.session.execute(
            update(Import)
            .where(Import.id.in_(ids), Import.status == ImportStatus.NEEDS_MAPPING.value)
            .values(
                status=ImportStatus.CANCELLED.value,
                phase=ImportPhase.DONE.value,
                finished_at=utcnow(),
                error=f"Its columns were not matched within {days:g} days, so it was cancelled and its file "
                "deleted; nothing was saved. Upload the file again to import it.",
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        log.info("event=unmatched-cancelled imports=%s days=%g", list(ids), days)
    return list(ids)


def delete_expired_uploads(limit: int = 100) -> int:
    """Delete the stored files of imports that ended more than UPLOAD_RETENTION_DAYS ago, after cancelling
    those left waiting at Match columns that long.

    A file shared with an import that has not ended (a confirmed dry run, a retry) is kept. The changes
    the dry runs of a deleted file recorded go with it: they served only their row-by-row report, which
    needs the file. A real import's changes stay, for undo.
    """
    cutoff = utcnow() - timedelta(days=current_app.config["UPLOAD_RETENTION_DAYS"])
    unmatched = cancel_unmatched(cutoff, limit)
    expired = db.session.scalars(
        select(Import)
        .where(
            Import.status.in_([s.value for s in TERMINAL_STATUSES]),
            or_(Import.finished_at < cutoff, Import.id.in_(unmatched)),
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
        dry_runs = select(Import.id).where(Import.stored_name == imp.stored_name, Import.dry_run.is_(True))
        db.session.execute(
            delete(ImportChange)
            .where(ImportChange.import_id.in_(dry_runs))
            .execution_options(synchronize_session=False)
        )
        deleted += 1
        log.info("import=%s event=file-deleted reason=retention", imp.id)
    db.session.commit()
    return deleted


def delete_partial_uploads() -> int:
    """Delete the upload folder's partial files (PARTIAL_UPLOAD_SECONDS) a dead process left; return how many."""
    cutoff = time.time() - PARTIAL_UPLOAD_SECONDS
    gone = 0
    for path in Path(current_app.config["UPLOAD_FOLDER"]).glob(".*.part"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                gone += 1
        except OSError:
            continue  # renamed or deleted meanwhile
    if gone:
        log.info("event=partial-uploads-deleted files=%s", gone)
    return gone


def between_jobs() -> None:
    """What a worker that catches up the indexes runs at start and every few seconds between jobs."""
    reconcile()
    catch_up_indexes()  # books made by hand, and any catch-up an import left unfinished


def between_imports() -> None:
    """What an imports-only worker runs between jobs: never a catch-up, which would keep it from the next
    import for seconds (the indexes' own worker does those)."""
    reconcile()
