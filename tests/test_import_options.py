"""Dry run and confirm, all-or-nothing, modes, the wrong-file stop, downloads, repeated files, cancel, retry."""

import csv
import io
import threading
import time
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bookapp.extensions import db
from bookapp.models import Book, Import
from tests.conftest import run_worker
from tests.helpers import HEADER, book_row, csv_bytes, isbn13
from tests.test_imports import book_count, import_state, upload
from tests.test_matching import text_of


def test_a_dry_run_saves_nothing_and_confirm_imports_the_stored_file(app, staff_client):
    rows = [book_row(n) for n in range(1, 31)]
    rows[4] = book_row(5, **{"Year published": "19"})
    response = upload(staff_client, csv_bytes(rows), dry_run="y")
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert state["dry_run"] and state["status"] == "succeeded"
    assert (state["created"], state["rejected"]) == (29, 1)
    assert book_count(app) == 0
    page = staff_client.get(response.location).get_data(as_text=True)
    assert "Preview: the first rows as they would be stored" in page and "Book 20" in page
    assert "Confirm import" in page
    said = text_of(staff_client.get(response.location))
    assert "This dry run has finished" in said and "the import would create 29 and reject 1." in said
    assert "Would create 29" in said and "Would reject 1" in said and "Created" not in said

    confirmed = staff_client.post(response.location + "/confirm")
    assert confirmed.status_code == 302 and confirmed.location != response.location
    run_worker(app)
    state = import_state(staff_client, confirmed.location)
    assert not state["dry_run"] and state["source_import_id"] == int(response.location.rsplit("/", 1)[1])
    assert (state["created"], state["rejected"]) == (29, 1)
    assert book_count(app) == 29


def test_all_or_nothing_saves_nothing_when_a_row_is_rejected_and_everything_otherwise(app, staff_client):
    app.config["IMPORT_CHUNK_SIZE"] = 10
    rows = [book_row(n) for n in range(1, 51)]
    rows[44] = book_row(45, Price="-3")
    response = upload(staff_client, csv_bytes(rows), all_or_nothing="y")
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert state["status"] == "failed" and "nothing was saved (all-or-nothing)" in state["error"]
    assert state["rejected"] == 1 and book_count(app) == 0

    rows[44] = book_row(45)
    response = upload(staff_client, csv_bytes(rows), all_or_nothing="y")
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert state["status"] == "succeeded" and state["created"] == 50 and book_count(app) == 50


def test_a_file_that_is_not_a_book_list_stops_early_and_says_why(app, staff_client):
    # (A Book type column of other values goes to Match columns first: its values want matching.)
    rows = [book_row(n, **{"Year published": "Paperback"}) for n in range(1, 1501)]
    response = upload(staff_client, csv_bytes(rows))
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert state["status"] == "failed" and "does not look like a book list" in state["error"]
    assert "Year published must be" in state["error"]
    assert book_count(app) == 0


def test_add_to_stock_adds_quantities_sums_repeated_rows_and_fills_only_blanks(app, staff_client):
    upload(staff_client, csv_bytes([book_row(1, Quantity="5", Description=""), book_row(2, Quantity="1")]))
    run_worker(app)
    delivery = [
        book_row(1, Quantity="3", Title="Ignored title", Description="Now described"),
        book_row(3, Quantity="2"),
        book_row(1, Quantity="4"),
        book_row(3, Quantity="1"),
    ]
    response = upload(staff_client, csv_bytes(delivery), mode="add_stock")
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["created"], state["updated"], state["rejected"]) == (1, 3, 0)
    with app.app_context():
        one = db.session.scalar(select(Book).where(Book.isbn == isbn13(1)))
        three = db.session.scalar(select(Book).where(Book.isbn == isbn13(3)))
        assert (one.quantity, one.title, one.description) == (12, "Book 1", "Now described")
        assert three.quantity == 3


