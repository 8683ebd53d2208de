"""Load test on loopback: gunicorn and two RQ workers, N concurrent uploads and M clients polling progress.

    python -m bench.load [--uploads 20] [--pollers 50] [--seconds 60] [--rows 2000]

Starts everything it needs (a private Redis, a temporary SQLite database unless TEST_DATABASE_URL is
set, gunicorn with 2 processes, 2 workers), runs for a bounded time, stops everything, and prints the
request counts, any 5xx, whether every import completed, and the p50/p95 poll latency.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bookapp.embedded_redis import EmbeddedRedis, free_port

from . import data

ROOT = Path(__file__).resolve().parent.parent


class Client:
    """A signed-in HTTP client for one thread."""

    def __init__(self, port: int, cookie: str):
        self.port, self.cookie = port, cookie

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        started = time.perf_counter()
        connection.request(method, path, body, {"Cookie": self.cookie, **(headers or {})})
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        return response.status, payload, time.perf_counter() - started, response.getheader("Location")


def sign_in(port: int) -> tuple[str, str]:
    """Sign in as a browser would (CSRF token from the form); return the session cookie and a CSRF token."""
    import re

    def get(path: str, cookie: str = "") -> tuple[str, str]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        page = response.read().decode()
        new_cookie = (response.getheader("Set-Cookie") or cookie).split(";")[0]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        return new_cookie, token.group(1) if token else ""

    cookie, token = get("/login")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/login", f"email=load%40example.com&password=load-password-1&csrf_token={token}",
                       {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})  # fmt: skip
    response = connection.getresponse()
    response.read()
    cookie = (response.getheader("Set-Cookie") or cookie).split(";")[0]
    return get("/imports/new", cookie)


def wait_until_up(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/login")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the web server did not start")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--pollers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rows", type=int, default=2000, help="rows per uploaded file")
    options = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as work:
        redis = EmbeddedRedis(Path(work) / "redis", port=free_port(), persistent=False).start()
        port = free_port()
        env = {
            **os.environ,
            "REDIS_URL": redis.url,
            "DATABASE_URL": os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{work}/load.sqlite3",
            "UPLOAD_FOLDER": f"{work}/uploads",
            "SECRET_KEY": "load-test",
        }
        # A database that already has users or these files (PostgreSQL) works too: the load user is
        # created or reset, and the uploads say a repeat is meant.
        for command in (["init-db"], ["create-admin", "load@example.com", "--password", "load-password-1"]):
            subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command], cwd=ROOT, env=env, check=True,
                           capture_output=True)  # fmt: skip
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--threads",
                    "8",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stderr=subprocess.DEVNULL,
            ),
            *[
                subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(2)
            ],
        ]
        try:
            wait_until_up(port)
            cookie, csrf_token = sign_in(port)
            statuses: list[int] = []
            poll_times: list[float] = []
            locations: list[str] = []
            lock = threading.Lock()
            stop_at = time.monotonic() + options.seconds

            def upload(index: int) -> None:
                rows = [data.row(index * 1_000_000 + n) for n in range(1, options.rows + 1)]
                body_rows = "\r\n".join(",".join(f'"{c}"' for c in r) for r in [data.HEADER, *rows]).encode()
                boundary = uuid.uuid4().hex
                body = (
                    (
                        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="load-{index}.csv"\r\n'
                        "Content-Type: text/csv\r\n\r\n"
                    ).encode()
                    + body_rows
                    + (
                        f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf_token}'
                        f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="allow_repeat"\r\n\r\ny'
                        f"\r\n--{boundary}--\r\n"
                    ).encode()
                )
                status, _, _, location = Client(port, cookie).request(
                    "POST", "/imports/new", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
                )
                with lock:
                    statuses.append(status)
                    if location:
                        locations.append(location)

            def poll(index: int) -> None:
                client = Client(port, cookie)
                while time.monotonic() < stop_at:
                    with lock:
                        targets = list(locations)
                    path = (targets[index % len(targets)] + ".json") if targets else "/imports"
                    status, _, seconds, _ = client.request("GET", path)
                    with lock:
                        statuses.append(status)
                        poll_times.append(seconds)
                    time.sleep(1)

            threads = [threading.Thread(target=upload, args=(i,)) for i in range(options.uploads)]
            threads += [threading.Thread(target=poll, args=(i,)) for i in range(options.pollers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            client = Client(port, cookie)
            deadline = time.monotonic() + 120
            finished = []
            while time.monotonic() < deadline:
                finished = [json.loads(client.request("GET", f"{loc}.json")[1]) for loc in locations]
                if all(f["terminal"] for f in finished):
                    break
                time.sleep(1)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
            redis.stop()

    errors = sum(1 for s in statuses if s >= 500)
    succeeded = sum(1 for f in finished if f["status"] == "succeeded")
    poll_times.sort()
    p95 = poll_times[int(len(poll_times) * 0.95) - 1] if poll_times else float("nan")
    print(f"requests: {len(statuses):,}  5xx: {errors}  uploads accepted: {len(locations)}/{options.uploads}  "
          f"imports succeeded: {succeeded}/{len(locations)}")  # fmt: skip
    print(f"poll latency: p50 {statistics.median(poll_times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
          f"over {len(poll_times):,} polls in {options.seconds:.0f} s")  # fmt: skip
    ok = errors == 0 and len(locations) == options.uploads and succeeded == options.uploads
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
