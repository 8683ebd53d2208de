"""A file a numeric tool read and wrote back writes each blank cell as a word (pandas' nan). Where a field
reads that word as blank, a chain of columns goes on to its next column or its default, a shop export's
variant row takes its product's value, and a row of nothing but such words holds no book, as they do for an
empty cell. Where a field keeps the word as a value (a title "Nan"), it is kept. SQLite and PostgreSQL."""

import csv
import io
import json

import pandas as pd

from bookapp.importer import Mapping, RowValidator, map_headers
from tests import layouts
from tests.test_access import bearer
from tests.test_mapping import book, finished, post_file


def csv_text(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def written_back(content: bytes, cells: dict[tuple[int, str], str]) -> bytes:
    """The CSV with *cells* ((row's index under the header, header) → cell) written instead, then read and written
    back as a numeric tool does (pandas: read_csv, each cell made text with str, to_csv): every blank cell nan."""
    rows = list(csv.reader(io.StringIO(content.decode())))
    for (index, header), cell in cells.items():
        rows[index + 1][rows[0].index(header)] = cell
    frame = pd.read_csv(io.BytesIO(csv_text(rows)), dtype=object)
    return frame.map(str).to_csv(index=False).encode()


def rejected_rows(app, headers, state) -> list[tuple[int, str, str]]:
    answer = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()
    return [(r["row"], r["value"], r["message"]) for r in answer["items"]]


def test_a_chain_goes_past_a_numeric_tools_nan_to_its_next_column_and_its_default(app):
    """A Goodreads export a numeric tool wrote back: a book without an ISBN13 (nan there) is read from ISBN, and
    where that ISBN is wrong the row says what is wrong with it, not that "nan" is no ISBN; a blank Owned Copies
    (nan) takes the default quantity, not "Quantity is required"; a blank review (nan) leaves the description to
    the private notes, not to nothing."""
    headers = bearer(app)
    name, content = layouts.goodreads(1, 4)
    wrong = layouts.isbn10(1)[:-1] + str((int(layouts.isbn10(1)[-1]) + 1) % 10)
    content = written_back(
        content,
        {
            (0, "ISBN13"): "", (0, "ISBN"): f'="{wrong}"',  # book 1: no ISBN13, and a slip in its ISBN
            (1, "ISBN13"): "",  # book 2: no ISBN13, its ISBN right
            (2, "Owned Copies"): "",  # book 3: no count of copies
            (3, "My Review"): "", (3, "Private Notes"): "Signed by the author",  # book 4: no review, a note
        },
    )  # fmt: skip
    assert b",nan," in content
    mapping = {
        "columns": {"isbn": ["ISBN13", "ISBN"], "quantity": "Owned Copies", "description": ["My Review", "Private Notes"]},
        "defaults": {"book_type": "Classic", "price": "0.00", "quantity": "1"},
    }  # fmt: skip

    state = finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(mapping)))

    assert (state["created"], state["rejected"]) == (3, 1), state
    [(row, value, message)] = rejected_rows(app, headers, state)
    assert (row, message) == (2, "ISBN has a wrong check digit; check it for a typo") and wrong in value, value
    two, three, four = (book(app, layouts.isbn13_of(n)) for n in (2, 3, 4))
    assert (two.title, three.quantity, four.description) == ("Dune, part 2", 1, "Signed by the author")


