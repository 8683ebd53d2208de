"""Real failures: workers killed mid-import, Redis restarted empty, Redis down, timeouts, double runs.

Each test uses real processes and real servers it starts itself (a private redis-server on a free
port where the test restarts it), so the shared services are not disturbed.
"""

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job
from sqlalchemy import event, func, select, update

from bookapp.embedded_redis import EmbeddedRedis, free_port
from bookapp.extensions import db
from bookapp.models import Book, Import, ImportChunk, ImportStatus, utcnow
from bookapp.services.reconcile import reconcile
from tests.conftest import ROOT, add_user, after_chunk_saved, build_app, children, run_worker, sign_in, stop_worker
from tests.helpers import book_row, csv_bytes, write_csv
from tests.pause_points import PausedWorker
from tests.test_columns_read import SHOP_HEADER, shop_row, take_list_price_first

pytestmark = pytest.mark.slow

FAST_RECOVERY = {
    "STALE_HEARTBEAT_SECONDS": 3,
    "HEARTBEAT_SECONDS": 0.5,
    "QUEUED_GRACE_SECONDS": 0,
    "RECONCILE_SECONDS": 1,
}


def env_for(app) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
        "SECRET_KEY": "test-secret",
        "BOOKAPP_STALE_HEARTBEAT_SECONDS": "3",
        "BOOKAPP_HEARTBEAT_SECONDS": "0.5",
        "BOOKAPP_QUEUED_GRACE_SECONDS": "0",
        "BOOKAPP_RECONCILE_SECONDS": "1",
        "BOOKAPP_IMPORT_CHUNK_SIZE": str(app.config["IMPORT_CHUNK_SIZE"] or ""),  # the size the test counts on
    }


def start_worker(app, *args, pause: PausedWorker | None = None, **env) -> subprocess.Popen:
    """Start `flask worker`; with *pause*, one whose import pauses at the chunk it names."""
    flask_args = ["--app", "wsgi", "worker", *args]
    command = pause.command(*flask_args) if pause else [sys.executable, "-m", "flask", *flask_args]
    return subprocess.Popen(command, cwd=ROOT, env={**env_for(app), **env}, start_new_session=True)


def state(app, import_id: int) -> Import:
    with app.app_context():
        imp = db.session.get(Import, import_id)
        db.session.expunge(imp)
        return imp


def wait_for(predicate, timeout: float = 60, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")


def book_total(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Book))


@pytest.fixture
def file_app(database_url, redis_url, redis_client, tmp_path):
    app = build_app(database_url, redis_url, tmp_path, IMPORT_CHUNK_SIZE=2000, **FAST_RECOVERY)
    add_user(app, "staff@example.com")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def upload_file(app, path: Path) -> int:
    client = sign_in(app.test_client(), "staff@example.com")
    with open(path, "rb") as fh:
        response = client.post("/imports/new", data={"file": (fh, path.name)}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.location.rsplit("/", 1)[1])


def upload_rows(app, rows: list) -> int:
    """Upload *rows* as a CSV, signed in as staff; return the import's id."""
    client = sign_in(app.test_client(), "staff@example.com")
    response = client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes(rows)), "b.csv")},
                           content_type="multipart/form-data")  # fmt: skip
    return int(response.location.rsplit("/", 1)[1])


def test_an_import_whose_worker_was_killed_resumes_after_an_upgrade_with_the_columns_it_began_with(
    file_app, tmp_path, monkeypatch
):
    """The worker is killed in the middle of the 2nd chunk (the 1st committed, its Price column read as
    the price); the import resumes in a worker whose release would read List price instead: the rest of
    the file is read from Price all the same."""
    rows = 6_000
    path = tmp_path / "shop.csv"
    path.write_bytes(csv_bytes([shop_row(n) for n in range(1, rows + 1)], header=SHOP_HEADER))
    import_id = upload_file(file_app, path)
    pause = PausedWorker(tmp_path / "pause", 2)
    worker = start_worker(file_app, pause=pause)
    try:
        horse = pause.wait_paused(worker)
        assert state(file_app, import_id).checkpoint_row == 2_001
        os.kill(worker.pid, signal.SIGKILL)
        os.kill(horse, signal.SIGKILL)
        worker.wait()
    finally:
        stop_worker(worker)
    take_list_price_first(monkeypatch)  # the release that resumes it
    with file_app.app_context():
        wait_for(lambda: reconcile()["requeued"] == [import_id], timeout=30, interval=0.5)
    run_worker(file_app)
    final = state(file_app, import_id)
    assert final.status == "succeeded", final.error
    assert (final.attempts, final.created, final.rejected) == (1, rows, 0)
    with file_app.app_context():
        stored = {title: price for title, price in db.session.execute(select(Book.title, Book.price))}
    assert stored == {f"Book {n}": Decimal(f"{10 + n}.00") for n in range(1, rows + 1)}, "every price from Price"


