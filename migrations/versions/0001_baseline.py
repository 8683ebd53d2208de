"""The schema of bookapp 0.1.0, the last release before migrations.

Tables and indexes as the models declared them, then the search index (an FTS5 trigram table on
SQLite; pg_trgm, a copy table with trigram GIN indexes on PostgreSQL) and the sort index (a copy of
the sortable columns, one index each, and the table its triggers note changed books in), with the
triggers that keep both in step. The SQL is written out here, not taken from bookapp's code, so
this migration keeps creating 0.1.0's schema whatever the code becomes.

A database 0.1.0 made (no alembic_version) is adopted by migrations/env.py: checked against
BASELINE_COLUMNS and stamped at this revision, never created again.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

#: Every table 0.1.0 made for its models and its columns: what env.py checks before adopting a database.
BASELINE_COLUMNS = {
    table: set(columns.split())
    for table, columns in {
        "users": "id email password_hash role created_at",
        "books": "id isbn title author book_type year_published price no_of_pages quantity description created_at "
        "updated_at created_by_import_id import_id",
        "search_state": "id indexed_upto books",
        "api_tokens": "id user_id token_hash created_at revoked_at",
        "imports": "id status mode dry_run all_or_nothing phase cancel_requested source_import_id filename "
        "stored_name file_kind file_size sha256 created_by_id created_at enqueued_at started_at finished_at "
        "heartbeat_at attempts total_rows processed_rows checkpoint_row created updated unchanged skipped rejected "
        "headers ignored_columns read_as preview error file_deleted_at undone_at undone_by_id undo_report",
        "import_row_errors": "id import_id row_number column value message",
        "rejected_rows": "id import_id row_number cells errors",
        "import_chunks": "id import_id first_row last_row row_numbers outcomes",
        "import_changes": "id import_id book_id row_number before previous_import_id",
    }.items()
}

#: Exact amounts: NUMERIC(10,2), integer cents on SQLite (which has no exact decimal type).
MONEY = sa.Numeric(10, 2).with_variant(sa.BigInteger(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

SORT_COLUMNS = [
    "title",
    "author",
    "book_type",
    "year_published",
    "price",
    "no_of_pages",
    "quantity",
    "created_at",
    "updated_at",
]
SORT_COPY_TYPES = {
    "sqlite": "title VARCHAR(255) NOT NULL, author VARCHAR(255) NOT NULL, book_type VARCHAR(8) NOT NULL, "
    "year_published VARCHAR(4) NOT NULL, price BIGINT NOT NULL, no_of_pages INTEGER, quantity INTEGER NOT NULL, "
    "created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL",
    "postgresql": "title VARCHAR(255) NOT NULL, author VARCHAR(255) NOT NULL, book_type VARCHAR(8) NOT NULL, "
    "year_published VARCHAR(4) NOT NULL, price NUMERIC(10, 2) NOT NULL, no_of_pages INTEGER, "
    "quantity INTEGER NOT NULL, created_at TIMESTAMP WITH TIME ZONE NOT NULL, "
    "updated_at TIMESTAMP WITH TIME ZONE NOT NULL",
}
_changed_sqlite = " OR ".join(f"old.{name} IS NOT new.{name}" for name in SORT_COLUMNS)

SQLITE_SEARCH_INDEX = [
    "CREATE VIRTUAL TABLE books_search USING fts5(title, author, tokenize='trigram', detail='none')",
    "CREATE TRIGGER books_search_delete AFTER DELETE ON books BEGIN DELETE FROM books_search WHERE rowid = old.id; END",
    "CREATE TRIGGER books_search_update AFTER UPDATE OF title, author ON books "
    "WHEN old.title IS NOT new.title OR old.author IS NOT new.author BEGIN "
    "UPDATE books_search SET title = new.title, author = new.author WHERE rowid = new.id; END",
]
POSTGRES_SEARCH_INDEX = [
    "CREATE TABLE book_search (book_id BIGINT PRIMARY KEY, title TEXT NOT NULL, author TEXT NOT NULL)",
    "CREATE INDEX ix_book_search_title ON book_search USING gin (title gin_trgm_ops)",
    "CREATE INDEX ix_book_search_author ON book_search USING gin (author gin_trgm_ops)",
    """CREATE OR REPLACE FUNCTION book_search_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM book_search WHERE book_id = OLD.id;
            RETURN OLD;
        END IF;
        UPDATE book_search SET title = NEW.title, author = NEW.author WHERE book_id = NEW.id;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER book_search_delete AFTER DELETE ON books FOR EACH ROW EXECUTE FUNCTION book_search_follow()",
    "CREATE TRIGGER book_search_update AFTER UPDATE OF title, author ON books FOR EACH ROW "
    "WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.author IS DISTINCT FROM NEW.author) "
    "EXECUTE FUNCTION book_search_follow()",
]
SQLITE_SORT_TRIGGERS = [
    f"CREATE TRIGGER book_order_update AFTER UPDATE ON books WHEN {_changed_sqlite} BEGIN "
    "INSERT OR IGNORE INTO book_order_stale (id) VALUES (new.id); END",
    "CREATE TRIGGER book_order_delete AFTER DELETE ON books BEGIN "
    "INSERT OR IGNORE INTO book_order_stale (id) VALUES (old.id); END",
]
POSTGRES_SORT_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION book_order_stale_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO book_order_stale (id) SELECT new_books.id FROM new_books JOIN old_books ON old_books.id = new_books.id
        WHERE ({", ".join(f"old_books.{name}" for name in SORT_COLUMNS)})
            IS DISTINCT FROM ({", ".join(f"new_books.{name}" for name in SORT_COLUMNS)})
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION book_order_stale_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO book_order_stale (id) SELECT id FROM deleted_books ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER book_order_update AFTER UPDATE ON books REFERENCING OLD TABLE AS old_books NEW TABLE AS "
    "new_books FOR EACH STATEMENT EXECUTE FUNCTION book_order_stale_updated()",
    "CREATE TRIGGER book_order_delete AFTER DELETE ON books REFERENCING OLD TABLE AS deleted_books "
    "FOR EACH STATEMENT EXECUTE FUNCTION book_order_stale_deleted()",
]


