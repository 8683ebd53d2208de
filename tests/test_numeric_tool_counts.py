"""Where a file a numeric tool wrote back has a word for each blank cell (pandas' nan, None), what bookapp shows
of the file reads the word as the import does: Match values counts a Book type's nan as blank (a variant row's as
the type it takes from its product's first row), not as a value to match; a rejected row whose title is nan is
listed as a row without a title. SQLite and PostgreSQL."""

from tests import layouts
from tests.conftest import sign_in
from tests.test_access import bearer
from tests.test_mapping import finished, post_file
from tests.test_matching import listed_values, text_of
from tests.test_numeric_tool_blanks import written_back
from tests.test_plain_words import waiting_at_columns


def test_match_values_counts_a_variants_nan_type_as_its_products_type_and_lists_no_nan(app, staff_client):
    """A Shopify export of two products in two formats, written back through pandas: the paperbacks' rows have
    nan where Shopify left the product's Type blank, and the import reads them as their product's Fiction, as it
    does a blank; Match values counts Fiction in all four books' rows and lists no "nan" to match."""
    name, content = layouts.shopify_variants(1, 2)
    content = written_back(content, {})
    assert b"book-1,nan,nan,nan" in content

    location = waiting_at_columns(app, staff_client, name, content)
    values = listed_values(staff_client.get(location).get_data(as_text=True))

    assert {text: count for text, (count, _) in values.items()} == {"Fiction": 4}


def test_match_values_counts_a_nan_type_as_a_blank_not_a_value(app, staff_client):
    """A German shop's stock list whose blank Typ (type) cells a numeric tool wrote as nan and NULL: those rows have no
    type (the page says they are rejected unless a type is given for every row), not values "nan" and "NULL" to
    match to a type."""
    name, content = layouts.stock_list("de", 1, kinds=["Comic", "nan", "Magazin", "NULL"])

    location = waiting_at_columns(app, staff_client, name, content)
    response = staff_client.get(location)
    values = listed_values(response.get_data(as_text=True))

    assert {text: count for text, (count, _) in values.items()} == {"Comic": 1, "Magazin": 1}
    assert "2 rows have no Book type in Typ" in text_of(response)


def test_a_rejected_row_whose_title_is_a_numeric_tools_blank_is_listed_without_a_title(app):
    """A data set written as text has None where its third book has no title: the row is rejected for having no
    title, and the rejected rows (API and page) list it with no title, as a row whose title cell is empty, not as
    a book called "None"."""
    headers = bearer(app)
    name, content = layouts.text_dump(1)
    state = finished(app, headers, post_file(app, headers, name, content))
    assert (state["created"], state["rejected"]) == (4, 1)

    items = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]

    assert [(r["row"], r["title"]) for r in items] == [(4, "")]
    page = sign_in(app.test_client(), "staff@example.com").get(f"/imports/{state['id']}").get_data(as_text=True)
    assert '<td data-label="Title"></td>' in page and '<td data-label="Title">None' not in page
