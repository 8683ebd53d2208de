"""The book pages: search, filter, sort, one book, edit with the importer's rules, delete, export."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bookapp.extensions import db
from bookapp.models import Book
from tests.conftest import add_user, run_worker, sign_in
from tests.helpers import book_row, csv_bytes, isbn13
from tests.test_imports import book_count, import_state, upload


def seed(app, client, count=30):
    response = upload(client, csv_bytes([book_row(n) for n in range(1, count + 1)]))
    run_worker(app)
    return import_state(client, response.location)["id"]


def book_id(app, n: int) -> int:
    with app.app_context():
        return db.session.scalar(select(Book.id).where(Book.isbn == isbn13(n)))


def titles(page: str) -> list[str]:
    import re

    return re.findall(r'<td><a href="/books/\d+[^"]*">([^<]+)</a>', page)


def test_search_finds_title_author_and_isbn_in_any_spelling(app, staff_client):
    seed(app, staff_client)
    assert titles(staff_client.get("/books?q=Book+12").get_data(as_text=True)) == ["Book 12"]
    assert "Book 7" in titles(staff_client.get("/books?q=author+7").get_data(as_text=True))
    hyphenated = isbn13(25)
    spelled = f"{hyphenated[:3]}-{hyphenated[3:4]}-{hyphenated[4:9]}-{hyphenated[9:12]}-{hyphenated[12]}"
    assert titles(staff_client.get(f"/books?q={spelled}").get_data(as_text=True)) == ["Book 25"]


ACCENTED = {"Über das Marionettentheater": "Renée Müller", "Café Society": "Zoë Brontë", "Plain Title": "Ann Ash"}
ACCENTED_SEARCHES = {"über": "Über das Marionettentheater", "ÜBER DAS": "Über das Marionettentheater",
                     "MÜLLER": "Über das Marionettentheater", "renée": "Über das Marionettentheater",
                     "CAFÉ": "Café Society", "zoË": "Café Society", "cafe\u0301": "Café Society"}  # fmt: skip


@pytest.mark.parametrize("indexed", [True, False], ids=["through-the-index", "past-the-mark"])
def test_search_sets_aside_the_case_of_letters_beyond_ascii(app, staff_client, indexed):
    """Case aside means for every letter: "über" finds "Über", "MÜLLER" finds "Müller", whether the books
    are in the search index or past its mark (scanned); a search typed decomposed (e + combining
    accent) finds the composed title."""
    rows = [book_row(n, Title=title, Author=author) for n, (title, author) in enumerate(ACCENTED.items(), 1)]
    upload(staff_client, csv_bytes(rows))
    run_worker(app)
    if not indexed:
        with app.app_context(), db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE search_state SET indexed_upto = 0 WHERE id = 1")
    for query, title in ACCENTED_SEARCHES.items():
        assert titles(staff_client.get("/books", query_string={"q": query}).get_data(as_text=True)) == [title], query
    # Accents aside too (tests/test_accents.py): "uber" finds "Über".
    assert titles(staff_client.get("/books", query_string={"q": "uber"}).get_data(as_text=True)) == [
        "Über das Marionettentheater"
    ]


def test_filter_sort_and_page_size_are_in_the_url(app, staff_client):
    seed(app, staff_client)
    assert "30</small>" in staff_client.get("/books?sort=title").get_data(as_text=True), "sorting is not a filter"
    assert "6 matching</small>" in staff_client.get("/books?book_type=Comic").get_data(as_text=True)
    page = staff_client.get("/books?book_type=Comic&sort=title&direction=asc&per_page=25").get_data(as_text=True)
    found = titles(page)
    assert found == sorted(found) and all(int(t.split()[1]) % 5 == 2 for t in found)
    descending = titles(staff_client.get("/books?sort=price&direction=desc").get_data(as_text=True))
    with app.app_context():
        prices = [db.session.scalar(select(Book.price).where(Book.title == t)) for t in descending]
    assert prices == sorted(prices, reverse=True)


def test_deep_pages_found_by_sorting_ids_first_hold_the_same_books_in_the_same_order(app, staff_client, monkeypatch):
    from bookapp.services import books as book_service
    from bookapp.services.setup import ensure_indexes

    seed(app, staff_client, 230)  # authors, types, years and prices repeat: ties are broken by id
    app.config["SEARCH_INDEX"] = False  # without the sort index, which would serve every unfiltered view
    with app.app_context():
        ensure_indexes()
    monkeypatch.setattr(book_service, "IDS_FIRST_FROM_OFFSET", 10**9)
    plain = {}
    views = [
        f"sort={field}&direction={d}" for field in ("title", "author", "price", "no_of_pages") for d in ("asc", "desc")
    ]
    views.append("book_type=Horror&sort=author&direction=desc")
    for view in views:
        plain[view] = [titles(staff_client.get(f"/books?{view}&per_page=25&page={p}").get_data(as_text=True))
                       for p in range(1, 11)]  # fmt: skip
    monkeypatch.setattr(book_service, "IDS_FIRST_FROM_OFFSET", 1)
    for view in views:
        pages = [titles(staff_client.get(f"/books?{view}&per_page=25&page={p}").get_data(as_text=True))
                 for p in range(1, 11)]  # fmt: skip
        assert pages == plain[view], view
        assert sum(map(len, pages)) == (46 if "Horror" in view else 230), view


def sorted_by_database(sort: str, direction: str) -> list[int]:
    """Every book's id in the order one plain ORDER BY gives (call in an app context)."""
    from bookapp.services.books import BookQuery

    return list(db.session.scalars(BookQuery(sort=sort, direction=direction).select().with_only_columns(Book.id)))


