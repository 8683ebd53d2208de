"""Substring search over titles and authors that stays fast at a million books, without slowing imports.

The index is a copy of each book's title and author in a table the database indexes by trigrams:
an FTS5 table (trigram tokenizer, no positions) on SQLite, a table with pg_trgm GIN indexes on
PostgreSQL. New books are not indexed as they are inserted (that would more than halve import
speed); a catch-up step copies every book with an id above ``search_state.indexed_upto`` in bulk,
in a job queued as each import ends (the indexes' own worker runs it beside later imports) and in
the maintenance of the workers that take catch-ups. Triggers keep already-indexed books in step when
they are changed or deleted (edits, imports' updates, undo). On PostgreSQL a catch-up that would
more than double the copy builds a new one instead (see _rebuild).

A search asks the index for the books up to the mark and scans only the books above it, so results
are always exactly those of a plain scan; only the speed depends on how far the index has caught
up. Without the index (BOOKAPP_SEARCH_INDEX=0, pg_trgm not allowed, an SQLite without FTS5) search
scans.

The mark is safe because ids above it are only ever new: SQLite never reuses an id (AUTOINCREMENT)
and takes one writer at a time; on PostgreSQL the catch-up reads the highest id under a SHARE lock
on books, which waits for every transaction inserting books to end, so no smaller id can still
appear.
"""

import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from weakref import WeakKeyDictionary

from sqlalchemy import and_, column, func, or_, select, table, text, union
from sqlalchemy.engine import Connection, Engine

from ..extensions import db
from ..models import Book, SearchState

log = logging.getLogger(__name__)

#: SQLite's copy of titles and authors (FTS5), and PostgreSQL's (a table with trigram indexes).
SQLITE_TABLE = "books_search"
POSTGRES_TABLE = "book_search"
#: The search index's row in SearchState (the sort index has its own).
SEARCH_MARK = 1
#: The fewest characters a trigram index can look up; shorter searches scan.
MIN_INDEXED_CHARS = 3
#: A word of a search the index finds in more books than this is a common one (SQLite: see candidates).
COMMON_WORD_BOOKS = 1_000
#: Books copied into the index per transaction when it catches up.
CATCH_UP_BATCH = 50_000
#: The same on SQLite's FTS5 table, where each commit flushes a segment to merge later (1M books: 3.1 s
#: in batches of 100,000, 3.7 s in batches of 50,000); 100,000 hold the one write lock about 0.3 s.
SQLITE_CATCH_UP_BATCH = 100_000
#: Books copied in one catch-up after which PostgreSQL's statistics are refreshed.
ANALYZE_AFTER = 10_000
#: How long a catch-up waits for imports' transactions before it leaves the work to the next one.
CATCH_UP_LOCK_WAIT_SECONDS = 2
#: Books to copy from which a catch-up on PostgreSQL builds a new copy and its trigram indexes in bulk
#: (when it would also more than double the copy): a GIN index built at once costs about half of
#: adding as many books to one.
REBUILD_FROM = 100_000
#: How long that rebuild waits for imports' transactions, at its end, to put the new copy in place.
SWAP_LOCK_WAIT_SECONDS = 10
#: Memory PostgreSQL may use to build an index (its default, 64 MB, makes a GIN build spill to disk).
BUILD_MEMORY = "256MB"

