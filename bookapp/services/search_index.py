"""Substring search over titles and authors that stays fast at a million books.

- PostgreSQL: trigram GIN indexes (the pg_trgm extension) serve ``ILIKE '%…%'`` as it is written.
- SQLite: an FTS5 table with the trigram tokenizer mirrors title and author (triggers keep it in
  step with every insert, change and delete, imports and undo included). It keeps no positions
  (detail=none), which halves what indexing a new book costs; FTS5 answers LIKE from it and checks
  each candidate against the text, so results are exactly the scan's. A search of three or more
  characters without LIKE wildcards asks it for the matching ids; any other scans.

Both are optional: without them (BOOKAPP_SEARCH_INDEX=0, pg_trgm not allowed, an SQLite without
FTS5) search gives the same results by scanning. They cost import speed: each new book's title and
author are indexed as it is inserted (bench/RESULTS.md has both numbers).
"""

import logging
from weakref import WeakKeyDictionary

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

#: SQLite's mirror of titles and authors, searched by trigrams.
SQLITE_TABLE = "books_search"
#: The fewest characters a trigram index can look up; shorter searches scan.
MIN_INDEXED_CHARS = 3

_SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_TABLE} USING fts5("
    "title, author, content='books', content_rowid='id', tokenize='trigram', detail='none')",
    f"CREATE TRIGGER IF NOT EXISTS books_search_insert AFTER INSERT ON books BEGIN "
    f"INSERT INTO {SQLITE_TABLE}(rowid, title, author) VALUES (new.id, new.title, new.author); END",
    f"CREATE TRIGGER IF NOT EXISTS books_search_delete AFTER DELETE ON books BEGIN "
    f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, title, author) "
    "VALUES ('delete', old.id, old.title, old.author); END",
    f"CREATE TRIGGER IF NOT EXISTS books_search_update AFTER UPDATE OF title, author ON books "
    "WHEN old.title IS NOT new.title OR old.author IS NOT new.author BEGIN "
    f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, title, author) "
    "VALUES ('delete', old.id, old.title, old.author); "
    f"INSERT INTO {SQLITE_TABLE}(rowid, title, author) VALUES (new.id, new.title, new.author); END",
]
_POSTGRES_DDL = [
    "CREATE INDEX IF NOT EXISTS ix_books_title_trgm ON books USING gin (title gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_books_author_trgm ON books USING gin (author gin_trgm_ops)",
]


def ensure_search_index(connection: Connection) -> bool:
    """Create the search index if it is missing (filling it from the stored books); return whether one exists."""
    if connection.dialect.name == "postgresql":
        return _ensure_postgres(connection)
    if connection.dialect.name == "sqlite":
        return _ensure_sqlite(connection)
    return False


def drop_search_index(connection: Connection) -> None:
    """Drop the search index (and on SQLite the triggers that fill it)."""
    if connection.dialect.name == "sqlite":
        for trigger in ("books_search_insert", "books_search_delete", "books_search_update"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {SQLITE_TABLE}")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP INDEX IF EXISTS ix_books_title_trgm")
        connection.exec_driver_sql("DROP INDEX IF EXISTS ix_books_author_trgm")


def has_search_index(connection: Connection) -> bool:
    """Whether SQLite's mirror table exists (PostgreSQL needs no different query)."""
    return SQLITE_TABLE in inspect(connection).get_table_names()


_known: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()


def remember(engine: Engine, exists: bool) -> None:
    """Record whether *engine*'s database has the search index (set when it is created)."""
    _known[engine] = exists


def sqlite_index_ready(engine: Engine) -> bool:
    """Whether searches on this SQLite database can ask the mirror table (looked up once per engine)."""
    if engine not in _known:
        with engine.connect() as connection:
            _known[engine] = has_search_index(connection)
    return _known[engine]


def _ensure_sqlite(connection: Connection) -> bool:
    existed = has_search_index(connection)
    try:
        for statement in _SQLITE_DDL:
            connection.exec_driver_sql(statement)
    except Exception as exc:  # an SQLite without FTS5 or its trigram tokenizer: search scans
        log.warning("event=search-index-unavailable database=sqlite reason=%s", type(exc).__name__)
        return False
    if not existed:
        connection.exec_driver_sql(f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}) VALUES ('rebuild')")
    return True


def _ensure_postgres(connection: Connection) -> bool:
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # not allowed to create extensions here: search scans
        log.warning("event=search-index-unavailable database=postgresql reason=%s", type(exc).__name__)
        return False
    for statement in _POSTGRES_DDL:
        connection.exec_driver_sql(statement)
    return True


def sqlite_can_search(search: str) -> bool:
    """Whether the mirror table can answer *search*: three characters or more, and no LIKE wildcard
    (FTS5 does not use its index for a LIKE with an ESCAPE clause)."""
    return len(search) >= MIN_INDEXED_CHARS and not any(c in search for c in "%_")


def sqlite_matches(search: str):
    """Return a SELECT of the ids of books whose title or author contains *search* (case aside)."""
    return text(
        f"SELECT rowid FROM {SQLITE_TABLE} WHERE title LIKE :pattern "
        f"UNION SELECT rowid FROM {SQLITE_TABLE} WHERE author LIKE :pattern"
    ).bindparams(pattern=f"%{search}%")
