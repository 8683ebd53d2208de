"""Operating bookapp on several machines: a lost worker shown and resumed at once, no transaction left
open between jobs, two workers sharing PostgreSQL, Redis and an upload folder through a SIGKILL and a
Redis restarted empty.

The process tests start their own Redis (a private redis-server on a free port) where they restart it.
"""

import io
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select, text, update

from bookapp.embedded_redis import EmbeddedRedis, free_port
from bookapp.extensions import db
from bookapp.models import Book, Import, ImportChunk, Role, utcnow
from bookapp.services.import_view import LOST_PHASE
from bookapp.services.reconcile import reconcile
from tests.conftest import ROOT, build_app, sign_in, skip_or_fail, stop_worker
from tests.helpers import book_row, csv_bytes
from tests.pause_points import PausedWorker
from tests.test_access import bearer
from tests.test_browser import page, sign_in_as_staff, web_server  # noqa: F401 (fixtures)


def running_for_100_s_last_heard_30_s_ago(app, import_id: int) -> None:
    """Record the import as running for 100 s, its last heartbeat 30 s ago: as if its worker were lost."""
    now = utcnow()
    with app.app_context():
        db.session.execute(update(Import).where(Import.id == import_id).values(
            status="running", phase="saving", started_at=now - timedelta(seconds=100),
            attempt_started_at=now - timedelta(seconds=100), heartbeat_at=now - timedelta(seconds=30)))  # fmt: skip
        db.session.commit()


def started_by(redis_client, import_id: int, worker_name: str) -> None:
    """Record the import's first job as started by the worker of that name."""
    job = Job.fetch(f"import-{import_id}-0", connection=redis_client)
    job.set_status(JobStatus.STARTED)
    job.worker_name = worker_name
    job.save()


def upload(client, headers, rows: list, name: str = "books.csv") -> int:
    response = client.post("/api/v1/imports", headers=headers,
                           data={"file": (io.BytesIO(csv_bytes(rows)), name)})  # fmt: skip
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


#: What the page says of an import whose worker stopped answering (the API's phase: LOST_PHASE).
PLAIN_LOST = (
    "paused: the worker running it stopped, and it will carry on from the last rows it saved as soon as a "
    "worker is free"
)


def test_a_running_import_whose_worker_is_gone_says_so_and_is_resumed_before_the_stale_limit(app, redis_client):
    """Its heartbeat is 30 s old (the stale limit is 60 s): the page and the API show the worker lost;
    the reconciler resumes it once RQ confirms the worker that took its job is gone, and its working
    time ends at the last heartbeat."""
    staff = bearer(app, "staff@example.com", Role.STAFF)
    client = app.test_client()
    import_id = upload(client, staff, [book_row(1)])
    running_for_100_s_last_heard_30_s_ago(app, import_id)
    shown = client.get(f"/api/v1/imports/{import_id}", headers=staff).get_json()
    assert (shown["status"], shown["phase"], shown["attempts"]) == ("running", LOST_PHASE, 1), "the API's code"
    assert shown["phase_label"] == PLAIN_LOST
    assert shown["heartbeat_age_seconds"] >= 30 and shown["heartbeat_at"]
    assert shown["working_seconds"] >= 100
    html = sign_in(app.test_client(), "staff@example.com").get(f"/imports/{import_id}").get_data(as_text=True)
    assert f'data-field="phase">{PLAIN_LOST}</span>' in html, "what happens, in a shop's words"
    assert "worker lost" not in html and "resuming" not in html
    assert re.search(r"The import has not moved on for 3\d s\. It starts again by itself", html)
    assert re.search(r"\(For the operator: attempt 1, last heartbeat 3\d s ago\.\)", html)

    started_by(redis_client, import_id, "machine-b-worker")
    redis_client.hset("rq:worker:machine-b-worker", "birth", "x")  # alive: nothing happens
    with app.app_context():
        assert reconcile()["requeued"] == []
    redis_client.delete("rq:worker:machine-b-worker")  # its key expired: gone
    with app.app_context():
        assert reconcile()["requeued"] == [import_id]
        imp = db.session.get(Import, import_id)
        assert (imp.status, imp.attempts, imp.attempt_started_at) == ("queued", 1, None)
        assert 69 <= imp.working_seconds <= 71, "worked from its claim to its last heartbeat (70 s)"


