"""Upload → job in Redis → worker → books saved, on SQLite and PostgreSQL."""

import csv
import io
import re
from decimal import Decimal

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from bookapp.extensions import db
from bookapp.models import Book, Import, ImportChange, ImportRowError
from bookapp.services.import_jobs import upload_path
from tests.conftest import after_chunk_saved, run_worker
from tests.helpers import HEADER, book_row, csv_bytes, isbn13, write_xlsx


def upload(client, content: bytes, name: str = "books.csv", **form):
    return client.post(
        "/imports/new",
        data={"file": (io.BytesIO(content), name), **form},
        content_type="multipart/form-data",
    )


def import_state(client, location: str) -> dict:
    response = client.get(location + ".json")
    assert response.status_code == 200
    return response.get_json()


def book_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Book))


def test_upload_queues_a_job_carrying_only_the_import_id(app, staff_client, redis_client):
    response = upload(staff_client, csv_bytes([book_row(n) for n in range(3)]))
    assert response.status_code == 302
    assert response.location.startswith("/imports/")
    state = import_state(staff_client, response.location)
    assert state["status"] == "queued" and state["filename"] == "books.csv"

    jobs = Queue(app.config["IMPORT_QUEUE"], connection=redis_client).jobs
    assert len(jobs) == 1
    job = jobs[0]
    assert job.args == (state["id"],) and not job.kwargs
    assert job.func_name == "bookapp.tasks.run_import"
    assert job.timeout >= 600 and job.description == f"Import #{state['id']}"
    assert job.meta["import_id"] == state["id"]
    assert book_count(app) == 0, "nothing is parsed or saved in the web request"


@pytest.mark.parametrize("read_ahead", [True, False], ids=["reading-in-a-second-process", "reading-in-the-worker"])
def test_a_worker_imports_every_valid_row_and_reports_each_rejected_one(app, staff_client, read_ahead):
    app.config["IMPORT_READ_AHEAD"] = read_ahead
    rows = [book_row(n) for n in range(1, 101)]
    rows[9] = book_row(10, **{"Book type": "Horor"})  # row 11 in the file: a typing slip, rejected
    rows[19] = book_row(5)  # row 21 repeats the ISBN of row 6
    response = upload(staff_client, csv_bytes(rows))
    run_worker(app)

    state = import_state(staff_client, response.location)
    assert state["status"] == "succeeded"
    assert (state["processed_rows"], state["total_rows"]) == (100, 100)
    assert (state["created"], state["updated"], state["unchanged"], state["rejected"]) == (98, 0, 0, 2)
    assert state["started_at"] and state["finished_at"] and state["error"] is None
    assert book_count(app) == 98

    page = staff_client.get(response.location).get_data(as_text=True)
    assert "Book type must be one of: Sci-tech, Magazine, Comic, Classic, Horror" in page
    assert "already appears in row 6" in page

    with app.app_context():
        book = db.session.scalar(select(Book).where(Book.isbn == isbn13(1)))
        assert (book.title, book.price, book.year_published) == ("Book 1", Decimal("1.01"), "1951")
        assert book.import_id == state["id"]


def test_a_claimed_import_shows_as_reading_never_as_running_and_queued(app, staff_client):
    from bookapp.services.runner import claim

    response = upload(staff_client, csv_bytes([book_row(1)]))
    assert import_state(staff_client, response.location)["phase"] == "queued"
    with app.app_context():
        claim(int(response.location.rsplit("/", 1)[1]))
    state = import_state(staff_client, response.location)
    assert (state["status"], state["phase"]) == ("running", "reading")


def test_reimporting_the_same_file_changes_nothing_and_changed_rows_update(app, staff_client):
    content = csv_bytes([book_row(n) for n in range(1, 21)])
    upload(staff_client, content)
    run_worker(app)
    again = upload(staff_client, content, allow_repeat="1")
    run_worker(app)
    state = import_state(staff_client, again.location)
    assert (state["created"], state["updated"], state["unchanged"]) == (0, 0, 20)

    changed = [book_row(n) for n in range(1, 21)]
    changed[0] = book_row(1, Price="99.50", Title="Book one, revised")
    third = upload(staff_client, csv_bytes(changed))
    run_worker(app)
    state = import_state(staff_client, third.location)
    assert (state["created"], state["updated"], state["unchanged"]) == (0, 1, 19)
    with app.app_context():
        book = db.session.scalar(select(Book).where(Book.isbn == isbn13(1)))
        assert book.price == Decimal("99.50") and book.title == "Book one, revised"
        change = db.session.scalar(select(ImportChange).where(ImportChange.import_id == state["id"]))
        assert change.before == {"title": "Book 1", "price": "1.01"}


