"""Undo an import, the per-row reconciliation report, and add-to-stock undo."""

import csv
import io
import re
from decimal import Decimal

from sqlalchemy import select

from bookapp.extensions import db
from bookapp.models import Book
from tests.conftest import run_worker
from tests.helpers import book_row, csv_bytes, isbn13
from tests.test_imports import book_count, import_state, upload


def book(app, n: int) -> Book:
    with app.app_context():
        found = db.session.scalar(select(Book).where(Book.isbn == isbn13(n)))
        if found is not None:
            db.session.expunge(found)
        return found


def snapshot(app) -> dict:
    with app.app_context():
        return {
            b.isbn: (
                b.title,
                b.author,
                b.book_type,
                b.year_published,
                b.price,
                b.no_of_pages,
                b.quantity,
                b.description,
                b.import_id,
            )
            for b in db.session.scalars(select(Book))
        }


def test_undo_after_create_and_update_restores_every_field_exactly(app, staff_client):
    upload(staff_client, csv_bytes([book_row(n) for n in range(1, 6)]))
    run_worker(app)
    before = snapshot(app)

    changed = [book_row(n) for n in range(1, 6)]
    changed[0] = book_row(1, Title="New title", Price="99.99", **{"No. of pages": "", "Description": "Changed"})
    changed[1] = book_row(2, Author="Someone else", Quantity="0", **{"Book type": "Horror", "Year published": "2020"})
    changed.append(book_row(6))
    second = upload(staff_client, csv_bytes(changed))
    run_worker(app)
    state = import_state(staff_client, second.location)
    assert (state["created"], state["updated"], state["unchanged"]) == (1, 2, 3)

    assert staff_client.post(second.location + "/undo").status_code == 302
    assert snapshot(app) == before
    page = staff_client.get(second.location).get_data(as_text=True)
    assert "1 book deleted, 2 restored." in page and "left alone" not in page
    again = staff_client.post(second.location + "/undo", follow_redirects=True).get_data(as_text=True)
    assert "was already undone" in again
    assert snapshot(app) == before


def test_undo_leaves_books_changed_since_and_lists_them(app, staff_client):
    upload(staff_client, csv_bytes([book_row(1), book_row(2)]))
    run_worker(app)
    second = upload(staff_client, csv_bytes([book_row(1, Title="By import two"), book_row(3), book_row(4)]))
    run_worker(app)
    edited = book(app, 1).id
    form = {"title": "Edited by hand", "author": "A", "book_type": "Comic", "isbn": isbn13(1),
            "year_published": "2000", "price": "1", "no_of_pages": "", "quantity": "1", "description": ""}  # fmt: skip
    assert staff_client.post(f"/books/{edited}/edit", data=form).status_code == 302
    third = upload(staff_client, csv_bytes([book_row(3, Price="42.00")]))
    run_worker(app)
    assert import_state(staff_client, third.location)["updated"] == 1

    staff_client.post(second.location + "/undo")
    assert book(app, 1).title == "Edited by hand", "edited since: left alone"
    assert book(app, 3).price == Decimal("42.00"), "changed by a later import: left alone"
    assert book(app, 4) is None, "created and untouched since: deleted"
    page = staff_client.get(second.location).get_data(as_text=True)
    assert "1 book deleted, 0 restored; 2 books were left alone because they changed after this import." in page
    assert "Edited by hand" in page and "changed since by another import or an edit" in page


def test_the_undone_banner_does_not_say_every_book_went_when_some_were_left_alone(app, staff_client):
    """The banner at the top of an undone import's page says the books it created were deleted, but for the
    one edited by hand since, kept: the same as the undo's own line further down."""
    first = upload(staff_client, csv_bytes([book_row(1), book_row(2), book_row(3)]))
    run_worker(app)
    edited = book(app, 2).id
    form = {"title": "Edited by hand", "author": "A", "book_type": "Comic", "isbn": isbn13(2),
            "year_published": "2000", "price": "1", "no_of_pages": "", "quantity": "1", "description": ""}  # fmt: skip
    assert staff_client.post(f"/books/{edited}/edit", data=form).status_code == 302

    staff_client.post(first.location + "/undo")

    page = staff_client.get(first.location).get_data(as_text=True)
    banner = " ".join(re.sub(r"<[^>]+>", " ", re.search(r'data-banner="undone">(.*?)</p>', page, re.S)[1]).split())
    assert banner.endswith(
        "the books it created were deleted and the fields it changed restored, but for 1 book changed since,"
        " left as it is (listed below)."
    ), banner
    assert "2 books deleted, 0 restored; 1 book was left alone because it changed after this import." in page


def test_add_to_stock_undo_subtracts_what_it_added(app, staff_client):
    upload(staff_client, csv_bytes([book_row(1, Quantity="5")]))
    run_worker(app)
    delivery = upload(staff_client, csv_bytes([book_row(1, Quantity="3"), book_row(1, Quantity="4"), book_row(2)]),
                      mode="add_stock")  # fmt: skip
    run_worker(app)
    assert book(app, 1).quantity == 12
    staff_client.post(delivery.location + "/undo")
    assert book(app, 1).quantity == 5 and book(app, 2) is None


def test_the_reconciliation_report_gives_each_rows_outcome_and_changes(app, staff_client):
    upload(staff_client, csv_bytes([book_row(1), book_row(2)]))
    run_worker(app)
    rows = [book_row(1, Price="7.50"), book_row(2), book_row(3), book_row(4, Price="free")]
    second = upload(staff_client, csv_bytes(rows), mode="create_update")
    run_worker(app)
    text = staff_client.get(second.location + "/report.csv").get_data(as_text=True)
    report = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert report[0][:2] == ["Row", "Outcome"]
    assert [(r[0], r[1]) for r in report[1:]] == [
        ("2", "updated"),
        ("3", "unchanged"),
        ("4", "created"),
        ("5", "rejected"),
    ]
    assert report[1][4] == "Price: 1.01 → 7.50"
    assert "Price is not a price" in report[4][5]
    with staff_client.get(second.location + "/report.xlsx") as response:
        assert response.status_code == 200
    assert book_count(app) == 3


def test_an_undone_imports_page_offers_no_list_of_the_books_it_wrote(app, staff_client):
    """Undone, an import has written no book any more (each is deleted, restored, or kept as changed since):
    its page no longer offers "Books last written by this import", a list that would be empty."""
    first = upload(staff_client, csv_bytes([book_row(1), book_row(2)]))
    run_worker(app)
    assert "Books last written by this import" in staff_client.get(first.location).get_data(as_text=True)

    staff_client.post(first.location + "/undo")

    assert "Books last written by this import" not in staff_client.get(first.location).get_data(as_text=True)
    listed = staff_client.get(first.location.replace("/imports/", "/books?import_id="))
    assert "No book matches" in listed.get_data(as_text=True)