#: SQLite's FTS5 table keeps no copy of the titles and authors (contentless: a search only asks it for
#: rowids and checks the books themselves), so a book leaves it by the values it was indexed with: the
#: triggers hand over the old ones, only for books up to the mark (the others are not in it yet).
#: Together with a 16 MB write buffer (FTS5's "hashsize", 1 MB by default, flushed as a segment each
#: time it fills) and merges of 16 segments at a time instead of 4, a million books go in in 3.1 s
#: instead of 5.4 s, searches as fast as before.
_SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE {SQLITE_TABLE} USING fts5(title, author, tokenize='trigram', detail='none', content='')",
    f"INSERT INTO {SQLITE_TABLE} ({SQLITE_TABLE}, rank) VALUES ('hashsize', {16 * 1024 * 1024})",
    f"INSERT INTO {SQLITE_TABLE} ({SQLITE_TABLE}, rank) VALUES ('automerge', 16)",
]
_indexed = f"old.id <= (SELECT indexed_upto FROM search_state WHERE id = {SEARCH_MARK})"
_forget_old = f"INSERT INTO {SQLITE_TABLE} ({SQLITE_TABLE}, rowid, title, author) VALUES ('delete', old.id, old.title, old.author);"
_SQLITE_DDL = [
    f"CREATE TRIGGER IF NOT EXISTS books_search_delete AFTER DELETE ON books WHEN {_indexed} BEGIN {_forget_old} END",
    f"CREATE TRIGGER IF NOT EXISTS books_search_update AFTER UPDATE OF title, author ON books "
    f"WHEN (old.title IS NOT new.title OR old.author IS NOT new.author) AND {_indexed} BEGIN {_forget_old} "
    f"INSERT INTO {SQLITE_TABLE} (rowid, title, author) VALUES (new.id, new.title, new.author); END",
]
_POSTGRES_DDL = [
    f"CREATE TABLE IF NOT EXISTS {POSTGRES_TABLE} (book_id BIGINT PRIMARY KEY, title TEXT NOT NULL, "
    "author TEXT NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS ix_book_search_title ON {POSTGRES_TABLE} USING gin (title gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS ix_book_search_author ON {POSTGRES_TABLE} USING gin (author gin_trgm_ops)",
    f"""CREATE OR REPLACE FUNCTION book_search_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM {POSTGRES_TABLE} WHERE book_id = OLD.id;
            RETURN OLD;
        END IF;
        UPDATE {POSTGRES_TABLE} SET title = NEW.title, author = NEW.author WHERE book_id = NEW.id;
        RETURN NEW;
    END $$""",
    "DROP TRIGGER IF EXISTS book_search_delete ON books",
    "CREATE TRIGGER book_search_delete AFTER DELETE ON books FOR EACH ROW EXECUTE FUNCTION book_search_follow()",
    "DROP TRIGGER IF EXISTS book_search_update ON books",
    "CREATE TRIGGER book_search_update AFTER UPDATE OF title, author ON books FOR EACH ROW "
    "WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.author IS DISTINCT FROM NEW.author) "
    "EXECUTE FUNCTION book_search_follow()",
]


def ensure_search_index(connection: Connection) -> bool:
    """Create the search index if it is missing (empty: catch_up fills it); return whether one exists."""
    name = connection.dialect.name
    if name not in ("sqlite", "postgresql"):
        return False
    # No mark (a new index, or one an earlier version left behind): start it afresh.
    fresh = connection.execute(select(SearchState.indexed_upto).where(SearchState.id == SEARCH_MARK)).first() is None
    if fresh:
        drop_search_index(connection)
    missing = not table_exists(connection, SQLITE_TABLE if name == "sqlite" else POSTGRES_TABLE)
    try:
        with connection.begin_nested():
            if name == "postgresql":
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            create = _SQLITE_CREATE if name == "sqlite" and missing else []
            for statement in [*create, *(_SQLITE_DDL if name == "sqlite" else _POSTGRES_DDL)]:
                connection.exec_driver_sql(statement)
    except Exception as exc:  # no FTS5 / trigram tokenizer, or no right to create pg_trgm: search scans
        log.warning("event=search-index-unavailable database=%s reason=%s", name, type(exc).__name__)
        return False
    if fresh:  # a new, empty index: everything is still to be copied
        connection.execute(SearchState.__table__.insert().values(id=SEARCH_MARK, indexed_upto=0))
    elif missing:  # the table was missing under a mark (dropped by an earlier version): nothing is in it
        state = SearchState.__table__
        connection.execute(state.update().where(state.c.id == SEARCH_MARK).values(indexed_upto=0))
    return True


def drop_search_index(connection: Connection) -> None:
    """Drop the search index and the triggers that keep it in step."""
    if connection.dialect.name == "sqlite":
        for trigger in ("books_search_insert", "books_search_delete", "books_search_update"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {SQLITE_TABLE}")
    elif connection.dialect.name == "postgresql":
        for trigger in ("book_search_delete", "book_search_update"):
            if table_exists(connection, "books"):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON books")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {POSTGRES_TABLE}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {POSTGRES_TABLE}_next")  # a rebuild's, if one was cut short
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS book_search_follow()")
        # The indexes of an earlier version, which indexed the books table itself.
        connection.exec_driver_sql("DROP INDEX IF EXISTS ix_books_title_trgm")
        connection.exec_driver_sql("DROP INDEX IF EXISTS ix_books_author_trgm")
    if table_exists(connection, SearchState.__tablename__):  # an index made again starts from nothing
        connection.execute(SearchState.__table__.delete().where(SearchState.id == SEARCH_MARK))


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


