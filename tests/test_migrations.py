"""The schema comes from migrations/: the app never changes it, `flask db upgrade` does, once, and a
database made by bookapp 0.1.0 (tables made at start-up, no migration history) upgrades in place."""

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from redis import Redis
from rq import Worker
from sqlalchemy import func, inspect, select, text

from bookapp import create_app
from bookapp.embedded_redis import free_port
from bookapp.extensions import db
from bookapp.models import Book, Import
from bookapp.services.reconcile import reconcile
from bookapp.services.setup import include_object
from tests.conftest import ROOT, add_user, flask_cli, run_worker, sign_in
from tests.helpers import book_row, csv_bytes, isbn13
from tests.test_access import bearer
from tests.test_columns_read import SHOP_HEADER, shop_row

LEGACY = Path(__file__).parent / "legacy"


def env_for(database_url: str, redis_url: str, tmp_path: Path) -> dict:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "SECRET_KEY": "test-secret",
    }


def empty_database(database_url: str) -> None:
    """Leave the database with no table at all (PostgreSQL: a new public schema)."""
    if database_url.startswith("sqlite"):
        Path(database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


def run_sql(database_url: str, script: str) -> None:
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            connection.executescript(script)
        return
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(script)


def test_making_the_app_leaves_the_database_alone(tmp_path, redis_url):
    database = tmp_path / "untouched.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "REDIS_URL": redis_url,
                      "SECRET_KEY": "x"}, instance_path=str(tmp_path / "instance"))  # fmt: skip
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        health = app.test_client().get("/healthz")
    assert health.status_code == 503
    assert "db upgrade" in health.get_json()["database"]


def test_the_migrations_build_exactly_what_the_models_declare(app):
    """The suite's schema comes from the migrations (conftest); any difference from the models fails here."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        differences = compare_metadata(context, db.metadata)
        if connection.dialect.name == "sqlite":
            differences = without_unreflected_on_delete(connection, differences)
        assert differences == []
        assert "alembic_version" in inspect(connection).get_table_names()


def without_unreflected_on_delete(connection, differences: list) -> list:
    """Drop the foreign keys that differ only because SQLite's reflection misses the ON DELETE of a
    column added later (`ADD COLUMN … REFERENCES … ON DELETE …`), once the table's SQL shows it is there."""
    added = {(d[1].table.name, tuple(e.parent.name for e in d[1].elements)): d[1] for d in differences
             if d[0] == "add_fk"}  # fmt: skip
    kept = []
    for difference in differences:
        key = (difference[1].table.name, tuple(e.parent.name for e in difference[1].elements))
        if difference[0] in ("add_fk", "remove_fk") and key in added and len(key[1]) == 1:
            sql = connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = ?", (key[0],)).scalar()
            fk = added[key]
            clause = f"{key[1][0]} INTEGER REFERENCES {fk.referred_table.name} (id) ON DELETE {fk.ondelete}"
            if clause in sql:
                continue
        kept.append(difference)
    return kept


LEGACY_DATA = """
INSERT INTO users (email, password_hash, role, created_at)
    VALUES ('old@example.com', 'x', 'staff', '2026-11-20 10:00:00+00:00');
INSERT INTO imports (status, mode, dry_run, all_or_nothing, phase, cancel_requested, filename, stored_name,
    file_kind, file_size, sha256, created_by_id, created_at, started_at, finished_at, attempts, total_rows,
    processed_rows, checkpoint_row, created, updated, unchanged, skipped, rejected, headers, ignored_columns)
    VALUES ('succeeded', 'create_update', {false}, {false}, 'done', {false}, 'shop.csv', 'abc.csv', 'csv', 120,
    'aaaa', (SELECT id FROM users), '2026-11-20 10:00:00+00:00', '2026-11-20 10:00:01+00:00', '2026-11-20 10:00:02+00:00', 1, 2, 2, 3,
    2, 0, 0, 0, 0, '["Title"]', '[]');
INSERT INTO imports (status, mode, dry_run, all_or_nothing, phase, cancel_requested, filename, stored_name,
    file_kind, file_size, sha256, created_at, attempts, processed_rows, checkpoint_row, created, updated, unchanged,
    skipped, rejected, ignored_columns)
    VALUES ('succeeded', 'create_update', {true}, {false}, 'done', {false}, 'dry.csv', 'dry.csv', 'csv', 60, 'bbbb',
    '2026-11-21 10:00:00+00:00', 1, 1, 2, 1, 0, 0, 0, 0, '[]');
INSERT INTO imports (status, mode, dry_run, all_or_nothing, phase, cancel_requested, filename, stored_name,
    file_kind, file_size, sha256, created_at, attempts, processed_rows, checkpoint_row, created, updated, unchanged,
    skipped, rejected, ignored_columns, source_import_id)
    VALUES ('succeeded', 'create_update', {false}, {false}, 'done', {false}, 'dry.csv', 'dry.csv', 'csv', 60, 'bbbb',
    '2026-11-21 10:01:00+00:00', 1, 1, 2, 0, 0, 1, 0, 0, '[]', (SELECT id FROM imports WHERE dry_run = {true}));
INSERT INTO books (isbn, title, author, book_type, year_published, price, no_of_pages, quantity, description,
    created_at, updated_at, created_by_import_id, import_id)
    VALUES ('{isbn1}', 'Dune', 'Frank Herbert', 'Classic', '1965', {price}, 412, 3, NULL,
            '2026-11-20 10:00:02+00:00', '2026-11-20 10:00:02+00:00', (SELECT min(id) FROM imports), (SELECT min(id) FROM imports)),
           ('{isbn2}', 'Solaris', 'Stanislaw Lem', 'Sci-tech', '1961', {price}, NULL, 1, 'A planet',
            '2026-11-20 10:00:02+00:00', '2026-11-20 10:00:02+00:00', (SELECT min(id) FROM imports), (SELECT min(id) FROM imports));
"""


