"""Keep the sort index caught up with the books (see sort_index for what it is and how pages read it):
copy the books past its mark, in batches or, when that would more than double the copy, by building a
new copy with its indexes and swapping it in (on an SQLite file, a step at a time, so that other
writers get in between); then copy again the books changed or deleted since they were copied.
"""

import contextlib
import logging
import uuid
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from ..models import Book, SearchState
from .index_upkeep import BUILD_MEMORY, CATCH_UP_BATCH, add_in_batches, highest_settled_id, lock_mark
from .sort_index import (
    COLUMNS,
    SORT_MARK,
    STALE,
    TABLE,
    create_copy,
    create_indexes,
    index_ready,
    index_statements,
    sort_key_sql,
)
from .write_turn import held_if_free, lock_path

log = logging.getLogger(__name__)

#: Books to copy from which a catch-up builds a new copy (when it would also more than double it).
REBUILD_FROM = 100_000
#: Threads SQLite may sort in when it builds the copy's indexes.
SQLITE_SORT_THREADS = 2
#: Stale books copied again per transaction.
STALE_BATCH = 10_000


def catch_up(engine: Engine, batch: int = CATCH_UP_BATCH, rebuild_from: int = REBUILD_FROM) -> int:
    """Copy the books the sort index does not have yet, and copy stale ones again; return how many
    books were copied. Safe to run from several workers at once (each step owns the mark; on an SQLite
    file, a catch-up holds the file's sort lock, and one that finds it taken leaves the work to it)."""
    if not index_ready(engine):
        return 0
    path = lock_path(engine, "sort-index")
    if path is None:
        return _catch_up(engine, batch, rebuild_from, in_steps=False)
    with held_if_free(path) as free:
        if free is None:  # the lock file cannot be opened (a folder not writable): one transaction, as before
            log.warning("event=sort-lock-unavailable path=%s", path)
            return _catch_up(engine, batch, rebuild_from, in_steps=False)
        return _catch_up(engine, batch, rebuild_from, in_steps=True) if free else 0


def _catch_up(engine: Engine, batch: int, rebuild_from: int, *, in_steps: bool) -> int:
    with engine.connect() as connection:  # nothing to do: no lock taken
        mark = connection.execute(select(SearchState.indexed_upto).where(SearchState.id == SORT_MARK)).scalar()
        highest = connection.execute(select(func.max(Book.id))).scalar() or 0
        stale = connection.exec_driver_sql(f"SELECT 1 FROM {STALE} LIMIT 1").first() is not None
    if mark is None or (highest <= mark and not stale):
        return 0
    copied = 0
    if highest > mark:
        target = highest_settled_id(engine)
        if target is None:
            return 0
        if target - mark >= max(rebuild_from, mark):
            copied = _rebuild_in_steps(engine, target) if in_steps else _rebuild(engine, target)
        else:
            copied = _add(engine, target, batch)
    return copied + _copy_stale(engine)


def _rebuild(engine: Engine, target: int) -> int:
    """Build a new copy of every book up to *target* in bulk and put it in the old one's place."""
    with _owning_mark_below(engine, target) as connection:
        if connection is None:
            return 0
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
        else:  # each index's sort in two threads
            connection.exec_driver_sql(f"PRAGMA threads = {SQLITE_SORT_THREADS}")
        try:
            copied = _build_copy(connection, target)
        finally:
            if connection.dialect.name == "sqlite":
                connection.rollback()  # nothing, after the commit; all of it, after a failure
                connection.exec_driver_sql("PRAGMA threads = 0")  # the pooled connection as it was
    if engine.dialect.name == "postgresql":
        # Index-only scans need the visibility map that VACUUM sets; fresh statistics too.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM ANALYZE {TABLE}")
    return copied


@contextlib.contextmanager
def _owning_mark_below(engine: Engine, target: int) -> Iterator[Connection | None]:
    """A connection in a transaction that owns the sort mark, when the mark is below *target*; else None
    (another catch-up got there, or holds the mark too long)."""
    with engine.connect() as connection:
        mark = lock_mark(connection, SORT_MARK)
        if mark is None or mark >= target:
            connection.rollback()
            yield None
        else:
            yield connection


#: Books copied into a new copy per transaction when SQLite builds it in steps.
SQLITE_COPY_STEP = 250_000


def _rebuild_in_steps(engine: Engine, target: int) -> int:
    """SQLite, holding the file's sort lock: build a new copy of every book up to *target* as _rebuild
    does, but in short transactions (the copy a step at a time, then one index each), so that an upload,
    an edit or an import's chunk waits at most one step for the write lock (a million books: at most
    0.5 s of the 4.4 s, where one transaction held it for all of them). The lock keeps every other
    catch-up's step off the copy and its list of stale books meanwhile; a book changed or deleted after
    its step is noted in that list as usual, and copied again after the swap.

    The list is left as it is until the swap: the old copy stays in use until then, its stale books with
    it, and a build cut short (the database busy past the wait, the job killed) leaves it intact. The
    swap settles the notes the new copy has made good: books whose row in it is the book's own, and books
    in neither (deleted before their step)."""
    following = f"{TABLE}_next"
    generation = uuid.uuid4().hex[:8]
    with _owning_mark_below(engine, target) as connection:
        if connection is None:
            return 0
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {following}")  # one a killed rebuild left
        create_copy(connection, following, generation)
        connection.commit()
    copied = 0
    steps = [
        *(_copy_rows(following, f"id > {start} AND id <= {min(start + SQLITE_COPY_STEP, int(target))}", "sqlite")
          for start in range(0, int(target), SQLITE_COPY_STEP)),
        *index_statements(following, generation, "sqlite"),
    ]  # fmt: skip
    for statement in steps:
        with engine.connect() as connection:
            if lock_mark(connection, SORT_MARK) is None:
                break
            connection.exec_driver_sql(f"PRAGMA threads = {SQLITE_SORT_THREADS}")
            try:
                copied += max(connection.exec_driver_sql(statement).rowcount, 0)
                connection.commit()
            finally:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA threads = 0")  # the pooled connection as it was
    else:
        with _owning_mark_below(engine, target) as connection:
            if connection is not None:
                _settle_stale(connection, following, target)
                connection.exec_driver_sql(f"DROP TABLE {TABLE}")
                connection.exec_driver_sql(f"ALTER TABLE {following} RENAME TO {TABLE}")
                _set_mark(connection, target, books=copied)
                connection.commit()
                return copied
    _drop_if_free(engine, following)  # the database stayed busy: the old copy stays; the next catch-up starts again
    return 0


