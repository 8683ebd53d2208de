"""SQLite past a million or two books: an import's new books are staged and inserted in ISBN order at each
commit (services/staged_inserts). What a person sees must not differ: every book, count, row outcome,
change record and undo is as a direct insert leaves them, also when rows counted as new at first turn
out to be stored books at the commit."""

import csv
import io

import pytest
from sqlalchemy import event, func, select

from bookapp.extensions import db
from bookapp.models import Book, ImportChange
from bookapp.services.staged_inserts import StagedInserts
from tests.conftest import add_user, run_worker, sign_in
from tests.helpers import TYPES, book_row, csv_bytes, isbn13
from tests.test_imports import import_state, upload

STAGED = "import_staged_books"


def traced(app) -> list[str]:
    """Every SQL statement the app's SQLite connections run from now on."""
    run: list[str] = []
    with app.app_context():
        db.engine.dispose()
        event.listen(db.engine, "connect", lambda connection, _: connection.set_trace_callback(run.append))
    return run


def report_outcomes(client, location: str) -> dict[int, str]:
    report = client.get(location + "/report.csv").get_data(as_text=True).lstrip("\ufeff")
    return {int(row[0]): row[1] for row in list(csv.reader(io.StringIO(report)))[1:]}


@pytest.mark.parametrize(
    ("options", "chunk", "merges"),
    [
        ({"mode": "create_update"}, 10_000, 1),  # one transaction of two pieces: one merge, at its commit
        ({"mode": "create_only"}, 10_000, 1),
        ({"mode": "create_update", "all_or_nothing": "y"}, 5_000, 2),  # one transaction, merged per 5,000
    ],
)
def test_staged_new_books_that_were_stored_are_put_right_before_the_commit(sqlite_app, options, chunk, merges):
    """5,000 new rows, then 100 rows of stored books (50 changed, 50 as stored) in the same transaction:
    all are staged as new; at the merge the 100 turn out stored and are classified and updated."""
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    stored = upload(client, csv_bytes([book_row(n) for n in range(5001, 5101)]))
    run_worker(sqlite_app)
    assert import_state(client, stored.location)["created"] == 100

    sqlite_app.config["SQLITE_IMPORT_STAGE_PAST_BOOKS"] = 0
    sqlite_app.config["IMPORT_CHUNK_SIZE"] = chunk
    run = traced(sqlite_app)
    rows = [book_row(n) for n in range(1, 5001)]
    rows += [book_row(n, Title=f"Book {n}, second edition") if n % 2 == 0 else book_row(n) for n in range(5001, 5101)]
    response = upload(client, csv_bytes(rows), name="mixed.csv", **options)
    run_worker(sqlite_app)

    state = import_state(client, response.location)
    assert any(f"INSERT INTO temp.{STAGED}" in statement for statement in run)
    assert (
        sum(statement.startswith("INSERT INTO books") and f"FROM temp.{STAGED}" in statement for statement in run)
        == merges
    )
    updating = options["mode"] == "create_update"
    expected = (5000, 50, 50, 0) if updating else (5000, 0, 0, 100)
    assert (state["status"], state["created"], state["updated"], state["unchanged"], state["skipped"]) == (
        "succeeded",
        *expected,
    )
    outcomes = report_outcomes(client, response.location)  # spreadsheet rows: book n is on row n + 1
    assert {outcomes[n + 1] for n in range(1, 5001)} == {"created"}
    assert outcomes[5002 + 1] == ("updated" if updating else "skipped")
    assert outcomes[5001 + 1] == ("unchanged" if updating else "skipped")
    with sqlite_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Book)) == 5100
        title = db.session.scalar(select(Book.title).where(Book.isbn == isbn13(5002)))
        assert title == ("Book 5002, second edition" if updating else "Book 5002")
        changes = db.session.scalar(select(func.count()).select_from(ImportChange).where(ImportChange.import_id == 2))
        assert changes == (50 if updating else 0)

    assert client.post(response.location + "/undo").status_code == 302
    run_worker(sqlite_app)
    with sqlite_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Book)) == 100
        assert db.session.scalar(select(Book.title).where(Book.isbn == isbn13(5002))) == "Book 5002"