def test_two_imports_adding_to_one_book_at_once_both_add(app):
    """The second import reads the stock while the first has added to it but not committed yet."""
    from bookapp.importer import FIELDS
    from bookapp.importer.validation import ValidRows
    from bookapp.models import ImportMode
    from bookapp.services.saving import BookWriter

    with app.app_context():
        db.session.add(Book(title="Book 1", author="Author 1", book_type="Comic", isbn=isbn13(1), year_published="1999",
                            price=Decimal("9.99"), quantity=10))  # fmt: skip
        first, second = (Import(filename=f"{n}.csv", stored_name=f"{n}.csv", file_kind="csv", file_size=1,
                                sha256=str(n), mode="add_stock") for n in (1, 2))  # fmt: skip
        db.session.add_all([first, second])
        db.session.commit()
        ids = first.id, second.id

        def delivery(quantity: int) -> ValidRows:
            values = {"title": "Book 1", "author": "Author 1", "book_type": "Comic", "isbn": isbn13(1),
                      "year_published": "1999", "price": Decimal("9.99"), "no_of_pages": None,
                      "quantity": quantity, "description": None}  # fmt: skip
            return ValidRows([2], [[values[f]] for f in FIELDS])

        writing = threading.Event()

        def add_second() -> None:
            with app.app_context(), Session(db.engine) as session:
                writing.set()
                BookWriter(session, ids[1], ImportMode.ADD_STOCK).write(delivery(7))
                session.commit()

        with Session(db.engine) as session:
            BookWriter(session, ids[0], ImportMode.ADD_STOCK).write(delivery(5))  # 10 + 5, not committed
            adding = threading.Thread(target=add_second)
            adding.start()
            assert writing.wait(10)
            wait_until_another_waits(db.engine)
            assert adding.is_alive(), "the second import finished without meeting the first: no race was tested"
            session.commit()
        adding.join(30)
        assert db.session.scalar(select(Book.quantity).where(Book.isbn == isbn13(1))) == 22


def wait_until_another_waits(engine) -> None:
    """Return once another transaction waits for a lock (PostgreSQL), or after a moment (SQLite, where
    the second writer waits for the database's write lock before reading anything: the caller then
    checks it is still waiting)."""
    if engine.dialect.name != "postgresql":
        time.sleep(0.5)
        return
    deadline = time.monotonic() + 10
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
            if waiting:
                return
            # A transaction sees pg_stat_activity as it was at its first look: end it to look again.
            connection.rollback()
            time.sleep(0.02)
    raise AssertionError("the second import never waited for the first")


def test_adding_to_stock_past_the_largest_number_rejects_the_row_and_keeps_the_stock(app, staff_client):
    largest = 2**31 - 1
    upload(staff_client, csv_bytes([book_row(1, Quantity="10")]))
    run_worker(app)
    delivery = [
        book_row(1, Quantity=str(largest)),  # onto a stored book
        book_row(2, Quantity=str(largest)),  # a new book…
        book_row(2, Quantity="5"),  # …and a repeated row that would take it past the limit
        book_row(3, Quantity="4"),
    ]
    response = upload(staff_client, csv_bytes(delivery), mode="add_stock")
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert state["status"] == "succeeded"
    assert (state["created"], state["updated"], state["rejected"]) == (2, 0, 2)
    with app.app_context():
        stock = dict(db.session.execute(select(Book.isbn, Book.quantity)).all())
    assert stock == {isbn13(1): 10, isbn13(2): largest, isbn13(3): 4}

    download = staff_client.get(response.location + "/rejected.csv")
    table = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r[0], r[HEADER.index("Quantity")]) for r in table[1:]] == [("Book 1", str(largest)), ("Book 2", "5")]
    assert "adding 5 to the 2,147,483,647 in stock would make 2,147,483,652" in table[2][-1]
    assert "the largest stock allowed is 2,147,483,647" in table[1][-1]