def _settle_stale(connection: Connection, following: str, target: int) -> None:
    """Take off the stale list the books up to *target* that the new copy *following* has right: those
    whose row in it is the book's own, and those in neither (deleted before the copy reached them)."""
    same = " AND ".join(f"n.{name} IS {sort_key_sql(name, 'b.', 'sqlite')}" for name in COLUMNS)
    connection.exec_driver_sql(
        f"DELETE FROM {STALE} WHERE id <= {int(target)} AND ("
        f"EXISTS (SELECT 1 FROM {following} n JOIN books b ON b.id = n.id WHERE n.id = {STALE}.id AND {same}) "
        f"OR (NOT EXISTS (SELECT 1 FROM books b WHERE b.id = {STALE}.id) "
        f"AND NOT EXISTS (SELECT 1 FROM {following} n WHERE n.id = {STALE}.id)))"
    )


def _drop_if_free(engine: Engine, name: str) -> None:
    """Drop the new copy a build cut short left, if the database lets the write in within the wait."""
    with engine.connect() as connection:
        if lock_mark(connection, SORT_MARK) is None:
            return
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        connection.commit()


def _build_copy(connection: Connection, target: int) -> int:
    """In the transaction that owns the sort mark: build the new copy, swap it in, move the mark, commit."""
    # Stale marks noted so far are settled by the new copy; later changes note theirs again.
    connection.exec_driver_sql(f"DELETE FROM {STALE} WHERE id <= {int(target)}")
    following = f"{TABLE}_next"
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {following}")
    generation = uuid.uuid4().hex[:8]
    create_copy(connection, following, generation)
    copied = connection.exec_driver_sql(_copy_rows(following, f"id <= {int(target)}", connection.dialect.name)).rowcount
    create_indexes(connection, following, generation)
    connection.exec_driver_sql(f"DROP TABLE {TABLE}")
    connection.exec_driver_sql(f"ALTER TABLE {following} RENAME TO {TABLE}")
    _set_mark(connection, target, books=max(copied, 0))
    connection.commit()
    return max(copied, 0)


def _add(engine: Engine, target: int, batch: int) -> int:
    """Add the books past the mark up to *target* to the copy, *batch* books per transaction."""

    def add(connection: Connection, mark: int, upto: int) -> int:
        added = max(
            connection.exec_driver_sql(
                _copy_rows(TABLE, f"id > {int(mark)} AND id <= {int(upto)}", connection.dialect.name)
            ).rowcount,
            0,
        )
        _set_mark(connection, upto, added=added)
        return added

    return add_in_batches(engine, SORT_MARK, target, batch, add)


def _copy_stale(engine: Engine) -> int:
    """Copy the books changed or deleted since they were copied again, a batch per transaction."""
    copied = 0
    with engine.connect() as connection:
        batches = connection.exec_driver_sql(f"SELECT count(*) FROM {STALE}").scalar() // STALE_BATCH + 1
    for _ in range(batches):  # no more: books changed meanwhile wait for the next catch-up
        with engine.connect() as connection:
            mark = lock_mark(connection, SORT_MARK)
            if mark is None:
                connection.rollback()
                break
            # Taken off the list first: a change after this statement notes its book again (on
            # PostgreSQL it waits for this transaction to end), so no change goes unseen.
            ids = [int(i) for (i,) in connection.exec_driver_sql(
                f"DELETE FROM {STALE} WHERE id IN (SELECT id FROM {STALE} ORDER BY id LIMIT {STALE_BATCH}) "
                "RETURNING id"
            )]  # fmt: skip
            if not ids:
                connection.rollback()
                break
            listed = ", ".join(map(str, ids))
            removed = connection.exec_driver_sql(f"DELETE FROM {TABLE} WHERE id IN ({listed})").rowcount
            added = max(connection.exec_driver_sql(
                _copy_rows(TABLE, f"id IN ({listed}) AND id <= {int(mark)}", connection.dialect.name)
            ).rowcount, 0)  # fmt: skip
            _set_mark(connection, mark, added=added - removed)
            copied += added
            connection.commit()
    return copied


def _set_mark(connection: Connection, upto: int, *, books: int | None = None, added: int = 0) -> None:
    """Move the mark to *upto*; set the copy's count of books to *books*, or add *added* to it."""
    state = SearchState.__table__
    count = state.c.books + added if books is None else books
    connection.execute(state.update().where(state.c.id == SORT_MARK).values(indexed_upto=upto, books=count))


def _copy_rows(into: str, where: str, dialect: str) -> str:
    """The statement that copies the books *where* says into the copy table *into* (their sort keys)."""
    keys = ", ".join(sort_key_sql(name, "", dialect) for name in COLUMNS)
    return f"INSERT INTO {into} (id, {', '.join(COLUMNS)}) SELECT id, {keys} FROM books WHERE {where}"