def check_every_order(app, monkeypatch, *, through_index: bool = True) -> None:
    """Every sortable column, both directions: the pages, one after the other, list every book
    exactly as one plain sort does, and (through_index) the sort index found them."""
    from bookapp.books import books_page
    from bookapp.services import books as book_service
    from bookapp.services import sort_index
    from bookapp.services.books import SORTABLE, BookQuery

    monkeypatch.setattr(book_service, "IDS_FIRST_FROM_OFFSET", 1)  # sorted by id too, past page 1
    served, counted = [], []

    def spy(record: list, real):
        return lambda *args: record.append(real(*args)) or record[-1]

    monkeypatch.setattr(sort_index, "page_ids", spy(served, sort_index.page_ids))
    monkeypatch.setattr(sort_index, "count_books", spy(counted, sort_index.count_books))
    with app.app_context():
        books = db.session.scalar(select(db.func.count(Book.id)))
        for sort in (s for s in SORTABLE if s != "isbn"):
            for direction in ("asc", "desc"):
                served.clear()
                paged = [books_page(page, 25, BookQuery(sort=sort, direction=direction)) for page in range(1, 12)]
                ids = [book.id for pagination in paged for book in pagination.items]
                assert ids == sorted_by_database(sort, direction), (sort, direction)
                assert paged[0].total == books, (sort, direction)
                if through_index:
                    assert served and None not in served, (sort, direction)
                db.session.rollback()
    assert counted and (None not in counted if through_index else set(counted) == {None})


def stale_and_past_mark(app) -> tuple[int, int]:
    from bookapp.models import SearchState
    from bookapp.services.sort_index import SORT_MARK, STALE

    with app.app_context():
        mark = db.session.scalar(select(SearchState.indexed_upto).where(SearchState.id == SORT_MARK))
        past = db.session.scalar(select(db.func.count(Book.id)).where(Book.id > mark))
        return db.session.execute(db.text(f"SELECT count(*) FROM {STALE}")).scalar(), past


