"""Any page of the whole catalogue, in any sort order, fast at a million books, without slowing imports.

A page of books sorted by a column the books table has no index on makes the database sort every
book to find where the page starts: 0.3 to 3 s at a million books, even for page 1 of the titles.
An index per sortable column on books would cost every import on every row, so the sort keys live
in a copy instead, ``book_order``: each book's id and sortable columns, one index per column, filled
in bulk after imports like the search index (same catch-up, its own mark: SearchState row 2, which
also counts the copy's books).

A change to a book the copy already holds does not touch the copy's nine indexes: a trigger only
notes the book's id in ``book_order_stale`` (200,000 updates, measured: on SQLite 2.8 s without it,
2.9 s with it, 7.7 s keeping the indexes in step column by column; on PostgreSQL, where imports
update a chunk per statement and the trigger runs once per statement, 6.0 s without it, 8.3 s with
it). A page is then merged from sorted parts, so it is always exactly the page a plain sort gives:
the copy's rows that are not stale, walked in the column's index, and the few books past the mark
or stale, sorted on the spot. When those are many (a big import just ended and its catch-up is still
running), pages are found without the copy until it has caught up.

Titles and authors sort folded, accents and case aside ("Émile" among the E's, not after "Zola";
services.folding): the copy holds them folded, and the books sorted on the spot are folded as they
are read, as a plain sort of the books folds them (books.BookQuery.select).

A catch-up (sort_catch_up) that would more than double the copy builds a new one in bulk and swaps it
in (1M books on SQLite: about 7 s, where adding them to the nine indexes took 26 s); smaller ones add
to it.
"""

import logging
import uuid

from sqlalchemy import column, func, select, table, text, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..models import Book, SearchState
from .folding import for_sort, for_sort_sql
from .index_upkeep import KnownTable, table_exists

log = logging.getLogger(__name__)

#: The sortable columns the books table has no index for (id and isbn have theirs).
COLUMNS = ("title", "author", "book_type", "year_published", "price", "no_of_pages", "quantity", "created_at",
           "updated_at")  # fmt: skip
#: The columns that sort folded (the copy holds them so).
FOLDED = ("title", "author")
TABLE = "book_order"
STALE = "book_order_stale"
#: The sort index's row in SearchState.
SORT_MARK = 2
#: The most books past the mark or stale that a page sorts on the spot; past it pages do without the copy.
MAX_PENDING = 20_000