def test_a_succeeded_imports_abandoned_attempt_leaves_the_failed_registry(app, redis_client, caplog):
    from bookapp.services.reconcile import clear_superseded_failures

    staff = bearer(app, "staff@example.com", Role.STAFF)
    import_id = upload(app.test_client(), staff, [book_row(1)])
    registry = FailedJobRegistry(app.config["IMPORT_QUEUE"], connection=redis_client)
    for attempt in (0, 1):
        job = Job.create("bookapp.tasks.run_import", args=[import_id], id=f"import-{import_id}-{attempt}",
                         connection=redis_client)  # fmt: skip
        job.save()
        registry.add(job, ttl=600)
    with app.app_context():
        db.session.execute(update(Import).where(Import.id == import_id).values(status="succeeded", attempts=2))
        db.session.commit()
        with caplog.at_level("INFO", "bookapp"):
            assert sorted(clear_superseded_failures()) == [f"import-{import_id}-0", f"import-{import_id}-1"]
    assert registry.get_job_ids() == []
    assert f"event=failed-job-cleared job=import-{import_id}-0" in caplog.text


# Real processes from here on: a worker started as production starts it, on PostgreSQL.
FAST = {
    "BOOKAPP_HEARTBEAT_SECONDS": "1",
    "BOOKAPP_RECONCILE_SECONDS": "1",
    "BOOKAPP_QUEUED_GRACE_SECONDS": "3",
    "BOOKAPP_LOST_HEARTBEAT_SECONDS": "5",
    "BOOKAPP_IMPORT_CHUNK_SIZE": "2000",
}


@pytest.fixture
def pg_url(postgres_url):
    if not postgres_url:
        skip_or_fail("TEST_DATABASE_URL is not set")
    return postgres_url


def worker_env(app, redis_url: str, upload_folder: Path, **extra) -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "UPLOAD_FOLDER": str(upload_folder),
        "SECRET_KEY": "test-secret",
        **FAST,
        **extra,
    }


def start_worker(env: dict, cwd: Path, log: Path, pause: PausedWorker | None = None) -> subprocess.Popen:
    """Start `flask worker` in *cwd* (a machine's own folder), its output in *log*."""
    args = ["--app", "wsgi", "worker"]
    command = pause.command(*args) if pause else [sys.executable, "-m", "flask", *args]
    with open(log, "ab") as out:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip


