"""On an SQLite file, a short write (an upload, an edit, the API) gets in between a long writer's
transactions instead of waiting for the long writer's end.

SQLite has one write lock, and a writer that finds it taken sleeps in SQLite's busy handler: 1, 2, 5,
… then 100 ms at a time. A long writer (an import's chunks, the indexes' catch-up) commits and begins
again within microseconds, so the sleeper wakes to find the lock taken again, over and over: measured,
an upload's write waited 4 to 11 s while a million-row import ran, and 7.5 to 30 s behind the search
index's catch-up (long enough for busy_timeout to give up, and the request to fail).

So a short writer says it is waiting: from just before a statement that would take the write lock
until that statement has run, it holds a shared `flock` on a file beside the database
(``<database>-writers.lock``). A long writer, after each commit, looks (an exclusive non-blocking
try, two system calls) and, when someone is waiting, pauses until nobody is, for at most
LONGEST_PAUSE_SECONDS. The short writer then wakes within one step of its busy handler and takes the
lock; its transaction is short, and the long writer's next BEGIN waits for its commit as usual.

PostgreSQL needs none of this (row locks, no database-wide write lock), nor an in-memory SQLite
database, nor a platform without `fcntl`.
"""

from __future__ import annotations

import logging
import os
import time

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import Pool

from .write_turn import fcntl, lock_path

log = logging.getLogger(__name__)

#: The lock file's purpose (its name's end, beside the database).
PURPOSE = "writers"
#: The longest a long writer pauses after a commit for waiting short writers (a stream of uploads
#: cannot hold an import for long; past it they wait in SQLite's busy handler, as before).
LONGEST_PAUSE_SECONDS = 0.5
#: Seconds between two looks while pausing.
PAUSE_STEP_SECONDS = 0.002
#: The statements that take SQLite's write lock when no transaction holds it yet.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")

_paths: dict[str, os.PathLike | None] = {}
#: This process's descriptor for each lock file, as a long writer looks at it.
_looking: dict[str, int] = {}


def _path(engine: Engine):
    key = str(engine.url)
    if key not in _paths:
        _paths[key] = lock_path(engine, PURPOSE)
    return _paths[key]


def _waiting_fd(info: dict, engine: Engine) -> int | None:
    """The descriptor a connection (whose pool record's *info* this is) says it waits with; None when
    the database needs none, or the lock file cannot be opened (then it waits as SQLite makes it)."""
    fd = info.get("short_writes_fd")
    if fd is None:
        path = _path(engine)
        if path is None:
            return None
        try:
            fd = info["short_writes_fd"] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:  # the folder not writable
            _paths[str(engine.url)] = None
            return None
    return fd


@event.listens_for(Engine, "before_cursor_execute")
def _say_waiting(conn, cursor, statement, parameters, context, executemany):
    """Hold the shared lock while a statement that is to take the write lock runs (a write with no
    transaction open on the connection; a long writer opens its own with begin_immediate)."""
    if conn.dialect.name != "sqlite" or not statement.lstrip()[:7].upper().startswith(_WRITES):
        return
    driver = conn.connection.driver_connection
    if driver is None or driver.in_transaction:
        return
    info = conn.connection.info
    fd = _waiting_fd(info, conn.engine)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_SH)
        info["short_writes_waiting"] = True


@event.listens_for(Engine, "after_cursor_execute")
def _done_waiting(conn, cursor, statement, parameters, context, executemany):
    _release(conn.connection.info if conn.connection is not None else {})


@event.listens_for(Engine, "handle_error")
def _failed_waiting(context):
    connection = context.connection
    if connection is not None and not connection.closed:
        _release(connection.connection.info)


def _release(info: dict) -> None:
    if info.pop("short_writes_waiting", False):
        fcntl.flock(info["short_writes_fd"], fcntl.LOCK_UN)


def begin_immediate(connection: Connection) -> None:
    """Begin a long writer's transaction on SQLite: let the writes that wait go first, then wait for the
    write lock saying so too, so that two long writers (an import and a catch-up) take turns by
    transaction rather than the one that commits last starving the other."""
    let_waiting_writers_in(connection.engine)
    driver = connection.connection.driver_connection
    fd = _waiting_fd(connection.connection.info, connection.engine)
    if fd is None:
        driver.execute("BEGIN IMMEDIATE")
        return
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        driver.execute("BEGIN IMMEDIATE")
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


@event.listens_for(Pool, "close")
def _closed(dbapi_connection, connection_record):
    """The connection's descriptor goes with it."""
    fd = connection_record.info.pop("short_writes_fd", None)
    if fd is not None:
        os.close(fd)


def let_waiting_writers_in(engine: Engine) -> float:
    """Called by a long writer between its transactions: if short writers wait for SQLite's write lock,
    pause until they have it (at most LONGEST_PAUSE_SECONDS); return the seconds paused."""
    path = _path(engine)
    if path is None:
        return 0.0
    key = str(path)
    fd = _looking.get(key)
    if fd is None:
        try:
            fd = _looking[key] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            _paths[str(engine.url)] = None
            return 0.0
    started = time.monotonic()
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            paused = time.monotonic() - started
            if paused >= LONGEST_PAUSE_SECONDS:
                return paused
            time.sleep(PAUSE_STEP_SECONDS)
            continue
        fcntl.flock(fd, fcntl.LOCK_UN)
        return time.monotonic() - started
