"""Bring the schema up to date (through migrations/) and create the first admin."""

import logging
from functools import cache

import flask_migrate
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import inspect, select

from ..extensions import db
from ..models import Role, User
from . import search_index, sort_index
from .search_index import drop_search_index, ensure_search_index

log = logging.getLogger(__name__)


def init_database() -> None:
    """Apply the migrations (adopting a database made before them), create or drop the search and
    sort indexes as SEARCH_INDEX says, and create the admin from BOOKAPP_ADMIN_* when there is no user."""
    upgrade_schema()
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
    with engine.begin() as connection:
        drop_search_index(connection)
        sort_index.drop_sort_index(connection)
        present = set(inspect(connection).get_table_names())
        cascade = " CASCADE" if engine.dialect.name == "postgresql" else ""  # whatever an older schema tied on
        for name in [*(t.name for t in reversed(db.metadata.sorted_tables)), ALEMBIC_VERSION]:
            if name in present:
                connection.exec_driver_sql(f'DROP TABLE "{name}"{cascade}')
    search_index.index_ready.forget(engine)
    sort_index.index_ready.forget(engine)
    upgrade_schema()
    if not current_app.config["SEARCH_INDEX"]:
        ensure_indexes()


#: The table in which the migrations note the revision a database is at.
ALEMBIC_VERSION = "alembic_version"
#: Tables the search and sort indexes keep beside the models' (not models: comparisons leave them out).
DERIVED_TABLES = ("books_search", "book_search", "book_order", "book_order_next", "book_order_stale")


def upgrade_schema() -> None:
    """Apply every migration the database lacks (`flask db upgrade`)."""
    flask_migrate.upgrade()


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave the search and sort indexes' own tables out of comparisons with the models (alembic hook)."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return not table.startswith(DERIVED_TABLES)


@cache
def head_revision() -> str:
    """Return the newest migration's revision (read once per process)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def schema_behind() -> str | None:
    """Return why the database's schema is not the one this code needs, or None when it is."""
    with db.engine.connect() as connection:
        if ALEMBIC_VERSION not in inspect(connection).get_table_names():
            return "the database has no schema yet: run `flask --app wsgi db upgrade`"
        current = connection.exec_driver_sql(f"SELECT version_num FROM {ALEMBIC_VERSION}").scalar()
    if current != head_revision():
        return (
            f"the schema is at revision {current}, this code needs {head_revision()}: run `flask --app wsgi db upgrade`"
        )
    return None


def ensure_indexes() -> None:
    """Create or drop the search and sort indexes as SEARCH_INDEX says (the migrations create them)."""
    with db.engine.begin() as connection:
        if current_app.config["SEARCH_INDEX"]:
            search_index.remember(db.engine, ensure_search_index(connection))
            sort_index.remember(db.engine, sort_index.ensure_sort_index(connection))
        else:
            drop_search_index(connection)
            search_index.remember(db.engine, False)
            sort_index.drop_sort_index(connection)
            sort_index.remember(db.engine, False)