def test_a_file_without_a_column_leaves_that_field_as_stored_and_a_blank_cell_clears_it(app, staff_client):
    """A stock list with only the required columns (no pages, no description) updates prices and stock
    and keeps the pages and descriptions the books have; a blank cell in a column the file has clears it."""
    upload(staff_client, csv_bytes([book_row(n) for n in range(1, 4)]))
    run_worker(app)
    required = ["Title", "Author", "Book type", "ISBN", "Year published", "Price", "Quantity"]
    stock_list = [
        [row[HEADER.index(h)] for h in required]
        for row in (book_row(1, Price="19.99"), book_row(2, Quantity="42"), book_row(3))
    ]
    response = upload(staff_client, csv_bytes(stock_list, header=required))
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["created"], state["updated"], state["unchanged"]) == (0, 2, 1), state
    with app.app_context():
        books = {b.isbn: b for b in db.session.scalars(select(Book))}
        first, second = books[isbn13(1)], books[isbn13(2)]
        assert (first.price, first.no_of_pages, first.description) == (Decimal("19.99"), 101, "Description of book 1")
        assert (second.quantity, second.no_of_pages, second.description) == (42, 102, "Description of book 2")
        changes = db.session.scalars(select(ImportChange).where(ImportChange.import_id == state["id"]))
        assert sorted((c.before for c in changes), key=str) == [{"price": "1.01"}, {"quantity": 2}]

    blank = upload(staff_client, csv_bytes([book_row(1, Price="19.99", Description="")]))
    run_worker(app)
    assert import_state(staff_client, blank.location)["updated"] == 1
    with app.app_context():
        assert db.session.scalar(select(Book.description).where(Book.isbn == isbn13(1))) is None


def test_create_only_and_update_only_modes_skip_what_they_must_not_touch(app, staff_client):
    upload(staff_client, csv_bytes([book_row(1)]))
    run_worker(app)
    both = csv_bytes([book_row(1, Title="Changed"), book_row(2)])

    create_only = upload(staff_client, both, mode="create_only")
    run_worker(app)
    state = import_state(staff_client, create_only.location)
    assert (state["created"], state["updated"], state["skipped"]) == (1, 0, 1)

    update_only = upload(staff_client, csv_bytes([book_row(1, Title="Changed"), book_row(3)]), mode="update_only")
    run_worker(app)
    state = import_state(staff_client, update_only.location)
    assert (state["created"], state["updated"], state["skipped"]) == (0, 1, 1)
    assert book_count(app) == 2


def test_an_xlsx_upload_is_imported(app, staff_client, tmp_path):
    rows = [[f"Book {n}", "An Author", "Comic", int(isbn13(n)), 1999, 12.5, 100, 2, None] for n in range(1, 11)]
    path = write_xlsx(tmp_path / "books.xlsx", rows)
    response = upload(staff_client, path.read_bytes(), name="books.xlsx")
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert state["status"] == "succeeded" and state["created"] == 10
    with app.app_context():
        assert db.session.scalar(select(Book.price).where(Book.isbn == isbn13(3))) == Decimal("12.50")


def test_a_file_missing_a_column_waits_for_its_columns_and_saves_nothing(app, staff_client, redis_client):
    header = [h for h in HEADER if h != "Quantity"]
    rows = [[c for h, c in zip(HEADER, book_row(n), strict=True) if h != "Quantity"] for n in range(5)]
    response = upload(staff_client, csv_bytes(rows, header=header))
    assert response.status_code == 302 and response.location == "/imports/1/columns"  # Match columns
    run_worker(app)
    state = import_state(staff_client, "/imports/1")
    assert state["status"] == "needs_mapping" and not redis_client.keys("rq:job:*")
    assert "Continue needs a column, or a value for every row, for: Quantity." in staff_client.get(
        response.location
    ).get_data(as_text=True)
    assert book_count(app) == 0


def test_a_removed_stored_file_fails_the_import_in_sql_and_in_rq(app, staff_client, redis_client):
    response = upload(staff_client, csv_bytes([book_row(1)]))
    state = import_state(staff_client, response.location)
    with app.app_context():
        imp = db.session.get(Import, state["id"])
        upload_path(imp).unlink()
        job_id = imp.rq_job_id
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert state["status"] == "failed" and "no longer on the server" in state["error"]
    failed = FailedJobRegistry(app.config["IMPORT_QUEUE"], connection=redis_client)
    assert job_id in failed.get_job_ids()


