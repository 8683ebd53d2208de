"""The raw limits bookapp's figures are measured against: the same file through the plainest code
that does the same storing or reading, with no validation (cases of bench.cases, one process each).

- SQLite: the csv module + sqlite3.executemany in one transaction, into a table with a unique ISBN index.
- PostgreSQL: the csv module + psycopg's COPY in one transaction, into a table with a unique ISBN index.
- XLSX: python-calamine reading every row of the workbook's sheet (what bookapp's reader streams).
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


def raw_postgres(path: str, database_url: str) -> dict:
    """csv module + psycopg COPY in one transaction, into a table with a unique ISBN index, no
    validation: PostgreSQL's raw limit on this file, on this machine, now."""
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