def test_a_chain_keeps_a_title_nan_is_a_name_of_and_goes_past_a_numeric_tools_nan():
    """Title read from Title, else Original title: "Nan" is a title (a name), kept; "nan", "NaN" and "None" are a
    numeric tool's blank, so the next column's title is read; where no column has one, the row says the file
    writes the tool's blank. A number's nan is blank in any case ("NAN"): the default is read; an ISBN's too."""
    mapping = Mapping.from_json(
        {"columns": {"title": ["Title", "Original title"], "isbn": ["EAN", "ISBN"], "quantity": "Quantity"},
         "defaults": {"book_type": "Comic", "price": "2.50", "year_published": "2001", "quantity": "1"}}
    )  # fmt: skip
    header = ["Title", "Original title", "Author", "EAN", "ISBN", "Quantity"]
    validator = RowValidator(map_headers(header, mapping), text_cells=True)
    rows = [
        (2, ["Nan", "Dune", "A", "9780000000002", "", "4"]),
        (3, ["nan", "Dune", "A", "NAN", "0-14-044913-2", "NAN"]),
        (4, ["NaN", "Dune", "A", "nan", "0-14-044913-2", "4"]),
        (5, ["None", "nan", "A", "9780000000002", "nan", "4"]),
    ]
    valid, problems = validator.validate_chunk(rows)
    assert [(r.row_number, r.title, r.isbn, r.quantity) for r in valid] == [
        (2, "Nan", "9780000000002", 4), (3, "Dune", "9780140449136", 1), (4, "Dune", "9780140449136", 4)
    ]  # fmt: skip
    assert [(p.row_number, p.message) for p in problems] == [
        (5, "Title is required; the file writes None, a numeric tool's blank")
    ]


def test_a_shop_exports_variants_take_their_products_details_over_a_numeric_tools_nan(app):
    """A Shopify export of books in two formats a numeric tool wrote back: the paperback's row has nan where
    Shopify left the product's title, vendor, type and description blank, and takes them from the product's
    first row as it does blanks; the rows that only add an image (nan in every column read) are left out, not
    rejected. A product titled "Nan" keeps its title on both its rows."""
    headers = bearer(app)
    name, content = layouts.shopify_variants(1, 2)
    content = written_back(content, {(3, "Title"): "Nan"})  # book 2's first row
    assert b"book-1,nan,nan,nan" in content

    state = finished(app, headers, post_file(app, headers, name, content,
                                             mapping=json.dumps(layouts.SHOPIFY_VARIANTS_MAPPING)))  # fmt: skip

    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 4, 0), rejected_rows(
        app, headers, state
    )
    assert state["repairs"]["rows_without_book_cells"] == {"count": 2, "rows": [4, 7]}
    paperback = book(app, layouts.isbn13(3))
    assert (paperback.title, paperback.author, paperback.book_type, paperback.description) == (
        "Shop book 1", "Penguin", "Classic", "About book 1")  # fmt: skip
    assert (str(paperback.price), paperback.quantity) == ("10.99", 5)
    assert [book(app, layouts.isbn13(n)).title for n in (4, 5)] == ["Nan", "Nan"]


def test_a_product_exports_rows_naming_no_parent_with_nan_continue_no_item(app):
    """A WooCommerce export a numeric tool wrote back: a product's blank Parent is nan, which names no product,
    so two simple products are two books (the second takes nothing of the first's), and each variation, naming
    its variable product, takes its author and description over its own nan."""
    headers = bearer(app)
    name, content = layouts.woocommerce(1, 2)
    rows = list(csv.reader(io.StringIO(content.decode())))
    simple = list(rows[1])
    simple[rows[0].index("Description")] = ""  # a second simple product right under the first, with no description
    simple[rows[0].index("SKU")], simple[rows[0].index("ID")] = layouts.isbn13(99), "99"
    rows.insert(2, simple)
    content = written_back(csv_text(rows), {})
    assert b",nan," in content

    state = finished(app, headers, post_file(app, headers, name, content,
                                             mapping=json.dumps(layouts.WOOCOMMERCE_MAPPING)))  # fmt: skip

    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 7, 0), rejected_rows(
        app, headers, state
    )
    assert book(app, layouts.isbn13(99)).description is None
    hardcover = book(app, layouts.isbn13(4))
    assert (hardcover.title, hardcover.author, hardcover.description) == (
        "Shop saga 1 - Hardcover", "Iain Banks", "The saga 1.")  # fmt: skip