def wait_for(predicate, timeout: float = 60, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")


def import_state(client, headers, import_id: int) -> dict:
    return client.get(f"/api/v1/imports/{import_id}", headers=headers).get_json()


def transactions_left_open(app) -> list:
    """Return the connections to the test's database idle inside a transaction for over 5 seconds (an
    idle worker's rounds keep one open for moments, longer on a busy machine; a leaked one stays open)."""
    with app.app_context():
        rows = db.session.execute(text(
            "SELECT pid, application_name, state, left(query, 120) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state LIKE 'idle in transaction%' AND now() - state_change > interval '5 seconds'"
        )).all()  # fmt: skip
        db.session.remove()
    return rows


@pytest.mark.slow
@pytest.mark.postgres
def test_no_path_a_worker_runs_between_jobs_leaves_a_transaction_open(pg_url, redis_url, redis_client, tmp_path):
    """A worker runs an import (and its catch-up), resumes one whose worker vanished, enqueues one whose
    job Redis lost, and meets an abandoned job of an import that already succeeded (the failure callback
    RQ's cleanup calls): after each, no connection of it stays idle in a transaction."""
    app = build_app(pg_url, redis_url, tmp_path, QUEUED_GRACE_SECONDS=3)
    staff = bearer(app, "staff@example.com", Role.STAFF)
    client = app.test_client()
    done_id = upload(client, staff, [book_row(n) for n in range(1, 11)])
    log = tmp_path / "worker.log"
    worker = start_worker(worker_env(app, redis_url, tmp_path / "uploads"), ROOT, log)
    try:
        wait_for(lambda: import_state(client, staff, done_id)["status"] == "succeeded")
        wait_for(lambda: "sort-indexed" in log.read_text())  # the catch-up job ran
        time.sleep(6)  # maintenance rounds (reconcile, catch-up) of an idle worker, past the 5 s
        assert transactions_left_open(app) == []

        # An import its worker lost (heartbeat an hour old) and one whose job Redis forgot.
        lost_id = upload(client, staff, [book_row(n) for n in range(11, 21)])
        forgotten_id = upload(client, staff, [book_row(n) for n in range(21, 31)])
        wait_for(lambda: import_state(client, staff, forgotten_id)["status"] == "succeeded")
        with app.app_context():
            db.session.execute(update(Import).where(Import.id == lost_id).values(
                status="running", heartbeat_at=utcnow() - timedelta(hours=1), attempts=0))  # fmt: skip
            db.session.execute(update(Import).where(Import.id == forgotten_id).values(status="queued", attempts=1))
            db.session.commit()
        wait_for(lambda: all(import_state(client, staff, i)["status"] == "succeeded" for i in (lost_id, forgotten_id)))

        # The job of an import that succeeded, found abandoned in the started registry: RQ's cleanup
        # calls the failure callback through its plain Job class.
        redis_client.zadd(f"rq:wip:{app.config['IMPORT_QUEUE']}", {f"import-{done_id}-0:lost-execution": 1})
        wait_for(lambda: f"import={done_id} event=job-failure-noted" in log.read_text())
        time.sleep(6)
        assert transactions_left_open(app) == []
        assert worker.poll() is None
    finally:
        stop_worker(worker)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_pool_hands_out_the_connection_returned_last(app):
    """An import's transactions keep one connection (one SQLite page cache, still warm after each of its
    own commits) even when a request briefly took a second one: the pool gives back the latest returned."""
    with app.app_context():
        first, second = db.engine.connect(), db.engine.connect()
        kept = first.connection.driver_connection
        second.close()
        first.close()  # returned last
        for _ in range(3):
            with db.engine.connect() as connection:
                assert connection.connection.driver_connection is kept


@pytest.mark.slow
def test_a_killed_work_horse_is_reported_to_its_worker_and_its_import_resumes_at_once(database_url, redis_url,
                                                                                      redis_client, tmp_path):  # fmt: skip
    """The OOM killer's way: only the horse dies. Its worker tells the job's failure callback at once, so
    the import resumes long before its heartbeat would go stale (60 s here)."""
    app = build_app(database_url, redis_url, tmp_path, STALE_HEARTBEAT_SECONDS=60)
    staff = bearer(app, "staff@example.com", Role.STAFF)
    client = app.test_client()
    rows = 20_000
    import_id = upload(client, staff, [book_row(n) for n in range(1, rows + 1)], "big.csv")
    pause = PausedWorker(tmp_path / "pause", 4)
    log = tmp_path / "worker.log"
    env = worker_env(app, redis_url, tmp_path / "uploads", BOOKAPP_STALE_HEARTBEAT_SECONDS="60",
                     BOOKAPP_LOST_HEARTBEAT_SECONDS="60")  # fmt: skip
    worker = start_worker(env, ROOT, log, pause=pause)
    try:
        os.kill(pause.wait_paused(worker), signal.SIGKILL)
        final = wait_for(lambda: (s := import_state(client, staff, import_id))["terminal"] and s, timeout=120)
    finally:
        stop_worker(worker)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert (final["status"], final["attempts"], final["created"]) == ("succeeded", 2, rows)
    assert f"import={import_id} event=reconcile-requeued reason='its worker process died (WorkHorseKilled)'" in (
        log.read_text()
    )


@pytest.mark.slow
@pytest.mark.postgres
def test_two_machines_share_the_work_through_a_lost_worker_and_a_redis_restarted_empty(pg_url, tmp_path, capsys):
    """Machines A and B each run a worker, with their own folder and their own path to one shared upload
    folder, on one PostgreSQL and one Redis; the web app is a third path. A is SIGKILLed (worker and
    horse: the machine is gone) while its 20,000-row import is held in its 4th chunk of 2,000; B
    resumes it after row 6,000 within BOOKAPP_STALE_HEARTBEAT_SECONDS + 15 s, the page showing the
    worker lost meanwhile. Then Redis restarts empty after 8 s away: /healthz is 200 again within 15 s
    and the next import runs."""
    shared = tmp_path / "shared-uploads"
    shared.mkdir()
    machines = {}
    for name in ("web", "a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "uploads").symlink_to(shared)  # a mount of the shared folder, at its own path
        machines[name] = tmp_path / name
    port = free_port()
    server = EmbeddedRedis(tmp_path / "redis", port=port, persistent=False).start()
    stale_limit = 60  # the default: a lost worker is found well before it
    app = build_app(pg_url, server.url, tmp_path, UPLOAD_FOLDER=str(machines["web"] / "uploads"),
                    LOST_HEARTBEAT_SECONDS=5, STALE_HEARTBEAT_SECONDS=stale_limit)  # fmt: skip
    staff = bearer(app, "staff@example.com", Role.STAFF)
    client = app.test_client()
    logs = {name: tmp_path / f"worker-{name}.log" for name in ("a", "b")}
    env = {name: worker_env(app, server.url, machines[name] / "uploads") for name in ("a", "b")}
    pause = PausedWorker(tmp_path / "pause", 4)
    workers = {}
    try:
        workers["a"] = start_worker(env["a"], machines["a"], logs["a"], pause=pause)
        rows = 20_000
        big = upload(client, staff, [book_row(n) for n in range(1, rows + 1)], "big.csv")
        horse = pause.wait_paused(workers["a"])
        workers["b"] = start_worker(env["b"], machines["b"], logs["b"])
        small = [upload(client, staff, [book_row(n) for n in range(100_001 + k * 500, 100_501 + k * 500)], f"s{k}.csv")
                 for k in range(2)]  # fmt: skip
        for import_id in small:
            wait_for(lambda i=import_id: import_state(client, staff, i)["status"] == "succeeded")
        held = import_state(client, staff, big)
        assert (held["status"], held["processed_rows"], held["attempts"]) == ("running", 6_000, 1)

        os.killpg(workers["a"].pid, signal.SIGKILL)  # machine A is gone: its worker and its horse
        os.kill(horse, signal.SIGKILL)
        workers["a"].wait()
        killed = time.monotonic()
        lost = wait_for(lambda: (s := import_state(client, staff, big))["phase"] == LOST_PHASE and s, timeout=30)
        assert lost["status"] == "running" and lost["heartbeat_age_seconds"] >= 5
        wait_for(lambda: import_state(client, staff, big)["attempts"] == 2, timeout=stale_limit + 15)
        resumed_after = time.monotonic() - killed
        final = wait_for(lambda: (s := import_state(client, staff, big))["terminal"] and s, timeout=120)
        assert final["status"] == "succeeded", final["error"]
        assert (final["processed_rows"], final["created"], final["updated"], final["rejected"]) == (rows, rows, 0, 0)
        assert final["elapsed_seconds"] - final["working_seconds"] >= 5, "the time the lost worker cost is not work"
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Book)) == rows + 1_000
            covered = db.session.scalar(select(func.sum(ImportChunk.last_row - ImportChunk.first_row + 1))
                                        .where(ImportChunk.import_id == big))  # fmt: skip
            assert covered == rows, "each row recorded once"
            db.session.remove()
        b_log = logs["b"].read_text()
        assert re.search(rf"import={big} event=reconcile-requeued reason=.*(is gone|AbandonedJobError)", b_log), b_log
        # A's abandoned job leaves the failed registry: the import succeeded on its next attempt.
        wait_for(lambda: f"event=failed-job-cleared job=import-{big}-0" in logs["b"].read_text(), timeout=60)
        assert f"import-{big}-0" not in FailedJobRegistry(app.config["IMPORT_QUEUE"],
                                                           connection=redis_of(server)).get_job_ids()  # fmt: skip

        # Redis restarts empty after 8 s away (long enough for RQ's own backoff to reach 8 s).
        server.stop()
        time.sleep(8)
        server = EmbeddedRedis(tmp_path / "redis", port=port, persistent=False).start()
        back = time.monotonic()
        wait_for(lambda: client.get("/healthz").status_code == 200, timeout=15)
        healthy_after = time.monotonic() - back
        assert client.get("/healthz").get_json()["workers"] == 1, "B alone: A's registration went with Redis"
        after = upload(client, staff, [book_row(n) for n in range(200_001, 201_001)], "after.csv")
        done = wait_for(lambda: (s := import_state(client, staff, after))["terminal"] and s, timeout=60)
        assert (done["status"], done["created"]) == ("succeeded", 1_000)
        outage = logs["b"].read_text()[len(b_log) :]
        assert outage.count("event=redis-unavailable") == 1 and outage.count("event=redis-back") == 1, outage
        assert "could not connect to Redis instance" not in outage and "event=registered-again" in outage
        assert workers["b"].poll() is None
        with capsys.disabled():
            print(f"\n  measured: resumed {resumed_after:.1f} s after the SIGKILL (stale limit {stale_limit} s); "
                  f"/healthz 200 {healthy_after:.1f} s after Redis came back")  # fmt: skip
    finally:
        for worker in workers.values():
            stop_worker(worker)
        server.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def redis_of(server):
    from redis import Redis

    return Redis.from_url(server.url)


