"""Pause points: stop an import at a known place, where a row count would depend on this machine's speed.

In the test's own process, conftest's `after_chunk_saved` runs an action there. For a real worker (a
process a test kills or cuts off from its database), `PausedWorker` starts `flask worker` through this
module, `python -m tests.pause_points N[,N…] FOLDER flask-arguments…`: its import pauses once at
each, right after writing its Nth chunk record (the chunks before it committed, that one not yet),
writes its process id to FOLDER/paused-N and waits until the test releases it or kills it. Named
`cN`, the pause comes right after the commit that follows the Nth chunk record instead (that chunk
committed, no database lock held, the import still between two chunks).
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
from sqlalchemy.orm import Session


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


@contextlib.contextmanager
def chunk_committed_hook(action, nth: int = 1):
    """Run *action()* once, right after the commit that follows an import's *nth* chunk record (any
    session of this process): between two chunks, with nothing of the database locked."""
    saved = 0
    due = False

    def count(connection, cursor, statement, parameters, context, executemany):
        nonlocal saved, due
        if statement.startswith("INSERT INTO import_chunks"):
            saved += 1
            due = due or saved == nth

    def committed(session):
        nonlocal due
        if due:
            due = False
            action(None)

    event.listen(Engine, "after_cursor_execute", count)
    event.listen(Session, "after_commit", committed)
    try:
        yield
    finally:
        event.remove(Engine, "after_cursor_execute", count)
        event.remove(Session, "after_commit", committed)


class PausedWorker:
    """A `flask worker` subprocess whose import pauses at the chunk records it names, once each.

    Each pause happens once for the whole worker (its later work horses, such as the one running the
    import again after the first was killed, go on), so the run that resumes is not held.
    """

    def __init__(self, folder: Path, *chunks: int, committed: bool = False):
        self.folder, self.chunks, self.committed = folder, chunks, committed
        folder.mkdir(parents=True, exist_ok=True)
        for chunk in chunks:
            os.mkfifo(folder / f"release-{chunk}")

    def command(self, *flask_args: str) -> list[str]:
        chunks = ",".join(f"{'c' if self.committed else ''}{chunk}" for chunk in self.chunks)
        return [sys.executable, "-m", "tests.pause_points", chunks, str(self.folder), *flask_args]

    def wait_paused(self, worker: subprocess.Popen, chunk: int | None = None, timeout: float = 120) -> int:
        """Wait until the import is held at *chunk* (the first named when None); return the id of the
        process holding it."""
        paused = self.folder / f"paused-{chunk or self.chunks[0]}"
        deadline = time.monotonic() + timeout
        while not paused.exists():
            assert worker.poll() is None, f"the worker ended ({worker.returncode}) before its import paused"
            assert time.monotonic() < deadline, "the import never reached its pause point"
            time.sleep(0.05)
        return int(paused.read_text())

    def release(self, chunk: int | None = None) -> None:
        """Let the import held at *chunk* go on (it waits to read this pipe); only once it is held there."""
        with open(self.folder / f"release-{chunk or self.chunks[0]}", "w") as pipe:
            pipe.write("go")


def _pause_once(folder: Path, chunk: int):
    def pause(cursor) -> None:
        mine = folder / f"paused-{chunk}.{os.getpid()}"
        mine.write_text(str(os.getpid()))
        try:
            os.link(mine, folder / f"paused-{chunk}")  # atomic, and refused once a run has paused here
        except FileExistsError:
            return
        finally:
            mine.unlink()
        with open(folder / f"release-{chunk}") as pipe:  # blocks until the test writes (or kills this process)
            pipe.read()

    return pause


if __name__ == "__main__":
    from flask.cli import main

    chunks, folder = sys.argv[1].split(","), Path(sys.argv[2])
    sys.argv = ["flask", *sys.argv[3:]]
    with contextlib.ExitStack() as hooks:
        for chunk in chunks:
            if chunk.startswith("c"):
                hooks.enter_context(chunk_committed_hook(_pause_once(folder, int(chunk[1:])), int(chunk[1:])))
            else:
                hooks.enter_context(chunk_record_hook(Engine, _pause_once(folder, int(chunk)), int(chunk)))
        main()
