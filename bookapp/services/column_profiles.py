"""The column profile of an upload that waits for its columns: computed in the request for a small
file, in a job for a large one (the page shows "profiling…" and polls), kept on the import
(imports.column_profile) until its columns are matched.

The stored JSON is {"state": "ready", "profile": {…}} (importer.profiling), {"state": "pending",
"job_id": …} or {"state": "error", "message": …}; SQL NULL before it is asked for and after matching.
"""

from __future__ import annotations

import logging
import uuid

from flask import current_app
from redis.exceptions import RedisError
from rq import Callback
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import null, select, update

from ..config import JOB_FAILURE_TTL_SECONDS
from ..extensions import db
from ..importer import FileProblem
from ..importer.reading import estimate_rows
from ..models import Import, ImportStatus
from ..queue import import_queue, redis_connection
from .import_jobs import job_timeout, upload_path

log = logging.getLogger(__name__)

#: Files of up to about this many rows are profiled in the request; larger ones in a job.
PROFILE_IN_REQUEST_ROWS = 50_000
PROFILE_JOB = "bookapp.tasks.profile_columns"
PROFILE_FAILURE_CALLBACK = "bookapp.tasks.record_profile_failure"
#: How long a finished profile job's result stays in Redis (the import's row keeps the profile itself).
PROFILE_RESULT_TTL_SECONDS = 3600
_ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def profile_state(imp: Import) -> tuple[str | None, dict | str | None]:
    """Return ("ready", profile), ("pending", None), ("error", message), or (None, None) when none was
    asked for. A pending profile whose job is gone (its worker died, Redis lost it) turns into an error."""
    stored = imp.column_profile
    if not stored:
        return None, None
    state = stored.get("state")
    if state == "ready":
        return state, stored.get("profile")
    if state == "error":
        return state, stored.get("message")
    if state == "pending" and not _job_alive(stored.get("job_id")):
        _finish(imp.id, {"state": "error", "message": "Reading the file's columns stopped before it ended."},
                only_job=stored.get("job_id"))  # fmt: skip
        db.session.refresh(imp)
        return profile_state(imp)
    return "pending", None


def start_profile(imp: Import) -> None:
    """Profile the file now when it is small (or the queue is down), else in a job; once per import."""
    if imp.column_profile:
        return
    limit = current_app.config.get("PROFILE_IN_REQUEST_ROWS", PROFILE_IN_REQUEST_ROWS)
    if estimate_rows(upload_path(imp)) <= limit:
        profile_now(imp)
        return
    job_id = f"profile-{imp.id}-{uuid.uuid4().hex[:8]}"
    claimed = db.session.execute(
        update(Import)
        .where(Import.id == imp.id, Import.column_profile.is_(None))
        .values(column_profile={"state": "pending", "job_id": job_id})
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.refresh(imp)
    if not claimed:
        return  # another request started it
    try:
        import_queue().enqueue(
            PROFILE_JOB,
            imp.id,
            job_id=job_id,
            at_front=True,  # a person waits for it: before the imports waiting in the queue
            job_timeout=job_timeout(imp.file_size),
            description=f"Columns of import #{imp.id}",
            meta={"profile_of_import": imp.id},
            result_ttl=PROFILE_RESULT_TTL_SECONDS,
            failure_ttl=current_app.config.get("JOB_FAILURE_TTL", JOB_FAILURE_TTL_SECONDS),
            on_failure=Callback(PROFILE_FAILURE_CALLBACK),
        )
    except RedisError as exc:
        log.warning("import=%s event=profile-enqueue-failed error=%s", imp.id, type(exc).__name__)
        db.session.execute(update(Import).where(Import.id == imp.id).values(column_profile=null()))
        db.session.commit()
        db.session.refresh(imp)
        profile_now(imp)  # no queue: the person waits a few seconds more, in this request
        return
    log.info("import=%s event=profile-queued job=%s", imp.id, job_id)


def profile_now(imp: Import) -> None:
    """Profile the import's file in this process and keep the result (or the file's problem) on it."""
    _finish(imp.id, compute(imp))
    db.session.refresh(imp)


def compute(imp: Import) -> dict:
    """Return the stored form of the file's profile, or of the reason it cannot be made."""
    path = upload_path(imp)
    if not path.exists():
        return {"state": "error", "message": "The uploaded file is no longer on the server; upload it again."}
    # pandas (about 44 MB) is loaded only by a process that profiles: a worker's imports, and the
    # reading processes they fork, go without it.
    from ..importer.profiling import profile_file

    try:
        return {"state": "ready", "profile": profile_file(path)}
    except FileProblem as problem:
        return {"state": "error", "message": problem.message}


def run_profile_job(import_id: int) -> None:
    """The job: profile the file of an import still waiting for its columns."""
    imp = db.session.get(Import, import_id)
    if imp is None or imp.status != ImportStatus.NEEDS_MAPPING.value:
        return
    job_id = (imp.column_profile or {}).get("job_id")
    _finish(import_id, compute(imp), only_job=job_id)
    log.info("import=%s event=profiled", import_id)


def record_failure(import_id: int, reason: str) -> None:
    """Keep why a profile job failed where the page shows it."""
    stored = db.session.scalar(select(Import.column_profile).where(Import.id == import_id)) or {}
    if stored.get("state") == "pending":
        _finish(import_id, {"state": "error", "message": f"Reading the file's columns failed: {reason}."},
                only_job=stored.get("job_id"))  # fmt: skip


def forget_profile(imp: Import) -> None:
    """Drop the stored profile (matched at last, or to profile the file again)."""
    db.session.execute(
        update(Import)
        .where(Import.id == imp.id)
        .values(column_profile=null())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.expire(imp, ["column_profile"])


def _finish(import_id: int, stored: dict, *, only_job: str | None = None) -> None:
    """Store *stored*; when *only_job* is named, only if the import's pending profile is still that job's
    (a person may have asked for the file to be profiled again meanwhile)."""
    if only_job is not None:
        current = db.session.scalar(select(Import.column_profile).where(Import.id == import_id))
        if (current or {}).get("job_id") != only_job:
            return
    db.session.execute(
        update(Import)
        .where(Import.id == import_id)
        .values(column_profile=stored)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _job_alive(job_id: str | None) -> bool:
    if not job_id:
        return False
    try:
        status = Job.fetch(job_id, connection=redis_connection()).get_status(refresh=False)
    except NoSuchJobError:
        return False
    except RedisError:
        return True  # cannot tell: keep waiting
    return status in _ALIVE
