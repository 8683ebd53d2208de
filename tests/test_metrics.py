"""/metrics: Prometheus text with the figures operators alert on, for staff tokens and allowed addresses
only; right under gunicorn's several processes."""

import io
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bookapp.embedded_redis import free_port
from bookapp.models import Role
from tests.conftest import ROOT, run_worker
from tests.helpers import book_row, csv_bytes
from tests.test_access import bearer


def samples(text: str) -> dict:
    """Return each sample of a metrics page as {(name, {labels} as sorted tuples): value}."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}  # fmt: skip


def scrape(client, headers) -> dict:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    return samples(response.get_data(as_text=True))


def test_metrics_count_imports_rows_durations_queues_and_requests(app):
    staff = bearer(app, "staff@example.com", Role.STAFF)
    client = app.test_client()
    queue = app.config["IMPORT_QUEUE"]
    rows = [book_row(1), book_row(2), book_row(3, Price="x")]
    response = client.post("/api/v1/imports", headers=staff, data={"file": (io.BytesIO(csv_bytes(rows)), "b.csv")})
    assert response.status_code == 202
    waiting = scrape(client, staff)
    assert waiting[("bookapp_imports", (("status", "queued"),))] == 1
    assert waiting[("bookapp_queue_depth", (("queue", queue),))] == 1
    assert waiting[("bookapp_oldest_queued_import_age_seconds", ())] >= 0
    assert waiting[("bookapp_redis_up", ())] == 1
    healthz_before = waiting.get(
        ("bookapp_request_duration_seconds_count", (("endpoint", "main.healthz"), ("method", "GET"))), 0
    )

    run_worker(app)
    for _ in range(3):
        client.get("/healthz")
    done = scrape(client, staff)
    assert done[("bookapp_imports", (("status", "queued"),))] == 0
    assert done[("bookapp_imports", (("status", "succeeded"),))] == 1
    assert done[("bookapp_import_rows_total", (("outcome", "created"),))] == 2
    assert done[("bookapp_import_rows_total", (("outcome", "rejected"),))] == 1
    assert done[("bookapp_import_duration_seconds_count", ())] == 1
    assert done[("bookapp_import_duration_seconds_bucket", (("le", "+Inf"),))] == 1
    assert done[("bookapp_queue_depth", (("queue", queue),))] == 0
    assert done[("bookapp_oldest_queued_import_age_seconds", ())] == 0
    assert done[("bookapp_workers_live", ())] == 0, "the burst worker has stopped"
    healthz = ("bookapp_request_duration_seconds_count", (("endpoint", "main.healthz"), ("method", "GET")))
    assert done[healthz] == healthz_before + 3


def test_metrics_are_for_staff_tokens_and_allowed_addresses_only(sqlite_app):
    client = sqlite_app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=bearer(sqlite_app, "viewer@example.com", Role.VIEWER)).status_code == 403
    sqlite_app.config["METRICS_ALLOWED_ADDRESSES"] = ["10.0.0.0/8", "192.0.2.7"]
    for address, status in (("10.1.2.3", 200), ("192.0.2.7", 200), ("192.0.2.8", 401), ("127.0.0.1", 401)):
        response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
        assert response.status_code == status, address
    assert "bookapp_workers_live" in client.get("/metrics", environ_base={"REMOTE_ADDR": "10.9.9.9"}).get_data(
        as_text=True
    )


@pytest.mark.slow
def test_under_gunicorn_every_process_counts_into_one_answer(sqlite_app, redis_url, tmp_path):
    """Two gunicorn processes answer /healthz; every scrape, whichever process answers it, counts all
    (each process alone would count only its own)."""
    port = free_port()
    access_log = tmp_path / "access.log"
    env = {
        **os.environ,
        "DATABASE_URL": sqlite_app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
        "UPLOAD_FOLDER": sqlite_app.config["UPLOAD_FOLDER"],
        "BOOKAPP_METRICS_ALLOW": "127.0.0.1",
    }  # gunicorn.conf.py gives the processes their shared folder
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "2",
         "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(U)s", "wsgi:app"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> str:
        with urllib.request.urlopen(base + path, timeout=10) as response:
            return response.read().decode()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get("/favicon.ico")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        sent = 0
        with ThreadPoolExecutor(4) as pool:
            while len(serving_processes(access_log, "/healthz")) < 2:  # until both processes have answered
                assert sent < 400, "one gunicorn process answered every request"
                list(pool.map(lambda _: _quiet(get, "/healthz"), range(8)))
                sent += 8
        counts = set()
        for _ in range(6):
            page = samples(get("/metrics"))
            counts.add(
                page[("bookapp_request_duration_seconds_count", (("endpoint", "main.healthz"), ("method", "GET")))]
            )
        assert counts == {sent}, f"{sent} requests sent; scrapes counted {sorted(counts)}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)


def serving_processes(access_log, path: str) -> set[str]:
    if not access_log.exists():
        return set()
    return {m[1] for m in re.finditer(rf"^<?(\d+)>? {re.escape(path)}$", access_log.read_text(), re.M)}


def _quiet(get, path):
    try:
        return get(path)
    except urllib.error.HTTPError as error:  # 503: no worker runs in this test; the request still counts
        return error.code
