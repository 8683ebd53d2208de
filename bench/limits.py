"""The raw limits bookapp's figures are measured against: the same file through the plainest code
that does the same storing or reading, with no validation (cases of bench.cases, one process each).

- SQLite: the csv module + sqlite3.executemany in one transaction, into a table with a unique ISBN index.
- PostgreSQL: the csv module + psycopg's COPY in one transaction, into a table with a unique ISBN index.
- XLSX: python-calamine reading every row of the workbook's sheet (what bookapp's reader streams).
- The search index: the database's own cost of indexing the file's titles and authors as bookapp's index
  does (an FTS5 trigram table on SQLite, two trigram GIN indexes on PostgreSQL), built at once from books
  already stored, values as they are (not folded), with nothing else running: no catch-up can be faster.
"""

import csv
import sqlite3
import time
from pathlib import Path

COLUMNS = "title, author, book_type, isbn, year_published, price, no_of_pages, quantity, description"
#: Every column as text, as the file has them: the limit stores cells, it does not convert them.
TABLE = (
    "(id {key}, title TEXT, author TEXT, book_type TEXT, isbn TEXT UNIQUE, year_published TEXT, price TEXT, "
    "no_of_pages TEXT, quantity TEXT, description TEXT)"
)
#: The PostgreSQL limit's table, dropped before and after (never one of bookapp's).
POSTGRES_TABLE = "bench_raw_limit_books"


def raw_limit(path: str, database: str, cache_mb: str = "0") -> dict:
    """csv module + sqlite3.executemany in one transaction, no validation: the raw limit.

    cache_mb, when not 0, sets SQLite's page cache to that many MB first (the default is 2 MB): how much
    of the limit on a file in random ISBN order is the unique index's pages not staying in memory.
    """
    Path(database).unlink(missing_ok=True)
    started = time.perf_counter()
    connection = sqlite3.connect(database)
    if int(cache_mb):
        connection.execute(f"PRAGMA cache_size = -{int(cache_mb) * 1024}")
    connection.execute("CREATE TABLE books " + TABLE.format(key="INTEGER PRIMARY KEY"))
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        with connection:
            connection.executemany(f"INSERT INTO books ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", reader)
    rows = connection.execute("SELECT count(*) FROM books").fetchone()[0]
    connection.close()
    return {"rows": rows, "seconds": time.perf_counter() - started}


def search_limit(path: str, database: str) -> dict:
    """SQLite: the file's rows stored as raw_limit stores them (not timed), then their titles and authors,
    as they are, put into a new FTS5 table made as bookapp makes its search index, in one INSERT … SELECT
    and one transaction: the time of that alone."""
    from bookapp.services.search_index import SQLITE_CREATE, SQLITE_TABLE

    rows = raw_limit(path, database)["rows"]
    connection = sqlite3.connect(database, isolation_level=None)
    started = time.perf_counter()
    connection.execute("BEGIN")
    for statement in SQLITE_CREATE:
        connection.execute(statement)
    connection.execute(f"INSERT INTO {SQLITE_TABLE} (rowid, title, author) SELECT id, title, author FROM books")
    connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    return {"rows": rows, "seconds": seconds}


def search_limit_postgres(path: str, database_url: str) -> dict:
    """PostgreSQL: the file's rows stored as raw_postgres stores them (not timed), then a copy of their ids,
    titles and authors, as they are, and its two trigram GIN indexes built at once on two connections, as
    bookapp's rebuild of its search index does: the time from the copy's start to both indexes built."""
    import threading

    import psycopg

    from bookapp.services.index_upkeep import BUILD_MEMORY

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    copy = f"{POSTGRES_TABLE}_search"

    def build(key: str) -> None:
        with psycopg.connect(url) as connection:
            connection.execute(f"SET maintenance_work_mem = '{BUILD_MEMORY}'")
            connection.execute(f"CREATE INDEX ON {copy} USING gin ({key} gin_trgm_ops)")

    try:
        rows = raw_postgres(path, database_url, keep=True)["rows"]
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            connection.execute(f"CREATE TABLE {copy} AS SELECT id AS book_id, title, author FROM {POSTGRES_TABLE}")
        other = threading.Thread(target=build, args=("author",))
        other.start()
        build("title")
        other.join()
        seconds = time.perf_counter() - started
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"DROP TABLE IF EXISTS {copy}")
            connection.execute(f"DROP TABLE IF EXISTS {POSTGRES_TABLE}")
    return {"rows": rows, "seconds": seconds}


def raw_postgres(path: str, database_url: str, keep: bool = False) -> dict:
    """csv module + psycopg COPY in one transaction, into a table with a unique ISBN index, no
    validation: PostgreSQL's raw limit on this file, on this machine, now (the table dropped after,
    unless *keep*)."""
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {POSTGRES_TABLE}")
        connection.execute(f"CREATE TABLE {POSTGRES_TABLE} " + TABLE.format(key="BIGSERIAL PRIMARY KEY"))
    try:
        started = time.perf_counter()
        with psycopg.connect(url) as connection, open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            next(reader)
            with connection.cursor() as cursor, cursor.copy(f"COPY {POSTGRES_TABLE} ({COLUMNS}) FROM STDIN") as copy:
                for values in reader:
                    copy.write_row(values)
            connection.commit()
        seconds = time.perf_counter() - started
        with psycopg.connect(url) as connection:
            rows = connection.execute(f"SELECT count(*) FROM {POSTGRES_TABLE}").fetchone()[0]
    finally:
        if not keep:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f"DROP TABLE IF EXISTS {POSTGRES_TABLE}")
    return {"rows": rows, "seconds": seconds}


def calamine_read(path: str) -> dict:
    """python-calamine's own read speed of a workbook: open it and walk every row of its first sheet."""
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    workbook = CalamineWorkbook.from_path(path)
    rows = sum(1 for _ in workbook.get_sheet_by_index(0).iter_rows()) - 1  # the header is not a book
    workbook.close()
    return {"rows": rows, "seconds": time.perf_counter() - started}
