"""What the search and sort indexes' catch-ups share: the tables they look up, the highest settled
book id, and the locks on books and on their marks (SearchState rows: 1 the search index's, 2 the
sort index's).
"""

import logging
from collections.abc import Callable
from weakref import WeakKeyDictionary

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine

from ..models import Book, SearchState
from .short_writes import begin_immediate

log = logging.getLogger(__name__)

#: Books copied into the index per transaction when it catches up.
CATCH_UP_BATCH = 50_000
#: How long a catch-up waits for imports' transactions before it leaves the work to the next one.
CATCH_UP_LOCK_WAIT_SECONDS = 2
#: Memory PostgreSQL may use to build an index (its default, 64 MB, makes a GIN build spill to disk).
BUILD_MEMORY = "256MB"


def table_exists(connection: Connection, table: str) -> bool:
    if connection.dialect.name == "sqlite":
        query = "SELECT 1 FROM sqlite_master WHERE name = :name"
    else:
        query = "SELECT 1 FROM pg_class WHERE relname = :name AND relkind = 'r' AND pg_table_is_visible(oid)"
    return connection.execute(text(query), {"name": table}).first() is not None


class KnownTable:
    """Whether each engine's database has one table: looked up once per engine, and set by whoever
    creates or drops it (the search and sort indexes each have one)."""

    def __init__(self, table_for: Callable[[Engine], str]):
        self._table_for = table_for
        self._known: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()

    def remember(self, engine: Engine, exists: bool) -> None:
        """Record whether *engine*'s database has the table (when it is created or dropped)."""
        self._known[engine] = exists

    def forget(self, engine: Engine) -> None:
        """Look the table up again next time (after the schema was made anew)."""
        self._known.pop(engine, None)

    def __call__(self, engine: Engine) -> bool:
        if engine not in self._known:
            with engine.connect() as connection:
                self._known[engine] = table_exists(connection, self._table_for(engine))
        return self._known[engine]


def highest_settled_id(engine: Engine) -> int | None:
    """The highest book id below which no new id can appear any more (None: could not tell now)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql" and not lock_books(
            connection, CATCH_UP_LOCK_WAIT_SECONDS, "search-catch-up-deferred"
        ):
            return None
        highest = connection.execute(select(func.max(Book.id))).scalar()
        connection.rollback()
    return highest or 0


def lock_books(connection: Connection, seconds: float, event: str) -> bool:
    """PostgreSQL: take a SHARE lock on books, which waits for the transactions writing books and holds
    off new ones; False (and the transaction rolled back, *event* logged) if they take over *seconds*."""
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{seconds}s'")
    try:
        connection.exec_driver_sql("LOCK TABLE books IN SHARE MODE")
    except Exception:
        connection.rollback()
        log.info("event=%s reason=books-busy", event)
        return False
    return True


def lock_mark(connection: Connection, mark: int) -> int | None:
    """Start a transaction that owns *mark* (a SearchState row); return its value (None if another
    catch-up holds it too long)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {CATCH_UP_LOCK_WAIT_SECONDS * 1000}")
        try:  # the write lock first (after the writes waiting): no other writer between read and write
            begin_immediate(connection)
        except Exception:
            log.info("event=search-catch-up-deferred reason=database-busy")
            return None
        finally:
            connection.exec_driver_sql("PRAGMA busy_timeout = 30000")
        statement = select(SearchState.indexed_upto).where(SearchState.id == mark)
    else:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{CATCH_UP_LOCK_WAIT_SECONDS}s'")
        statement = select(SearchState.indexed_upto).where(SearchState.id == mark).with_for_update()
    try:
        return connection.execute(statement).scalar()
    except Exception:
        connection.rollback()
        log.info("event=search-catch-up-deferred reason=another-catch-up")
        return None


def add_in_batches(engine: Engine, mark: int, target: int, batch: int,
                   add: Callable[[Connection, int, int], int]) -> int:  # fmt: skip
    """Bring the index whose SearchState row is *mark* up to *target*, *batch* book ids a transaction:
    each takes the mark (lock_mark), has add(connection, mark, upto) copy the books past it up to upto
    and move it there, and commits. Return the books added (stopping early, with what was added, when
    another catch-up holds the mark too long)."""
    added = 0
    while True:
        with engine.connect() as connection:
            at = lock_mark(connection, mark)
            if at is None or at >= target:
                connection.rollback()
                return added
            added += max(add(connection, at, min(target, at + batch)), 0)
            connection.commit()
