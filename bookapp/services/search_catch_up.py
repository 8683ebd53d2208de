"""Keep the search index caught up with the books: copy in bulk the books past its mark (see
search_index for what the index is and why the mark keeps searches exact), and on PostgreSQL, when
that would more than double the copy, build a new copy with its trigram indexes and swap it in.
"""

import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from ..models import Book, SearchState
from .folding import for_search_sql
from .index_upkeep import BUILD_MEMORY, CATCH_UP_BATCH, add_in_batches, highest_settled_id, lock_books, lock_mark
from .search_index import POSTGRES_TABLE, SEARCH_MARK, SQLITE_TABLE, index_ready

log = logging.getLogger(__name__)

#: The same on SQLite's FTS5 table, where each commit flushes a segment to merge later (1M books: 3.1 s
#: in batches of 100,000, 3.7 s in batches of 50,000); 100,000 hold the one write lock about 0.3 s.
SQLITE_CATCH_UP_BATCH = 100_000
#: Books copied in one catch-up after which PostgreSQL's statistics are refreshed.
ANALYZE_AFTER = 10_000
#: Books to copy from which a catch-up on PostgreSQL builds a new copy and its trigram indexes in bulk
#: (when it would also more than double the copy): a GIN index built at once costs about half of
#: adding as many books to one.
REBUILD_FROM = 100_000
#: How long that rebuild waits for imports' transactions, at its end, to put the new copy in place.
SWAP_LOCK_WAIT_SECONDS = 10
#: The advisory lock a rebuild holds from its copy to its swap ("booksrch").
REBUILD_LOCK = 0x626F6F6B73726368
#: The new copy a rebuild builds before it takes the old one's place.
FOLLOWING = f"{POSTGRES_TABLE}_next"


def catch_up(engine: Engine, batch: int | None = None, rebuild_from: int = REBUILD_FROM) -> int:
    """Copy the books the index does not have yet into it, in batches of *batch* (by default
    SQLITE_CATCH_UP_BATCH or CATCH_UP_BATCH) (on PostgreSQL, a new copy
    built in bulk when that more than doubles it); return how many were copied.

    Safe to run from several workers at once (each batch takes the mark under a lock). Returns 0,
    leaving the work to the next run, when the index is off or imports hold the books too long.
    """
    if not index_ready(engine):
        return 0
    with engine.connect() as connection:  # nothing new: no lock taken
        mark = connection.execute(select(SearchState.indexed_upto).where(SearchState.id == SEARCH_MARK)).scalar()
        highest = connection.execute(select(func.max(Book.id))).scalar()
    if mark is None or (highest or 0) <= mark:
        return 0
    batch = batch or (SQLITE_CATCH_UP_BATCH if engine.dialect.name == "sqlite" else CATCH_UP_BATCH)
    target = highest_settled_id(engine)
    if target is None:
        return 0
    if engine.dialect.name == "postgresql" and target - mark >= max(rebuild_from, mark):
        rebuilt = rebuild(engine, target)
        if rebuilt is not None:
            _analyze(engine)
            return rebuilt
    table, key = (SQLITE_TABLE, "rowid") if engine.dialect.name == "sqlite" else (POSTGRES_TABLE, "book_id")
    values = _folded_values(engine.dialect.name)

    def add(connection: Connection, mark: int, upto: int) -> int:
        inserted = connection.exec_driver_sql(
            f"INSERT INTO {table} ({key}, title, author) SELECT id, {values} FROM books "
            f"WHERE id > {int(mark)} AND id <= {int(upto)}"
        ).rowcount
        connection.execute(
            SearchState.__table__.update().where(SearchState.id == SEARCH_MARK).values(indexed_upto=upto)
        )
        return inserted

    copied = add_in_batches(engine, SEARCH_MARK, target, batch, add)
    if copied >= ANALYZE_AFTER and engine.dialect.name == "postgresql":
        _analyze(engine)
    return copied


def _folded_values(dialect: str) -> str:
    """The books' titles and authors as the index holds them: folded (services.folding)."""
    return f"{for_search_sql('title', dialect)}, {for_search_sql('author', dialect)}"


def _analyze(engine: Engine) -> None:
    """Fresh statistics after a bulk load, so the planner knows how few books lie past the mark
    (autovacuum would get there, a minute or so later)."""
    with engine.connect() as connection:
        connection.exec_driver_sql(f"ANALYZE books, {POSTGRES_TABLE}")
        connection.commit()


