"""Two workers importing into one SQLite database take turns: the second waits, visibly, and both end exact."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bookapp.extensions import db
from bookapp.models import Book, ImportChunk
from bookapp.services.pipeline import WAITING_NICENESS
from bookapp.services.write_turn import lock_path
from tests.conftest import add_user, build_app, sign_in, stop_worker
from tests.helpers import book_row, write_csv
from tests.pause_points import PausedWorker
from tests.test_faults import book_total, start_worker, state, upload_file, wait_for

pytestmark = pytest.mark.slow

ROWS = 10_000  # five chunks of 2,000 each


@pytest.fixture
def shared_sqlite(redis_url, redis_client, tmp_path):
    app = build_app(f"sqlite:///{tmp_path / 'shared.sqlite3'}", redis_url, tmp_path, IMPORT_CHUNK_SIZE=2000)
    add_user(app, "staff@example.com")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_two_workers_on_one_sqlite_database_write_in_turn_and_the_second_shows_it_waits(shared_sqlite, tmp_path):
    app = shared_sqlite
    first_file = write_csv(tmp_path / "first.csv", [book_row(n) for n in range(1, ROWS + 1)])
    second_file = write_csv(tmp_path / "second.csv", [book_row(n) for n in range(ROWS + 1, 2 * ROWS + 1)])
    first = upload_file(app, first_file)
    # The first import stops between its 2nd and 3rd chunks: two committed, the database unlocked,
    # the write turn still its own.
    pause = PausedWorker(tmp_path / "pause", 2, committed=True)
    first_worker = start_worker(app, pause=pause)
    second_worker = None
    try:
        pause.wait_paused(first_worker)
        assert (state(app, first).status, state(app, first).processed_rows) == ("running", 4_000)
        second = upload_file(app, second_file)
        second_worker = start_worker(app)
        waiting = wait_for(lambda: (s := state(app, second)).phase == "waiting" and s)
        assert waiting.status == "running" and waiting.processed_rows == 0
        client = sign_in(app.test_client(), "staff@example.com")
        shown = client.get(f"/imports/{second}.json").get_json()
        assert (shown["phase"], shown["phase_label"]) == ("waiting", "waiting for the database")
        assert "waiting for the database" in client.get(f"/imports/{second}").get_data(as_text=True)
        assert book_total(app) == 4_000, "the waiting import wrote nothing"
        # Its file is already being read, by a process that only takes the CPU the first import leaves.
        # (Lowered from the workers' own niceness, which is 0 unless the tests run under `nice`.)
        base = _niceness(second_worker.pid)
        lowered = max(WAITING_NICENESS, base)
        readers = wait_for(lambda: [p for p in _descendants(second_worker.pid) if _niceness(p) == lowered])
        assert len(readers) == 1
        writers = _descendants(first_worker.pid)
        assert writers and all(_niceness(p) == base for p in writers), "the writing import keeps its priority"

        pause.release()
        ended = wait_for(lambda: all((s := state(app, i)).is_terminal for i in (first, second)) and s, timeout=120)
        assert ended
    finally:
        stop_worker(first_worker)
        if second_worker:
            stop_worker(second_worker)
    for import_id in (first, second):
        final = state(app, import_id)
        assert final.status == "succeeded", final.error
        assert (final.processed_rows, final.created, final.updated, final.unchanged, final.rejected) == (
            ROWS, ROWS, 0, 0, 0
        )  # fmt: skip
    assert book_total(app) == 2 * ROWS
    with app.app_context():
        covered = db.session.scalar(select(func.sum(ImportChunk.last_row - ImportChunk.first_row + 1)))
        assert covered == 2 * ROWS, "each row recorded once"
        assert db.session.scalar(select(func.count()).select_from(Book).where(Book.import_id == second)) == ROWS


def _descendants(pid: int) -> list[int]:
    """The processes under *pid* (Linux: each process's parent read from /proc)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _niceness(pid: int) -> int | None:
    try:
        return os.getpriority(os.PRIO_PROCESS, pid)
    except OSError:
        return None


def test_only_a_sqlite_file_has_a_write_turn(app):
    """PostgreSQL's imports write side by side; an SQLite file's turn is a lock file beside it."""
    with app.app_context():
        path = lock_path(db.engine)
        if db.engine.dialect.name == "postgresql":
            assert path is None
        else:
            assert path.name == f"{app.config['SQLALCHEMY_DATABASE_URI'].rsplit('/', 1)[1]}-imports.lock"
