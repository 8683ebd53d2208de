"""Create the schema and the first admin."""

import logging

from flask import current_app
from sqlalchemy import inspect, select

from ..extensions import db
from ..models import Book, Import, ImportRowError, Role, User
from . import search_index, sort_index
from .search_index import drop_search_index, ensure_search_index

log = logging.getLogger(__name__)


def init_database() -> None:
    """Create missing tables, indexes and the search index; create the admin from BOOKAPP_ADMIN_*
    when there is no user yet."""
    db.create_all()
    ensure_indexes()
    email, password = current_app.config.get("ADMIN_EMAIL"), current_app.config.get("ADMIN_PASSWORD")
    if email and password and db.session.scalar(select(User.id).limit(1)) is None:
        create_user(email, password, Role.STAFF)
        log.info("event=admin-created email=%s", email)


def create_user(email: str, password: str, role: Role = Role.STAFF) -> User:
    """Create or reset the user with *email*, giving it *password* and *role*."""
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email)) or User(email=email)
    user.set_password(password)
    user.role = Role(role).value
    db.session.add(user)
    db.session.commit()
    return user


def reset_database() -> None:
    """Drop bookapp's tables (whatever constraints an older schema left on them) and create them afresh.

    Destroys every book and import: for tests and benchmarks only.
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{table.name}" CASCADE')
    else:
        with engine.begin() as connection:
            drop_search_index(connection)
            sort_index.drop_sort_index(connection)
        db.drop_all()
    db.create_all()
    ensure_indexes()


#: Columns added since the first release: (table, column, its SQL type and default for ALTER TABLE).
ADDED_COLUMNS = (
    (Import.__tablename__, "confirmed_as_id", "INTEGER REFERENCES imports (id) ON DELETE SET NULL"),
    (Import.__tablename__, "file_problem", "BOOLEAN NOT NULL DEFAULT false"),
    (ImportRowError.__tablename__, "kind", "VARCHAR(16)"),
    (ImportRowError.__tablename__, "wording", "VARCHAR(16)"),
)


def add_missing_columns(connection) -> None:
    """Add the columns an older database lacks (create_all adds tables only)."""
    inspector = inspect(connection)
    for table, column, definition in ADDED_COLUMNS:
        if column not in {c["name"] for c in inspector.get_columns(table)}:
            # Processes starting at once may race here: PostgreSQL can skip a column another one added.
            if_new = "IF NOT EXISTS " if connection.dialect.name == "postgresql" else ""
            connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {if_new}{column} {definition}")
            log.info("event=column-added table=%s column=%s", table, column)
            if column == "confirmed_as_id":
                # Dry runs confirmed before the column existed: their confirmation is the import that
                # names them as its source, so they stay confirmed once.
                connection.exec_driver_sql(
                    "UPDATE imports SET confirmed_as_id = (SELECT min(c.id) FROM imports c "
                    "WHERE c.source_import_id = imports.id AND NOT c.dry_run) WHERE dry_run"
                )


def ensure_indexes() -> None:
    """Create the columns and indexes an older database lacks (create_all adds tables only); create or
    drop the search index as SEARCH_INDEX says."""
    with db.engine.begin() as connection:
        add_missing_columns(connection)
        for index in (*Book.__table__.indexes, *ImportRowError.__table__.indexes):
            index.create(connection, checkfirst=True)
        if current_app.config["SEARCH_INDEX"]:
            search_index.remember(db.engine, ensure_search_index(connection))
            sort_index.remember(db.engine, sort_index.ensure_sort_index(connection))
        else:
            drop_search_index(connection)
            search_index.remember(db.engine, False)
            sort_index.drop_sort_index(connection)
            sort_index.remember(db.engine, False)
