"""One import writes to an SQLite database at a time; the others wait their turn, visibly.

SQLite has one write lock for the whole database. Two imports writing at once (two workers) do not
write twice as fast: each chunk waits for the other's commit, SQLite's busy handler sleeps in steps
while it waits, and each commit's pages are read back into the other's cache. Measured, two workers
took 15.2 s for what one worker did in 6.4 s. So an import takes the database's *write turn* before
it writes its first rows and keeps it to its end; a second import shows "waiting for the database" and
starts writing the moment the first finishes, its file already open (a workbook checked and loaded, so
its memory is taken while it waits) and its first rows read and validated: its reading process reads
ahead meanwhile at a lower priority, on the CPU the first import leaves idle (services/pipeline.py).
The turn is between imports only: web requests and the API write between the chunks' commits, as before.

The turn is an exclusive `flock` on a file beside the database (``<database>-imports.lock``): the
kernel releases it when its holder ends in any way (finished, failed, killed), so a crashed import
never leaves it taken. PostgreSQL needs none (its imports write side by side), nor an in-memory
SQLite database (one process), nor a platform without `fcntl` (Windows: imports then share the
lock as SQLite itself arbitrates, as before).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy.engine import Engine

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

#: Seconds between two tries while waiting for the turn (the first import's end is seen this late at
#: most; a hundred non-blocking flock calls a second cost nothing measurable).
POLL_SECONDS = 0.01
#: Seconds between two calls of the waiting import's check (cancelled? past its deadline?).
CHECK_SECONDS = 1.0


def lock_path(engine: Engine, purpose: str = "imports") -> Path | None:
    """The lock file for *purpose* beside *engine*'s database (the imports' turn by default), or None when
    the database needs none (not SQLite, in memory, or no `fcntl`)."""
    url = engine.url
    if fcntl is None or url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(f"{Path(database).name}-{purpose}.lock")


@contextlib.contextmanager
def held_if_free(path: Path) -> Iterator[bool | None]:
    """Hold the exclusive lock on *path* for the block if no other process holds it; yield whether it
    was free (no wait: the caller leaves the work to whoever holds it), or None when the lock file
    cannot be opened (its folder not writable, or the file another user's)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        yield None
        return
    try:
        yield _try(fd)
    finally:
        os.close(fd)  # closing the only descriptor releases the lock


@contextlib.contextmanager
def write_turn(
    engine: Engine, *, waiting: Callable[[], None], check: Callable[[], None], poll: float = POLL_SECONDS
) -> Iterator[bool]:
    """Hold the database's write turn for the block; yield whether this import had to wait for it.

    When another import holds it, call *waiting()* once (to show the wait), then *check()* about
    every CHECK_SECONDS until the turn is free (it raises to stop waiting: cancelled, timed out).
    """
    path = lock_path(engine)
    if path is None:
        yield False
        return
    # The import's reading process is forked before the block, so it never holds the descriptor: the
    # turn ends when this process closes it, whatever the reading process is doing.
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        waited = not _try(fd)
        if waited:
            waiting()
            checked = time.monotonic()
            while not _try(fd):
                if time.monotonic() - checked >= CHECK_SECONDS:
                    check()
                    checked = time.monotonic()
                time.sleep(poll)
        yield waited
    finally:
        os.close(fd)  # closing the only descriptor releases the lock


def _try(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