def test_a_non_spreadsheet_is_refused_at_upload_with_what_it_is(app, staff_client):
    response = upload(staff_client, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, name="books.csv")
    assert response.status_code == 400
    assert "The file is a PNG image, not a spreadsheet" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Import)) == 0


def test_the_import_page_renders_its_state_and_refreshes_without_javascript(app, staff_client):
    response = upload(staff_client, csv_bytes([book_row(1)]))
    page = staff_client.get(response.location).get_data(as_text=True)
    assert "queued" in page and 'http-equiv="refresh"' in page and "import-progress.js" in page
    run_worker(app)
    page = staff_client.get(response.location).get_data(as_text=True)
    assert "succeeded" in page and 'http-equiv="refresh"' not in page and "No row was rejected" in page


def test_books_are_listed_newest_first_a_page_at_a_time(app, staff_client):
    upload(staff_client, csv_bytes([book_row(n) for n in range(1, 61)]))
    run_worker(app)
    first = staff_client.get("/books").get_data(as_text=True)
    assert "Book 60" in first and "Book 1<" not in first and "Page 1 of 2" in first
    second = staff_client.get("/books?page=2").get_data(as_text=True)
    assert "Book 1<" in second and "Book 60" not in second


def history_rows(page: str) -> list[list[str]]:
    """Return the cells of each row of the /imports table, as text."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S) if body else []
    return [[" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in rows]  # fmt: skip


def test_the_history_lists_who_when_mode_status_and_counts_filterable_by_status(app, staff_client):
    upload(staff_client, csv_bytes([book_row(1)]), mode="create_only")
    run_worker(app)
    second = upload(staff_client, csv_bytes([book_row(2)]))
    staff_client.post(second.location + "/cancel")
    rows = history_rows(staff_client.get("/imports").get_data(as_text=True))
    # Newest first: number, file, status, uploaded, by, mode, seconds, rows, created, updated, unchanged, rejected.
    assert [(r[0], r[2], r[4], r[5], r[8]) for r in rows] == [
        ("2", "cancelled", "staff@example.com", "Create and update", "0"),
        ("1", "succeeded", "staff@example.com", "Create only", "1"),
    ]
    only_cancelled = history_rows(staff_client.get("/imports?status=cancelled").get_data(as_text=True))
    assert [(r[0], r[2]) for r in only_cancelled] == [("2", "cancelled")]


def test_the_history_names_modes_and_a_waiting_import_as_the_upload_and_the_import_page_do(app, staff_client):
    """A delivery added to stock is "Add to stock" in the list, as on the upload form, and the status filter
    offers the imports waiting for their columns in the words their rows are shown with."""
    upload(staff_client, csv_bytes([book_row(1)]), mode="add_stock")
    page = staff_client.get("/imports").get_data(as_text=True)
    assert [r[5] for r in history_rows(page)] == ["Add to stock"]
    options = re.findall(r'<option value="(\w*)"[^>]*>([^<]*)</option>', page)
    assert ("needs_mapping", "waiting for its columns to be matched") in options, options


def test_the_history_filters_by_how_an_import_ended_not_only_by_its_jobs_status(app, staff_client):
    """Each of these succeeded as a job; the filter tells a clean one from one with rejected rows, one whose
    every row was rejected, and one undone since."""
    endings = {"clean": [book_row(1)], "partial": [book_row(2), book_row(3, Price="x")],
               "every_row_rejected": [book_row(4, Price="x")], "undone": [book_row(5)]}  # fmt: skip
    ids = {}
    for ending, rows in endings.items():
        ids[ending] = import_state(staff_client, upload(staff_client, csv_bytes(rows), name=f"{ending}.csv").location)
        run_worker(app)
    staff_client.post(f"/imports/{ids['undone']['id']}/undo")
    for ending, state in ids.items():
        shown = history_rows(staff_client.get(f"/imports?status={ending}").get_data(as_text=True))
        assert [r[0] for r in shown] == [str(state["id"])], ending
    assert len(history_rows(staff_client.get("/imports?status=succeeded").get_data(as_text=True))) == 4


def test_cell_text_is_escaped_wherever_it_is_shown(app, staff_client):
    payload = '<img src=x onerror="alert(1)">'
    response = upload(staff_client, csv_bytes([book_row(1, Title=payload), book_row(2, Price=payload)]), name="x.csv")
    run_worker(app)
    with app.app_context():
        book_id = db.session.scalar(select(Book.id).where(Book.isbn == isbn13(1)))
    # The import page shows row 3's bad price; the list, the book's page and its form show book 1's title.
    for path in (response.location, "/books", f"/books/{book_id}", f"/books/{book_id}/edit"):
        body = staff_client.get(path).get_data(as_text=True)
        assert payload not in body, path
        assert "&lt;img src=x onerror=" in body, f"{path} shows the cell, escaped"


def spreadsheet_csv(records: list[list[str]]) -> bytes:
    """Return a CSV as spreadsheet programs save one: CR LF between records, a bare LF inside a cell."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER, *records])
    return buffer.getvalue().encode()