def test_the_sort_index_pages_every_order_exactly_through_edits_imports_deletes_and_undo(
    app, staff_client, monkeypatch
):
    """Sorted by any column, every book appears once, in the database's own order (nulls and ties
    included), whether the sort index has caught up or not; changes only mark books stale."""
    from bookapp.services import sort_catch_up, sort_index
    from bookapp.services.books import save_book

    import_id = seed(app, staff_client, 230)
    assert stale_and_past_mark(app) == (0, 0)  # the import job ended by copying its books
    check_every_order(app, monkeypatch)
    # An import that changes prices and empties page counts (nulls sort first or last by database):
    # its job copies the books it changed again, and the new one.
    changes = [book_row(n, Price="1.00", **{"No. of pages": ""}) for n in range(10, 40)] + [book_row(231)]
    second = upload(staff_client, csv_bytes(changes))
    run_worker(app)
    assert import_state(staff_client, second.location)["updated"] == 30
    assert stale_and_past_mark(app) == (0, 0)
    check_every_order(app, monkeypatch)
    # An edit, a delete, an update through the ORM and a book made by hand, with no catch-up after them:
    fields = ("title", "author", "book_type", "isbn", "year_published", "price", "no_of_pages", "quantity",
              "description")  # fmt: skip
    edit = {**dict(zip(fields, book_row(3), strict=True)), "title": "Aardvark", "price": "999"}
    assert staff_client.post(f"/books/{book_id(app, 3)}/edit", data=edit).status_code == 302
    assert staff_client.post(f"/books/{book_id(app, 4)}/delete").status_code == 302
    with app.app_context():
        book = db.session.get(Book, book_id(app, 5))
        book.quantity = 10**6
        db.session.commit()
        save_book(None, dict(zip(fields, book_row(232), strict=True)))
    assert stale_and_past_mark(app) == (3, 1)
    check_every_order(app, monkeypatch)  # merged: the copy's fresh rows, the stale ones, the new one
    with app.app_context():
        assert sort_catch_up.catch_up(db.engine) == 1 + 2  # the new book; the stale ones that still exist
    assert stale_and_past_mark(app) == (0, 0)
    check_every_order(app, monkeypatch)
    # Undo deletes the books the first import made (one statement on PostgreSQL: one trigger call).
    assert staff_client.post(f"/imports/{import_id}/undo").status_code == 302
    assert stale_and_past_mark(app)[0] == 230 - 30 - 1 - 1  # not those rewritten since, nor the one deleted
    check_every_order(app, monkeypatch)
    # Too many books to merge on the spot: pages do without the index, still exact.
    monkeypatch.setattr(sort_index, "MAX_PENDING", 0)
    check_every_order(app, monkeypatch, through_index=False)


def test_a_large_catch_up_builds_a_new_sort_index_and_the_plan_uses_it(app, staff_client, monkeypatch):
    from bookapp.services import sort_catch_up
    from bookapp.services.sort_index import TABLE

    seed(app, staff_client, 230)
    with app.app_context():
        engine = db.engine
        with engine.begin() as connection:  # as if the copy held nothing: a catch-up that more than doubles it
            connection.exec_driver_sql("UPDATE search_state SET indexed_upto = 0 WHERE id = 2")
            connection.exec_driver_sql(f"DELETE FROM {TABLE} WHERE id > (SELECT min(id) + 9 FROM books)")
        assert sort_catch_up.catch_up(engine, rebuild_from=100) == 230
        with engine.connect() as connection:
            assert connection.exec_driver_sql(f"SELECT count(DISTINCT id), count(*) FROM {TABLE}").one() == (230, 230)
    check_every_order(app, monkeypatch)
    with app.app_context():  # twice: the new copy's names do not clash with the old one's
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE search_state SET indexed_upto = 0 WHERE id = 2")
        assert sort_catch_up.catch_up(engine, rebuild_from=100) == 230
        connection = db.session.connection()
        statement = "SELECT id, title FROM book_order ORDER BY 2 DESC, 1 DESC LIMIT 25 OFFSET 100"
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            connection.exec_driver_sql("SET LOCAL enable_sort = off")
            plan = "\n".join(r[0] for r in connection.exec_driver_sql(f"EXPLAIN {statement}"))
            assert "Index Only Scan Backward using ix_book_order_title_" in plan, plan
        else:
            plan = " ".join(str(r[-1]) for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}"))
            assert "USING COVERING INDEX ix_book_order_title_" in plan and "TEMP B-TREE" not in plan, plan


