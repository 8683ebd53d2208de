"""An import's job ends when its books are saved; the search and sort indexes catch up in a job of their own,
after any import that is waiting, and searches stay exact meanwhile."""

import io
import os
import re
import subprocess
import sys
import threading
import time
from datetime import UTC

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import delete, func, select, text, update

from bookapp.extensions import db
from bookapp.models import Book, Import, ImportStatus, SearchState
from bookapp.queue import app_job_class, import_queue, index_queue, make_worker, redis_connection
from bookapp.services import search_catch_up
from bookapp.services.reconcile import between_jobs
from bookapp.services.runner import catch_up_indexes
from bookapp.services.search_index import SEARCH_MARK
from bookapp.services.sort_index import SORT_MARK
from tests.conftest import ROOT, add_user, build_app, flask_cli, sign_in, skip_or_fail
from tests.helpers import book_row, csv_bytes
from tests.test_processes import env_for


def upload(client, rows: list[list[str]], name: str) -> str:
    response = client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes(rows)), name)},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location


def run_imports_only(app) -> None:
    """Run the import queue's jobs alone: what an import's own job leaves behind."""
    SimpleWorker([import_queue(app)], connection=redis_connection(app), job_class=app_job_class(app)).work(
        burst=True, logging_level="WARNING"
    )


def marks(app) -> dict[int, int]:
    with app.app_context():
        return dict(db.session.execute(select(SearchState.id, SearchState.indexed_upto)).all())


def test_the_import_job_ends_before_the_indexes_catch_up_and_the_next_import_goes_first(app, staff_client,
                                                                                          redis_client):  # fmt: skip
    first = upload(staff_client, [book_row(n) for n in range(1, 301)], "first.csv")
    second = upload(staff_client, [book_row(n) for n in range(301, 501)], "second.csv")
    worker = make_worker(app, simple=True, maintenance=None)
    run_imports_only(app)

    assert [staff_client.get(u + ".json").get_json()["status"] for u in (first, second)] == ["succeeded"] * 2
    with app.app_context():
        highest = db.session.scalar(select(func.max(Book.id)))
        waiting = index_queue(app).jobs
    assert marks(app) == {SEARCH_MARK: 0, SORT_MARK: 0}, "the import jobs ended without catching up"
    assert [job.description for job in waiting] == [
        "Catch up the search and sort indexes after import #1",
        "Catch up the search and sort indexes after import #2",
    ]
    found = staff_client.get("/books?q=Book+42").get_data(as_text=True)
    assert ">Book 42<" in found and ">Book 420<" in found, "searches stay exact before the catch-up"

    worker.work(burst=True, logging_level="WARNING")
    assert marks(app) == {SEARCH_MARK: highest, SORT_MARK: highest}
    assert Queue(index_queue(app).name, connection=redis_client).count == 0


def test_a_worker_takes_a_waiting_import_before_a_catch_up(app, staff_client, redis_client):
    first = upload(staff_client, [book_row(n) for n in range(1, 201)], "first.csv")
    run_imports_only(app)
    second = upload(staff_client, [book_row(n) for n in range(201, 401)], "second.csv")

    make_worker(app, simple=True, maintenance=None).work(burst=True, logging_level="WARNING")
    first_id, second_id = (int(u.rsplit("/", 1)[1]) for u in (first, second))
    assert staff_client.get(second + ".json").get_json()["status"] == "succeeded"
    catch_up = Job.fetch(f"catch-up-after-import-{first_id}", connection=redis_client)
    with app.app_context():
        second_ended = db.session.get(Import, second_id).finished_at
    # Queued before the second import, the first's catch-up still ran after it: imports go first.
    assert catch_up.started_at.replace(tzinfo=UTC) >= second_ended


def searched(client, words: str) -> set[str]:
    """The titles a search of the book list shows."""
    return set(re.findall(r">(Book \d+)<", client.get("/books", query_string={"q": words, "per_page": 200}).text))


def holding(number: str, books) -> set[str]:
    """The titles of *books* (numbers of tests.helpers.book_row) whose title or author holds *number*."""
    return {f"Book {n}" for n in books if number in str(n) or number in str(n % 97)}


@pytest.mark.slow
def test_imports_workers_leave_the_catch_ups_to_the_indexes_own_worker(app, staff_client, redis_url):
    """`make run`, the Procfile and compose start workers for imports and one for the indexes: an import's
    worker never takes a catch-up (so it is free for the next import as soon as the books are saved)."""
    first = upload(staff_client, [book_row(n) for n in range(1, 301)], "first.csv")
    second = upload(staff_client, [book_row(n) for n in range(301, 501)], "second.csv")
    env = env_for(app, redis_url)

    imports_only = flask_cli(["worker", "--burst", "--role", "imports"], env)
    assert imports_only.returncode == 0, imports_only.stderr
    assert [staff_client.get(u + ".json").get_json()["status"] for u in (first, second)] == ["succeeded"] * 2
    with app.app_context():
        highest = db.session.scalar(select(func.max(Book.id)))
        assert len(index_queue(app).jobs) == 2, "both catch-ups wait for the indexes' worker"
    assert marks(app) == {SEARCH_MARK: 0, SORT_MARK: 0}
    expected = holding("42", range(1, 501))
    assert searched(staff_client, "Book 42") == expected, "searches stay exact meanwhile"

    indexes = flask_cli(["worker", "--burst", "--role", "indexes"], env)
    assert indexes.returncode == 0, indexes.stderr
    assert marks(app) == {SEARCH_MARK: highest, SORT_MARK: highest}
    with app.app_context():
        assert index_queue(app).count == 0 and import_queue(app).count == 0
    assert searched(staff_client, "Book 42") == expected