def spreadsheet_row(content: bytes, title: str) -> int:
    """Return the row a spreadsheet shows the book titled *title* in: one row per record, blank ones too."""
    records = list(csv.reader(io.StringIO(content.decode(), newline="")))
    return next(index for index, record in enumerate(records, start=1) if record and record[0] == title)


# A delivery note saved from a spreadsheet program: descriptions over several lines, an empty row (saved
# as delimiters only), a blank line, rows of spaces, and three bad rows after the multi-line cells.
ROWS_AS_SAVED = [
    book_row(1, Description="First line.\nSecond line."),  # row 2, lines 2-3
    book_row(2),  # row 3, line 4
    [""] * 9,  # row 4, line 5: an empty row
    [],  # row 5, line 6: a blank line
    book_row(3, Description="One,\ntwo,\nthree."),  # row 6, lines 7-9
    book_row(4, Price="ten"),  # row 7, line 10: rejected
    ["     "],  # row 8, line 11: a line of spaces
    ["  ", "  ", " "],  # row 9, line 12: cells of spaces
    book_row(5, Title="Two-line\ntitle"),  # row 10, lines 13-14: rejected
    book_row(1, Title="Book 1 again"),  # row 11, line 15: rejected, the ISBN of row 2
    book_row(6),  # row 12, line 16
]
#: (row, line of the file, column) of each rejected row, as a spreadsheet program and the file show them.
REJECTED_AS_SHOWN = [(7, 10, "Price"), (10, 13, "Title"), (11, 15, "ISBN")]


def test_row_numbers_everywhere_are_the_ones_a_spreadsheet_shows(app, staff_client, redis_url):
    from tests.conftest import flask_cli
    from tests.test_access import bearer
    from tests.test_processes import env_for

    content = spreadsheet_csv(ROWS_AS_SAVED)
    assert [spreadsheet_row(content, t) for t in ("Book 4", "Two-line\ntitle", "Book 1 again")] == [7, 10, 11]
    response = upload(staff_client, content)
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["status"], state["created"], state["rejected"], state["processed_rows"]) == ("succeeded", 4, 3, 7)

    api = app.test_client()
    headers = bearer(app, "api@example.com")
    rejected = api.get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]
    assert [(r["row"], r["line"], r["column"]) for r in rejected] == REJECTED_AS_SHOWN
    assert "already appears in row 2;" in rejected[2]["message"]

    page = staff_client.get(response.location).get_data(as_text=True)
    for row, line, _ in REJECTED_AS_SHOWN:
        assert (
            f'<td class="num" data-label="Row">{row} <small class="note">(line {line} of the file)</small></td>' in page
        )

    download = staff_client.get(response.location + "/rejected.csv").get_data(as_text=True).lstrip("\ufeff")
    table = list(csv.reader(io.StringIO(download, newline="")))
    assert table[0][-2:] == ["row", "error"]
    assert [r[-2] for r in table[1:]] == [f"{row} (line {line} of the file)" for row, line, _ in REJECTED_AS_SHOWN]

    expected_report = [("2", "created"), ("3", "created"), ("6", "created"), ("7", "rejected"),
                       ("10", "rejected"), ("11", "rejected"), ("12", "created")]  # fmt: skip
    report = staff_client.get(response.location + "/report.csv").get_data(as_text=True).lstrip("\ufeff")
    assert [tuple(r[:2]) for r in list(csv.reader(io.StringIO(report)))[1:]] == expected_report

    env = env_for(app, redis_url)
    printed = flask_cli(["import-report", str(state["id"])], env)
    assert printed.returncode == 0, printed.stderr
    assert [tuple(r[:2]) for r in list(csv.reader(io.StringIO(printed.stdout.lstrip("\ufeff"))))[1:]] == expected_report
    printed = flask_cli(["import-report", str(state["id"]), "--rejected"], env)
    assert "7 (line 10 of the file)" in printed.stdout and "11 (line 15 of the file)" in printed.stdout


