"""`make run`: the whole app on one machine — Redis (embedded unless REDIS_URL is set), workers, web.

Ctrl-C stops everything it started.
"""

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import select

from . import create_app
from .config import DEFAULT_INSTANCE_PATH, default_redis_url
from .embedded_redis import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent
#: Unix socket paths longer than this do not fit in sockaddr_un; fall back to TCP.
MAX_SOCKET_PATH = 100
#: How long the sign-in line waits for everything to be up before it is printed anyway.
HEALTHY_WITHIN = 60


def start_redis(instance: Path, env: dict) -> EmbeddedRedis | None:
    """Start the embedded Redis unless REDIS_URL points at a real one; set REDIS_URL for children."""
    if env.get("REDIS_URL"):
        return None
    socket_path = Path(default_redis_url(str(instance)).removeprefix("unix://"))
    if len(str(socket_path)) <= MAX_SOCKET_PATH:
        server = EmbeddedRedis(instance / "redis", unix_socket=socket_path)
    else:
        server = EmbeddedRedis(instance / "redis", port=free_port())
    server.start()
    env["REDIS_URL"] = server.url
    return server


def ensure_admin(env: dict) -> str:
    """Create the schema and, on a first start, an admin; return how to sign in."""
    os.environ["REDIS_URL"] = env["REDIS_URL"]
    app = create_app()
    from .extensions import db
    from .models import User
    from .services.setup import create_user, init_database

    with app.app_context():
        init_database()  # the migrations, once, before any worker or web process starts
        first = db.session.scalar(select(User).order_by(User.id).limit(1))
        if first is None:
            email, password = "admin@example.com", secrets.token_urlsafe(12)
            create_user(email, password)
            return f"Sign in as {email} with the password {password} (shown once; change it with\n  .venv/bin/flask --app wsgi create-admin {email})"
        return f"Sign in as {first.email} (forgot the password? .venv/bin/flask --app wsgi create-admin {first.email})"


def spawn(args: list[str], env: dict) -> subprocess.Popen:
    """Start a child in its own process group, so a stop reaches its children too."""
    return subprocess.Popen([sys.executable, "-m", *args], env=env, cwd=ROOT, start_new_session=True)


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a child and its process group: SIGTERM, then SIGTERM again (cold stop), then SIGKILL."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace / 2), (signal.SIGTERM, grace / 2), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):  # the RQ work horse runs in its own group: leave none
        os.killpg(process.pid, signal.SIGKILL)


def control_socket(instance: Path, port: str) -> list[str]:
    """gunicorn's control socket in this instance's folder, one per port (its default path is one per
    user, shared by every gunicorn on the machine); none where the path would not fit a Unix socket."""
    path = instance / f"gunicorn-{port}.ctl"
    return ["--control-socket", str(path)] if len(str(path)) <= MAX_SOCKET_PATH else ["--no-control-socket"]


#: Straight to the app: not through a proxy that http_proxy may name (it would not reach 127.0.0.1).
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def wait_until_healthy(port: str, web: subprocess.Popen, stopping, timeout: float = HEALTHY_WITHIN) -> bool:
    """Wait until the health check answers 200 (the web, the database, Redis and a worker are there);
    return whether it did within *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stopping() and web.poll() is None:
        try:
            with _DIRECT.open(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:  # not listening yet, or 503 (an HTTPError) while the workers start
            pass
        time.sleep(0.3)
    return False


def wait_until_listening(
    redis_url: str, workers: list[subprocess.Popen], stopping, timeout: float = HEALTHY_WITHIN
) -> None:
    """Wait until each of *workers* has said which queues it listens on: RQ says so, then waits for a job
    as "idle". The health check is content with the first worker; another's start-up lines, later, would
    push the sign-in line up the screen."""
    from redis import Redis, RedisError
    from rq import Worker

    pids = {worker.pid for worker in workers}
    connection = Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stopping():
        with contextlib.suppress(RedisError):
            if pids <= {w.pid for w in Worker.all(connection=connection) if w.state in ("idle", "busy")}:
                return
        time.sleep(0.2)


def main() -> int:
    """Run Redis, the workers and the web server until Ctrl-C."""
    env = os.environ.copy()
    instance = DEFAULT_INSTANCE_PATH
    port = env.get("PORT", "5000")
    worker_count = int(env.get("BOOKAPP_WORKERS", "1"))
    redis = start_redis(instance, env)
    children: list[subprocess.Popen] = []
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        sign_in = ensure_admin(env)
        # Import workers, and one of the indexes' own: an import's worker is free once its books are saved.
        commands = [["flask", "--app", "wsgi", "worker", "--role", "imports"]] * worker_count
        commands.append(["flask", "--app", "wsgi", "worker", "--role", "indexes"])
        workers = [spawn(command, env) for command in commands]
        web = spawn(["gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
                     *control_socket(instance, port), "wsgi:app"], env)  # fmt: skip
        children = [web, *workers]
        # The start-up lines of gunicorn and the workers first, so that how to sign in is the last thing said.
        ready = wait_until_healthy(port, web, lambda: stopping)
        if ready:
            wait_until_listening(env["REDIS_URL"], workers, lambda: stopping)
        if stopping:  # Ctrl-C before everything was up: not "running", and nothing to sign in to
            return 0
        database = env.get("DATABASE_URL") or f"SQLite at {instance / 'bookapp.sqlite3'}"
        print(
            f"\nbookapp is running at http://127.0.0.1:{port}/"
            f"{'' if ready else ' (not answering yet: see the lines above)'}\n"
            f"  {sign_in}\n"
            f"  Database: {database.split('@')[-1]}\n"
            f"  Redis: {'embedded, data in ' + str(instance / 'redis') if redis else 'REDIS_URL'}\n"
            f"  Workers: {worker_count} for imports, 1 for the search and sort indexes · queue dashboard at http://127.0.0.1:{port}/rq/\n"
            "Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        while not stopping:
            time.sleep(0.5)
            if web.poll() is not None:
                print("The web server stopped; stopping everything.", file=sys.stderr)
                break
            for index, worker in enumerate(workers):
                if worker.poll() is not None and not stopping:
                    print("A worker stopped; starting another.", file=sys.stderr)
                    workers[index] = spawn(commands[index], env)
                    children = [web, *workers]
    finally:
        for child in children:
            stop(child)
        if redis is not None:
            redis.stop()
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
