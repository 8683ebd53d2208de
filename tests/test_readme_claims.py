"""What the README promises and no other test checked: make run, production cookies, giving up after
BOOKAPP_MAX_ATTEMPTS, a superseded run stopping, reconcile --loop and export-books --q."""

import io
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta

import pytest
from rq import Queue
from sqlalchemy import update

from bookapp import create_app
from bookapp.embedded_redis import free_port
from bookapp.extensions import db
from bookapp.models import Book, Import, ImportStatus, utcnow
from bookapp.services.reconcile import reconcile
from tests.conftest import (
    PASSWORD,
    ROOT,
    add_user,
    after_chunk_saved,
    build_app,
    flask_cli,
    run_worker,
    sign_in,
    skip_or_fail,
)
from tests.helpers import book_row, csv_bytes


def upload(client, rows, name="books.csv") -> int:
    response = client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes(rows)), name)},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.location.rsplit("/", 1)[1])


def env_for(app, redis_url) -> dict:
    return {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": redis_url,
            "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"], "SECRET_KEY": "test-secret"}  # fmt: skip


def test_production_sends_session_cookies_only_over_https(sqlite_app, monkeypatch, tmp_path):
    add_user(sqlite_app, "staff@example.com")
    monkeypatch.setenv("BOOKAPP_ENV", "production")
    production = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_app.config["SQLALCHEMY_DATABASE_URI"],
                             "REDIS_URL": sqlite_app.config["REDIS_URL"], "SECRET_KEY": secrets.token_hex(32),
                             "WTF_CSRF_ENABLED": False}, instance_path=str(tmp_path / "production"))  # fmt: skip
    response = production.test_client().post("/login", data={"email": "staff@example.com", "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    development = sqlite_app.test_client().post("/login", data={"email": "staff@example.com", "password": PASSWORD})
    assert "Secure" not in development.headers["Set-Cookie"], "the development server runs on plain HTTP"


def test_an_import_whose_worker_keeps_dying_is_given_up_after_max_attempts(app, staff_client):
    import_id = upload(staff_client, [book_row(1)])
    app.config["MAX_ATTEMPTS"] = 3
    with app.app_context():
        for attempt in range(3):  # its worker died during each attempt: the heartbeat went stale
            stale = utcnow() - timedelta(seconds=app.config["STALE_HEARTBEAT_SECONDS"] + 5)
            db.session.execute(update(Import).where(Import.id == import_id).values(
                status=ImportStatus.RUNNING.value, heartbeat_at=stale, started_at=stale))  # fmt: skip
            db.session.commit()
            done = reconcile()
            expected = "failed" if attempt == 2 else "requeued"
            assert done[expected] == [import_id], (attempt, done)
        imp = db.session.get(Import, import_id)
        assert imp.status == "failed" and imp.attempts == 2
        assert imp.error.startswith("The import was given up after 3 attempts")


@pytest.mark.postgres
def test_a_run_superseded_by_a_later_attempt_stops_without_counting_twice(postgres_url, redis_url, redis_client,
                                                                         tmp_path):  # fmt: skip
    """While the first run saves its first chunk, the reconciler gives the import to another attempt.

    PostgreSQL only: on SQLite the take-over would wait for the run's write lock, so it cannot happen mid-chunk."""
    if not postgres_url:
        skip_or_fail("TEST_DATABASE_URL is not set")
    app = build_app(postgres_url, redis_url, tmp_path, IMPORT_CHUNK_SIZE=10)
    add_user(app, "staff@example.com")
    import_id = upload(sign_in(app.test_client(), "staff@example.com"), [book_row(n) for n in range(1, 51)])
    with app.app_context():
        engine = db.engine

    def take_over(cursor):
        with engine.connect() as other:  # another process's transaction: the attempt is bumped
            other.execute(update(Import).where(Import.id == import_id).values(attempts=Import.attempts + 1))
            other.commit()

    with after_chunk_saved(app, take_over):
        run_worker(app)
    with app.app_context():
        imp = db.session.get(Import, import_id)
        assert imp.status == "running" and imp.attempts == 1, "the superseded run left the import to the new one"
        assert imp.processed_rows == 0 and imp.created == 0, "its chunk was rolled back, not counted"
        assert db.session.query(Book).count() == 0
        db.session.remove()  # give its connection back before the pool is closed: none is left open
        db.engine.dispose()


def test_export_books_exports_what_a_search_finds(sqlite_app, redis_url, tmp_path):
    client = sign_in_staff(sqlite_app)
    upload(
        client, [book_row(1, Title="The Storm"), book_row(2, Title="Quiet Harbour"), book_row(3, Title="Storm Light")]
    )
    run_worker(sqlite_app)
    result = flask_cli(["export-books", "--q", "storm"], env_for(sqlite_app, redis_url))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Title,Author,Book type,ISBN")
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["Storm Light", "The Storm"]


def test_reconcile_loop_queues_again_what_redis_forgot_until_stopped(sqlite_app, redis_url, redis_client):
    client = sign_in_staff(sqlite_app)
    import_id = upload(client, [book_row(1)])
    redis_client.flushdb()  # Redis restarted empty: the job is gone, the import still says queued
    env = {**env_for(sqlite_app, redis_url), "BOOKAPP_QUEUED_GRACE_SECONDS": "0", "BOOKAPP_RECONCILE_SECONDS": "1",
           "BOOKAPP_IMPORT_QUEUE": sqlite_app.config["IMPORT_QUEUE"]}  # fmt: skip
    loop = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "reconcile", "--loop"], cwd=ROOT,
                            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline and not Queue(sqlite_app.config["IMPORT_QUEUE"], connection=redis_client).count
        ):
            time.sleep(0.2)
        assert Queue(sqlite_app.config["IMPORT_QUEUE"], connection=redis_client).job_ids == [f"import-{import_id}-1"]
        assert loop.poll() is None, "it keeps going"
    finally:
        loop.send_signal(signal.SIGINT)
        loop.wait(30)
    run_worker(sqlite_app)
    with sqlite_app.app_context():
        assert db.session.get(Import, import_id).status == "succeeded"