def test_a_catalogue_far_smaller_than_the_import_cache_goes_straight_in(sqlite_app):
    """The staging only pays once the ISBN index outgrows the page cache: below that, inserts are direct."""
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    run = traced(sqlite_app)
    response = upload(client, csv_bytes([book_row(n) for n in range(1, 201)]))
    run_worker(sqlite_app)
    assert import_state(client, response.location)["created"] == 200
    assert not any(STAGED in statement for statement in run)
    assert any(statement.startswith("INSERT INTO books") for statement in run)


def test_a_catalogue_whose_ids_an_undo_left_high_goes_straight_in_until_its_books_pass_the_threshold(sqlite_app):
    """Staging follows the books stored, not the largest id: after 200 books are imported and undone, the
    ids are past a threshold of 150 but no book is stored, so the next imports insert directly until the
    books themselves pass it."""
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    sqlite_app.config["SQLITE_IMPORT_STAGE_PAST_BOOKS"] = 150
    undone = upload(client, csv_bytes([book_row(n) for n in range(1001, 1201)]))
    run_worker(sqlite_app)
    assert client.post(undone.location + "/undo").status_code == 302
    run_worker(sqlite_app)
    run = traced(sqlite_app)
    for first in (1, 101):  # 100 books stored, then 200: each import below the threshold when it starts
        response = upload(client, csv_bytes([book_row(n) for n in range(first, first + 100)]), name=f"{first}.csv")
        run_worker(sqlite_app)
        assert import_state(client, response.location)["created"] == 100
    assert not any(STAGED in statement for statement in run)
    response = upload(client, csv_bytes([book_row(n) for n in range(201, 301)]), name="past.csv")
    run_worker(sqlite_app)
    assert import_state(client, response.location)["created"] == 100
    assert any(f"INSERT INTO temp.{STAGED}" in statement for statement in run)
    with sqlite_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Book)) == 300


def test_an_all_or_nothing_import_ending_inside_a_commit_s_worth_of_pieces_keeps_its_staged_books(sqlite_app):
    """All or nothing merges every commit's worth of pieces (two here) and commits once at the end: a file
    whose last pieces fill no whole commit's worth (one piece of 300 rows) must have them merged too, and
    leave nothing staged behind on the connection for the next import to take as its own."""
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    sqlite_app.config["SQLITE_IMPORT_STAGE_PAST_BOOKS"] = 0
    sqlite_app.config["IMPORT_CHUNK_SIZE"] = 10_000
    run = traced(sqlite_app)
    first = upload(client, csv_bytes([book_row(n) for n in range(1, 301)]), all_or_nothing="y")
    run_worker(sqlite_app)
    assert any(f"INSERT INTO temp.{STAGED}" in statement for statement in run)
    assert import_state(client, first.location)["created"] == 300
    with sqlite_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Book).where(Book.created_by_import_id == 1)) == 300

    second = upload(client, csv_bytes([book_row(n) for n in range(1001, 1011)]), name="more.csv")
    run_worker(sqlite_app)
    assert import_state(client, second.location)["created"] == 10
    with sqlite_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Book).where(Book.created_by_import_id == 2)) == 10
        assert db.session.scalar(select(func.count()).select_from(Book)) == 310


def test_rows_left_staged_on_a_pooled_connection_are_not_merged_as_the_next_import_s(sqlite_app):
    """The temporary table lives as long as the connection: rows some import staged and committed without
    their merge (a path that missed it) must not be inserted by the next import that stages on it."""

    def values(n: int) -> tuple:
        return (f"Book {n}", "Author", TYPES[0], isbn13(n), 2000, 1299, 100, 1, None)

    with sqlite_app.app_context():
        raw = db.engine.raw_connection()
        try:
            driver = raw.driver_connection
            StagedInserts(1, 32768).stage(driver, [2], [values(1)])
            driver.commit()  # left staged: never merged
            staged = StagedInserts(2, 32768)
            staged.stage(driver, [2], [values(2)])
            assert staged.merge(driver, "'2026-01-01 00:00:00.000000'") == []
            driver.commit()
            stored = driver.execute("SELECT isbn, created_by_import_id FROM books").fetchall()
        finally:
            raw.close()
    assert stored == [(isbn13(2), 2)]
