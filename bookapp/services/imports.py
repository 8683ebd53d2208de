"""Create, enqueue and run imports. The SQL row is the record; Redis only carries the job."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from pathlib import Path

from flask import current_app
from redis.exceptions import RedisError
from rq import Callback
from rq.timeouts import JobTimeoutException
from sqlalchemy import insert, update
from werkzeug.datastructures import FileStorage

from ..extensions import db
from ..importer import BookRow, FileProblem, RowProblem, RowValidator, map_headers, open_table
from ..importer.fields import LABELS
from ..importer.reading import chunked, detect_kind
from ..importer.validation import shown
from ..models import Import, ImportMode, ImportRowError, ImportStatus, User, utcnow
from ..queue import import_queue
from .saving import BookWriter

log = logging.getLogger(__name__)

_COPY_BLOCK = 1 << 20


class StoredFileMissing(Exception):
    """The uploaded file is gone from the upload folder: an operational fault, not a bad file."""


def upload_path(imp: Import) -> Path:
    """Return where the file of *imp* is stored."""
    return Path(current_app.config["UPLOAD_FOLDER"]) / imp.stored_name


def job_timeout(file_size: int) -> int:
    """Return the RQ job timeout for a file of *file_size* bytes."""
    from ..config import IMPORT_TIMEOUT_BASE_SECONDS, IMPORT_TIMEOUT_SECONDS_PER_MB

    return IMPORT_TIMEOUT_BASE_SECONDS + IMPORT_TIMEOUT_SECONDS_PER_MB * (file_size >> 20)


def create_import(upload: FileStorage, user: User | None, mode: ImportMode = ImportMode.CREATE_UPDATE) -> Import:
    """Store the uploaded file, record the import and enqueue its job.

    Raises FileProblem, before anything is recorded, when the bytes are not a CSV or XLSX file.
    The request's time depends on the file's size only: nothing is parsed here.
    """
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
    except FileProblem:
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
        mode=ImportMode(mode).value,
        created_by=user,
        status=ImportStatus.QUEUED.value,
    )
    db.session.add(imp)
    db.session.commit()
    log.info("import=%s event=queued kind=%s bytes=%s", imp.id, kind, size)
    enqueue_import(imp)
    return imp


def enqueue_import(imp: Import) -> bool:
    """Put the import's job on the queue; return False (and leave it queued in SQL) when Redis is down."""
    from .. import tasks

    try:
        import_queue().enqueue(
            tasks.run_import,
            imp.id,
            job_id=imp.rq_job_id,
            job_timeout=job_timeout(imp.file_size),
            description=f"Import #{imp.id}",  # never the file name or cell text: the dashboard shows it raw
            meta={"import_id": imp.id, "kind": imp.file_kind},
            result_ttl=24 * 3600,
            failure_ttl=current_app.config.get("JOB_FAILURE_TTL", 7 * 24 * 3600),
            on_failure=Callback(tasks.record_failure),
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
        .values(status=ImportStatus.RUNNING.value, started_at=now, heartbeat_at=now, error=None)
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
    log.info("import=%s event=started file=%s", imp.id, imp.stored_name)
    try:
        _import_rows(imp)
    except FileProblem as problem:
        db.session.rollback()
        _finish(imp, ImportStatus.FAILED, problem.message)
    except StoredFileMissing:
        db.session.rollback()
        log.error("import=%s event=file-missing file=%s", imp.id, imp.stored_name)
        _finish(imp, ImportStatus.FAILED, "The uploaded file is no longer on the server. Upload it again.")
        raise
    except JobTimeoutException:
        db.session.rollback()
        _finish(imp, ImportStatus.FAILED, "The import timed out: the file took longer than allowed.")
        raise
    except Exception as exc:
        db.session.rollback()
        log.exception("import=%s event=crashed", import_id)
        _finish(
            imp,
            ImportStatus.FAILED,
            f"An unexpected error stopped the import ({type(exc).__name__}). "
            "Rows saved before it are kept; the operators can see the details in the queue dashboard.",
        )
        raise
    else:
        _finish(imp, ImportStatus.SUCCEEDED, None)
    log.info(
        "import=%s event=finished status=%s rows=%s created=%s updated=%s unchanged=%s skipped=%s "
        "rejected=%s seconds=%.3f",
        imp.id, imp.status, imp.processed_rows, imp.created, imp.updated, imp.unchanged, imp.skipped,
        imp.rejected, time.monotonic() - started,
    )  # fmt: skip
    return counts(imp)


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


def _import_rows(imp: Import) -> None:
    path = upload_path(imp)
    if not path.exists():
        raise StoredFileMissing(imp.stored_name)
    with open_table(path) as table:
        header_map = map_headers(table.headers)
        isbn_header = header_map.headers[header_map.positions["isbn"]]
        imp.ignored_columns = header_map.ignored
        imp.total_rows = table.estimated_rows or None
        db.session.commit()
        validator = RowValidator(header_map, decimal_comma=table.decimal_comma)
        writer = BookWriter(db.session, imp.id, ImportMode(imp.mode))
        first_row_of: dict[str, int] = {}
        for chunk in chunked(table.rows, current_app.config["IMPORT_CHUNK_SIZE"]):
            valid: list[BookRow] = []
            problems: list[RowProblem] = []
            for row_number, cells in chunk:
                result = validator.validate(row_number, cells)
                if not isinstance(result, BookRow):
                    problems.extend(result)
                    continue
                first = first_row_of.setdefault(result.isbn, row_number)
                if first == row_number:
                    valid.append(result)
                else:
                    problems.append(
                        RowProblem(
                            row_number,
                            isbn_header,
                            shown(cells[header_map.positions["isbn"]]),
                            f"{LABELS['isbn']} {result.isbn} already appears in row {first}; "
                            "only the first row with an ISBN is imported",
                        )
                    )
            outcome = writer.write(valid)
            _save_problems(imp.id, problems)
            imp.created += outcome.created
            imp.updated += outcome.updated
            imp.unchanged += outcome.unchanged
            imp.skipped += outcome.skipped
            imp.rejected += len({p.row_number for p in problems})
            imp.processed_rows += len(chunk)
            imp.checkpoint_row = chunk[-1][0]
            imp.heartbeat_at = utcnow()
            if imp.total_rows is not None and imp.processed_rows > imp.total_rows:
                imp.total_rows = imp.processed_rows
            db.session.commit()
        imp.total_rows = imp.processed_rows


def _save_problems(import_id: int, problems: list[RowProblem]) -> None:
    if problems:
        db.session.execute(
            insert(ImportRowError.__table__),
            [
                {
                    "import_id": import_id,
                    "row_number": p.row_number,
                    "column": p.column and p.column[:255],
                    "value": p.value and p.value[:255],
                    "message": p.message,
                }
                for p in problems
            ],
        )


def _finish(imp: Import, status: ImportStatus, error: str | None) -> None:
    imp.status = status.value
    imp.error = error
    imp.finished_at = utcnow()
    db.session.commit()


def mark_failed_if_running(import_id: int, reason: str) -> None:
    """Record *reason* on an import whose job died while it was queued or running."""
    db.session.execute(
        update(Import)
        .where(Import.id == import_id, Import.status.in_([ImportStatus.QUEUED.value, ImportStatus.RUNNING.value]))
        .values(status=ImportStatus.FAILED.value, error=reason, finished_at=utcnow())
    )
    db.session.commit()


def import_json(imp: Import) -> dict:
    """Return the import as the API and the progress poller show it."""

    def iso(value):
        return value.isoformat() if value else None

    return {
        "id": imp.id,
        "status": imp.status,
        "mode": imp.mode,
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
        "created_at": iso(imp.created_at),
        "started_at": iso(imp.started_at),
        "finished_at": iso(imp.finished_at),
        "error": imp.error,
        "terminal": imp.is_terminal,
    }


def percent(imp: Import) -> int:
    """Return how far the import has got, 0–100."""
    if imp.status == ImportStatus.SUCCEEDED.value:
        return 100
    if not imp.total_rows:
        return 0
    return min(99, imp.processed_rows * 100 // imp.total_rows)
