"""From an import's start to every one of its books searchable, with a real worker; and how long the
next import waits for that worker (issue 18: "searchable at once, worker free at once").

    python -m bench.searchable FILE DATABASE_URL WORK NEXT_FILE [ROLES]

A private Redis (never a shared one) and the workers `make run` starts (forking, with their maintenance:
one for imports, one for the indexes' catch-ups; ROLES "all" for one worker doing both, as before
issue 18) take the import of FILE through the queue, as an upload does. This process watches the database: when the import has ended it waits NEXT_DELAY seconds (the catch-up of a big import is then
under way) and queues NEXT_FILE, whose rows are all in FILE (so it makes no catch-up of its own); it
notes when the search index holds every book of FILE, and when the sort index does too. The case
reports the import's own time (start to terminal status), the time to searchable (start to the search
index caught up: searches answered by the index), the time to sorted (start to both caught up: pages
in any order answered by the sort index too), how long queueing the next import took (its upload's
write, which on SQLite waits while a catch-up holds the write lock) and the next import's wait for a
worker (queued to started). The next import is queued from a thread, so the watching goes on meanwhile.
"""

import datetime as dt
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import text

from .app import make_app, new_import

#: Seconds between the first import's end and queueing the next one.
NEXT_DELAY = 0.5
#: How often the database is looked at.
POLL_SECONDS = 0.05
#: The longest the case waits for anything (a 5,000,000-row import on a slow day is well inside it).
GIVE_UP_SECONDS = 4 * 3600


def _epoch(value) -> float:
    if isinstance(value, str):  # SQLite hands back text through a plain connection
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def _import_state(connection, import_id: int) -> dict:
    row = connection.execute(
        text("SELECT status, started_at, finished_at, enqueued_at, created FROM imports WHERE id = :id"),
        {"id": import_id},
    ).one()
    return dict(row._mapping)


def _caught_up(connection, upto: int, marks: tuple[int, ...]) -> bool:
    """Whether the indexes of *marks* (1 search, 2 sort) hold every book up to id *upto* (no index:
    nothing to hold)."""
    lowest = connection.execute(
        text(f"SELECT min(indexed_upto) FROM search_state WHERE id IN ({', '.join(map(str, marks))})")
    ).scalar()
    return lowest is None or lowest >= upto


def _queue(app, path: str, work: Path, stored: str) -> int:
    from bookapp.extensions import db
    from bookapp.models import Import
    from bookapp.services.import_jobs import enqueue_import

    with app.app_context():
        import_id = new_import(path, work, stored)
        assert enqueue_import(db.session.get(Import, import_id)), "the import could not be queued"
    return import_id


def searchable(path: str, database_url: str, work: str, next_path: str, roles: str = "imports,indexes") -> dict:
    from bookapp.embedded_redis import EmbeddedRedis, free_port
    from bookapp.extensions import db
    from bookapp.services.setup import reset_database

    work_dir = Path(work)
    redis = EmbeddedRedis(work_dir / "redis", port=free_port(), persistent=False).start()
    workers: list[subprocess.Popen] = []
    try:
        app = make_app(database_url, work_dir, redis_url=redis.url)
        with app.app_context():
            reset_database()
            engine = db.engine
        first = _queue(app, path, work_dir, f"searchable-first{Path(path).suffix}")
        log = open(work_dir / "worker.log", "w")  # noqa: SIM115 (closed with the worker)
        workers = [subprocess.Popen([sys.executable, "-m", "bench.cases", "rq_worker", database_url, work, redis.url,
                                     role], stdout=log, stderr=subprocess.STDOUT) for role in roles.split(",")]  # fmt: skip
        deadline = time.monotonic() + GIVE_UP_SECONDS
        ended = searchable_at = sorted_at = following = None
        queueing: dict = {}  # the next upload, queued beside the watching (on SQLite it may wait for the write lock)
        upto = 0
        while time.monotonic() < deadline:
            if any(worker.poll() is not None for worker in workers):
                raise SystemExit(f"the worker stopped:\n{(work_dir / 'worker.log').read_text()[-3000:]}")
            with engine.connect() as connection:
                state = _import_state(connection, first)
                if ended is None and state["status"] in ("succeeded", "failed", "cancelled"):
                    assert state["status"] == "succeeded", state
                    ended = time.time()
                    upto = connection.execute(text("SELECT max(id) FROM books")).scalar() or 0
                if ended is not None and searchable_at is None and _caught_up(connection, upto, (1,)):
                    searchable_at = time.time()
                if ended is not None and sorted_at is None and _caught_up(connection, upto, (1, 2)):
                    sorted_at = time.time()
                next_state = _import_state(connection, following) if following is not None else None
            if sorted_at is not None and next_state is not None and next_state["status"] == "succeeded":
                break
            if ended is not None and not queueing and time.time() - ended >= NEXT_DELAY:
                queueing["started"] = time.time()

                def queue_next() -> None:
                    try:
                        queueing["id"] = _queue(app, next_path, work_dir, f"searchable-next{Path(next_path).suffix}")
                    except BaseException as exc:  # raised again by the watching
                        queueing["error"] = exc
                    queueing["seconds"] = time.time() - queueing["started"]

                threading.Thread(target=queue_next, daemon=True).start()
            if "error" in queueing:
                raise queueing["error"]
            if following is None and "seconds" in queueing:
                following = queueing["id"]
            time.sleep(POLL_SECONDS)
        else:
            raise SystemExit(f"gave up after {GIVE_UP_SECONDS:,} s:\n{(work_dir / 'worker.log').read_text()[-3000:]}")
    finally:
        for worker in workers:
            worker.terminate()  # RQ's warm shutdown: it is idle by now
        for worker in workers:
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        if workers:
            log.close()
        redis.stop()
    start, finish = _epoch(state["started_at"]), _epoch(state["finished_at"])
    assert next_state["created"] == 0, "the next file's rows must all be in the first"
    return {"rows": state["created"], "seconds": finish - start, "searchable_seconds": searchable_at - start,
            "sorted_seconds": sorted_at - start, "next_queue_seconds": queueing["seconds"], "next_wait_seconds": _epoch(next_state["started_at"]) - _epoch(next_state["enqueued_at"])}  # fmt: skip


def rq_worker(database_url: str, work: str, redis_url: str, role: str = "all") -> dict:
    """One RQ worker as `flask worker --role ROLE` runs it (forking, with its maintenance), until it is stopped."""
    from bookapp.queue import make_worker
    from bookapp.services.reconcile import between_imports, between_jobs

    app = make_app(database_url, Path(work), redis_url=redis_url)
    maintenance = between_imports if role == "imports" else between_jobs
    make_worker(app, maintenance=maintenance, role=role).work(logging_level="WARNING", with_scheduler=False)
    return {"rows": 0, "seconds": 0}


if __name__ == "__main__":
    import json

    arguments = sys.argv[1:]
    if len(arguments) not in (4, 5):
        raise SystemExit(__doc__)
    print(json.dumps(searchable(*arguments)))