@pytest.mark.parametrize("victim", ["whole worker", "work horse"])
def test_a_worker_killed_mid_import_resumes_with_exact_counts(file_app, tmp_path, victim):
    """The worker is killed while its import is held in the middle of its 4th chunk of 2,000 rows: three
    chunks committed, the 4th written but not committed. The run that resumes starts after row 6,001."""
    rows = 20_000
    path = write_csv(tmp_path / "big.csv", [book_row(n) for n in range(1, rows + 1)])
    import_id = upload_file(file_app, path)
    pause = PausedWorker(tmp_path / "pause", 4)
    worker = start_worker(file_app, pause=pause)
    try:
        horse = pause.wait_paused(worker)
        assert horse in children(worker.pid), "the work horse running the import is the one held"
        killed_at = state(file_app, import_id)
        assert killed_at.status == "running"
        assert (killed_at.checkpoint_row, killed_at.processed_rows, killed_at.created) == (6_001, 6_000, 6_000)
        assert book_total(file_app) == 6_000, "the 4th chunk's books are not committed"
        if victim == "whole worker":
            os.kill(worker.pid, signal.SIGKILL)
            os.kill(horse, signal.SIGKILL)
            worker.wait()
            worker = start_worker(file_app)  # a fresh worker's reconciler finds the stale import
        else:
            os.kill(horse, signal.SIGKILL)  # what the OOM killer does; its worker goes on
        final = wait_for(lambda: (s := state(file_app, import_id)).is_terminal and s, timeout=120)
    finally:
        stop_worker(worker)
    assert final.status == "succeeded", final.error
    assert final.attempts == 1, "resumed once"
    assert (final.processed_rows, final.created, final.updated, final.unchanged, final.rejected) == (
        rows,
        rows,
        0,
        0,
        0,
    )
    assert book_total(file_app) == rows
    with file_app.app_context():
        covered = db.session.scalar(select(func.sum(ImportChunk.last_row - ImportChunk.first_row + 1))
                                    .where(ImportChunk.import_id == import_id))  # fmt: skip
    assert covered == rows, "each row recorded once"


def test_redis_restarted_empty_loses_queued_jobs_and_the_reconciler_requeues_them(database_url, tmp_path):
    port = free_port()
    server = EmbeddedRedis(tmp_path / "redis", port=port, persistent=False).start()
    try:
        app = build_app(database_url, server.url, tmp_path, **FAST_RECOVERY)
        add_user(app, "staff@example.com")
        client = sign_in(app.test_client(), "staff@example.com")
        ids = []
        for n in range(3):
            body = csv_bytes([book_row(n * 10 + k) for k in range(1, 6)])
            response = client.post("/imports/new", data={"file": (io.BytesIO(body), f"f{n}.csv")},
                                   content_type="multipart/form-data")  # fmt: skip
            ids.append(int(response.location.rsplit("/", 1)[1]))
        server.stop()
        server = EmbeddedRedis(tmp_path / "redis", port=port, persistent=False).start()
        assert Queue(app.config["IMPORT_QUEUE"], connection=server_client(server)).count == 0, "jobs are gone"
        with app.app_context():
            assert sorted(reconcile()["requeued"]) == ids
        run_worker(app)
        assert [state(app, i).status for i in ids] == ["succeeded"] * 3
        assert book_total(app) == 15
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