def test_while_an_import_runs_catch_ups_wait_for_it_except_a_job_on_postgresql(app, staff_client):
    upload(staff_client, [book_row(n) for n in range(1, 201)], "first.csv")
    run_imports_only(app)
    with app.app_context():
        highest = db.session.scalar(select(func.max(Book.id)))
        running = Import(filename="next.csv", stored_name="next.csv", file_kind="csv", file_size=1, sha256="x",
                         status=ImportStatus.RUNNING.value)  # fmt: skip
        db.session.add(running)
        db.session.commit()
        running_id = running.id
        between_jobs()
    assert marks(app) == {SEARCH_MARK: 0, SORT_MARK: 0}, "no catch-up in small pieces while an import runs"
    with app.app_context():
        catch_up_indexes(1)  # the job the first import queued
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # One writer: the job leaves the work to what follows the running import, so it never waits for the lock.
        assert marks(app) == {SEARCH_MARK: 0, SORT_MARK: 0}
        with app.app_context():
            db.session.get(Import, running_id).status = ImportStatus.SUCCEEDED.value
            db.session.commit()
            between_jobs()
    assert marks(app) == {SEARCH_MARK: highest, SORT_MARK: highest}


@pytest.mark.postgres
def test_a_search_index_built_anew_keeps_the_changes_made_while_it_was_built(postgres_url, redis_url, redis_client,
                                                                              tmp_path):  # fmt: skip
    """PostgreSQL builds a big catch-up's copy and trigram indexes afresh, reading the books without
    blocking anyone: a book changed or deleted while it builds is set right before the new copy is used."""
    if not postgres_url:
        skip_or_fail("TEST_DATABASE_URL is not set")
    app = build_app(postgres_url, redis_url, tmp_path)
    add_user(app, "staff@example.com")
    client = sign_in(app.test_client(), "staff@example.com")
    upload(client, [book_row(n) for n in range(1, 401)], "books.csv")
    run_imports_only(app)
    with app.app_context():
        engine = db.engine
        highest = db.session.scalar(select(func.max(Book.id)))
        changed, deleted = (db.session.scalar(select(Book.id).where(Book.title == t)) for t in ("Book 7", "Book 8"))
        with engine.begin() as connection:  # what a crash mid-rebuild could leave (a transaction rolls it back)
            connection.exec_driver_sql("CREATE TABLE book_search_next (book_id BIGINT)")
    editor = engine.connect()
    editor.execute(update(Book).where(Book.id == changed).values(title="Renamed while indexing"))
    editor.execute(delete(Book).where(Book.id == deleted))  # uncommitted: the rebuild copies the old rows
    built: dict = {}
    rebuilding = threading.Thread(target=lambda: built.update(copied=search_catch_up.rebuild(engine, highest)))
    rebuilding.start()
    try:
        waiting = (
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND starts_with(query, 'LOCK TABLE books')"
        )
        with engine.connect() as watcher:
            deadline = time.monotonic() + 120
            while watcher.exec_driver_sql(waiting).first() is None:  # the copy is built; it waits to swap
                assert rebuilding.is_alive() and time.monotonic() < deadline, built
                time.sleep(0.05)
                watcher.rollback()
        editor.commit()
    finally:
        editor.close()
        rebuilding.join(60)
    assert built == {"copied": 399}
    assert marks(app)[SEARCH_MARK] == highest
    with app.app_context():
        copy = dict(db.session.execute(text("SELECT book_id, title FROM book_search")).all())
        assert copy[changed] == "renamed while indexing" and deleted not in copy and len(copy) == 399  # folded
        names = set(db.session.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'book_search'")))
    assert names == {"book_search_pkey", "ix_book_search_title", "ix_book_search_author"}
    assert "Renamed while indexing" in client.get("/books?q=while+indexing").get_data(as_text=True)
    assert searched(client, "Book 8") == holding("8", range(9, 401))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def three_hundred_books_not_indexed(postgres_url, redis_url, tmp_path):
    """An app on PostgreSQL whose 300 books an import saved and no catch-up indexed yet: the app, a signed-in
    client, its engine and the highest book id."""
    if not postgres_url:
        skip_or_fail("TEST_DATABASE_URL is not set")
    app = build_app(postgres_url, redis_url, tmp_path)
    add_user(app, "staff@example.com")
    client = sign_in(app.test_client(), "staff@example.com")
    upload(client, [book_row(n) for n in range(1, 301)], "books.csv")
    run_imports_only(app)
    with app.app_context():
        return app, client, db.engine, db.session.scalar(select(func.max(Book.id)))


@pytest.mark.postgres
def test_a_rebuild_while_another_one_is_under_way_leaves_it_alone(postgres_url, redis_url, redis_client, tmp_path):
    """A rebuild commits its copy before it builds the copy's trigram indexes (on two connections at once):
    a second catch-up meanwhile (another worker's) finds the rebuild's lock taken and changes nothing (it
    would drop the first one's copy); the first leaves the lock free when it is done."""
    app, client, engine, highest = three_hundred_books_not_indexed(postgres_url, redis_url, tmp_path)
    advisory = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    with engine.connect() as first:  # the rebuild under way holds the lock on a connection of its own
        first.exec_driver_sql(f"SELECT pg_advisory_lock({search_catch_up.REBUILD_LOCK})")
        first.commit()
        assert search_catch_up.catch_up(engine, rebuild_from=1) == 0, "no copy of its own, no batches either"
        assert marks(app)[SEARCH_MARK] == 0
        first.exec_driver_sql(f"SELECT pg_advisory_unlock({search_catch_up.REBUILD_LOCK})")
        first.commit()
    assert search_catch_up.catch_up(engine, rebuild_from=1) == 300
    assert marks(app)[SEARCH_MARK] == highest
    with engine.connect() as connection:
        assert connection.exec_driver_sql(advisory).scalar() == 0, "the rebuild let its lock go"
    assert searched(client, "Book 42") == holding("42", range(1, 301))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.postgres
def test_a_rebuild_that_cannot_swap_drops_its_copy_and_the_batches_do_the_work(
    postgres_url, redis_url, redis_client, tmp_path, monkeypatch
):
    """An import holding the books past the rebuild's wait at its end: the rebuild gives up, its copy (all
    the books and both trigram indexes, committed) is dropped at once rather than left on disk until the
    next rebuild, and the catch-up copies the books in batches instead."""
    app, client, engine, highest = three_hundred_books_not_indexed(postgres_url, redis_url, tmp_path)
    monkeypatch.setattr(search_catch_up, "SWAP_LOCK_WAIT_SECONDS", 1)
    tables = text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'book_search%' ORDER BY 1")
    with engine.connect() as importing:  # an import's transaction, writing books until after the rebuild gives up
        importing.execute(update(Book).where(Book.id == highest).values(quantity=Book.quantity + 1))
        assert search_catch_up.rebuild(engine, highest) is None
        with engine.connect() as connection:
            assert list(connection.execute(tables).scalars()) == ["book_search"]
        importing.commit()
    assert marks(app)[SEARCH_MARK] == 0
    assert search_catch_up.catch_up(engine) == 300
    assert marks(app)[SEARCH_MARK] == highest
    assert searched(client, "Book 42") == holding("42", range(1, 301))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_crash_while_the_search_index_is_built_anew_leaves_the_old_one_in_use(postgres_url, redis_url, redis_client,
                                                                                tmp_path):  # fmt: skip
    """The swap is one transaction: a process killed before it commits leaves the old copy and mark as
    they were (and its new copy, unused, which the next rebuild drops), and the next catch-up does the work."""
    app, client, engine, highest = three_hundred_books_not_indexed(postgres_url, redis_url, tmp_path)
    rebuild = ("from bookapp import create_app; from bookapp.extensions import db; "
               "from bookapp.services import search_catch_up; app = create_app(); ctx = app.app_context(); ctx.push(); "
               f"search_catch_up.rebuild(db.engine, {highest})")  # fmt: skip
    reader = engine.connect()
    reader.exec_driver_sql("SELECT 1 FROM book_search LIMIT 1")  # a search under way: the swap waits for it
    process = subprocess.Popen([sys.executable, "-c", rebuild], cwd=ROOT, env={**os.environ, **env_for(app, redis_url)})
    try:
        waiting = (
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND starts_with(query, 'DROP TABLE')"
        )
        with engine.connect() as watcher:
            deadline = time.monotonic() + 120
            while watcher.exec_driver_sql(waiting).first() is None:  # built, set right, about to swap
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
                watcher.rollback()
        process.kill()
        process.wait(30)
    finally:
        reader.close()
        if process.poll() is None:
            process.kill()
    assert marks(app)[SEARCH_MARK] == 0
    with app.app_context():
        tables = set(db.session.scalars(text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'book_search%'")))
        assert tables == {"book_search", "book_search_next"}
        assert db.session.scalar(text("SELECT count(*) FROM book_search")) == 0
        db.session.rollback()
        assert search_catch_up.rebuild(engine, highest) == 300
        tables = set(db.session.scalars(text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'book_search%'")))
        assert tables == {"book_search"}
        db.session.rollback()
    assert marks(app)[SEARCH_MARK] == highest
    assert searched(client, "Book 42") == holding("42", range(1, 301))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