def rebuild(engine: Engine, target: int) -> int | None:
    """PostgreSQL: build a new copy of every book up to *target* with its trigram indexes, and put it in
    the old one's place; return how many books it holds (0: another catch-up is at it, or got there
    first; None: imports held the books too long, nothing changed).

    The copy is read without blocking anyone, and committed, so that its two trigram indexes are built
    at once on two connections (each build takes one core: 7.8 s and 5.0 s one after the other at a
    million books, the longer of the two side by side). An advisory lock keeps a second rebuild off
    meanwhile; a copy not put in place is dropped (one a killed rebuild left, by the next). Books
    changed or deleted after the read are then set right under a SHARE lock on books (writers wait;
    readers do not): changed ones are the rows whose xmin is not older than the read's oldest
    transaction, deleted ones show in the count. The old copy stays in step and in use until the swap.
    """
    with engine.connect() as connection:
        if not connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({REBUILD_LOCK})").scalar():
            connection.rollback()
            return 0
        swapped = False
        try:
            copied = _rebuild_holding_lock(engine, connection, target)
            swapped = bool(copied)
            return copied
        finally:
            try:
                connection.rollback()
                if not swapped:  # a copy not put in place: its disk back now, not at the next rebuild
                    connection.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FOLLOWING}")
                    connection.commit()
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({REBUILD_LOCK})")
                connection.commit()
            except Exception:  # the connection is broken: closing it releases the lock
                connection.invalidate()


def _rebuild_holding_lock(engine: Engine, connection: Connection, target: int) -> int | None:
    following = FOLLOWING
    mark = lock_mark(connection, SEARCH_MARK)
    if mark is None or mark >= target:
        connection.rollback()
        return 0
    # Every transaction the copy below does not see is this one's or newer (as a 32-bit xid, as in xmin).
    oldest = int(connection.exec_driver_sql("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").scalar())
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {following}")
    # The copy folds every title and author (accents and case aside): a plan of two workers beside this
    # process folds them three at a time, which the planner, costing the fold as cheap, would not choose
    # by itself (a million books: 4.1-4.4 s against 7.0 s on a loaded machine; a copy as it is, 3.2 s).
    # CREATE TABLE AS may run so, where INSERT … SELECT may not.
    connection.exec_driver_sql("SET LOCAL parallel_setup_cost = 0")
    connection.exec_driver_sql("SET LOCAL parallel_tuple_cost = 0")
    copied = connection.exec_driver_sql(
        f"CREATE TABLE {following} AS SELECT id AS book_id, {for_search_sql('title', 'postgresql')} AS title, "
        f"{for_search_sql('author', 'postgresql')} AS author FROM books "
        f"WHERE id <= {int(target)}"
    ).rowcount
    connection.exec_driver_sql(
        f"ALTER TABLE {following} ADD CONSTRAINT {following}_pkey PRIMARY KEY (book_id), "
        "ALTER COLUMN title SET NOT NULL, ALTER COLUMN author SET NOT NULL"
    )
    connection.commit()  # the mark is free again; the advisory lock keeps other rebuilds off
    with ThreadPoolExecutor(1, thread_name_prefix="search-rebuild") as pool:
        other = pool.submit(_build_trigram_index, engine, "author")
        _build_trigram_index(engine, "title", connection)
        other.result()
    mark = lock_mark(connection, SEARCH_MARK)
    if mark is None or mark >= target:  # a batch catch-up got there meanwhile
        connection.rollback()
        return 0
    if not lock_books(connection, SWAP_LOCK_WAIT_SECONDS, "search-rebuild-deferred"):
        return None
    title, author = (for_search_sql(f"b.{name}", "postgresql") for name in ("title", "author"))
    connection.exec_driver_sql(
        f"UPDATE {following} n SET title = {title}, author = {author} FROM books b WHERE b.id = n.book_id "
        f"AND b.id <= {int(target)} AND age(b.xmin) <= age('{oldest % 2**32}'::xid) "
        f"AND (n.title, n.author) IS DISTINCT FROM ({title}, {author})"
    )
    books = connection.exec_driver_sql(f"SELECT count(*) FROM books WHERE id <= {int(target)}").scalar()
    if books != copied:  # some were deleted since (ids up to the target are never new)
        copied -= connection.exec_driver_sql(
            f"DELETE FROM {following} n WHERE NOT EXISTS (SELECT 1 FROM books b WHERE b.id = n.book_id)"
        ).rowcount
    try:  # waits for the searches under way, as long as for the imports' transactions
        connection.exec_driver_sql(f"DROP TABLE {POSTGRES_TABLE}")
    except Exception:
        connection.rollback()
        log.info("event=search-rebuild-deferred reason=searches-busy")
        return None
    connection.exec_driver_sql(f"ALTER TABLE {following} RENAME TO {POSTGRES_TABLE}")
    for old, new in ((f"{following}_pkey", f"{POSTGRES_TABLE}_pkey"),
                     *((f"ix_{following}_{k}", f"ix_{POSTGRES_TABLE}_{k}") for k in ("title", "author"))):  # fmt: skip
        connection.exec_driver_sql(f"ALTER INDEX {old} RENAME TO {new}")
    connection.execute(SearchState.__table__.update().where(SearchState.id == SEARCH_MARK).values(indexed_upto=target))
    connection.commit()
    return copied


def _build_trigram_index(engine: Engine, key: str, connection: Connection | None = None) -> None:
    """Build the new copy's trigram index on *key* in a transaction of its own (on *connection*, or on a
    connection of its own)."""
    with contextlib.nullcontext(connection) if connection is not None else engine.connect() as own:
        own.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
        own.exec_driver_sql(f"CREATE INDEX ix_{FOLLOWING}_{key} ON {FOLLOWING} USING gin ({key} gin_trgm_ops)")
        own.commit()