def sign_in_staff(app):
    add_user(app, "staff@example.com")
    return sign_in(app.test_client(), "staff@example.com")


@pytest.mark.slow
def test_make_run_serves_everything_and_ctrl_c_leaves_nothing_running(tmp_path, redis_url):
    """`make run` (bookapp.serve) with a real Redis: the schema, the workers, the web; Ctrl-C stops them all."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "REDIS_URL": redis_url, "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
           "UPLOAD_FOLDER": str(tmp_path / "uploads"), "BOOKAPP_ADMIN_EMAIL": "", "SECRET_KEY": "s" * 64}  # fmt: skip
    serve = subprocess.Popen([sys.executable, "-m", "bookapp.serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    lines: list[str] = []
    reading = threading.Thread(target=lambda: [lines.append(line) for line in serve.stdout], daemon=True)
    reading.start()
    try:
        deadline, health = time.monotonic() + 90, None
        while time.monotonic() < deadline and health != 200:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    health = response.status
            except OSError:
                time.sleep(0.3)
        assert health == 200, "the web answers, with the database, Redis and a worker all there"
        children = _descendants(serve.pid)
        assert len(children) >= 4, "gunicorn, its processes and the workers"
        commands = [_command(pid) for pid in children]
        assert any("worker --role imports" in c for c in commands), commands
        assert any("worker --role indexes" in c for c in commands), "the indexes' catch-ups have a worker of their own"
        deadline = time.monotonic() + 60  # Ctrl-C once it says it is running, as a person would
        while time.monotonic() < deadline and not any("Press Ctrl-C" in line for line in lines):
            time.sleep(0.1)
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(60)
        reading.join(10)
    output = "".join(lines)
    assert "bookapp is running at" in output and "Sign in as admin@example.com" in output
    banner = output.index("bookapp is running at")
    for start_line in ("Booting worker", "Listening on imports", "Listening on", "Control socket listening"):
        assert output.rindex(start_line) < banner, f"how to sign in scrolls away under {start_line!r}"
    assert f"/gunicorn-{port}.ctl" in output, "a control socket of its own, not one per user"
    assert output.rstrip().endswith("Stopped.")
    # The last of them may have been sent SIGKILL just now, and a killed process takes a moment to end.
    left, deadline = children, time.monotonic() + 30
    while (left := [pid for pid in left if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == [], "Ctrl-C left processes running"


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        path = f"/proc/{todo.pop()}/task"
        if not os.path.isdir(path):
            continue
        for task in os.listdir(path):
            with open(f"{path}/{task}/children") as fh:
                kids = [int(k) for k in fh.read().split()]
            found += kids
            todo += kids
    return found


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline") as fh:
            return fh.read().replace("\0", " ")
    except FileNotFoundError:
        return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_the_settings_table_gives_the_defaults_the_code_has():
    """Each number the README's settings table gives as a default is the code's own (one had drifted)."""
    import re

    from bookapp import config

    readme = (ROOT / "README.md").read_text()
    checked = 0
    for line in readme.splitlines():
        if not line.startswith("| `"):
            continue
        names, defaults = [cell.strip() for cell in line.strip("|").split("|")][:2]
        for name, default in zip(re.findall(r"`(\w+)`", names), defaults.split(" (")[0].split(", "), strict=False):
            constant = getattr(config, name.removeprefix("BOOKAPP_"), None)
            if isinstance(constant, int) and re.fullmatch(r"\d+", default):
                assert int(default) == constant, name
                checked += 1
    sizes = config.IMPORT_CHUNK_SIZES
    assert (
        f"| `BOOKAPP_IMPORT_CHUNK_SIZE` | {sizes['sqlite']} on SQLite, {sizes['postgresql']} on PostgreSQL |" in readme
    )
    assert checked >= 12