def test_a_resumed_import_of_a_file_with_multi_line_cells_meets_every_row_under_its_own_number(app, staff_client):
    """Chunks of 3 rows: the run stops after its second chunk is committed, the retry resumes after it."""

    app.config["IMPORT_CHUNK_SIZE"] = 3
    content = spreadsheet_csv(ROWS_AS_SAVED + [book_row(n, Description=f"{n}\nmore") for n in range(7, 13)])
    response = upload(staff_client, content)

    def stop(cursor):  # the same transaction: the run stops at its next check, after this chunk's commit
        stopping = cursor.connection.cursor()  # the insert's own cursor keeps its result
        stopping.execute("UPDATE imports SET cancel_requested = TRUE")
        stopping.close()

    with after_chunk_saved(app, stop, nth=2):
        run_worker(app)
    stopped = import_state(staff_client, response.location)
    assert stopped["status"] == "cancelled" and stopped["processed_rows"] == 4  # rows 2, 3, 6 and 7
    staff_client.post(response.location + "/retry")
    run_worker(app)

    state = import_state(staff_client, response.location)
    assert (state["status"], state["created"], state["rejected"], state["processed_rows"]) == ("succeeded", 10, 3, 13)
    assert book_count(app) == 10
    report = staff_client.get(response.location + "/report.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = [(int(r[0]), r[1]) for r in list(csv.reader(io.StringIO(report)))[1:]]
    assert [n for n, _ in rows] == [2, 3, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18]
    assert [n for n, outcome in rows if outcome == "rejected"] == [7, 10, 11]
    with app.app_context():
        errors = db.session.execute(select(ImportRowError.row_number, ImportRowError.line).order_by("row_number"))
        assert [tuple(e) for e in errors] == [(row, line) for row, line, _ in REJECTED_AS_SHOWN]


def test_rows_that_are_blank_after_trimming_are_skipped_not_rejected(app, staff_client):
    rows_of_spaces = b"   \r\n  ,  , \r\n\t \t\r\n" + b" ," * 8 + b" \r\n"
    content = csv_bytes([book_row(1)]) + rows_of_spaces + csv_bytes([book_row(2)]).split(b"\r\n", 1)[1]
    response = upload(staff_client, content)
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["status"], state["created"], state["rejected"], state["processed_rows"]) == ("succeeded", 2, 0, 2)
    assert "cells but the header has" not in staff_client.get(response.location).get_data(as_text=True)

    workbook = write_xlsx(
        app.instance_path + "/spaces.xlsx", [book_row(3), ["  ", None, "   "], [" "] * 9, book_row(4)]
    )
    with open(workbook, "rb") as fh:
        response = upload(staff_client, fh.read(), name="spaces.xlsx")
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["status"], state["created"], state["rejected"], state["processed_rows"]) == ("succeeded", 2, 0, 2)


def test_an_import_into_sqlite_uses_the_page_cache_the_operator_set(sqlite_app):
    """BOOKAPP_SQLITE_IMPORT_CACHE_MB: memory traded for speed once the ISBN index outgrows the default."""
    from sqlalchemy import event

    from bookapp.config import load_config
    from tests.conftest import add_user, sign_in

    assert load_config("/tmp", {"BOOKAPP_SQLITE_IMPORT_CACHE_MB": "256"})["SQLITE_IMPORT_CACHE_MB"] == 256
    sqlite_app.config["SQLITE_IMPORT_CACHE_MB"] = 7
    run = []
    with sqlite_app.app_context():
        db.engine.dispose()  # every connection from now on is traced
        event.listen(db.engine, "connect", lambda connection, _: connection.set_trace_callback(run.append))
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    response = upload(client, csv_bytes([book_row(n) for n in range(1, 4)]))
    run_worker(sqlite_app)

    assert import_state(client, response.location)["created"] == 3
    assert "PRAGMA cache_size = -7168" in run

    # A setting of 0 or less (a slip) still imports, with the least cache, rather than failing every import.
    sqlite_app.config["SQLITE_IMPORT_CACHE_MB"] = -5
    response = upload(client, csv_bytes([book_row(n) for n in range(4, 6)]))
    run_worker(sqlite_app)
    assert import_state(client, response.location)["created"] == 2
    assert "PRAGMA cache_size = -1024" in run
