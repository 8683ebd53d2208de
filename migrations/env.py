"""Run bookapp's migrations (`flask db upgrade`) on the app's database.

A database made before migrations existed (bookapp 0.1.0: its tables made at start-up, no
alembic_version) is adopted rather than created again: its tables are checked against what 0.1.0
made, then it is stamped at the first revision, so the later ones upgrade it in place with its
books and imports kept.
"""

import importlib.util
import logging
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from flask import current_app
from sqlalchemy import inspect, text

from bookapp.services.setup import include_object

config = context.config
# From the command line, say what runs; inside a process that set up its own logging (tests), leave it.
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")

BASELINE = "0001"


def baseline_columns() -> dict[str, set[str]]:
    path = Path(__file__).parent / "versions" / f"{BASELINE}_baseline.py"
    spec = importlib.util.spec_from_file_location("bookapp_baseline_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BASELINE_COLUMNS


def adopt_unversioned_database(connection) -> None:
    """Stamp a database 0.1.0 made at the baseline, after checking its tables are 0.1.0's."""
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    baseline = baseline_columns()
    if "alembic_version" in tables or not tables & set(baseline):
        return  # migrated already, or no table of bookapp's: the migrations make them
    problems = []
    for table, columns in baseline.items():
        if table not in tables:
            problems.append(f"table {table} is missing")
            continue
        found = {c["name"] for c in inspector.get_columns(table)}
        if columns - found:
            problems.append(f"{table} lacks {', '.join(sorted(columns - found))}")
    if problems:
        raise SystemExit(
            "This database has bookapp's tables but no migration history, and they are not those of bookapp "
            f"0.1.0 ({'; '.join(problems)}). Restore it from a backup made by 0.1.0, or upgrade by hand."
        )
    connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
    connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": BASELINE})
    log.info("Adopted a database made by bookapp 0.1.0: stamped at %s, its data kept.", BASELINE)


def run_migrations_online() -> None:
    engine = current_app.extensions["migrate"].db.engine
    with engine.connect() as connection:
        adopt_unversioned_database(connection)
        connection.commit()  # end the look-up's transaction, so each migration commits its own
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration rebuilds a table (a copy, the old one dropped): with the app's foreign-key
            # checks on, dropping imports would delete every row that names one (problems, changes, undo's
            # record). Off while migrations run (outside a transaction, where SQLite honours it).
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=current_app.extensions["migrate"].db.metadata,
            include_object=include_object,
            **current_app.extensions["migrate"].configure_args,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")  # the connection goes back to the pool


if context.is_offline_mode():
    raise SystemExit("bookapp's migrations run against a database: `flask db upgrade` (no --sql).")
run_migrations_online()
