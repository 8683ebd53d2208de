"""The ISBN as an integer instead of 13 characters of text under the unique index: what it gives
SQLite's raw inserts at 1,000,000 and 5,000,000 rows (the lever left for the 5M-against-1M target).

    python -m bench.isbn_key FILE [ROWS]

csv + sqlite3.executemany in transactions of 100,000 rows, each sorted by ISBN, in WAL mode with the
import's page cache (32 MB) and log threshold, into a table whose ISBN is text, then one whose ISBN is
an integer; prints each one's time and rows/s, and the time at each million rows.
"""

import csv
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

BATCH = 100_000
INSERT = (
    "INSERT OR IGNORE INTO books (title, author, book_type, isbn, year_published, price, no_of_pages, "
    "quantity, description) VALUES (?,?,?,?,?,?,?,?,?)"
)


def isbn13(cell: str) -> str:
    """The cell's digits as 13 (an ISBN-10 given the 978 prefix; its check digit is not the point here)."""
    digits = "".join(ch for ch in cell if ch.isdigit())
    return "978" + digits[:9] + "0" if len(digits) < 13 else digits[:13]


def insert(path: str, key: str, limit: int, database: Path) -> dict:
    connection = sqlite3.connect(database, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-32768", "wal_autocheckpoint=100000"):
        connection.execute(f"PRAGMA {pragma}")
    connection.execute(
        f"CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT, author TEXT, book_type TEXT, "
        f"isbn {key} NOT NULL UNIQUE, year_published TEXT, price TEXT, no_of_pages TEXT, quantity TEXT, "
        "description TEXT)"
    )
    started, marks, rows = time.perf_counter(), [], 0

    def flush(batch: list[list]) -> None:
        for row in batch:
            row[3] = int(isbn13(row[3])) if key == "INTEGER" else isbn13(row[3])
        batch.sort(key=lambda row: row[3])
        connection.execute("BEGIN")
        connection.executemany(INSERT, batch)
        connection.execute("COMMIT")

    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        batch: list[list] = []
        for row in reader:
            batch.append(row)
            rows += 1
            if len(batch) == BATCH:
                flush(batch)
                batch = []
                if rows % 1_000_000 == 0:
                    marks.append(round(time.perf_counter() - started, 2))
            if rows >= limit:
                break
        if batch:
            flush(batch)
    connection.close()
    seconds = time.perf_counter() - started
    return {"key": key, "rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds), "marks": marks}


def main(argv: list[str]) -> None:
    path, limits = argv[0], [int(argv[1])] if len(argv) > 1 else [1_000_000, 5_000_000]
    for limit in limits:
        for key in ("TEXT", "INTEGER"):
            with tempfile.TemporaryDirectory() as work:
                print(insert(path, key, limit, Path(work) / "isbn.sqlite3"), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
