"""Undo an import, the per-row reconciliation report, and add-to-stock undo."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bookapp.extensions import db
from bookapp.models import Book, Import, ImportChange
from bookapp.services import dry_runs
from bookapp.services.reconcile import delete_expired_uploads
from tests.conftest import run_worker
from tests.helpers import book_row, csv_bytes, isbn13
from tests.test_import_outcomes import text_of
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
    one edited by hand since, kept, and lists it."""
    first = upload(staff_client, csv_bytes([book_row(1), book_row(2), book_row(3)]))
    run_worker(app)
    edited = book(app, 2).id
    form = {"title": "Edited by hand", "author": "A", "book_type": "Comic", "isbn": isbn13(2),
            "year_published": "2000", "price": "1", "no_of_pages": "", "quantity": "1", "description": ""}  # fmt: skip
    assert staff_client.post(f"/books/{edited}/edit", data=form).status_code == 302

    staff_client.post(first.location + "/undo")

    page = staff_client.get(first.location).get_data(as_text=True)
    banner = " ".join(re.sub(r"<[^>]+>", " ", re.search(r'data-banner="undone">(.*?)</div>', page, re.S)[1]).split())
    assert banner.endswith(
        "2 books it created were deleted; 1 book changed since was left as it is: Edited by hand"
        f" ({isbn13(2)}): changed since by another import or an edit; kept"
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


def changes_recorded(app, location: str) -> int:
    with app.app_context():
        import_id = int(location.rsplit("/", 1)[1])
        return db.session.scalar(select(func.count()).where(ImportChange.import_id == import_id))


def test_a_dry_run_keeps_its_first_changes_and_they_go_with_its_file(app, staff_client, monkeypatch):
    """A dry run recorded every change it would make and nothing deleted them: a dry run of a million-row
    update left a million rows behind for good. It keeps the first ones for its report, which says where
    its list stops, and they go when its file is deleted; the confirmed import's changes stay for undo."""
    monkeypatch.setattr(dry_runs, "DRY_RUN_CHANGES_KEPT", 3)
    upload(staff_client, csv_bytes([book_row(n) for n in range(1, 6)]))
    run_worker(app)
    dry = upload(staff_client, csv_bytes([book_row(n, Title=f"New {n}") for n in range(1, 6)]), dry_run="y")
    run_worker(app)
    assert import_state(staff_client, dry.location)["updated"] == 5
    assert changes_recorded(app, dry.location) == 3

    text = staff_client.get(dry.location + "/report.csv").get_data(as_text=True)
    report = [(r[0], r[1], r[4]) for r in list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]]
    not_listed = "Not listed: the report shows the changes of the first 3 of the 5 updated rows"
    assert report == [(str(n + 1), "updated", f"Title: Book {n} → New {n}") for n in range(1, 4)] + [
        (str(n + 1), "updated", not_listed) for n in (4, 5)
    ]
    page = text_of(staff_client.get(dry.location).get_data(as_text=True))
    assert "The row-by-row report shows the changes of the first 3 of the 5 updated rows" in page

    confirmed = staff_client.post(dry.location + "/confirm")
    run_worker(app)
    assert changes_recorded(app, confirmed.location) == 5, "an import's changes are all kept, for undo"
    with app.app_context():
        for imp in db.session.scalars(select(Import)):
            imp.finished_at -= timedelta(days=app.config["UPLOAD_RETENTION_DAYS"] + 1)
        db.session.commit()
        delete_expired_uploads()
    assert changes_recorded(app, dry.location) == 0
    assert changes_recorded(app, confirmed.location) == 5
    assert staff_client.post(confirmed.location + "/undo").status_code == 302
    assert [book(app, n).title for n in range(1, 6)] == [f"Book {n}" for n in range(1, 6)]


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


def test_an_undone_imports_page_says_so_once_with_what_the_undo_deleted_and_restored(app, staff_client):
    """An undone import's page said "undone" three times close together: a banner, the status, and a line
    further down with the counts. The banner alone tells the undo now, with the books it deleted and those
    it restored; the status line says "undone" and no more."""
    upload(staff_client, csv_bytes([book_row(1), book_row(2)]))
    run_worker(app)
    second = upload(staff_client, csv_bytes([book_row(1, Title="New title"), book_row(2), book_row(3)]))
    run_worker(app)
    staff_client.post(second.location + "/undo", follow_redirects=True)  # its own note, once, just after

    page = staff_client.get(second.location).get_data(as_text=True)
    main = text_of(page[page.index("<main") : page.index("</main>")])
    assert len(re.findall(r"\bundone\b", main, re.I)) == 2, main  # the banner, and the status
    assert "Status: undone " in main
    banner = text_of(re.search(r'data-banner="undone">(.*?)</div>', page, re.S)[1]).strip()
    assert re.fullmatch(
        r"This import was undone on \d{4}-\d\d-\d\d \d\d:\d\d UTC by staff@example\.com: 1 book it created was"
        r" deleted, and 1 book it updated was restored to what it was before the import\.",
        banner,
    ), banner
