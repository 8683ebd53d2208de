"""Create the schema and the first admin."""

import logging

from flask import current_app
from sqlalchemy import inspect, select

from ..extensions import db
from ..models import Book, ImportRowError, RejectedRow, Role, User
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


#: Columns added after their table was first released: (model, column name, SQL type).
LATE_COLUMNS = [(ImportRowError, "line", "INTEGER"), (RejectedRow, "line", "INTEGER")]


def ensure_indexes() -> None:
    """Create the books' indexes and the late columns an older database lacks (create_all adds tables
    only); create or drop the search index as SEARCH_INDEX says."""
    with db.engine.begin() as connection:
        for model, column, sql_type in LATE_COLUMNS:
            table = model.__tablename__
            if column not in {c["name"] for c in inspect(connection).get_columns(table)}:
                connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")
        for index in Book.__table__.indexes:
            index.create(connection, checkfirst=True)
        if current_app.config["SEARCH_INDEX"]:
            search_index.remember(db.engine, ensure_search_index(connection))
            sort_index.remember(db.engine, sort_index.ensure_sort_index(connection))
        else:
            drop_search_index(connection)
            search_index.remember(db.engine, False)
            sort_index.drop_sort_index(connection)
            sort_index.remember(db.engine, False)
