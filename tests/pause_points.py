"""Pause points: stop an import at a known place, where a row count would depend on this machine's speed.

In the test's own process, conftest's `after_chunk_saved` runs an action there. For a real worker (a
process a test kills or cuts off from its database), `PausedWorker` starts `flask worker` through this
module, `python -m tests.pause_points NTH FOLDER flask-arguments…`: its import pauses once, right
after writing its NTH chunk record (the chunks before it committed, that one not yet), writes its
process id to FOLDER/paused and waits until the test releases it or kills it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextlib.contextmanager
def chunk_record_hook(target, action, nth: int = 1):
    """Run *action(cursor)* once, right after an import writes its *nth* chunk record (in the chunk's
    transaction, before its commit), on *target*: an engine, or the Engine class for every engine."""
    saved = 0

    def hook(connection, cursor, statement, parameters, context, executemany):
        nonlocal saved
        if statement.startswith("INSERT INTO import_chunks"):
            saved += 1
            if saved == nth:
                action(cursor)

    event.listen(target, "after_cursor_execute", hook)
    try:
        yield
    finally:
        event.remove(target, "after_cursor_execute", hook)


class PausedWorker:
    """A `flask worker` subprocess whose import pauses once at its *nth* chunk record, as one run.

    The pause happens once for the whole worker (its later work horses, such as the one running the
    import again after the first was killed, go on), so the run that resumes is not held.
    """

    def __init__(self, folder: Path, nth: int):
        self.folder, self.nth = folder, nth
        folder.mkdir(parents=True, exist_ok=True)
        self.paused = folder / "paused"
        self.release_pipe = folder / "release"
        os.mkfifo(self.release_pipe)

    def command(self, *flask_args: str) -> list[str]:
        return [sys.executable, "-m", "tests.pause_points", str(self.nth), str(self.folder), *flask_args]

    def wait_paused(self, worker: subprocess.Popen, timeout: float = 120) -> int:
        """Wait until the import is held at its pause point; return the id of the process holding it."""
        deadline = time.monotonic() + timeout
        while not self.paused.exists():
            assert worker.poll() is None, f"the worker ended ({worker.returncode}) before its import paused"
            assert time.monotonic() < deadline, "the import never reached its pause point"
            time.sleep(0.05)
        return int(self.paused.read_text())

    def release(self) -> None:
        """Let the held import go on (it is waiting to read this pipe)."""
        with open(self.release_pipe, "w") as pipe:
            pipe.write("go")


def _pause_once(folder: Path):
    def pause(cursor) -> None:
        mine = folder / f"paused.{os.getpid()}"
        mine.write_text(str(os.getpid()))
        try:
            os.link(mine, folder / "paused")  # atomic, and refused once a run has paused: once per worker
        except FileExistsError:
            return
        finally:
            mine.unlink()
        with open(folder / "release") as pipe:  # blocks until the test writes to it (or kills this process)
            pipe.read()

    return pause


if __name__ == "__main__":
    from flask.cli import main

    nth, folder = int(sys.argv[1]), Path(sys.argv[2])
    sys.argv = ["flask", *sys.argv[3:]]
    with chunk_record_hook(Engine, _pause_once(folder), nth):
        main()