@pytest.mark.slow
def test_a_database_made_by_0_1_0_upgrades_in_place_and_keeps_its_books(database_url, redis_url, redis_client,
                                                                        tmp_path):  # fmt: skip
    empty_database(database_url)
    dialect = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    run_sql(database_url, (LEGACY / f"v0.1.0-{dialect}.sql").read_text())
    true, false, price = ("1", "0", "1250") if dialect == "sqlite" else ("true", "false", "12.50")
    run_sql(database_url, LEGACY_DATA.format(true=true, false=false, price=price, isbn1=isbn13(1), isbn2=isbn13(2)))

    result = flask_cli(["db", "upgrade"], env_for(database_url, redis_url, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Adopted a database made by bookapp 0.1.0" in result.stderr
    again = flask_cli(["db", "upgrade"], env_for(database_url, redis_url, tmp_path))
    assert again.returncode == 0 and "Adopted" not in again.stderr

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "x",
                      "TESTING": True, "WTF_CSRF_ENABLED": False, "UPLOAD_FOLDER": str(tmp_path / "uploads")},
                     instance_path=str(tmp_path / "instance"))  # fmt: skip
    with app.app_context():
        books = {b.title: b for b in db.session.scalars(select(Book))}
        assert sorted(books) == ["Dune", "Solaris"]
        assert str(books["Dune"].price) == "12.50" and books["Solaris"].no_of_pages is None
        old, dry_run, confirmed = db.session.scalars(select(Import).order_by(Import.id))
        assert old.status == "succeeded" and old.created == 2 and old.created_by.email == "old@example.com"
        assert dry_run.confirmed_as_id == confirmed.id, "a dry run confirmed before 0002 stays confirmed once"
        assert not old.file_problem
    add_user(app, "staff@example.com")
    client = sign_in(app.test_client(), "staff@example.com")
    response = client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes([book_row(n) for n in range(3, 8)])),
                                                          "more.csv")}, content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 302
    run_worker(app)
    assert client.get(response.location + ".json").get_json()["status"] == "succeeded"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Book)) == 7
        if dialect == "sqlite":  # 0008, 0009: the search index keeps no second copy, no column sizes, and has
            tables = set(inspect(db.engine).get_table_names())  # caught up again
            assert "books_search" in tables and "books_search_content" not in tables
            assert "books_search_docsize" not in tables
            assert db.session.scalar(text("SELECT indexed_upto FROM search_state WHERE id = 1")) == 7
    found = client.get("/books?q=herbert").get_data(as_text=True)
    assert "Dune" in found and "Solaris" not in found
    assert client.get("/healthz").get_json()["database"] == "ok"
    with app.app_context():
        db.engine.dispose()


