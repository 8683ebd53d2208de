"""Real processes: the flask commands and a forked `flask worker` against real Redis and databases."""

import io
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from bookapp.extensions import db
from bookapp.models import Book, User
from tests.conftest import PASSWORD, ROOT, add_user, build_app, flask_cli, sign_in, stop_worker
from tests.helpers import book_row, csv_bytes

pytestmark = pytest.mark.slow


def env_for(app, redis_url) -> dict:
    return {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
        "SECRET_KEY": "test-secret",
        "BOOKAPP_IMPORT_QUEUE": app.config["IMPORT_QUEUE"],
    }


def test_a_forked_worker_subprocess_runs_the_import(app, redis_url):
    add_user(app, "staff@example.com")
    client = sign_in(app.test_client(), "staff@example.com")
    response = client.post(
        "/imports/new",
        data={"file": (io.BytesIO(csv_bytes([book_row(n) for n in range(1, 501)])), "books.csv")},
        content_type="multipart/form-data",
    )
    result = flask_cli(["worker", "--burst"], env_for(app, redis_url))
    assert result.returncode == 0, result.stderr
    state = client.get(response.location + ".json").get_json()
    assert state["status"] == "succeeded" and state["created"] == 500
    # Its log says what it did, not that it cleaned its queues' registries: it does that at every maintenance,
    # every 10 s, and those lines pushed the first start's sign-in (shown once) off the screen.
    assert f"import={state['id']} event=finished status=succeeded" in result.stderr
    assert "cleaning registries" not in result.stdout + result.stderr, result.stdout
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Book)) == 500


def test_create_admin_and_create_token_give_a_working_token(sqlite_app, redis_url):
    env = env_for(sqlite_app, redis_url)
    created = flask_cli(["create-admin", "boss@example.com"], env, input="a long password\n")
    assert created.returncode == 0, created.stderr
    assert sign_in(sqlite_app.test_client(), "boss@example.com", "a long password")

    token = flask_cli(["create-token", "boss@example.com"], env)
    assert token.returncode == 0, token.stderr
    last_line = token.stdout.strip().splitlines()[-1]
    response = sqlite_app.test_client().get("/api/v1/books", headers={"Authorization": f"Bearer {last_line}"})
    assert response.status_code == 200 and response.get_json()["total"] == 0

    unknown = flask_cli(["create-token", "nobody@example.com"], env)
    assert unknown.returncode != 0 and "There is no user nobody@example.com" in unknown.stderr


def test_the_first_start_creates_the_admin_from_the_environment(redis_url, redis_client, tmp_path):
    env = {"BOOKAPP_ADMIN_EMAIL": "first@example.com", "BOOKAPP_ADMIN_PASSWORD": PASSWORD}
    app = build_app(f"sqlite:///{tmp_path / 'first.sqlite3'}", redis_url, tmp_path,
                    ADMIN_EMAIL=env["BOOKAPP_ADMIN_EMAIL"], ADMIN_PASSWORD=PASSWORD)  # fmt: skip
    result = flask_cli(["init-db"], {**env_for(app, redis_url), **env})
    assert result.returncode == 0, result.stderr
    with app.app_context():
        assert [u.email for u in db.session.scalars(select(User))] == ["first@example.com"]
    sign_in(app.test_client(), "first@example.com")


def test_import_books_waits_and_exits_non_zero_when_rows_are_rejected(sqlite_app, redis_url, tmp_path):
    env = env_for(sqlite_app, redis_url)
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env={**os.environ, **env}
    )
    try:
        good = tmp_path / "good.csv"
        good.write_bytes(csv_bytes([book_row(n) for n in range(1, 11)]))
        result = flask_cli(["import-books", str(good), "--wait"], env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert '"created": 10' in result.stdout

        bad = tmp_path / "bad.csv"
        bad.write_bytes(csv_bytes([book_row(20), book_row(21, Price="free")]))
        result = flask_cli(["import-books", str(bad), "--wait"], env)
        assert result.returncode == 1 and '"rejected": 1' in result.stdout
        assert '"outcome": "succeeded with 1 rejected row"' in result.stdout
        assert "Import #2 succeeded with 1 rejected row: 1 created, 0 updated" in result.stdout
        assert "  Price is not a price: write it like 12.99: 1 row (3)" in result.stdout
        with open(f"/proc/{worker.pid}/maps") as maps:  # pandas (about 30 MB) is for profiling columns only
            assert "/pandas/" not in maps.read(), "a worker that imports runs without pandas"
    finally:
        stop_worker(worker)


def test_cli_undo_report_and_export(sqlite_app, redis_url, tmp_path):
    from tests.conftest import run_worker

    env = env_for(sqlite_app, redis_url)
    path = tmp_path / "books.csv"
    path.write_bytes(csv_bytes([book_row(n) for n in range(1, 4)] + [book_row(4, Quantity="x")]))
    queued = flask_cli(["import-books", str(path)], env)
    assert queued.returncode == 0 and "Import #1 queued." in queued.stdout
    run_worker(sqlite_app)
    report = flask_cli(["import-report", "1"], env)
    assert report.returncode == 0 and report.stdout.count("created") == 3 and "Quantity must be" in report.stdout
    assert report.stderr.startswith("Import #1 succeeded with 1 rejected row: 3 created")
    assert "succeeded with" not in report.stdout, "the report itself stays a plain CSV"
    rejected = flask_cli(
        ["import-report", "1", "--rejected", "--format", "xlsx", "--output", str(tmp_path / "r.xlsx")], env
    )
    assert rejected.returncode == 0 and (tmp_path / "r.xlsx").stat().st_size > 0
    exported = flask_cli(["export-books"], env)
    assert exported.returncode == 0 and exported.stdout.count("\n") == 4 and "Book 3" in exported.stdout
    undone = flask_cli(["undo-import", "1"], env)
    assert undone.returncode == 0 and '"deleted": 3' in undone.stdout
    assert "Import #1 undone: 3 created" in flask_cli(["import-report", "1"], env).stderr
    twice = flask_cli(["undo-import", "1"], env)
    assert twice.returncode == 1 and "already undone" in twice.stderr
    repeated = flask_cli(["import-books", str(path)], env)
    assert repeated.returncode == 1 and "This file was imported on" in repeated.stderr
    dry = flask_cli(["import-books", str(path), "--dry-run", "--allow-repeat"], env)
    assert dry.returncode == 0 and "Import #2 queued (a dry run: it checks the file and saves nothing)." in dry.stdout