def server_client(server):
    from redis import Redis

    return Redis.from_url(server.url)


def test_an_upload_while_redis_is_down_runs_once_redis_is_back(database_url, tmp_path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    app = build_app(database_url, url, tmp_path, **FAST_RECOVERY)
    add_user(app, "staff@example.com")
    client = sign_in(app.test_client(), "staff@example.com")
    response = client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes([book_row(1)])), "b.csv")},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 302
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["redis"] == "unavailable"
    page = client.get(response.location)
    assert page.status_code == 200 and "queued" in page.get_data(as_text=True)
    assert "The queue (Redis) is unavailable right now" in page.get_data(as_text=True)
    server = EmbeddedRedis(tmp_path / "redis", port=port, persistent=False).start()
    try:
        run_worker(app)  # the worker's reconciler enqueues it, then the worker runs it
        assert client.get(response.location + ".json").get_json()["status"] == "succeeded"
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


def stop_all(worker: subprocess.Popen, server: EmbeddedRedis, app) -> None:
    """Stop a test's worker, then its Redis, and close the app's database connections."""
    stop_worker(worker)
    server.stop()
    with app.app_context():
        db.engine.dispose()


OUTAGES = {
    "stopped, back empty": "Redis stops and comes back empty (one that keeps nothing on disk)",
    "stopped, back with its data": "Redis stops and comes back with its append-only file",
    "not answering": "Redis hangs (a machine or network away): every call waits out the client's timeout",
}


@pytest.mark.parametrize("outage", list(OUTAGES))
def test_redis_away_while_an_import_runs_the_import_ends_once_and_the_worker_takes_the_next(
    database_url, tmp_path, outage
):
    """Redis goes away while a worker's import is between two chunks: the import needs only the database,
    so it goes on to the end, once; the worker outlives the outage (RQ's own worker ends when it cannot
    record a job's end) and runs the next upload once Redis is back. A job whose end Redis could not
    record and still shows as started is failed, saying why."""
    port = free_port()
    persistent = outage == "stopped, back with its data"
    server = EmbeddedRedis(tmp_path / "redis", port=port, persistent=persistent).start()
    app = build_app(database_url, server.url, tmp_path, IMPORT_CHUNK_SIZE=2000, **FAST_RECOVERY)
    add_user(app, "staff@example.com")
    rows = 20_000
    import_id = upload_file(app, write_csv(tmp_path / "big.csv", [book_row(n) for n in range(1, rows + 1)]))
    pause = PausedWorker(tmp_path / "pause", 3, committed=True)
    worker = start_worker(app, pause=pause)
    try:
        horse = pause.wait_paused(worker)
        if outage == "not answering":
            os.kill(server.process.pid, signal.SIGSTOP)
        else:
            server.stop()
        pause.release()
        final = wait_for(lambda: (s := state(app, import_id)).is_terminal and s, timeout=120)
        if outage != "not answering":  # the horse meets the outage recording the job's end, and exits
            wait_for(lambda: horse not in children(worker.pid), timeout=60)
        time.sleep(12 if outage == "not answering" else 2)  # the worker meets the outage at the job's end
        assert worker.poll() is None, "the worker outlives the outage"
        if outage == "not answering":
            os.kill(server.process.pid, signal.SIGCONT)
        else:
            server = EmbeddedRedis(tmp_path / "redis", port=port, persistent=persistent).start()
        later = write_csv(tmp_path / "later.csv", [book_row(n) for n in range(rows + 1, rows + 6)])
        next_id = upload_file(app, later)
        after = wait_for(lambda: (s := state(app, next_id)).is_terminal and s, timeout=120)
        kept = outage != "stopped, back empty"  # the first job's record: failed, saying why
        job = Job.fetch(f"import-{import_id}-0", connection=server_client(server)) if kept else None
        recorded = (job.get_status(), job.latest_result().exc_string) if job else None
        total = book_total(app)
    finally:
        stop_all(worker, server, app)
    assert final.status == "succeeded", final.error
    assert final.attempts == 0, "run once: nothing ran it again"
    assert (final.processed_rows, final.created, final.rejected) == (rows, rows, 0)
    assert after.status == "succeeded" and after.created == 5, after.error
    assert total == rows + 5
    unrecorded = ("failed", True)  # failed, saying why
    if outage == "stopped, back with its data":  # the job's horse ended while Redis was down
        assert (recorded[0], "Redis was unavailable when this job ended" in (recorded[1] or "")) == unrecorded
    elif recorded:  # the horse's last call waited for Redis, which answered it in the end: recorded as it was
        assert recorded[0] == "finished", recorded