BEFORE_0011 = """
INSERT INTO users (email, password_hash, role, created_at, session_version)
    VALUES ('old@example.com', 'x', 'staff', '2026-12-01 10:00:00+00:00', 0);
INSERT INTO imports (status, mode, dry_run, all_or_nothing, phase, cancel_requested, filename, stored_name,
    file_kind, file_size, sha256, created_at, attempts, processed_rows, checkpoint_row, created, updated, unchanged,
    skipped, rejected, headers, ignored_columns)
    VALUES ('succeeded', 'create_update', {true}, {false}, 'done', {false}, 'dry.csv', 'dry.csv', 'csv', 60, 'bbbb',
    '2026-12-01 10:00:00+00:00', 1, 3, 4, 3, 0, 0, 0, 0, '{headers}', '["List price"]');
INSERT INTO imports (status, mode, dry_run, all_or_nothing, phase, cancel_requested, filename, stored_name,
    file_kind, file_size, sha256, created_at, attempts, processed_rows, checkpoint_row, created, updated, unchanged,
    skipped, rejected, headers, ignored_columns, source_import_id)
    VALUES ('queued', 'create_update', {false}, {false}, 'saving', {false}, 'shop.csv', 'half.csv', 'csv', 60, 'cccc',
    '2026-12-01 10:01:00+00:00', 1, 3, 4, 3, 0, 0, 0, 0, '{headers}', '["List price"]', NULL);
"""


def test_a_database_at_0009_upgrades_in_place_and_its_imports_read_before_say_what_they_can_do(
    database_url, redis_url, redis_client, tmp_path
):
    """0011: imports keep the columns they read. An unconfirmed dry run an earlier release previewed asks to
    be previewed again; an import it left half done resumes, recording its columns, as it leaves aside the
    columns its first read left aside."""
    empty_database(database_url)
    env = env_for(database_url, redis_url, tmp_path)
    assert flask_cli(["db", "upgrade", "0009"], env).returncode == 0
    sqlite = database_url.startswith("sqlite")
    true, false = ("1", "0") if sqlite else ("true", "false")
    run_sql(database_url, BEFORE_0011.format(true=true, false=false, headers=json.dumps(SHOP_HEADER)))
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "half.csv").write_bytes(csv_bytes([shop_row(n) for n in range(1, 7)], header=SHOP_HEADER))
    (tmp_path / "uploads" / "dry.csv").write_bytes(csv_bytes([shop_row(n) for n in range(1, 4)], header=SHOP_HEADER))
    result = flask_cli(["db", "upgrade"], env)
    assert result.returncode == 0, result.stderr

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "x",
                      "TESTING": True, "WTF_CSRF_ENABLED": False, "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                      "QUEUED_GRACE_SECONDS": 0, "IMPORT_CHUNK_SIZE": 3},
                     instance_path=str(tmp_path / "instance"))  # fmt: skip
    with app.app_context():
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("imports")}
        assert {"ix_imports_source_import_id", "ix_imports_fixes_import_id"} <= indexes
        dry_run, half_done = db.session.scalars(select(Import).order_by(Import.id))
        assert dry_run.columns_read is None and half_done.columns_read is None, "nothing claimed for them"
    headers = bearer(app)
    client = app.test_client()
    refused = client.post(f"/api/v1/imports/{dry_run.id}/confirm", headers=headers)
    assert refused.status_code == 409 and "Preview it again" in refused.get_json()["error"]["message"]

    with app.app_context():
        assert reconcile()["requeued"] == [half_done.id]
    run_worker(app)
    state = client.get(f"/api/v1/imports/{half_done.id}", headers=headers).get_json()
    assert (state["status"], state["created"], state["processed_rows"]) == ("succeeded", 6, 6)
    assert state["mapping"] is None and state["columns_read"]["columns"]["price"] == "Price"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Book)) == 3, "rows 5 to 7: the rest of the file"
    with app.app_context():  # a context of its own: the one above holds its connection until it ends
        db.engine.dispose()


#: Imports at 0013: (filename, status, dry run, file deleted, change rows). A dry run made before dry runs
#: kept 10,000 changes at most recorded one per book it would update, in the file's order.
BEFORE_0014_IMPORTS = [
    ("big.csv", "succeeded", True, False, 10_003),
    ("stopped.csv", "failed", True, False, 10_002),
    ("expired.csv", "succeeded", True, True, 5),
    ("small.csv", "cancelled", True, False, 3),
    ("real.csv", "succeeded", False, True, 10_005),
    ("running.csv", "running", True, False, 10_004),
]

