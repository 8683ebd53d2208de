"""A Book type value as a shop in another language writes a type: "Cómic" is Comic (accents aside, as case is);
"Magazin", Magazine's name with another ending, is a kind of the shop's own even in one row, offered as Magazine
on Match values; a typing slip inside a type's name ("Magazne", "Comc") is still its row's mistake."""

import pytest
from sqlalchemy import select

from bookapp.extensions import db
from bookapp.importer.book_types import offered_type, own_kind
from bookapp.importer.matching import Choices
from bookapp.importer.value_matches import value_section
from bookapp.importer.values import parse_book_type
from bookapp.models import Book
from tests import layouts
from tests.conftest import run_worker
from tests.test_imports import import_state, upload
from tests.test_matching import listed_values, text_of
from tests.test_plain_words import offered, waiting_at_columns


@pytest.mark.parametrize("value, expected", [("Cómic", "Comic"), ("CÓMICS", "Comic"), ("Clàssic", "Classic"), ("Hórror", "Horror")])  # fmt: skip
def test_a_type_written_with_accents_is_that_type(value, expected):
    assert parse_book_type(value) == expected


@pytest.mark.parametrize(
    "value, offer, own",
    [("Magazin", "Magazine", True), ("magazína", "Magazine", True), ("Classico", "Classic", True),
     ("Magazne", None, False), ("Comc", None, False), ("Horor", None, False), ("sci tec", None, False),
     ("Comi", None, False), ("Horreur", None, True), ("Roman", None, True)],
)  # fmt: skip
def test_a_types_name_with_another_ending_is_offered_as_it_and_a_slip_inside_it_is_not(value, offer, own):
    """Languages write a word's ending their own way (Magazin, Classico): such a value is a kind of the file's
    own, offered as the type. A letter lost or changed inside a type's name, or its name cut short, is a
    slip; a word further from every type (Horreur, Roman) is the file's own, with nothing offered."""
    assert (offered_type(value), own_kind(value)) == (offer, own)


def test_match_values_offers_the_type_a_value_is_another_form_of():
    profile = {"columns": [{"header": "Typ", "values": [["Comic", 5], ["Cómic", 2], ["Magazin", 1], ["Magazne", 1]]}]}

    rows = {r.text: r for r in value_section(Choices(columns={"book_type": ["Typ"]}), profile).rows}

    assert (rows["Cómic"].choice, rows["Cómic"].pre_matched) == ("Comic", True)
    assert (rows["Magazin"].choice, rows["Magazin"].offered, rows["Magazin"].pre_matched) == ("Magazine", True, False)
    assert (rows["Magazne"].choice, rows["Magazne"].offered) == ("", False)


def test_a_german_lists_one_magazin_waits_at_match_values_offered_as_magazine(app, staff_client):
    """A German shop's list of comics with one "Magazin" was imported straight away and that row rejected as a
    slip. It waits at Match columns, where Magazin is offered as Magazine; continuing imports every row."""
    name, content = layouts.stock_list("de", 1, kinds=["Comic", "Magazin", "Horror", "Comic"])
    location = waiting_at_columns(app, staff_client, name, content)
    response = staff_client.get(location)
    page = response.get_data(as_text=True)

    assert listed_values(page)["Magazin"] == (1, "Magazine")
    assert "offered: Magazine, with another ending" in text_of(response)
    assert "holds values that are not book types (“Magazin”)" in text_of(response)
    assert staff_client.post(location, data={**offered(page), "action": "continue"}).status_code == 302
    run_worker(app)
    state = import_state(staff_client, location.removesuffix("/columns"))
    assert (state["created"], state["rejected"]) == (4, 0), state
    with app.app_context():
        assert db.session.scalar(select(Book.book_type).where(Book.isbn == layouts.isbn13_of(2))) == "Magazine"


@pytest.mark.parametrize("kind, rejected", [("Cómic", 0), ("Magazne", 1)])
def test_an_accented_comic_is_read_as_comic_and_a_slip_still_rejected(app, staff_client, kind, rejected):
    """One "Cómic" row among comics was rejected as a slip of Comic: it is Comic, accents aside, and the list is
    imported at once with it. A slip ("Magazne") still leaves the list to be imported at once, its row rejected."""
    name, content = layouts.stock_list("es", 1, kinds=["Comic", kind, "Horror", "Comic"])
    response = upload(staff_client, content, name)
    assert not response.location.endswith("/columns"), response.location
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["created"], state["rejected"]) == (4 - rejected, rejected), state