def test_a_worker_asked_to_stop_while_redis_is_away_ends_its_import_then_stops_cleanly(database_url, tmp_path):
    """A warm stop (SIGTERM) while Redis is away and the import runs: the worker cannot note the request
    in Redis, which must not break its wait for the horse; the import ends, then the worker exits with
    status 0 and no traceback, without waiting for Redis to come back."""
    server = EmbeddedRedis(tmp_path / "redis", port=free_port(), persistent=False).start()
    app = build_app(database_url, server.url, tmp_path, IMPORT_CHUNK_SIZE=2000, **FAST_RECOVERY)
    add_user(app, "staff@example.com")
    rows = 10_000
    import_id = upload_file(app, write_csv(tmp_path / "big.csv", [book_row(n) for n in range(1, rows + 1)]))
    pause = PausedWorker(tmp_path / "pause", 2, committed=True)
    worker = subprocess.Popen(pause.command("--app", "wsgi", "worker"), cwd=ROOT, env=env_for(app),
                              start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        pause.wait_paused(worker)
        server.stop()
        os.kill(worker.pid, signal.SIGTERM)
        time.sleep(1)
        pause.release()
        output, _ = worker.communicate(timeout=60)
        final = state(app, import_id)
        total = book_total(app)
    finally:
        stop_all(worker, server, app)
    assert worker.returncode == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert final.status == "succeeded" and final.created == rows, final.error
    assert total == rows


def test_an_import_whose_job_was_taken_but_never_started_is_queued_again(sqlite_app, redis_client):
    """A worker took the import's job from the queue and was gone (or Redis went away) before starting it:
    the job says queued but is in no queue, so nothing would ever run it. Seen so on two reconcile rounds
    LOST_JOB_CONFIRM_SECONDS apart, the import is queued again; one whose job still waits in its queue is
    left alone."""
    from bookapp.queue import import_queue

    sqlite_app.config.update(QUEUED_GRACE_SECONDS=0, LOST_JOB_CONFIRM_SECONDS=60)
    add_user(sqlite_app, "staff@example.com")
    ids = [upload_rows(sqlite_app, [book_row(n)]) for n in (1, 2)]
    queue = import_queue(sqlite_app)
    assert redis_client.lrem(queue.key, 0, f"import-{ids[0]}-0") == 1  # as a worker's pop takes it
    with sqlite_app.app_context():
        assert reconcile()["requeued"] == []  # the first look: it may be on its way to a horse
        time.sleep(0.1)
        assert reconcile()["requeued"] == []  # another worker's round a moment later
        key = f"bookapp:unqueued:import-{ids[0]}-0"
        redis_client.set(key, float(redis_client.get(key)) - 61, keepttl=True)  # the first look, a minute ago
        assert reconcile()["requeued"] == [ids[0]]
        db.session.remove()
    run_worker(sqlite_app)
    assert [state(sqlite_app, i).status for i in ids] == ["succeeded", "succeeded"]
    assert book_total(sqlite_app) == 2


def test_a_reconcile_round_between_a_workers_pop_and_its_horses_start_leaves_the_import_to_it(sqlite_app, redis_client):
    """A worker listening on both queues pops a job (LPOP: it is then in no list) and its horse marks it
    started after the fork. A reconcile round in between must not queue the import again: that used up
    one of its attempts and queued a second job for it."""
    from bookapp.queue import app_job_class, import_queue, make_worker

    sqlite_app.config.update(QUEUED_GRACE_SECONDS=0, LOST_JOB_CONFIRM_SECONDS=0)
    add_user(sqlite_app, "staff@example.com")
    import_id = upload_rows(sqlite_app, [book_row(1)])
    worker = make_worker(sqlite_app)
    assert len(worker.queues) == 2  # so RQ takes its jobs with LPOP, not through its intermediate list
    worker.register_birth()
    queue = import_queue(sqlite_app)
    job = queue.dequeue_any(worker.queues, None, connection=redis_client, job_class=app_job_class(sqlite_app))[0]
    with sqlite_app.app_context():
        assert reconcile()["requeued"] == []  # the round lands in the window
        db.session.remove()
    worker.prepare_execution(job)
    worker.prepare_job_execution(job)  # the horse, forked, marks it started
    with sqlite_app.app_context():
        assert reconcile()["requeued"] == []
        db.session.remove()
    assert state(sqlite_app, import_id).attempts == 0
    assert queue.job_ids == []
    worker.register_death()


HORSE_ENDS = {  # how the horse ended (its wait status), and the import's status it left
    "ended its import": (1 << 8, "succeeded"),  # exit status 1: it could not record the job's end
    "killed mid-import": (signal.SIGKILL, "running"),
    "exited while another run has its import": (1 << 8, "running"),
}


@pytest.mark.parametrize("horse", list(HORSE_ENDS))
def test_once_redis_is_back_a_job_left_started_is_failed_saying_why_and_a_lost_import_resumes(
    sqlite_app, redis_client, horse
):
    """What a worker records, once Redis is back, for a job whose end Redis missed: its horse started it
    (RQ's record says so), then Redis went away. The job is failed with the reason and the worker is idle.
    A horse killed mid-import (its import still running, nobody running it) has its import given its
    next attempt at once, as when a horse dies with Redis there; one that exited (status 1, unable to
    record the job's end) leaves the import as it is."""
    from bookapp.queue import UNRECORDED_END, app_job_class, import_queue, make_worker

    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    response = client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes([book_row(1)])), "b.csv")},
                           content_type="multipart/form-data")  # fmt: skip
    import_id = int(response.location.rsplit("/", 1)[1])
    worker = make_worker(sqlite_app)
    worker.register_birth()
    queue = import_queue(sqlite_app)
    job = queue.dequeue_any([queue], None, connection=redis_client, job_class=app_job_class(sqlite_app))[0]
    worker.prepare_execution(job)  # the worker's part
    worker.prepare_job_execution(job, remove_from_intermediate_queue=True)  # its horse's, before the job runs
    wait_status, status = HORSE_ENDS[horse]
    killed = horse == "killed mid-import"
    with sqlite_app.app_context():  # what the horse's run recorded
        db.session.execute(update(Import).where(Import.id == import_id).values(status=status, heartbeat_at=utcnow()))
        db.session.commit()
    assert job.get_status(refresh=True) == "started" and worker.get_current_job_id() == job.id
    worker._horse_exit = (4242, wait_status, None)
    worker._record_unrecorded_end(job, queue)
    assert job.get_status(refresh=True) == "failed"
    assert job.latest_result().exc_string == UNRECORDED_END
    assert job.id not in queue.started_job_registry.get_job_ids()
    assert worker.get_current_job_id() is None and worker.get_state() == "idle"
    worker.register_death()
    imp = state(sqlite_app, import_id)
    if killed:
        assert (imp.status, imp.attempts) == ("queued", 1), "its next attempt, at once"
        assert queue.get_job_ids() == [f"import-{import_id}-1"]
    else:  # a horse that exited is no proof its import was left: the import's own heartbeat decides
        assert (imp.status, imp.attempts) == (status, 0) and queue.get_job_ids() == []