def test_a_large_sort_catch_up_on_sqlite_lets_writes_in_between_its_steps(sqlite_app, monkeypatch):
    """SQLite builds a new sort index a step at a time: an edit and a delete made between two steps go in
    at once (one transaction for the whole build held them for seconds at a million books), and pages
    are exact once the catch-up has copied the changed book again."""
    import sqlite3

    from bookapp.services import sort_catch_up
    from bookapp.services.folding import FUNCTION, fold

    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    seed(sqlite_app, client, 230)
    edited, deleted = book_id(sqlite_app, 7), book_id(sqlite_app, 8)
    path = sqlite_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    lock_mark, calls, written = sort_catch_up.lock_mark, [], []

    def write_before_the_second_copy_step(connection, mark):
        calls.append(mark)
        if len(calls) == 3:  # the new copy made, its first step copied (the edited and deleted books in it)
            with sqlite3.connect(path, timeout=0.2) as other:  # a write that waits for the lock fails
                other.create_function(FUNCTION, 1, fold, deterministic=True)  # the search index's triggers fold
                other.execute("UPDATE books SET title = 'Aardvark' WHERE id = ?", (edited,))
                other.execute("DELETE FROM books WHERE id = ?", (deleted,))
            written.append(True)
        return lock_mark(connection, mark)

    monkeypatch.setattr(sort_catch_up, "SQLITE_COPY_STEP", 100)
    monkeypatch.setattr(sort_catch_up, "lock_mark", write_before_the_second_copy_step)
    with sqlite_app.app_context():
        with db.engine.begin() as connection:  # as if the copy held nothing: a catch-up that rebuilds it
            connection.exec_driver_sql("UPDATE search_state SET indexed_upto = 0 WHERE id = 2")
        assert sort_catch_up.catch_up(db.engine, rebuild_from=100) == 230 + 1  # and the edited book again
    assert written and len(calls) > 3, "the build released the lock between its steps"
    assert stale_and_past_mark(sqlite_app) == (0, 0)
    check_every_order(sqlite_app, monkeypatch)
    with sqlite_app.app_context():
        first = db.session.execute(db.text("SELECT id FROM book_order ORDER BY title LIMIT 1")).scalar()
        assert first == edited
        assert db.session.execute(db.text(f"SELECT count(*) FROM book_order WHERE id = {deleted}")).scalar() == 0


def test_a_sort_catch_up_on_sqlite_leaves_the_work_to_one_already_under_way(sqlite_app):
    """Two workers' catch-ups at once on one SQLite file: the second finds the first's lock taken and
    changes nothing (a step of its own between the first's steps could lose a change the first needs)."""
    from bookapp.services import sort_catch_up
    from bookapp.services.write_turn import held_if_free, lock_path

    add_user(sqlite_app, "staff@example.com")
    seed(sqlite_app, sign_in(sqlite_app.test_client(), "staff@example.com"), 30)
    with sqlite_app.app_context():
        with db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE search_state SET indexed_upto = 0 WHERE id = 2")
        with held_if_free(lock_path(db.engine, "sort-index")) as free:  # the catch-up under way
            assert free
            assert sort_catch_up.catch_up(db.engine, rebuild_from=10) == 0
        assert stale_and_past_mark(sqlite_app) == (0, 30)
        assert sort_catch_up.catch_up(db.engine, rebuild_from=10) == 30


