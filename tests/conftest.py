"""Fixtures: a real Redis, real SQLite and PostgreSQL databases, the app, signed-in clients."""

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from redis import Redis
from sqlalchemy.engine import make_url

from bookapp import create_app
from bookapp.config import normalise_database_url
from bookapp.embedded_redis import EmbeddedRedis, free_port
from bookapp.extensions import db, limiter
from bookapp.models import Role
from bookapp.queue import make_worker
from bookapp.services.reconcile import between_jobs
from bookapp.services.setup import create_user, reset_database
from tests.pause_points import chunk_record_hook

ROOT = Path(__file__).resolve().parent.parent
#: In CI every test must run: a skip (no PostgreSQL, no browser) fails the run.
STRICT = os.environ.get("BOOKAPP_TEST_STRICT") == "1"
PASSWORD = "correct horse battery"


def skip_or_fail(reason: str):
    """Skip a test whose service is missing, or fail it when BOOKAPP_TEST_STRICT=1."""
    if STRICT:
        pytest.fail(f"{reason} (BOOKAPP_TEST_STRICT=1 forbids skipping)")
    pytest.skip(reason)


_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if STRICT and _skipped and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if STRICT and _skipped:
        terminalreporter.write_line(
            f"BOOKAPP_TEST_STRICT=1: {len(_skipped)} test(s) skipped, failing the run", red=True
        )


def worker_number(worker_id: str) -> int:
    """Return which parallel test process this is (pytest-xdist's gw0, gw1, …), 0 when not parallel."""
    return int(worker_id.removeprefix("gw")) if worker_id.startswith("gw") else 0


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory, worker_id):
    """A Redis for the tests: REDIS_URL when set, else a private server on a free port.

    Parallel test processes (`-n N`) each take their own database of REDIS_URL's server, counting down
    from the one it names (15, 14, … for redis://…/15), since every test flushes its database.
    """
    url = os.environ.get("REDIS_URL")
    if url:
        parsed = make_url_for_redis(url, worker_number(worker_id))
        yield parsed
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), port=free_port(), persistent=False).start()
    yield server.url
    server.stop()


@pytest.fixture(autouse=True)
def own_import_queue(monkeypatch):
    """Give each test's jobs a queue of their own (the app and every process a test starts read it from the
    environment): a worker an earlier test left behind, whose stop can outlast its test on a loaded
    machine, can never take a later test's jobs."""
    monkeypatch.setenv("BOOKAPP_IMPORT_QUEUE", f"imports-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def redis_client(redis_url):
    client = Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


def make_url_for_redis(url: str, number: int) -> str:
    """Return *url* with its database number lowered by *number* (a parallel test process's own database)."""
    base, _, db_number = url.rpartition("/")
    if not number:
        return url
    if not db_number.isdigit() or int(db_number) < number:
        raise pytest.UsageError(
            f"REDIS_URL must end in a database number of at least {number} to run tests in parallel"
        )
    return f"{base}/{int(db_number) - number}"


@pytest.fixture(scope="session")
def postgres_url(worker_id) -> str | None:
    """TEST_DATABASE_URL, or for each parallel test process a database of its own beside it (made if missing)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    url = make_url(normalise_database_url(url))
    if not worker_id.startswith("gw"):
        return url.render_as_string(hide_password=False)
    own = url.set(database=f"{url.database}_{worker_id}")
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as connection:  # fmt: skip
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (own.database,)).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{own.database}"')
    return own.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path, postgres_url):
    """Each test using it runs on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    if not postgres_url:
        skip_or_fail("TEST_DATABASE_URL is not set")
    return postgres_url


def build_app(database_url: str, redis_url: str, tmp_path: Path, **overrides):
    """Return an app on fresh tables, with its own upload folder."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "RQ_DASHBOARD_REDIS_URL": redis_url,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "WTF_CSRF_ENABLED": False,
        **overrides,
    }
    app = create_app(config, instance_path=str(tmp_path / "instance"))
    # One Limiter serves every app made in this process, and a test with Redis down leaves it
    # counting in memory until a later check finds Redis again (which then starts from zero).
    limiter._storage_dead = False
    with app.app_context():
        reset_database()
    return app


@pytest.fixture
def app(database_url, redis_url, redis_client, tmp_path):
    app = build_app(database_url, redis_url, tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def sqlite_app(redis_url, redis_client, tmp_path):
    """An app on SQLite only, for tests where the database makes no difference."""
    app = build_app(f"sqlite:///{tmp_path / 'test.sqlite3'}", redis_url, tmp_path)
    yield app
    with app.app_context():
        db.engine.dispose()


def sign_in(client, email: str, password: str = PASSWORD):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def add_user(app, email: str, role: Role = Role.STAFF):
    with app.app_context():
        create_user(email, PASSWORD, role)


@pytest.fixture
def staff_client(app):
    add_user(app, "staff@example.com")
    return sign_in(app.test_client(), "staff@example.com")


def run_worker(app) -> None:
    """Run every queued job in this process, then return (SimpleWorker, burst mode)."""
    make_worker(app, simple=True, maintenance=between_jobs).work(burst=True, logging_level="WARNING")


def flask_cli(args: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    """Run `flask --app wsgi ARGS` in a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def stop_worker(worker: subprocess.Popen) -> None:
    """Stop a worker subprocess and its work horse, whatever state they are in."""
    horses = children(worker.pid) if worker.poll() is None else []
    with contextlib.suppress(ProcessLookupError):  # it may have ended already
        own_group = os.getpgid(worker.pid) == worker.pid  # started with start_new_session=True
        if worker.poll() is None:
            if own_group:
                os.killpg(worker.pid, signal.SIGTERM)
            else:
                worker.terminate()
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                if own_group:
                    os.killpg(worker.pid, signal.SIGKILL)
                worker.kill()
                worker.wait()
    for horse in horses:
        with contextlib.suppress(ProcessLookupError):
            os.kill(horse, signal.SIGKILL)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@contextlib.contextmanager
def after_chunk_saved(app, action, nth: int = 1):
    """Run *action(cursor)* once, right after an import writes its *nth* chunk record (in the chunk's
    transaction, before its commit): a pause point for tests, where a row count would depend on this
    machine's speed. (A worker in another process pauses through tests.pause_points.PausedWorker.)"""
    with app.app_context():
        engine = db.engine
    with chunk_record_hook(engine, action, nth):
        yield
