"""On an SQLite file, an edit made while a long writer (an import's chunks, the indexes' catch-up)
commits transaction after transaction gets in between two of them, instead of waiting for its end."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest
from sqlalchemy import select

from bookapp.extensions import db
from bookapp.models import Book, SearchState
from bookapp.services.short_writes import begin_immediate
from tests.conftest import add_user, build_app, sign_in
from tests.helpers import isbn13
from tests.test_faults import wait_for

pytestmark = pytest.mark.slow

#: A mark of the long writer's own (no index's: their triggers read theirs).
MARK = 99
#: The long writer's transactions, each holding the write lock this long (seconds): 15 s in all.
TRANSACTIONS, HOLD = 300, 0.05

LONG_WRITER = """
import sys, time
from sqlalchemy import create_engine
import bookapp  # noqa: F401 (its engine listeners)
from bookapp.models import SearchState
from bookapp.services.index_upkeep import add_in_batches

def add(connection, mark, upto):
    connection.execute(SearchState.__table__.update().where(SearchState.id == {mark}).values(indexed_upto=upto))
    time.sleep({hold})
    return 1

engine = create_engine(sys.argv[1])
with engine.connect() as connection:
    connection.connection.driver_connection.execute("PRAGMA busy_timeout = 30000")
print(add_in_batches(engine, {mark}, {transactions}, 1, add))
"""


@pytest.fixture
def file_app(redis_url, tmp_path):
    app = build_app(f"sqlite:///{tmp_path / 'books.sqlite3'}", redis_url, tmp_path)
    add_user(app, "staff@example.com")
    with app.app_context():
        book = Book(title="Dune", author="Frank Herbert", book_type="Classic", isbn=isbn13(1), year_published="1965",
                    price=Decimal("9.99"), quantity=1)  # fmt: skip
        db.session.add(book)
        db.session.add(SearchState(id=MARK, indexed_upto=0))
        db.session.commit()
        book_id = book.id
    yield app, book_id
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _mark(app) -> int:
    with app.app_context():
        value = db.session.execute(select(SearchState.indexed_upto).where(SearchState.id == MARK)).scalar()
        db.session.remove()
        return value


def test_an_edit_gets_in_between_a_long_writers_transactions(file_app):
    app, book_id = file_app
    client = sign_in(app.test_client(), "staff@example.com")
    code = textwrap.dedent(LONG_WRITER).format(mark=MARK, hold=HOLD, transactions=TRANSACTIONS)
    writer = subprocess.Popen([sys.executable, "-c", code, app.config["SQLALCHEMY_DATABASE_URI"]])
    try:
        assert wait_for(lambda: _mark(app) >= 20), "the long writer is under way"
        before = _mark(app)
        form = {"title": "Dune Messiah", "author": "Frank Herbert", "book_type": "Classic", "isbn": isbn13(1),
                "year_published": "1969", "price": "9.99", "no_of_pages": "", "quantity": "1", "description": ""}  # fmt: skip
        assert client.post(f"/books/{book_id}/edit", data=form).status_code == 302
        after = _mark(app)
        # Without the pause for waiting writers, the edit's write waits out nearly every transaction left
        # (SQLite's busy handler sleeps while the long writer commits and begins again).
        assert after - before <= 3, f"the edit waited for {after - before} of the long writer's transactions"
        assert after < TRANSACTIONS
        assert writer.wait(60) == 0
    finally:
        writer.kill()
    with app.app_context():
        assert db.session.get(Book, book_id).title == "Dune Messiah"
    assert _mark(app) == TRANSACTIONS


def test_two_long_writers_take_turns_by_transaction(file_app):
    """An import's chunk beginning while a catch-up commits batch after batch (or the other way round)
    gets the write lock after one of them, not after the last."""
    app, _ = file_app
    code = textwrap.dedent(LONG_WRITER).format(mark=MARK, hold=HOLD, transactions=TRANSACTIONS)
    writer = subprocess.Popen([sys.executable, "-c", code, app.config["SQLALCHEMY_DATABASE_URI"]])
    try:
        assert wait_for(lambda: _mark(app) >= 20), "the long writer is under way"
        with app.app_context():
            connection = db.session.connection()
            before = _mark(app)
            begin_immediate(connection)  # as an import's chunk begins
            connection.exec_driver_sql("UPDATE books SET quantity = quantity + 1")
            db.session.commit()
        after = _mark(app)
        assert after - before <= 3, f"the chunk waited for {after - before} of the long writer's transactions"
        assert writer.wait(60) == 0
    finally:
        writer.kill()
