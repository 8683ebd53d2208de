"""Searches and sorts set accents aside: "creme" finds "Crème brûlée", "Émile" sorts among the E's.

- PostgreSQL gets ``book_fold(text)``: lowercase without accents, through the unaccent extension;
  where the extension may not be created, lowercase only (searches then set case aside, as before).
  SQLite's connections get a function of the same name from bookapp (Python's fold).
- The search index holds titles and authors folded: its triggers fold what they add and take out.
- The sort index holds titles and authors folded too.
- Both indexes start afresh, empty, their marks at 0: searches scan and pages sort the books until
  the next catch-up (a worker's maintenance, or the job after the next import) has copied them again;
  results and pages stay exact meanwhile.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import logging

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

#: SQLite: a title or author as searches compare it (bookapp.services.folding.for_search_sql): folded by
#: Python's book_fold when it has a character outside ASCII, else as it is (the index sets ASCII case aside).
SQLITE_FOLD = "CASE WHEN length(CAST({0} AS BLOB)) = length({0}) THEN {0} ELSE book_fold({0}) END"
MARK = "(SELECT indexed_upto FROM search_state WHERE id = 1)"


def _sqlite_triggers(fold) -> list[str]:
    forget_old = (
        "INSERT INTO books_search (books_search, rowid, title, author) VALUES ('delete', old.id, "
        f"{fold('old.title')}, {fold('old.author')});"
    )
    return [
        f"CREATE TRIGGER books_search_delete AFTER DELETE ON books WHEN old.id <= {MARK} BEGIN {forget_old} END",
        "CREATE TRIGGER books_search_update AFTER UPDATE OF title, author ON books "
        f"WHEN (old.title IS NOT new.title OR old.author IS NOT new.author) AND old.id <= {MARK} BEGIN {forget_old} "
        f"INSERT INTO books_search (rowid, title, author) VALUES (new.id, {fold('new.title')}, {fold('new.author')}); "
        "END",
    ]


def _postgres_follow(fold) -> str:
    return f"""CREATE OR REPLACE FUNCTION book_search_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM book_search WHERE book_id = OLD.id;
            RETURN OLD;
        END IF;
        UPDATE book_search SET title = {fold("NEW.title")}, author = {fold("NEW.author")} WHERE book_id = NEW.id;
        RETURN NEW;
    END $$"""


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        _create_postgres_fold(connection)
        _refill(connection, postgres_follow=_postgres_follow("book_fold({})".format))
    elif connection.dialect.name == "sqlite":
        _refill(connection, sqlite_triggers=_sqlite_triggers(SQLITE_FOLD.format))


def downgrade():
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        _refill(connection, postgres_follow=_postgres_follow(str))
        op.execute("DROP FUNCTION IF EXISTS book_fold(text)")  # unaccent stays: other things may use it
    elif connection.dialect.name == "sqlite":
        _refill(connection, sqlite_triggers=_sqlite_triggers(str))


def _create_postgres_fold(connection) -> None:
    """Create book_fold around unaccent, or, without the right to create that extension, lowercase only.
    STABLE, as unaccent's dictionary lookup is, so that the planner expands it in place."""
    schema = None
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
            schema = connection.exec_driver_sql(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                "WHERE e.extname = 'unaccent'"
            ).scalar()
    except Exception as exc:
        log.warning("event=accent-folding-unavailable reason=%s", type(getattr(exc, "orig", exc)).__name__)
    body = f'lower("{schema}".unaccent(\'"{schema}".unaccent\'::regdictionary, $1))' if schema else "lower($1)"
    op.execute(
        "CREATE OR REPLACE FUNCTION book_fold(text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE STRICT "
        f"AS $$ SELECT {body} $$"
    )


def _exists(connection, name: str) -> bool:
    if connection.dialect.name == "sqlite":
        query = f"SELECT 1 FROM sqlite_master WHERE name = '{name}'"
    else:
        query = f"SELECT 1 FROM pg_class WHERE relname = '{name}' AND relkind = 'r' AND pg_table_is_visible(oid)"
    return connection.exec_driver_sql(query).first() is not None


def _refill(connection, *, sqlite_triggers: list[str] | None = None, postgres_follow: str | None = None) -> None:
    """Give the search index the triggers (SQLite) or trigger function (PostgreSQL) given, and empty both
    indexes, their marks at 0, where they exist (none: FTS5 or pg_trgm missing, or the indexes off)."""
    if _exists(connection, "books_search"):  # SQLite
        for trigger in ("books_search_delete", "books_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("INSERT INTO books_search (books_search) VALUES ('delete-all')")
        for statement in sqlite_triggers or []:
            op.execute(statement)
        op.execute("UPDATE search_state SET indexed_upto = 0 WHERE id = 1")
    if _exists(connection, "book_search"):  # PostgreSQL
        op.execute(postgres_follow)
        op.execute("TRUNCATE book_search")
        op.execute("UPDATE search_state SET indexed_upto = 0 WHERE id = 1")
    if _exists(connection, "book_order"):
        op.execute("DELETE FROM book_order")
        op.execute("DELETE FROM book_order_stale")
        op.execute("UPDATE search_state SET indexed_upto = 0, books = 0 WHERE id = 2")