def upgrade():
    create_tables()
    dialect = op.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        create_search_index(dialect)
        create_sort_index(dialect)


def create_tables():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "books",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("isbn", sa.String(length=13), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("book_type", sa.String(length=8), nullable=False),
        sa.Column("year_published", sa.String(length=4), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("no_of_pages", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("created_by_import_id", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("isbn"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_books_created_by_import_id", "books", ["created_by_import_id"], postgresql_using="brin")
    op.create_index("ix_books_import_id", "books", ["import_id"])
    op.create_table(
        "search_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indexed_upto", sa.BigInteger(), nullable=False),
        sa.Column("books", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("all_or_nothing", sa.Boolean(), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("source_import_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("file_kind", sa.String(length=8), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("enqueued_at", TIMESTAMP, nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("heartbeat_at", TIMESTAMP, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("checkpoint_row", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("ignored_columns", sa.JSON(), nullable=False),
        sa.Column("read_as", sa.String(length=255), nullable=True),
        sa.Column("preview", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("file_deleted_at", TIMESTAMP, nullable=True),
        sa.Column("undone_at", TIMESTAMP, nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.Column("undo_report", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["source_import_id"], ["imports.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["undone_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_imports_sha256", "imports", ["sha256"])
    op.create_index("ix_imports_status", "imports", ["status"])
    op.create_table(
        "import_row_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=255), nullable=True),
        sa.Column("value", sa.String(length=255), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_import_row_errors_import_row", "import_row_errors", ["import_id", "row_number"])
    op.create_table(
        "rejected_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rejected_rows_import_row", "rejected_rows", ["import_id", "row_number"])
    op.create_table(
        "import_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("first_row", sa.Integer(), nullable=False),
        sa.Column("last_row", sa.Integer(), nullable=False),
        sa.Column("row_numbers", sa.LargeBinary(), nullable=False),
        sa.Column("outcomes", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_import_chunks_import_first", "import_chunks", ["import_id", "first_row"])
    op.create_table(
        "import_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("previous_import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_import_changes_import_book", "import_changes", ["import_id", "book_id"])


def create_search_index(dialect: str) -> None:
    """Create the search index, empty (the first catch-up fills it); without FTS5 or pg_trgm, search scans."""
    connection = op.get_bind()
    try:
        with connection.begin_nested():
            if dialect == "postgresql":
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for statement in SQLITE_SEARCH_INDEX if dialect == "sqlite" else POSTGRES_SEARCH_INDEX:
                connection.exec_driver_sql(statement)
    except sa.exc.DBAPIError as exc:
        log.warning("No search index (%s): searches will scan. %s", type(exc.orig).__name__, exc.orig)
        return
    op.execute("INSERT INTO search_state (id, indexed_upto) VALUES (1, 0)")


def create_sort_index(dialect: str) -> None:
    """Create the sort index, empty: the copy with an index per column, its stale list and triggers."""
    tie = "" if dialect == "sqlite" else ", id"
    op.execute(
        f"CREATE TABLE book_order (id INTEGER NOT NULL, {SORT_COPY_TYPES[dialect]}, "
        "CONSTRAINT pk_book_order_base PRIMARY KEY (id))"
    )
    for key in SORT_COLUMNS:
        op.execute(f"CREATE INDEX ix_book_order_{key}_base ON book_order ({key}{tie})")
    op.execute("CREATE TABLE book_order_stale (id INTEGER PRIMARY KEY)")
    for statement in SQLITE_SORT_TRIGGERS if dialect == "sqlite" else POSTGRES_SORT_TRIGGERS:
        op.execute(statement)
    op.execute("INSERT INTO search_state (id, indexed_upto, books) VALUES (2, 0, 0)")


def downgrade():
    raise NotImplementedError("0.1.0's schema is the first: there is nothing to go back to.")
