"""SQLite's log file does not stay at its largest on disk after a big write (an import lets it grow)."""

import os

from sqlalchemy import create_engine, text

from bookapp import SQLITE_LOG_KEPT_BYTES


def test_the_log_file_is_cut_back_once_it_starts_again_after_a_checkpoint(tmp_path):
    path = tmp_path / "books.sqlite3"
    engine = create_engine(f"sqlite:///{path}")  # with the app's settings for every SQLite connection
    big = SQLITE_LOG_KEPT_BYTES + 16 * 1024 * 1024
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE pages (body BLOB)"))
        connection.execute(text("PRAGMA wal_autocheckpoint = 100000"))  # as an import's connection does
        for _ in range(big // (1024 * 1024)):
            connection.execute(text("INSERT INTO pages VALUES (randomblob(1048576))"))
    log = f"{path}-wal"
    assert os.path.getsize(log) > big
    with engine.begin() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))
    with engine.begin() as connection:  # the next write starts the log again from its beginning
        connection.execute(text("INSERT INTO pages VALUES (x'00')"))
    assert os.path.getsize(log) <= SQLITE_LOG_KEPT_BYTES
    engine.dispose()