#: Whether searches on a database can ask the index.
index_ready = KnownTable(lambda engine: SQLITE_TABLE if engine.dialect.name == "sqlite" else POSTGRES_TABLE)
remember = index_ready.remember


def can_use_index(word: str, dialect: str) -> bool:
    """Whether the index can look *word* up: three characters or more and, on PostgreSQL, no LIKE
    wildcard (SQLite's index is asked for the word's trigrams, where a wildcard is a plain character)."""
    return len(word) >= MIN_INDEXED_CHARS and (dialect == "sqlite" or not any(c in word for c in "%_\\"))


def candidates(engine: Engine, words: list[str]):
    """Return the ids of the books that may hold every one of *words* in their title or author, through
    the index (None when it cannot narrow them: no index, or no word it can look up).

    On PostgreSQL the ids are exactly those books; on SQLite they may be more (the index's FTS5 table
    keeps no columns or positions, so it is asked for the rows holding every trigram of every word,
    in one query): callers filter them with ``contains``. Books past the index's mark are scanned,
    a range of the primary key, so the search is complete whatever the index has caught up.
    """
    indexed = [w for w in words if can_use_index(w, engine.dialect.name)]
    if not (indexed and index_ready(engine)):
        return None
    if engine.dialect.name == "sqlite":
        # FTS5 asks its index for one LIKE per query and only for one column, which for a word that
        # appears in every title means checking every row (1.6 s at 1,000,000 books); trigrams of
        # every word, ANDed in one MATCH, merge the index's lists instead. A word in most books makes
        # that merge slow too (70 ms for "volume 123456" against 0.7 ms for "123456" alone), so when
        # a rarer word narrows the search, the common ones are left to the exact check.
        if len(indexed) > 1:
            indexed = [w for w in indexed if not _common(w)] or indexed
        from_index = select(_FTS.c.rowid).where(_holding(indexed))
    else:
        copy = table(POSTGRES_TABLE, column("book_id"), column("title"), column("author"))
        from_index = select(copy.c.book_id).where(
            and_(*(or_(copy.c.title.ilike(f"%{w}%"), copy.c.author.ilike(f"%{w}%")) for w in indexed))
        )
    # The mark as a value, not a subquery: the planner then sees how few books lie past it.
    mark = db.session.scalar(select(SearchState.indexed_upto).where(SearchState.id == SEARCH_MARK)) or 0
    recent = Book.__table__.alias("recent_books")
    not_yet_indexed = select(recent.c.id).where(recent.c.id > mark, *(contains(recent, w) for w in indexed))
    return union(from_index, not_yet_indexed)


_FTS = table(SQLITE_TABLE, column("rowid"))


def _holding(words: list[str]):
    """The FTS5 condition "holds every trigram of every one of *words*" (each trigram quoted)."""
    terms = " AND ".join('"' + t.replace('"', '""') + '"' for t in trigrams(words))
    return text(f"{SQLITE_TABLE} MATCH :trigrams").bindparams(trigrams=terms)


def _common(word: str) -> bool:
    """Whether SQLite's index finds *word* in more than COMMON_WORD_BOOKS books (it stops counting there)."""
    first = select(_FTS.c.rowid).where(_holding([word])).limit(COMMON_WORD_BOOKS + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(first)) > COMMON_WORD_BOOKS


def trigrams(words: list[str]) -> list[str]:
    """Every distinct run of three characters in *words*, in order of appearance."""
    found = dict.fromkeys(w[i : i + MIN_INDEXED_CHARS] for w in words for i in range(len(w) - MIN_INDEXED_CHARS + 1))
    return list(found)