def test_rejected_rows_download_round_trip_fix_and_reupload(app, staff_client):
    rows = [book_row(n) for n in range(1, 11)]
    rows[2] = book_row(3, Price='=HYPERLINK("http://x")')
    rows[6] = book_row(7, ISBN="978-0-306-40615-8")
    response = upload(staff_client, csv_bytes(rows))
    run_worker(app)

    download = staff_client.get(response.location + "/rejected.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0] == [*HEADER, "row", "error"]
    assert [(r[0], r[-2]) for r in table[1:]] == [("Book 3", "4"), ("Book 7", "8")]
    assert table[1][5].startswith("'=HYPERLINK"), "formula prefix neutralised"
    assert "check digit" in table[2][-1]

    with staff_client.get(response.location + "/rejected.xlsx") as download:
        workbook = load_workbook(io.BytesIO(download.data))
    sheet = workbook.active
    assert [c.value for c in sheet[1]] == [*HEADER, "row", "error"]
    assert sheet["F2"].data_type == "s" and sheet["F2"].value.startswith("=HYPERLINK")
    assert sheet["D3"].number_format == "@"

    fixed = [row[:-2] for row in table[1:]]
    fixed[0][5] = "12.00"
    fixed[1][3] = isbn13(7)
    again = upload(staff_client, csv_bytes(fixed))
    run_worker(app)
    state = import_state(staff_client, again.location)
    assert (state["created"], state["rejected"]) == (2, 0)
    assert book_count(app) == 10


def test_the_report_filters_rejected_rows_by_column(app, staff_client):
    rows = [book_row(1, Price="x"), book_row(2, Quantity="-1"), book_row(3, Price="y")]
    response = upload(staff_client, csv_bytes(rows))
    run_worker(app)
    page = staff_client.get(response.location + "?column=Price").get_data(as_text=True)
    table = page[page.index('<table class="errors">') :]
    assert table.count("Price is not a price") == 2 and "Quantity must be" not in table


def test_the_same_file_again_is_flagged_before_anything_is_queued(app, staff_client):
    content = csv_bytes([book_row(1)])
    first = upload(staff_client, content)
    run_worker(app)
    again = upload(staff_client, content)
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    first_id = first.location.rsplit("/", 1)[1]
    assert "This file was imported on" in page and f"by staff@example.com (import #{first_id})" in page
    assert "Import it again" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Import)) == 1
    anyway = upload(staff_client, content, allow_repeat="1")
    assert anyway.status_code == 302


def test_cancel_a_queued_import_and_retry_it(app, staff_client):
    response = upload(staff_client, csv_bytes([book_row(n) for n in range(1, 6)]))
    assert staff_client.post(response.location + "/cancel").status_code == 302
    state = import_state(staff_client, response.location)
    assert state["status"] == "cancelled" and "nothing was saved" in state["error"]
    run_worker(app)
    assert book_count(app) == 0

    assert staff_client.post(response.location + "/retry").status_code == 302
    assert import_state(staff_client, response.location)["status"] == "queued"
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert state["status"] == "succeeded" and state["created"] == 5


def test_a_template_filled_in_by_a_user_imports_only_the_users_rows(app, staff_client):
    with staff_client.get("/imports/template.xlsx") as response:
        content = response.data
    workbook = load_workbook(io.BytesIO(content))
    books, how_to = workbook["Books"], workbook["How to"]
    assert [c.value for c in books[1]] == HEADER
    assert all(c.value is None for row in books.iter_rows(min_row=2) for c in row), "no example below the headers"
    assert books["D2"].number_format == "@" and books["D3"].number_format == "@"
    assert "Sci-tech,Magazine,Comic,Classic,Horror" in books.data_validations.dataValidation[0].formula1
    how_to_rows = [[c.value for c in row] for row in how_to.iter_rows()]
    assert "Book type: one of" in " ".join(str(r[0]) for r in how_to_rows)
    assert HEADER in how_to_rows and "Dune" in [r[0] for r in how_to_rows], "the example is on the how-to sheet"

    # Left as downloaded, neither template imports a book.
    for name, data in (("template.xlsx", content), ("template.csv", staff_client.get("/imports/template.csv").data)):
        response = upload(staff_client, data, name=name, allow_repeat="1")
        run_worker(app)
        state = import_state(staff_client, response.location)
        assert state["status"] == "failed" and "no rows of books" in state["error"], state
    assert book_count(app) == 0

    # Filled in as a user would: rows typed below the headers, the how-to sheet left as it is.
    for n in range(1, 4):
        for column, value in enumerate(book_row(n), start=1):
            books.cell(row=n + 1, column=column, value=value)
    filled = io.BytesIO()
    workbook.save(filled)
    response = upload(staff_client, filled.getvalue(), name="my-books.xlsx")
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 3, 0), state
    with app.app_context():
        assert sorted(db.session.scalars(select(Book.title))) == ["Book 1", "Book 2", "Book 3"]

    csv_template = staff_client.get("/imports/template.csv").get_data(as_text=True)
    response = upload(staff_client, (csv_template + "\r\n".join(",".join(book_row(n)) for n in (4, 5))).encode())
    run_worker(app)
    assert import_state(staff_client, response.location)["created"] == 2
    assert book_count(app) == 5