_changed = " OR ".join(f"old.{name} IS NOT new.{name}" for name in COLUMNS)
_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS book_order_update AFTER UPDATE ON books WHEN {_changed} BEGIN "
    f"INSERT OR IGNORE INTO {STALE} (id) VALUES (new.id); END",
    f"CREATE TRIGGER IF NOT EXISTS book_order_delete AFTER DELETE ON books BEGIN "
    f"INSERT OR IGNORE INTO {STALE} (id) VALUES (old.id); END",
]
_POSTGRES_TRIGGERS = [
    # Statement-level: imports and undo change books a chunk per statement, so one insert per chunk.
    f"""CREATE OR REPLACE FUNCTION book_order_stale_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {STALE} (id) SELECT new_books.id FROM new_books JOIN old_books ON old_books.id = new_books.id
        WHERE ({", ".join(f"old_books.{name}" for name in COLUMNS)})
            IS DISTINCT FROM ({", ".join(f"new_books.{name}" for name in COLUMNS)})
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$""",
    f"""CREATE OR REPLACE FUNCTION book_order_stale_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {STALE} (id) SELECT id FROM deleted_books ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS book_order_update ON books",
    "CREATE TRIGGER book_order_update AFTER UPDATE ON books REFERENCING OLD TABLE AS old_books NEW TABLE AS "
    "new_books FOR EACH STATEMENT EXECUTE FUNCTION book_order_stale_updated()",
    "DROP TRIGGER IF EXISTS book_order_delete ON books",
    "CREATE TRIGGER book_order_delete AFTER DELETE ON books REFERENCING OLD TABLE AS deleted_books "
    "FOR EACH STATEMENT EXECUTE FUNCTION book_order_stale_deleted()",
]


def sort_key(table, name: str, dialect: str):
    """Return the sort key of column *name* of *table*: the column, folded for FOLDED ones."""
    return for_sort(table.c[name], dialect) if name in FOLDED else table.c[name]


def sort_key_sql(name: str, prefix: str, dialect: str) -> str:
    """The SQL text of sort_key for column *name* (prefixed by *prefix*, a table's name and a dot)."""
    return for_sort_sql(prefix + name, dialect) if name in FOLDED else prefix + name


def create_copy(connection: Connection, name: str, generation: str) -> None:
    """Create an empty copy table *name* with the books table's own column types (so merged parts
    sort alike). Its constraint and indexes are named by *generation*, unique across rebuilds."""
    columns = Book.__table__.c
    definitions = [f"{key} {columns[key].type.compile(dialect=connection.dialect)}"
                   f"{'' if columns[key].nullable else ' NOT NULL'}" for key in COLUMNS]  # fmt: skip
    connection.exec_driver_sql(
        f"CREATE TABLE {name} (id INTEGER NOT NULL, {', '.join(definitions)}, "
        f"CONSTRAINT pk_{TABLE}_{generation} PRIMARY KEY (id))"  # SQLite: INTEGER PRIMARY KEY, the rowid
    )


def create_indexes(connection: Connection, name: str, generation: str) -> None:
    """Index every column of copy *name*, ties in id order."""
    for statement in index_statements(name, generation, connection.dialect.name):
        connection.exec_driver_sql(statement)


def index_statements(name: str, generation: str, dialect: str) -> list[str]:
    """The statements that index every column of copy *name*, ties in id order (SQLite's indexes end
    with the rowid, the id)."""
    tie = "" if dialect == "sqlite" else ", id"
    return [f"CREATE INDEX ix_{TABLE}_{key}_{generation} ON {name} ({key}{tie})" for key in COLUMNS]


def ensure_sort_index(connection: Connection) -> bool:
    """Create the sort index if it is missing (empty: catch_up fills it); return whether one exists."""
    name = connection.dialect.name
    if name not in ("sqlite", "postgresql"):
        return False
    state = connection.execute(select(SearchState.books).where(SearchState.id == SORT_MARK)).first()
    if state is None or state.books is None:  # new, or left by a version that did not count its books
        drop_sort_index(connection)
        generation = uuid.uuid4().hex[:8]
        create_copy(connection, TABLE, generation)
        create_indexes(connection, TABLE, generation)
        connection.exec_driver_sql(f"CREATE TABLE {STALE} (id INTEGER PRIMARY KEY)")
        connection.execute(SearchState.__table__.insert().values(id=SORT_MARK, indexed_upto=0, books=0))
    for statement in _SQLITE_TRIGGERS if name == "sqlite" else _POSTGRES_TRIGGERS:
        connection.exec_driver_sql(statement)
    return True


def drop_sort_index(connection: Connection) -> None:
    """Drop the sort index, its triggers and its mark."""
    books = table_exists(connection, "books")
    if connection.dialect.name == "sqlite":
        for trigger in ("book_order_update", "book_order_delete"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
    elif connection.dialect.name == "postgresql":
        for trigger in ("book_order_update", "book_order_delete"):
            if books:
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON books")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS book_order_stale_updated()")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS book_order_stale_deleted()")
    for name in (TABLE, f"{TABLE}_next", STALE):
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    if table_exists(connection, SearchState.__tablename__):
        connection.execute(SearchState.__table__.delete().where(SearchState.id == SORT_MARK))


#: Whether pages on a database can ask the sort index.
index_ready = KnownTable(lambda engine: TABLE)
remember = index_ready.remember


def page_ids(session: Session, sort: str, descending: bool, limit: int, offset: int) -> list[int] | None:
    """Return the ids of one page of all books sorted by *sort*, then id (both *descending* or not),
    through the sort index; None when it cannot answer now. By id, the copy's narrow rows are
    quicker to skip than the books' own."""
    engine = session.get_bind()
    if sort not in (*COLUMNS, "id") or not index_ready(engine):
        return None
    # The mark is read first, then the page: a catch-up that moved it in between would leave its books
    # both in the copy and past the mark read. The mark only grows, so the same mark read again after
    # the page means the page saw it too; else the page is read again (a value in the page's statement
    # would do it in one go, but costs PostgreSQL its parallel plans).
    for _ in range(PAGE_TRIES):
        pending = _pending(session)
        if pending is None:
            return None
        ids = _page_ids(session, sort, descending, limit, offset, *pending)
        if session.scalar(select(SearchState.indexed_upto).where(SearchState.id == SORT_MARK)) == pending[0]:
            return ids
    return None


#: How many times a page is read while catch-ups keep moving the mark, before it does without the copy.
PAGE_TRIES = 3


def _page_ids(session: Session, sort: str, descending: bool, limit: int, offset: int, mark: int, stale_count: int,
              past_mark: int) -> list[int]:  # fmt: skip
    stale = table(STALE, column("id"))
    copy, books = table(TABLE, column("id"), column(sort)), Book.__table__
    dialect = session.get_bind().dialect.name
    if sort == "id":
        fresh, of_books = select(copy.c.id), select(books.c.id)
    else:  # the copy holds the sort keys; the books' own are made as they are read
        fresh, of_books = select(copy.c.id, copy.c[sort]), select(books.c.id, sort_key(books, sort, dialect))
    parts = [fresh.where(copy.c.id.not_in(select(stale.c.id))) if stale_count else fresh]
    if past_mark:  # the mark as a value: the planner sees how few books lie past it
        parts.append(of_books.where(books.c.id > mark))
    if stale_count:
        parts.append(of_books.where(books.c.id.in_(select(stale.c.id).where(stale.c.id <= mark))))
    direction = "DESC" if descending else "ASC"  # by position: the same in each part
    order = f"1 {direction}" if sort == "id" else f"2 {direction}, 1 {direction}"
    if len(parts) == 1:
        query = parts[0]
    elif dialect == "postgresql":
        # Each part its own first rows in order: PostgreSQL then walks the copy's index instead of
        # sorting the whole copy (a million books, two stale, by title: page 1 3 ms instead of 90 ms,
        # page 10,000 37 ms instead of 370 ms). SQLite walks the index either way, and deep pages took
        # twice as long so.
        query = union_all(*(part.order_by(text(order)).limit(offset + limit).subquery().select() for part in parts))
    else:
        query = union_all(*parts)
    return list(session.scalars(query.order_by(text(order)).limit(limit).offset(offset)))


def _pending(session: Session) -> tuple[int, int, int] | None:
    """Return the mark, how many books are stale and how many lie past the mark; None when the copy
    cannot answer now (none, or more of those than MAX_PENDING)."""
    mark = session.scalar(select(SearchState.indexed_upto).where(SearchState.id == SORT_MARK))
    if mark is None:
        return None
    stale = table(STALE, column("id"))
    stale_count = session.scalar(select(func.count()).select_from(select(stale.c.id).limit(MAX_PENDING + 1).subquery()))
    past_mark = max((session.scalar(select(func.max(Book.id))) or 0) - mark, 0)
    return None if past_mark + stale_count > MAX_PENDING else (mark, stale_count, past_mark)


def count_books(session: Session) -> int | None:
    """Return how many books there are, without counting them all (a count at a million books takes
    0.15 s on PostgreSQL); None when the sort index cannot tell now.

    The copy's count, less its stale books, plus the stale books that still exist and the books past
    its mark, in one statement (one snapshot).
    """
    if not index_ready(session.get_bind()) or _pending(session) is None:
        return None
    return session.execute(text(
        # IN, not JOIN: SQLite's planner, without statistics, would walk the whole copy to join it.
        f"SELECT s.books - (SELECT count(*) FROM {TABLE} WHERE id IN (SELECT id FROM {STALE})) "
        f"+ (SELECT count(*) FROM books WHERE id IN (SELECT id FROM {STALE} WHERE id <= s.indexed_upto)) "
        "+ (SELECT count(*) FROM books WHERE books.id > s.indexed_upto) "
        f"FROM {SearchState.__tablename__} s WHERE s.id = {SORT_MARK}"
    )).scalar()  # fmt: skip