def test_a_job_of_an_earlier_attempt_that_runs_late_leaves_the_import_to_its_own_attempt(file_app, redis_client):
    """The import was queued again (attempt 1) while its first job (attempt 0) was still around, taken
    from the queue before Redis went away, say: that job runs first and must not take the import; the
    attempt's own job runs it."""
    from bookapp.services.import_jobs import enqueue_import

    import_id = upload_rows(file_app, [book_row(n) for n in range(1, 6)])
    with file_app.app_context():
        imp = db.session.get(Import, import_id)
        imp.attempts = 1
        db.session.commit()
        enqueue_import(imp)
    queue = Queue(file_app.config["IMPORT_QUEUE"], connection=redis_client)
    assert queue.get_job_ids() == [f"import-{import_id}-0", f"import-{import_id}-1"]
    run_worker(file_app)
    late, own = (Job.fetch(f"import-{import_id}-{n}", connection=redis_client) for n in (0, 1))
    assert late.latest_result().return_value == {"import_id": import_id, "claimed": False}
    assert own.latest_result().return_value["status"] == "succeeded"
    final = state(file_app, import_id)
    assert (final.status, final.attempts, final.created) == ("succeeded", 1, 5)


def test_a_timeout_fails_the_import_saying_so_and_retry_resumes(file_app, tmp_path):
    """The run's clock passes its 1 s limit while its first chunk is being saved (a pause point, not a
    file big enough to be slow on this machine): it stops at its next check, keeping that chunk."""
    file_app.config.update(IMPORT_TIMEOUT_BASE_SECONDS=1, IMPORT_TIMEOUT_SECONDS_PER_MB=0, IMPORT_CHUNK_SIZE=1_000)
    rows = 10_000
    path = write_csv(tmp_path / "slow.csv", [book_row(n) for n in range(1, rows + 1)])
    import_id = upload_file(file_app, path)
    with after_chunk_saved(file_app, lambda cursor: time.sleep(1.2)):
        run_worker(file_app)
    timed_out = state(file_app, import_id)
    assert timed_out.status == "failed" and "timed out after 1 seconds" in timed_out.error, timed_out.error
    assert timed_out.created == 1_000 and book_total(file_app) == 1_000, "the chunk saved before the limit is kept"
    client = sign_in(file_app.test_client(), "staff@example.com")
    file_app.config.update(IMPORT_TIMEOUT_BASE_SECONDS=600)
    client.post(f"/imports/{import_id}/retry")
    run_worker(file_app)
    final = state(file_app, import_id)
    assert final.status == "succeeded" and final.created == rows and book_total(file_app) == rows


