"""Substring search over titles and authors that stays fast at a million books, without slowing imports.

The index is a copy of each book's title and author in a table the database indexes by trigrams:
an FTS5 table (trigram tokenizer, no positions) on SQLite, a table with pg_trgm GIN indexes on
PostgreSQL. New books are not indexed as they are inserted (that would more than halve import
speed); a catch-up step (search_catch_up) copies every book with an id above
``search_state.indexed_upto`` in bulk, in a job queued as each import ends (the indexes' own worker
runs it beside later imports) and in the maintenance of the workers that take catch-ups. Triggers
keep already-indexed books in step when they are changed or deleted (edits, imports' updates, undo).
On PostgreSQL a catch-up that would more than double the copy builds a new one instead.

Both compare titles and authors folded, accents and case aside (services.folding): the index
holds them folded, a scan folds them as it reads, and a search folds its words the same way, so that
"creme" finds "Crème brûlée" and "crème" finds "Creme".

A search asks the index for the books up to the mark and scans only the books above it, so results
are always exactly those of a plain scan; only the speed depends on how far the index has caught
up. Without the index (BOOKAPP_SEARCH_INDEX=0, pg_trgm not allowed, an SQLite without FTS5) search
scans.

The mark is safe because ids above it are only ever new: SQLite never reuses an id (AUTOINCREMENT)
and takes one writer at a time; on PostgreSQL the catch-up reads the highest id under a SHARE lock
on books, which waits for every transaction inserting books to end, so no smaller id can still
appear.
"""

import logging

from sqlalchemy import and_, column, func, or_, select, table, text, union
from sqlalchemy.engine import Connection, Engine

from ..extensions import db
from ..models import Book, SearchState
from .folding import for_search, for_search_sql
from .index_upkeep import KnownTable, table_exists

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

#: SQLite's FTS5 table keeps no copy of the titles and authors (contentless: a search only asks it for
#: rowids and checks the books themselves), so a book leaves it by the values it was indexed with: the
#: triggers hand over the old ones, only for books up to the mark (the others are not in it yet).
#: Together with a 16 MB write buffer (FTS5's "hashsize", 1 MB by default, flushed as a segment each
#: time it fills) and merges of 16 segments at a time instead of 4, a million books go in in 3.1 s
#: instead of 5.4 s, searches as fast as before. Nor does it keep each book's column sizes
#: (columnsize=0), which only ranking reads: 2.1 s instead of 2.7 s on this machine (migration 0009).
SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE {SQLITE_TABLE} USING fts5(title, author, tokenize='trigram', detail='none', content='', "
    "columnsize=0)",
    f"INSERT INTO {SQLITE_TABLE} ({SQLITE_TABLE}, rank) VALUES ('hashsize', {16 * 1024 * 1024})",
    f"INSERT INTO {SQLITE_TABLE} ({SQLITE_TABLE}, rank) VALUES ('automerge', 16)",
]
_indexed = f"old.id <= (SELECT indexed_upto FROM search_state WHERE id = {SEARCH_MARK})"
_forget_old = (
    f"INSERT INTO {SQLITE_TABLE} ({SQLITE_TABLE}, rowid, title, author) VALUES ('delete', old.id, "
    f"{for_search_sql('old.title', 'sqlite')}, {for_search_sql('old.author', 'sqlite')});"
)
_SQLITE_DDL = [
    f"CREATE TRIGGER IF NOT EXISTS books_search_delete AFTER DELETE ON books WHEN {_indexed} BEGIN {_forget_old} END",
    f"CREATE TRIGGER IF NOT EXISTS books_search_update AFTER UPDATE OF title, author ON books "
    f"WHEN (old.title IS NOT new.title OR old.author IS NOT new.author) AND {_indexed} BEGIN {_forget_old} "
    f"INSERT INTO {SQLITE_TABLE} (rowid, title, author) VALUES (new.id, {for_search_sql('new.title', 'sqlite')}, "
    f"{for_search_sql('new.author', 'sqlite')}); END",
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
        UPDATE {POSTGRES_TABLE} SET title = {for_search_sql("NEW.title", "postgresql")},
            author = {for_search_sql("NEW.author", "postgresql")} WHERE book_id = NEW.id;
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
            create = SQLITE_CREATE if name == "sqlite" and missing else []
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


#: Whether searches on a database can ask the index.
index_ready = KnownTable(lambda engine: SQLITE_TABLE if engine.dialect.name == "sqlite" else POSTGRES_TABLE)
remember = index_ready.remember


def can_use_index(word: str, dialect: str) -> bool:
    """Whether the index can look *word* up: three characters or more and, on PostgreSQL, no LIKE
    wildcard (SQLite's index is asked for the word's trigrams, where a wildcard is a plain character)."""
    return len(word) >= MIN_INDEXED_CHARS and (dialect == "sqlite" or not any(c in word for c in "%_\\"))


def candidates(engine: Engine, words: list[str]):
    """Return the ids of the books that may hold every one of *words* (folded, as fold_words gives them)
    in their folded title or author, through the index (None when it cannot narrow them: no index, or
    no word it can look up).

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
            and_(*(or_(copy.c.title.like(f"%{w}%"), copy.c.author.like(f"%{w}%")) for w in indexed))
        )
    # The mark as a value, not a subquery: the planner then sees how few books lie past it.
    mark = db.session.scalar(select(SearchState.indexed_upto).where(SearchState.id == SEARCH_MARK)) or 0
    recent = Book.__table__.alias("recent_books")
    not_yet_indexed = select(recent.c.id).where(
        recent.c.id > mark, *(contains(recent, w, engine.dialect.name) for w in indexed)
    )
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


def contains(table, word: str, dialect: str):
    """Return the condition "the folded title or author contains *word*" (a word folded as fold_words
    gives it) on *table*, a scan."""
    pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(*(for_search(c, dialect).like(pattern, escape="\\") for c in (table.c.title, table.c.author)))
