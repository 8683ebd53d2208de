"""The app a benchmark case runs bookapp's own code in, and an import waiting for it (one stored file)."""

import os
import shutil
import sys
from pathlib import Path


def make_app(database_url: str, work: Path, search_index: bool = True, read_ahead: bool = True, redis_url: str = ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import logging

    from bookapp import create_app

    logging.getLogger("bookapp").setLevel(logging.WARNING)
    stage_past = os.environ.get("BENCH_SQLITE_STAGE_PAST_BOOKS")
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url or os.environ.get("REDIS_URL", "redis://127.0.0.1:1/0"),
            "UPLOAD_FOLDER": str(work / "uploads"),
            "SECRET_KEY": "bench",
            "IMPORT_TIMEOUT_BASE_SECONDS": 7200,
            "SEARCH_INDEX": search_index,
            "IMPORT_READ_AHEAD": read_ahead,
            # The stored books past which SQLite imports stage their new books (services.staged_inserts):
            # 0 always, a large number never; unset, bookapp's own threshold.
            "SQLITE_IMPORT_STAGE_PAST_BOOKS": int(stage_past) if stage_past else None,
        },
        instance_path=str(work / "instance"),
    )


def new_import(path: str, work_dir: Path, stored: str, mapping: dict | None = None):
    from bookapp.extensions import db
    from bookapp.models import Import

    uploads = work_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, uploads / stored)
    imp = Import(filename=Path(path).name, stored_name=stored, file_kind=Path(path).suffix[1:],
                 file_size=os.path.getsize(path), sha256="bench", mapping=mapping)  # fmt: skip
    db.session.add(imp)
    db.session.commit()
    return imp.id