def test_a_double_enqueue_and_a_requeued_finished_job_change_nothing(file_app, redis_client):
    import_id = upload_rows(file_app, [book_row(n) for n in range(1, 11)])
    with file_app.app_context():
        from bookapp.services.import_jobs import enqueue_import

        imp = db.session.get(Import, import_id)
        queue = Queue(file_app.config["IMPORT_QUEUE"], connection=redis_client)
        queue.enqueue("bookapp.tasks.run_import", import_id, job_id="duplicate-run")
        enqueue_import(imp)
    run_worker(file_app)

    finished = Job.fetch(f"import-{import_id}-0", connection=redis_client)
    assert finished.get_status() == "finished"
    queue.enqueue_job(finished)  # the same job put back on the queue after it finished
    run_worker(file_app)
    final = state(file_app, import_id)
    assert final.status == "succeeded" and (final.created, final.processed_rows) == (10, 10)
    assert book_total(file_app) == 10


def test_two_workers_importing_overlapping_files_at_once_store_each_isbn_once(file_app, tmp_path):
    first = write_csv(tmp_path / "a.csv", [book_row(n) for n in range(1, 30_001)])
    second = write_csv(tmp_path / "b.csv", [book_row(n) for n in range(15_001, 45_001)])
    ids = [upload_file(file_app, first), upload_file(file_app, second)]
    workers = [start_worker(file_app), start_worker(file_app)]
    try:
        finals = [wait_for(lambda i=i: (s := state(file_app, i)).is_terminal and s, timeout=180) for i in ids]
    finally:
        for worker in workers:
            stop_worker(worker)
    assert [f.status for f in finals] == ["succeeded", "succeeded"], [f.error for f in finals]
    assert book_total(file_app) == 45_000
    assert finals[0].created + finals[1].created == 45_000
    for final in finals:
        assert (final.created + final.updated + final.unchanged, final.rejected) == (30_000, 0)
    assert finals[0].unchanged + finals[1].unchanged == 15_000, "the overlap was written once and found unchanged once"