def contains(table, word: str):
    """Return the condition "title or author contains *word*, case aside" on *table* (a scan)."""
    pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(table.c.title.ilike(pattern, escape="\\"), table.c.author.ilike(pattern, escape="\\"))


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
        rebuilt = _rebuild(engine, target)
        if rebuilt is not None:
            _analyze(engine)
            return rebuilt
    copied = 0
    while True:
        with engine.connect() as connection:
            mark = lock_mark(connection)
            if mark is None or mark >= target:
                connection.rollback()
                break
            upto = min(target, mark + batch)
            table, key = (SQLITE_TABLE, "rowid") if engine.dialect.name == "sqlite" else (POSTGRES_TABLE, "book_id")
            inserted = connection.exec_driver_sql(
                f"INSERT INTO {table} ({key}, title, author) SELECT id, title, author FROM books "
                f"WHERE id > {int(mark)} AND id <= {int(upto)}"
            ).rowcount
            connection.execute(
                SearchState.__table__.update().where(SearchState.id == SEARCH_MARK).values(indexed_upto=upto)
            )
            connection.commit()
            copied += max(inserted, 0)
    if copied >= ANALYZE_AFTER and engine.dialect.name == "postgresql":
        _analyze(engine)
    return copied


def _analyze(engine: Engine) -> None:
    """Fresh statistics after a bulk load, so the planner knows how few books lie past the mark
    (autovacuum would get there, a minute or so later)."""
    with engine.connect() as connection:
        connection.exec_driver_sql(f"ANALYZE books, {POSTGRES_TABLE}")
        connection.commit()


def _rebuild(engine: Engine, target: int) -> int | None:
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
                    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_FOLLOWING}")
                    connection.commit()
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({REBUILD_LOCK})")
                connection.commit()
            except Exception:  # the connection is broken: closing it releases the lock
                connection.invalidate()


#: The advisory lock a rebuild holds from its copy to its swap ("booksrch").
REBUILD_LOCK = 0x626F6F6B73726368
_FOLLOWING = f"{POSTGRES_TABLE}_next"


def _rebuild_holding_lock(engine: Engine, connection: Connection, target: int) -> int | None:
    following = _FOLLOWING
    mark = lock_mark(connection)
    if mark is None or mark >= target:
        connection.rollback()
        return 0
    # Every transaction the copy below does not see is this one's or newer (as a 32-bit xid, as in xmin).
    oldest = int(connection.exec_driver_sql("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").scalar())
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {following}")
    connection.exec_driver_sql(f"CREATE TABLE {following} (book_id BIGINT NOT NULL, title TEXT NOT NULL, "
                               "author TEXT NOT NULL)")  # fmt: skip
    copied = connection.exec_driver_sql(
        f"INSERT INTO {following} (book_id, title, author) SELECT id, title, author FROM books "
        f"WHERE id <= {int(target)}"
    ).rowcount
    connection.exec_driver_sql(f"ALTER TABLE {following} ADD CONSTRAINT {following}_pkey PRIMARY KEY (book_id)")
    connection.commit()  # the mark is free again; the advisory lock keeps other rebuilds off
    with ThreadPoolExecutor(1, thread_name_prefix="search-rebuild") as pool:
        other = pool.submit(_build_trigram_index, engine, "author")
        _build_trigram_index(engine, "title", connection)
        other.result()
    mark = lock_mark(connection)
    if mark is None or mark >= target:  # a batch catch-up got there meanwhile
        connection.rollback()
        return 0
    if not lock_books(connection, SWAP_LOCK_WAIT_SECONDS, "search-rebuild-deferred"):
        return None
    connection.exec_driver_sql(
        f"UPDATE {following} n SET title = b.title, author = b.author FROM books b WHERE b.id = n.book_id "
        f"AND b.id <= {int(target)} AND age(b.xmin) <= age('{oldest % 2**32}'::xid) "
        "AND (n.title, n.author) IS DISTINCT FROM (b.title, b.author)"
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
        own.exec_driver_sql(f"CREATE INDEX ix_{_FOLLOWING}_{key} ON {_FOLLOWING} USING gin ({key} gin_trgm_ops)")
        own.commit()


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


def lock_mark(connection: Connection, mark: int = SEARCH_MARK) -> int | None:
    """Start a transaction that owns the mark (a SearchState row); return it (None if another catch-up
    holds it too long)."""
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {CATCH_UP_LOCK_WAIT_SECONDS * 1000}")
        try:
            driver.execute("BEGIN IMMEDIATE")  # the write lock first: no other writer between read and write
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
