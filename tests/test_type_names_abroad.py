"""A shop's book type as its language spells the type itself: a Spanish shop's "Clásico" and "Clásicos" are
Classic, as its "Cómic" is Comic, its "Terror" Horror and its "Revista" Magazine; a French shop's "Classique"
and "Horreur", a German one's "Klassiker" and "Zeitschrift". The list is imported at once with them. A word of the shop's own for a kind of book, or a slip, is still none."""

import pytest
from sqlalchemy import select

from bookapp.extensions import db
from bookapp.importer.book_types import pre_matched
from bookapp.models import Book
from tests import layouts
from tests.conftest import run_worker
from tests.test_imports import import_state, upload

#: Each language's list: its rows' kinds, and the types they are stored as.
LISTS = {
    "es": ("es", ["Clásico", "Clásicos", "Cómic", "CLÁSICAS"], ["Classic", "Classic", "Comic", "Classic"]),
    "es-horror-and-magazines": ("es", ["Terror", "Revista", "Revistas", "Cómic"], ["Horror", "Magazine", "Magazine", "Comic"]),
    "fr": ("fr", ["Classique", "Horreur", "Comics", "Classiques"], ["Classic", "Horror", "Comic", "Classic"]),
    "de": ("de", ["Klassiker", "Horror", "Zeitschrift", "Zeitschriften"], ["Classic", "Horror", "Magazine", "Magazine"]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(LISTS))
def test_a_shops_list_of_types_in_its_own_language_is_imported_at_once(app, staff_client, name):
    """A Spanish list of classics and comics was imported with its "Clásico" and "Clásicos" rows rejected as
    slips of Classic (or sent to Match values): they are Classic, and every row is imported at once. A Spanish
    shop's "Terror" and "Revista" and a German one's "Zeitschrift" went to Match values: they are Horror and
    Magazine."""
    language, kinds, types = LISTS[name]
    name, content = layouts.stock_list(language, 1, kinds=kinds)
    response = upload(staff_client, content, name)
    assert not response.location.endswith("/columns"), response.location
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["created"], state["rejected"]) == (4, 0), state
    with app.app_context():
        stored = [
            db.session.scalar(select(Book.book_type).where(Book.isbn == layouts.isbn13_of(n))) for n in range(1, 5)
        ]
    assert stored == types


@pytest.mark.parametrize(
    "value", ["Roman", "BD", "Novela", "Magazin", "Clase", "Clasicismo", "Classico", "Clásic0", "Horro", "Klassik"]
)
def test_a_word_of_a_shops_own_or_a_slip_is_still_no_type(value):
    assert pre_matched(value) is None