def test_a_sort_rebuild_on_sqlite_cut_short_keeps_the_old_index_exact(sqlite_app, monkeypatch):
    """A build in steps stopped halfway (the database busy past the wait, the job killed) leaves the old
    sort index in use with its notes of changed and deleted books: pages stay exact, the count too, and
    the next catch-up finishes the work."""
    from bookapp.services import sort_catch_up, sort_index
    from bookapp.services.books import save_book

    add_user(sqlite_app, "staff@example.com")
    seed(sqlite_app, sign_in(sqlite_app.test_client(), "staff@example.com"), 30)
    edited, deleted = book_id(sqlite_app, 7), book_id(sqlite_app, 8)
    fields = ("title", "author", "book_type", "isbn", "year_published", "price", "no_of_pages", "quantity",
              "description")  # fmt: skip
    with sqlite_app.app_context():  # noted stale; then enough new books past the mark for a rebuild
        db.session.execute(db.text(f"UPDATE books SET title = 'Aardvark' WHERE id = {edited}"))
        db.session.execute(db.text(f"DELETE FROM books WHERE id = {deleted}"))
        db.session.commit()
        for n in range(31, 88):
            save_book(None, dict(zip(fields, book_row(n), strict=True)))
    lock_mark, calls = sort_catch_up.lock_mark, []

    def busy_after_the_first_step(connection, mark):
        calls.append(mark)
        return lock_mark(connection, mark) if len(calls) == 1 else None

    monkeypatch.setattr(sort_catch_up, "lock_mark", busy_after_the_first_step)
    with sqlite_app.app_context():
        assert sort_catch_up.catch_up(db.engine, rebuild_from=10) == 0
    monkeypatch.setattr(sort_catch_up, "lock_mark", lock_mark)
    with sqlite_app.app_context():  # the new books undone: few past the mark, pages use the old copy
        db.session.execute(
            db.text(f"DELETE FROM books WHERE isbn IN ({','.join(repr(isbn13(n)) for n in range(31, 88))})")
        )
        db.session.commit()
        assert sort_index.count_books(db.session) == 29
    check_every_order(sqlite_app, monkeypatch)
    with sqlite_app.app_context():
        assert sort_catch_up.catch_up(db.engine, rebuild_from=10) == 1  # the edited book, copied again
        assert sort_index.count_books(db.session) == 29
    assert stale_and_past_mark(sqlite_app) == (0, 0)
    check_every_order(sqlite_app, monkeypatch)


def test_a_sort_catch_up_on_sqlite_works_without_its_lock_file(sqlite_app, monkeypatch):
    """A lock file that cannot be opened (here a folder stands in its place) costs the steps, not the
    catch-up: the new sort index is built in one transaction, as before."""
    from bookapp.services import sort_catch_up
    from bookapp.services.write_turn import lock_path

    add_user(sqlite_app, "staff@example.com")
    seed(sqlite_app, sign_in(sqlite_app.test_client(), "staff@example.com"), 30)
    with sqlite_app.app_context():
        path = lock_path(db.engine, "sort-index")
        path.unlink(missing_ok=True)  # the import's catch-up made it
        path.mkdir()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE search_state SET indexed_upto = 0 WHERE id = 2")
        assert sort_catch_up.catch_up(db.engine, rebuild_from=10) == 30
    assert stale_and_past_mark(sqlite_app) == (0, 0)
    check_every_order(sqlite_app, monkeypatch)


def test_a_sorted_page_read_while_a_catch_up_moves_the_mark_lists_each_book_once(app, staff_client, monkeypatch):
    """The sort index's mark is read, then the page: a catch-up committing between the two (here: the
    mark as first read lags ten books behind the copy) must not list its books twice."""
    from bookapp.services import sort_index

    seed(app, staff_client, 30)
    pending = sort_index._pending

    def read_before_the_catch_up(session):
        mark, stale, past = pending(session)
        lagging.append(mark)
        return (mark - 10, stale, past + 10) if len(lagging) == 1 else (mark, stale, past)

    lagging: list[int] = []

    monkeypatch.setattr(sort_index, "_pending", read_before_the_catch_up)
    with app.test_request_context():
        ids = sort_index.page_ids(db.session, "title", False, 100, 0)
        assert len(ids) == len(set(ids)) == 30
        plain = [b.id for b in db.session.scalars(select(Book).order_by(Book.title, Book.id))]
        assert ids == plain
        assert len(lagging) == 2, "the page was read again with the mark the catch-up left"