@pytest.mark.browser
@pytest.mark.slow
def test_the_import_page_shows_the_worker_lost_as_it_happens(sqlite_app, web_server, page):  # noqa: F811
    """The page, open while the import runs, says the import paused, and how it goes on, when its heartbeat
    stops."""
    from playwright.sync_api import expect

    staff = bearer(sqlite_app, "staff@example.com", Role.STAFF)
    import_id = upload(sqlite_app.test_client(), staff, [book_row(1)])

    def beat(seconds_ago: int) -> None:
        now = utcnow()
        with sqlite_app.app_context():
            db.session.execute(update(Import).where(Import.id == import_id).values(
                status="running", phase="saving", started_at=now - timedelta(seconds=60),
                attempt_started_at=now - timedelta(seconds=60), heartbeat_at=now - timedelta(seconds=seconds_ago)))  # fmt: skip
            db.session.commit()

    beat(1)
    sign_in_as_staff(page, web_server)
    page.goto(f"{web_server}/imports/{import_id}")
    liveness = page.locator("[data-field=liveness]")
    expect(page.locator("[data-field=phase]")).to_have_text("saving")
    expect(liveness).to_be_hidden()  # all is well: nothing said of heartbeats to a shop's staff
    beat(40)  # the worker stops beating
    expect(page.locator("[data-field=phase]")).to_have_text(PLAIN_LOST)
    expect(liveness).to_have_text(re.compile(r"The import has not moved on for 4\d s\. .*last heartbeat 4\d s ago"))