def test_uploads_are_kept_until_the_retention_after_the_import_ends(file_app):
    from datetime import timedelta

    from bookapp.services.import_jobs import upload_path

    client = sign_in(file_app.test_client(), "staff@example.com")
    ids = []
    for n in range(2):
        response = client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes([book_row(n)])), f"{n}.csv")},
                               content_type="multipart/form-data")  # fmt: skip
        ids.append(int(response.location.rsplit("/", 1)[1]))
    run_worker(file_app)
    file_app.config["UPLOAD_RETENTION_DAYS"] = 7
    with file_app.app_context():
        old, recent = (db.session.get(Import, i) for i in ids)
        old.finished_at = old.finished_at - timedelta(days=8)
        db.session.commit()
        assert reconcile()["files_deleted"] == 1
        assert not upload_path(old).exists() and upload_path(recent).exists()
        assert old.file_deleted_at is not None
    report = client.get(f"/imports/{ids[0]}/report.csv")
    assert report.status_code == 410 and "no longer kept" in report.get_data(as_text=True)


def test_an_import_left_at_match_columns_past_the_retention_is_cancelled_and_its_file_deleted(file_app):
    from datetime import timedelta

    from bookapp.services.import_jobs import upload_path

    client = sign_in(file_app.test_client(), "staff@example.com")
    ids = []
    for n in range(2):
        export = f"Name,Writer\nBook {n},Someone\n".encode()
        response = client.post("/imports/new", data={"file": (io.BytesIO(export), f"export-{n}.csv")},
                               content_type="multipart/form-data")  # fmt: skip
        assert response.status_code == 302 and response.location.endswith("/columns"), response.location
        ids.append(int(response.location.rsplit("/", 2)[1]))
    file_app.config["UPLOAD_RETENTION_DAYS"] = 7
    with file_app.app_context():
        old, recent = (db.session.get(Import, i) for i in ids)
        assert old.status == recent.status == ImportStatus.NEEDS_MAPPING.value
        old.created_at = old.created_at - timedelta(days=8)
        db.session.commit()
        assert reconcile()["files_deleted"] == 1
        db.session.expire_all()
        assert old.status == ImportStatus.CANCELLED.value and recent.status == ImportStatus.NEEDS_MAPPING.value
        assert not upload_path(old).exists() and upload_path(recent).exists()
    page = client.get(f"/imports/{ids[0]}").get_data(as_text=True)
    assert "not matched within 7 days" in page and "Upload the file again" in page
    assert client.get(f"/imports/{ids[1]}/columns").status_code == 200


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free port, owned by the postgres system user (initdb refuses root)."""

    def __init__(self, directory: Path):
        import glob

        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not binaries or not shutil.which("runuser"):
            from tests.conftest import skip_or_fail

            skip_or_fail("no PostgreSQL server binaries to start a private cluster")
        self.bin = Path(binaries[-1])
        self.directory = directory
        self.port = free_port()

    def run(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=60)

    def init(self) -> "PrivatePostgres":
        self.directory.mkdir(parents=True)
        shutil_chown(self.directory)
        self.run(str(self.bin / "initdb"), "-D", str(self.directory / "data"), "-U", "postgres", "--auth=trust")
        return self

    def start(self) -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.directory / "data"), "-w", "-l", str(self.directory / "log"),
                 "-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.directory / "data"), "-m", mode, "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


def shutil_chown(path: Path) -> None:
    shutil.chown(path, "postgres", "postgres")
    os.chmod(path, 0o700)


@pytest.mark.postgres
def test_postgresql_stopped_mid_import_then_back_resumes_without_reinserting(redis_url, redis_client, tmp_path):
    """The database stops while the import is held in its 4th chunk's transaction (three chunks committed);
    the run fails on it, the worker lives on, and once the database is back the import resumes after row 6,001."""
    import tempfile

    rows = 20_000

    # Outside pytest's private tmp folder: the postgres user must be able to reach the cluster's folder.
    base = Path(tempfile.mkdtemp(prefix="bookapp-pg-"))
    base.chmod(0o755)
    server = PrivatePostgres(base / "cluster").init()
    server.start()
    worker = None
    try:
        app = build_app(server.url, redis_url, tmp_path, IMPORT_CHUNK_SIZE=2000, **FAST_RECOVERY)
        add_user(app, "staff@example.com")
        path = write_csv(tmp_path / "big.csv", [book_row(n) for n in range(1, rows + 1)])
        import_id = upload_file(app, path)
        pause = PausedWorker(tmp_path / "pause", 4)
        worker = start_worker(app, pause=pause)
        pause.wait_paused(worker)
        held = state(app, import_id)
        assert (held.status, held.checkpoint_row, held.processed_rows) == ("running", 6_001, 6_000)
        with app.app_context():
            db.engine.dispose()
        server.stop("immediate")  # the database goes away in the middle of the 4th chunk's transaction
        pause.release()
        job = Job.fetch(f"import-{import_id}-0", connection=redis_client)
        wait_for(lambda: job.get_status(refresh=True) in ("failed", "finished"))
        time.sleep(3)  # the database stays away for a few of the worker's reconcile rounds (1 s each)
        assert worker.poll() is None, "the worker survives the database going away"
        server.start()
        final = wait_for(lambda: (s := state(app, import_id)).is_terminal and s, timeout=180)
        total = book_total(app)
        with app.app_context():
            db.engine.dispose()
    finally:
        if worker is not None:
            stop_worker(worker)
        with contextlib.suppress(Exception):
            server.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)
    assert final.status == "succeeded", final.error
    assert (final.processed_rows, final.created, final.rejected) == (rows, rows, 0)
    assert total == rows, "committed chunks were not inserted twice"


@pytest.mark.parametrize("way", ["direct", "staged", "all_or_nothing"])
def test_a_full_disk_fails_the_import_saying_so_and_retry_after_space_is_freed_resumes(sqlite_app, tmp_path, way):
    """The database may grow by a few hundred pages only (SQLite's max_page_count: the same SQLITE_FULL a
    full disk gives): the import stops saying the disk is full, keeps the chunks committed before (all or
    nothing: none), and once the limit is lifted Retry stores the rest, each book once. Staged, the
    failure comes at a merge of the staged books."""
    sqlite_app.config.update(IMPORT_CHUNK_SIZE=1_000, SQLITE_IMPORT_STAGE_PAST_BOOKS=0 if way == "staged" else None)
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    rows = 10_000
    content = write_csv(tmp_path / "big.csv", [book_row(n) for n in range(1, rows + 1)]).read_bytes()
    options = {"all_or_nothing": "y"} if way == "all_or_nothing" else {}
    response = client.post("/imports/new", data={"file": (io.BytesIO(content), "big.csv"), **options},
                           content_type="multipart/form-data")  # fmt: skip
    import_id = int(response.location.rsplit("/", 1)[1])
    run: list[str] = []

    def limited(connection, _record):
        (pages,) = connection.execute("PRAGMA page_count").fetchone()
        connection.execute(f"PRAGMA max_page_count = {pages + 300}")
        connection.set_trace_callback(run.append)

    with sqlite_app.app_context():
        db.engine.dispose()
        event.listen(db.engine, "connect", limited)
        try:
            run_worker(sqlite_app)
        finally:
            event.remove(db.engine, "connect", limited)
            db.engine.dispose()
    full = state(sqlite_app, import_id)
    assert full.status == "failed" and "ran out of disk space" in full.error, full.error
    assert "unexpected" not in full.error
    assert any("INSERT INTO temp.import_staged_books" in statement for statement in run) == (way == "staged")
    kept = book_total(sqlite_app)
    if way == "all_or_nothing":
        assert kept == 0 and "none of its rows were saved" in full.error and "from its first row" in full.error
    else:
        assert 0 < kept < rows and full.created == kept, "the chunks committed before the disk filled are kept"
        assert "Rows saved before it are kept" in full.error

    assert client.post(f"/imports/{import_id}/retry").status_code == 302
    run_worker(sqlite_app)
    final = state(sqlite_app, import_id)
    assert final.status == "succeeded" and final.created == rows and book_total(sqlite_app) == rows