def test_a_book_page_links_to_the_import_that_wrote_it(app, staff_client):
    import_id = seed(app, staff_client, 3)
    page = staff_client.get(f"/books/{book_id(app, 2)}").get_data(as_text=True)
    assert f'href="/imports/{import_id}">import #{import_id}' in page and isbn13(2) in page


def test_editing_uses_the_import_rules_and_marks_the_book_hand_edited(app, staff_client):
    seed(app, staff_client, 3)
    target = book_id(app, 1)
    form = {"title": " Edited ", "author": "A", "book_type": "Horror", "isbn": "978-0-306-40615-8",
            "year_published": "1999", "price": "£1,000.50", "no_of_pages": "", "quantity": "2", "description": ""}  # fmt: skip
    refused = staff_client.post(f"/books/{target}/edit", data=form)
    assert refused.status_code == 400 and "ISBN has a wrong check digit" in refused.get_data(as_text=True)
    taken = staff_client.post(f"/books/{target}/edit", data={**form, "isbn": isbn13(2)})
    assert "belongs to another book" in taken.get_data(as_text=True)
    saved = staff_client.post(f"/books/{target}/edit", data={**form, "isbn": "0306406152"})
    assert saved.status_code == 302
    with app.app_context():
        book = db.session.get(Book, target)
        assert (book.title, book.isbn, book.price, book.no_of_pages, book.import_id) == (
            "Edited", "9780306406157", Decimal("1000.50"), None, None)  # fmt: skip


def test_delete_asks_first_then_deletes(app, staff_client):
    seed(app, staff_client, 2)
    target = book_id(app, 1)
    assert "Delete the book" in staff_client.get(f"/books/{target}/delete").get_data(as_text=True)
    assert book_count(app) == 2
    assert staff_client.post(f"/books/{target}/delete").status_code == 302
    assert book_count(app) == 1


def test_export_follows_the_view_and_reimports_as_unchanged(app, staff_client):
    seed(app, staff_client, 12)
    exported = staff_client.get("/books/export.csv?book_type=Comic").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert rows[0][:4] == ["Title", "Author", "Book type", "ISBN"] and len(rows) == 1 + 3
    found = staff_client.get("/books/export.csv?q=book+1&sort=title").get_data(as_text=True)
    titles_found = [row[0] for row in csv.reader(io.StringIO(found.lstrip("\ufeff")))][1:]
    assert titles_found == ["Book 1", "Book 10", "Book 11", "Book 12"], "a search's books, in the view's order"

    everything = staff_client.get("/books/export.csv").data
    again = upload(staff_client, everything, name="export.csv")
    run_worker(app)
    state = import_state(staff_client, again.location)
    assert (state["created"], state["updated"], state["unchanged"], state["rejected"]) == (0, 0, 12, 0)

    with staff_client.get("/books/export.xlsx") as response:
        sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["D2"].number_format == "@" and isinstance(sheet["D2"].value, str)
    xlsx_again = upload(staff_client, response.data, name="export.xlsx")
    run_worker(app)
    state = import_state(staff_client, xlsx_again.location)
    assert (state["created"], state["unchanged"], state["rejected"]) == (0, 12, 0)


def search(client, text: str) -> list[str]:
    return titles(client.get("/books", query_string={"q": text}).get_data(as_text=True))