def test_what_the_page_says_of_a_stopped_worker_fits_how_the_import_starts_again():
    """An import that stopped answering starts again after its last saved rows; all or nothing (one
    transaction) and an Add to stock dry run (its totals lived in the run that stopped) start from the file's
    first row, and neither has saved rows to keep."""
    from bookapp.services.import_view import LOST_PHASE, liveness_words

    assert liveness_words("saving", 3.0, 1) == ""
    assert liveness_words(LOST_PHASE, 41.0, 1).startswith(
        "The import has not moved on for 41 s. It starts again by itself from where it stopped; nothing it saved "
        "is lost."
    )
    again = liveness_words(LOST_PHASE, 41.0, 1, resumes=False, saves=False)
    assert again.startswith(
        "The import has not moved on for 41 s. It starts again by itself from the file's first row."
    )
    assert "saved" not in again and "(For the operator: attempt 1, last heartbeat 41 s ago.)" in again


def test_the_phase_of_a_stopped_worker_says_how_the_import_goes_on():
    """The page's phase beside the liveness line says the same: an import carries on from its last saved rows,
    a dry run from where it stopped, all or nothing and an Add to stock dry run from the file's first row."""
    from bookapp.services.import_view import LOST_PHASE, phase_label

    assert phase_label(LOST_PHASE) == PLAIN_LOST
    assert phase_label(LOST_PHASE, saves=False).endswith(
        "it will carry on from where it stopped as soon as a worker is free"
    )
    assert phase_label(LOST_PHASE, resumes=False, saves=False).endswith(
        "it will start again from the file's first row as soon as a worker is free"
    )
    assert phase_label("saving") == "saving"