BEFORE_0014_IMPORT = """
INSERT INTO imports (status, mode, dry_run, all_or_nothing, phase, cancel_requested, filename, stored_name,
    file_kind, file_size, sha256, created_at, attempts, processed_rows, checkpoint_row, created, updated, unchanged,
    skipped, rejected, ignored_columns, file_deleted_at)
    VALUES ('{status}', 'create_update', {dry_run}, {false}, 'done', {false}, '{name}', '{name}', 'csv', 60, 'aaaa',
    '2026-12-01 10:00:00+00:00', 1, {rows}, {rows} + 1, 0, {rows}, 0, 0, 0, '[]', {deleted});
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {rows})
INSERT INTO import_changes (import_id, book_id, row_number, "before", previous_import_id)
    SELECT (SELECT id FROM imports WHERE filename = '{name}'), x, {rows} + 2 - x, '{{"title": "Old"}}', NULL FROM n;
"""


def test_a_database_at_0013_upgrades_in_place_and_its_dry_runs_keep_the_changes_a_dry_run_keeps_now(
    database_url, redis_url, redis_client, tmp_path
):
    """0014: the dry runs that ended before a dry run kept 10,000 changes at most still held one per book they
    would update. Each keeps the first 10,000 in its file's order (its report says the list stops there), none
    once its file is deleted; a real import keeps every change, for undo, and a dry run still running its own."""
    from bookapp.models import ImportChange
    from bookapp.services.dry_runs import changes_listed

    empty_database(database_url)
    env = env_for(database_url, redis_url, tmp_path)
    assert flask_cli(["db", "upgrade", "0013"], env).returncode == 0
    true, false = ("1", "0") if database_url.startswith("sqlite") else ("true", "false")
    # Recorded in the order the rows were read back from the end: ids do not follow the file's order.
    run_sql(database_url, "".join(
        BEFORE_0014_IMPORT.format(name=name, status=status, dry_run=true if dry_run else false, false=false, rows=rows,
                                  deleted="'2026-12-02 10:00:00+00:00'" if deleted else "NULL")
        for name, status, dry_run, deleted, rows in BEFORE_0014_IMPORTS
    ))  # fmt: skip
    result = flask_cli(["db", "upgrade"], env)
    assert result.returncode == 0, result.stderr

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "x",
                      "TESTING": True, "UPLOAD_FOLDER": str(tmp_path / "uploads")},
                     instance_path=str(tmp_path / "instance"))  # fmt: skip
    with app.app_context():
        kept = dict(db.session.execute(
            select(Import.filename, func.count(ImportChange.id)).outerjoin(ImportChange).group_by(Import.filename)
        ).all())  # fmt: skip
        assert kept == {"big.csv": 10_000, "stopped.csv": 10_000, "expired.csv": 0, "small.csv": 3,
                        "real.csv": 10_005, "running.csv": 10_004}  # fmt: skip
        big = db.session.scalar(select(Import).where(Import.filename == "big.csv"))
        rows = db.session.execute(
            select(func.min(ImportChange.row_number), func.max(ImportChange.row_number)).where(
                ImportChange.import_id == big.id
            )
        ).one()
        assert tuple(rows) == (2, 10_001), "the first 10,000 of the file, rows 2 to 10,001"
        assert changes_listed(big).sentence() == (
            "The row-by-row report shows the changes of the first 10,000 of the 10,003 updated rows: a dry run "
            "keeps no more than that."
        )
    with app.app_context():
        db.engine.dispose()


def test_a_downgrade_keeps_every_row_that_names_an_import(database_url, redis_url, redis_client, tmp_path):
    """Downgrades rebuild the imports table on SQLite (a copy made, the old one dropped): with the app's
    foreign-key checks on, the drop deleted every problem, rejected row and change that names an import."""
    from tests.test_imports import upload

    empty_database(database_url)
    env = env_for(database_url, redis_url, tmp_path)
    assert flask_cli(["db", "upgrade"], env).returncode == 0
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "x",
                      "TESTING": True, "WTF_CSRF_ENABLED": False, "UPLOAD_FOLDER": str(tmp_path / "uploads")},
                     instance_path=str(tmp_path / "instance"))  # fmt: skip
    add_user(app, "staff@example.com")
    client = sign_in(app.test_client(), "staff@example.com")
    upload(client, csv_bytes([book_row(1), book_row(2, Price="lots")]))
    run_worker(app)
    upload(client, csv_bytes([book_row(1, Quantity="9")]), name="more.csv")
    run_worker(app)
    children = ("import_row_errors", "rejected_rows", "import_changes")

    def counted() -> dict:
        with app.app_context():
            found = {t: db.session.scalar(text(f"SELECT count(*) FROM {t}")) for t in children}
            db.session.remove()
            db.engine.dispose()
            return found

    before = counted()
    assert all(before.values()), before
    result = flask_cli(["db", "downgrade", "0010"], env)
    assert result.returncode == 0, result.stderr
    assert counted() == before