def indexed_upto(app) -> int:
    from bookapp.models import SearchState
    from bookapp.services.search_index import SEARCH_MARK

    with app.app_context():
        return db.session.scalar(select(SearchState.indexed_upto).where(SearchState.id == SEARCH_MARK))


@pytest.mark.parametrize("made_by", ["migrations", "app"])
def test_search_follows_edits_deletes_and_undo_and_the_index_serves_it(app, staff_client, made_by):
    """The search index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL) catches up after each import,
    stays in step with edits, deletes and undo, and is what answers; books it has not caught up with
    are still found. Alike whether the migrations made it or the app did (turned off, then on)."""
    from bookapp.services.search_catch_up import catch_up
    from bookapp.services.search_index import candidates, drop_search_index, ensure_search_index

    if made_by == "app":
        with app.app_context(), db.engine.begin() as connection:
            drop_search_index(connection)
            assert ensure_search_index(connection)

    import_id = seed(app, staff_client, 12)
    assert indexed_upto(app) == book_id(app, 12)  # the import job ended by indexing its books
    assert search(staff_client, "bOOk 1") == ["Book 12", "Book 11", "Book 10", "Book 1"]
    assert search(staff_client, "k 9") == ["Book 9"]  # short: a scan
    assert search(staff_client, "Book_1") == []  # "_" is a character, not a wildcard
    fields = ("title", "author", "book_type", "isbn", "year_published", "price", "no_of_pages", "quantity",
              "description")  # fmt: skip
    edit = {**dict(zip(fields, book_row(3), strict=True)), "title": "Zebra Crossings"}
    assert staff_client.post(f"/books/{book_id(app, 3)}/edit", data=edit).status_code == 302
    assert search(staff_client, "zebra") == ["Zebra Crossings"]
    assert "Book 3" not in search(staff_client, "Book 3")
    assert staff_client.post(f"/books/{book_id(app, 4)}/delete").status_code == 302
    assert search(staff_client, "Book 4") == []
    # A book made by hand (the API's create) is past the index's mark until a worker catches up:
    # found all the same.
    from bookapp.services.books import save_book

    with app.app_context():
        save_book(None, {**dict(zip(fields, book_row(50), strict=True)), "title": "Quokka Days"})
    assert search(staff_client, "quokka") == ["Quokka Days"]
    with app.app_context():
        assert catch_up(db.engine) == 1
    assert search(staff_client, "quokka") == ["Quokka Days"]
    assert staff_client.post(f"/imports/{import_id}/undo").status_code == 302
    assert search(staff_client, "Book") == []
    assert search(staff_client, "zebra") == ["Zebra Crossings"]  # hand-edited: kept
    # Through the edit, the delete and the undo the index kept exactly the books that hold each word:
    # none it lost (a search would miss them), none it kept that were changed or are gone.
    with app.app_context():
        catch_up(db.engine)
        titles = {b.id: f"{b.title} {b.author}".lower() for b in db.session.scalars(select(Book))}
        for word in ("boo", "zeb", "quo", "ook"):
            found = set(db.session.scalars(candidates(db.engine, [word])))
            assert found == {i for i, text in titles.items() if word in text}, word

    from bookapp.services.books import BookQuery

    with app.app_context():
        statement = BookQuery(q="Zebra").select().limit(50)
        connection = db.session.connection()
        compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in connection.exec_driver_sql(f"EXPLAIN {compiled}"))
            assert "ix_book_search_title" in plan and "ix_book_search_author" in plan, plan
        else:
            plan = " ".join(str(r[-1]) for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
            assert "books_search VIRTUAL TABLE" in plan, plan


def test_without_the_search_index_search_finds_the_same_books(app, staff_client):
    from bookapp.services.setup import ensure_indexes

    seed(app, staff_client, 12)
    indexed = titles(staff_client.get("/books?q=oOk+1").get_data(as_text=True))
    app.config["SEARCH_INDEX"] = False
    with app.app_context():
        ensure_indexes()
    assert titles(staff_client.get("/books?q=oOk+1").get_data(as_text=True)) == indexed == [
        "Book 12", "Book 11", "Book 10", "Book 1"
    ]  # fmt: skip


def test_two_catch_ups_at_once_index_every_book_once(app, staff_client):
    """Two workers' maintenance may catch the index up at the same moment: each book lands in it once."""
    import threading

    from bookapp.services.search_catch_up import catch_up
    from bookapp.services.search_index import POSTGRES_TABLE, SQLITE_TABLE

    seed(app, staff_client, 300)
    with app.app_context():
        engine = db.engine
        index = SQLITE_TABLE if engine.dialect.name == "sqlite" else POSTGRES_TABLE
        with engine.begin() as connection:  # forget the index's contents, as if nothing were indexed yet
            if index == SQLITE_TABLE:  # contentless: emptied by its own command
                connection.exec_driver_sql(f"INSERT INTO {index} ({index}) VALUES ('delete-all')")
            else:
                connection.exec_driver_sql(f"DELETE FROM {index}")
            connection.exec_driver_sql("UPDATE search_state SET indexed_upto = 0 WHERE id = 1")
        copied: list[int] = []
        threads = [threading.Thread(target=lambda: copied.append(catch_up(engine, batch=40))) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # SQLite's index keeps no row of its own per book (no content, no column sizes): it is asked for the
        # books holding "boo", which every title holds; the copies' counts show none went in twice.
        every = f" WHERE {index} MATCH '\"boo\"'" if index == SQLITE_TABLE else ""
        with engine.connect() as connection:
            in_index = connection.exec_driver_sql(f"SELECT count(*) FROM {index}{every}").scalar()
            distinct = connection.exec_driver_sql(
                f"SELECT count(DISTINCT {'rowid' if index == SQLITE_TABLE else 'book_id'}) FROM {index}{every}"
            ).scalar()
    assert sum(copied) == in_index == distinct == 300
    assert indexed_upto(app) == book_id(app, 300)
    assert search(staff_client, "Book 299") == ["Book 299"]


def test_a_search_index_dropped_under_its_mark_starts_again_from_nothing(app, staff_client):
    """An earlier version turned the index off by dropping its table and left its mark: made again,
    the index is empty, so its mark goes back to 0 (else edits would ask the empty index to forget
    books it never held, which SQLite's contentless FTS5 table answers with a corruption error)."""
    from bookapp.services import search_catch_up, search_index

    seed(app, staff_client, 5)
    assert indexed_upto(app) == book_id(app, 5)
    with app.app_context(), db.engine.begin() as connection:
        table = search_index.SQLITE_TABLE if connection.dialect.name == "sqlite" else search_index.POSTGRES_TABLE
        connection.exec_driver_sql(f"DROP TABLE {table}{' CASCADE' if table != search_index.SQLITE_TABLE else ''}")
        if connection.dialect.name == "sqlite":
            for trigger in ("books_search_delete", "books_search_update"):
                connection.exec_driver_sql(f"DROP TRIGGER {trigger}")
        assert search_index.ensure_search_index(connection)
    assert indexed_upto(app) == 0
    fields = ("title", "author", "book_type", "isbn", "year_published", "price", "no_of_pages", "quantity",
              "description")  # fmt: skip
    edit = {**dict(zip(fields, book_row(2), strict=True)), "title": "Zebra Crossings"}
    assert staff_client.post(f"/books/{book_id(app, 2)}/edit", data=edit).status_code == 302
    assert staff_client.post(f"/books/{book_id(app, 3)}/delete").status_code == 302
    assert search(staff_client, "zebra") == ["Zebra Crossings"]
    with app.app_context():
        assert search_catch_up.catch_up(db.engine) == 4
    assert search(staff_client, "Book") == ["Book 5", "Book 4", "Book 1"]
    assert search(staff_client, "zebra") == ["Zebra Crossings"]