def test_a_database_with_other_tables_is_not_adopted(tmp_path, redis_url):
    database_url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    run_sql(database_url, "CREATE TABLE books (id INTEGER PRIMARY KEY, name TEXT);")
    result = flask_cli(["db", "upgrade"], env_for(database_url, redis_url, tmp_path))
    assert result.returncode != 0
    assert "not those of bookapp 0.1.0" in result.stderr and "Traceback" not in result.stderr
    with sqlite3.connect(tmp_path / "other.sqlite3") as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"books"}, "nothing was changed"


def test_a_worker_refuses_to_start_before_the_schema_is_there(tmp_path, redis_url):
    result = flask_cli(["worker", "--burst"], env_for(f"sqlite:///{tmp_path / 'none.sqlite3'}", redis_url, tmp_path))
    assert result.returncode != 0
    assert "db upgrade" in result.stderr and "Traceback" not in result.stderr


#: Processes started at once: three web processes (gunicorn workers) and three RQ workers.
WEB_PROCESSES = RQ_WORKERS = 3


def start_six(env: dict, port: int, logs: Path) -> list[subprocess.Popen]:
    """Start the web processes and the RQ workers at once, each logging to a file in *logs*."""
    commands = [["gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(WEB_PROCESSES), "wsgi:app"]]
    commands += [["flask", "--app", "wsgi", "worker"]] * RQ_WORKERS
    processes = []
    for index, command in enumerate(commands):
        with open(logs / ("web.log" if index == 0 else f"worker{index}.log"), "w") as log:  # the child keeps its copy
            processes.append(subprocess.Popen([sys.executable, "-m", *command], cwd=ROOT, env={**os.environ, **env},
                                              stdout=subprocess.DEVNULL, stderr=log, start_new_session=True))  # fmt: skip
    return processes


def stop_all(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_all_serve(port: int, redis: Redis, processes: list[subprocess.Popen], logs: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        died = [p.args for p in processes if p.poll() is not None]
        assert not died, f"{died} stopped: " + "".join(f.read_text() for f in logs.glob("*.log"))[-3000:]
        booted = (logs / "web.log").read_text().count("Booting worker")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                healthy = response.status == 200
        except OSError:  # not listening yet, 503 (HTTPError), or slow to answer while everything starts
            healthy = False
        if (healthy and booted == WEB_PROCESSES
                and Worker.count(connection=redis) == RQ_WORKERS):  # fmt: skip
            break
        time.sleep(0.2)
    else:
        pytest.fail("not every process was serving after 60 s: " + (logs / "web.log").read_text()[-2000:])
    web_log = (logs / "web.log").read_text()
    assert "Traceback" not in web_log and "Worker failed to boot" not in web_log
    for f in logs.glob("worker*.log"):
        assert "Traceback" not in f.read_text(), f.read_text()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("built", [False, True], ids=["fresh-database", "built-database"])
def test_six_processes_started_at_once_all_start_and_serve(built, postgres_url, redis_url, redis_client, tmp_path):
    url = postgres_url
    if not url:
        from tests.conftest import skip_or_fail

        skip_or_fail("TEST_DATABASE_URL is not set")
    env = env_for(url, redis_url, tmp_path)
    if built:
        empty_database(url)
        assert flask_cli(["db", "upgrade"], env).returncode == 0
        run_sql(url, LEGACY_DATA.format(true="true", false="false", price="12.50", isbn1=isbn13(1), isbn2=isbn13(2)))
    for attempt in range(5):
        if not built:
            empty_database(url)
            upgraded = flask_cli(["db", "upgrade"], env)
            assert upgraded.returncode == 0, upgraded.stderr
        redis_client.flushdb()
        logs = tmp_path / f"run{attempt}"
        logs.mkdir()
        port = free_port()
        processes = start_six(env, port, logs)
        try:
            wait_until_all_serve(port, redis_client, processes, logs)
        finally:
            stop_all(processes)


def test_a_database_with_some_of_bookapps_tables_but_no_history_is_refused_untouched(tmp_path, redis_url):
    database_url = f"sqlite:///{tmp_path / 'partial.sqlite3'}"
    run_sql(database_url, "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);")
    result = flask_cli(["db", "upgrade"], env_for(database_url, redis_url, tmp_path))
    assert result.returncode != 0 and "table books is missing" in result.stderr
    with sqlite3.connect(tmp_path / "partial.sqlite3") as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"users"}, "nothing was created beside it"
