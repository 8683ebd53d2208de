"""Files other programs wrote, imported through the API with a mapping, then again with none: the
profile saved the first time matches the next export by its header row. SQLite and PostgreSQL."""

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bookapp.extensions import db
from bookapp.importer import FileProblem, Mapping, MappingError, RowValidator, map_headers
from bookapp.models import Book, Import, ImportProfile, ImportStatus
from bookapp.services.import_words import summary_line
from tests import layouts
from tests.conftest import flask_cli, run_worker, sign_in
from tests.helpers import HEADER, book_row, csv_bytes
from tests.test_access import bearer
from tests.test_matching import text_of


def post_file(app, headers, name: str, content: bytes, **form):
    return app.test_client().post(
        "/api/v1/imports",
        data={"file": (io.BytesIO(content), name), **form},
        headers=headers,
        content_type="multipart/form-data",
    )


def finished(app, headers, response) -> dict:
    assert response.status_code == 202, response.get_json()
    run_worker(app)
    return app.test_client().get(response.headers["Location"], headers=headers).get_json()


def page_said(app, import_id: int) -> str:
    """The import's page as a person reads it (signed in as staff@example.com, whom bearer() made)."""
    return text_of(sign_in(app.test_client(), "staff@example.com").get(f"/imports/{import_id}"))


def book(app, isbn: str) -> Book | None:
    with app.app_context():
        found = db.session.scalar(select(Book).where(Book.isbn == isbn))
        if found is not None:
            db.session.expunge(found)
        return found


LAYOUTS = {
    # name: (maker, mapping, rows per file, rejected per file)
    "Goodreads library export": (layouts.goodreads, layouts.GOODREADS_MAPPING, 6, 1),
    "LibraryThing export (tab-separated)": (layouts.librarything, layouts.LIBRARYTHING_MAPPING, 5, 0),
    "data set written by a numeric tool": (layouts.dataset, layouts.DATASET_MAPPING, 6, 1),
    "Shopify product export": (layouts.shopify, layouts.SHOPIFY_MAPPING, 5, 1),
    "catalogue program's CSV catalogue (ISO dates with a time zone)": (layouts.calibre, layouts.CALIBRE_MAPPING, 4, 0),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_an_export_imports_with_a_mapping_and_the_next_one_with_none(app, layout):
    make, mapping, rows, rejected = LAYOUTS[layout]
    headers = bearer(app)
    name, content = make(1)

    refused = post_file(app, headers, name, content)
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["missing_fields"] and set(body["missing_fields"]) <= {"author", "book_type", "isbn", "year_published",
                                                                     "price", "quantity"}  # fmt: skip
    assert "title" in map(str.casefold, body["columns"]) and len(body["columns"]) > 20
    assert "has no column for" in body["error"]["message"]

    first = finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(mapping), save_as=layout))
    assert first["status"] == "succeeded", first
    assert (first["created"], first["rejected"]) == (rows - rejected, rejected), first
    assert first["profile"]["name"] == layout
    assert Mapping.from_json(first["mapping"]) == Mapping.from_json(mapping)

    name, content = make(101)
    second = finished(app, headers, post_file(app, headers, name, content))
    assert second["status"] == "succeeded", second
    assert (second["created"], second["rejected"]) == (rows - rejected, rejected), second
    assert second["profile"]["name"] == layout


def test_goodreads_text_formulas_fallbacks_and_line_breaks_arrive_as_written(app):
    headers = bearer(app)
    name, content = layouts.goodreads(1)
    state = finished(
        app, headers, post_file(app, headers, name, content, mapping=json.dumps(layouts.GOODREADS_MAPPING))
    )
    with_isbn13 = book(app, layouts.isbn13_of(1))  # ISBN13 ="978…"
    only_isbn10 = book(app, layouts.isbn13_of(3))  # ISBN13 ="", so the ISBN column: ="0439…"
    assert with_isbn13.title == "Dune, part 1" and with_isbn13.book_type == "Classic"
    assert str(with_isbn13.price) == "0.00" and with_isbn13.quantity == 1 and with_isbn13.no_of_pages == 601
    assert with_isbn13.description == 'Loved it, "really".\nBook 1\nsecond line'  # its <br/> as a line break
    assert only_isbn10 is not None and only_isbn10.quantity == 0
    rejected = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]
    assert [(r["row"], r["column"], r["message"]) for r in rejected] == [(6, "ISBN13", "ISBN is required")]


def test_a_numeric_tools_isbns_and_years_are_repaired_or_refused_saying_why(app):
    headers = bearer(app)
    name, content = layouts.dataset(1)
    state = finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(layouts.DATASET_MAPPING)))
    # isbn13 lost its last digits (9.78043900002e+12): the chain falls back to isbn, which lost its
    # leading zero (439000017): repaired, and the report says which rows.
    assert book(app, layouts.isbn13_of(1)).year_published == "2008"
    assert state["repairs"] == {"isbn_leading_zero": {"count": 5, "rows": [2, 4, 5, 6, 7]}}
    said = page_said(app, state["id"])
    assert (
        "on the way in" not in said
        and (
            "Repaired 5 ISBNs of 9 digits (rows 2, 4, 5, 6, 7): the spreadsheet held them as numbers, which drops a "
            "leading 0, so they were read as ISBN-10s starting with 0."
        )
        in said
    )
    rejected = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]
    assert [(r["row"], r["value"], r["message"]) for r in rejected] == [
        (3, "-720.0", "Year published is before the year 1000; a year must be from 1000 to " + str(_next_year()))
    ]

    # Without the fallback column, the scientific notation stays refused with its explanation.
    mapping = {**layouts.DATASET_MAPPING, "columns": {**layouts.DATASET_MAPPING["columns"], "isbn": "isbn13"}}
    name, content = layouts.dataset(50)
    state = finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(mapping)))
    assert (state["created"], state["rejected"]) == (0, 6)
    problems = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]
    assert "scientific notation, so its digits are lost" in problems[0]["message"]


def test_a_data_set_written_as_text_keeps_no_nan_and_reads_isbns_written_with_every_digit(app):
    headers = bearer(app)
    name, content = layouts.text_dump(1)
    assert b"9.780" in content and b"e+12" in content and b",nan," in content and b",None" in content
    state = finished(app, headers, post_file(app, headers, name, content))
    assert (state["created"], state["rejected"]) == (4, 1)
    stored = {n: book(app, layouts.isbn13_of(n)) for n in (1, 2, 4, 5)}
    assert [(b.title, b.no_of_pages, b.description) for b in stored.values()] == [
        ("Dune 1", None, None), ("Dune 2", 412, "Arrakis"), ("Dune 4", 412, "Arrakis"), ("Dune 5", None, None)
    ]  # fmt: skip
    rejected = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]
    assert [(r["row"], r["message"]) for r in rejected] == [
        (4, "Title is required; the file writes None, a numeric tool's blank")
    ]


def _next_year() -> int:
    import datetime as dt

    return dt.date.today().year + 1


def test_shopify_types_go_through_the_value_map_and_unlisted_values_are_refused(app):
    headers = bearer(app)
    name, content = layouts.shopify(1)
    state = finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(layouts.SHOPIFY_MAPPING)))
    kinds = {n: book(app, layouts.isbn13(n)) for n in range(1, 6)}
    assert {n: b and b.book_type for n, b in kinds.items()} == {1: "Comic", 2: "Sci-tech", 3: None, 4: "Classic",
                                                              5: "Classic"}  # fmt: skip
    assert str(kinds[1].price) == "11.99" and kinds[1].quantity == 1 and kinds[1].author == "Penguin"
    rejected = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]
    assert [(r["row"], r["column"], r["message"]) for r in rejected] == [
        (4, "Type", "Book type 'Poetry' is a value you chose to reject")
    ]


def test_a_type_the_matches_lack_is_refused_saying_it_was_not_matched_and_how_to_fix_it(app):
    """A shop's types were matched once, before its export had "Science": that row is refused saying, in the
    words of the pages, that the value was not among those matched at Match values and what to do (match it
    there, or change the cell), not that it "is not in the value matching"; and a type chosen to be rejected
    refused as every row's value says so in the same words as a rejected row."""
    headers = bearer(app)
    name, content = layouts.shopify(1)
    matched = {"Fiction": "Classic", "Manga": "Comic", "Poetry": None}
    mapping = {**layouts.SHOPIFY_MAPPING, "values": {"book_type": matched}}
    state = finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(mapping)))
    told = (
        "Book type must be one of: Sci-tech, Magazine, Comic, Classic, Horror ('Science' was not among the values "
        "matched at Match values for this import: match it to a type there, or change the cell to one of these types)"
    )
    rejected = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]
    assert [(r["row"], r["column"], r["message"]) for r in rejected] == [
        (3, "Type", told), (4, "Type", "Book type 'Poetry' is a value you chose to reject")
    ]  # fmt: skip
    said = page_said(app, state["id"])
    assert told in said and "value matching" not in said

    every_row = {**mapping, "defaults": {**mapping["defaults"], "book_type": "Poetry"}}
    refused = post_file(app, headers, "products_export_2.csv", content, mapping=json.dumps(every_row))
    assert "Book type's value for every row, 'Poetry', is a value you chose to reject." in json.dumps(
        refused.get_json()
    ), refused.get_json()


def test_a_file_without_its_columns_waits_for_matching_from_the_form_and_saves_nothing(app, staff_client, redis_client):
    name, content = layouts.goodreads(1)
    response = staff_client.post(
        "/imports/new", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    with app.app_context():
        imp = db.session.scalar(select(Import))
        assert imp.status == ImportStatus.NEEDS_MAPPING.value
        assert imp.headers == layouts.GOODREADS_HEADER and imp.enqueued_at is None
    run_worker(app)
    with app.app_context():
        assert db.session.scalar(select(Import)).status == ImportStatus.NEEDS_MAPPING.value
        assert db.session.scalar(select(Book)) is None


def test_a_mapping_that_names_missing_columns_or_is_malformed_is_refused_saying_how(app):
    headers = bearer(app)
    name, content = layouts.goodreads(1)
    answers = {
        "not json": post_file(app, headers, name, content, mapping="{columns:"),
        "unknown field": post_file(app, headers, name, content, mapping=json.dumps({"columns": {"colour": "Title"}})),
        "absent column": post_file(app, headers, name, content, mapping=json.dumps(
            {**layouts.GOODREADS_MAPPING, "columns": {"isbn": ["ISBN 13"], "quantity": "Owned Copies"}})),
        "unknown profile": post_file(app, headers, name, content, profile="Nobody's"),
        "bad value target": post_file(app, headers, name, content, mapping=json.dumps(
            {**layouts.GOODREADS_MAPPING, "values": {"book_type": {"Fiction": "Novel"}}})),
    }  # fmt: skip
    messages = {case: (r.status_code, r.get_json()["error"]["message"]) for case, r in answers.items()}
    assert messages["not json"][0] == 400 and "mapping is not valid JSON" in messages["not json"][1]
    assert messages["unknown field"] == (400, "mapping: columns: 'colour' is not a book field; the fields are "
                                              "title, author, book_type, isbn, year_published, price, no_of_pages, "
                                              "quantity, description.")  # fmt: skip
    assert (
        messages["absent column"][0] == 422
        and "columns this file does not have: 'ISBN 13'" in messages["absent column"][1]
    )
    assert messages["unknown profile"] == (422, 'There is no import profile called "Nobody\'s".')
    assert messages["bad value target"][0] == 400 and "'Novel' is not one of" in messages["bad value target"][1]
    with app.app_context():
        assert db.session.scalar(select(Import)) is None
        assert not [p for p in Path(app.config["UPLOAD_FOLDER"]).iterdir() if p.is_file()]


def test_profiles_are_listed_renamed_changed_and_deleted_through_the_api(app):
    headers = bearer(app)
    client = app.test_client()
    created = client.post("/api/v1/profiles", headers=headers, json={
        "name": "Goodreads export", "headers": layouts.GOODREADS_HEADER, "mapping": layouts.GOODREADS_MAPPING})  # fmt: skip
    assert created.status_code == 201, created.get_json()
    location = created.headers["Location"]
    assert client.get("/api/v1/profiles", headers=headers).get_json()["items"][0]["name"] == "Goodreads export"
    renamed = client.put(location, headers=headers, json={"name": "Goodreads"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Goodreads"
    unfit = client.put(location, headers=headers, json={"mapping": {"columns": {"isbn": "EAN"}}})
    assert unfit.status_code == 422 and "'EAN'" in unfit.get_json()["error"]["message"]
    changed = client.put(location, headers=headers, json={"mapping": {**layouts.GOODREADS_MAPPING,
                                                                       "defaults": {"book_type": "Horror", "price": "1"}}})  # fmt: skip
    assert changed.get_json()["mapping"]["defaults"] == {"book_type": "Horror", "price": "1"}
    name, content = layouts.goodreads(1)
    state = finished(app, headers, post_file(app, headers, name, content, profile="Goodreads"))
    assert state["created"] == 5 and book(app, layouts.isbn13_of(1)).book_type == "Horror"
    assert client.delete(location, headers=headers).status_code == 204
    assert client.get(location, headers=headers).status_code == 404
    with app.app_context():
        assert db.session.get(Import, state["id"]).mapping is not None  # the import keeps its own copy
        assert db.session.scalar(select(ImportProfile)) is None


def test_the_cli_maps_columns_saves_a_profile_and_reads_the_next_file_with_it(app, tmp_path):
    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": app.config["REDIS_URL"],
           "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"], "BOOKAPP_IMPORT_QUEUE": app.config["IMPORT_QUEUE"]}  # fmt: skip
    name, content = layouts.shopify(1)
    first = tmp_path / name
    first.write_bytes(content)
    refused = flask_cli(["import-books", str(first)], env)
    assert refused.returncode != 0 and "no column for" in refused.stderr and "'Variant Barcode'" in refused.stderr
    args = ["import-books", str(first), "--map", "Vendor=author", "--map", "Variant Barcode=isbn",
            "--map", "Variant SKU=isbn", "--map", "Variant Price=price", "--map", "Variant Inventory Qty=quantity",
            "--map", "Type=book_type", "--default", "year_published=2024", "--value", "book_type:Fiction=Classic",
            "--value", "book_type:Manga=Comic", "--value", "book_type:Science=Sci-tech", "--value", "book_type:Poetry=",
            "--save-profile", "Shop"]  # fmt: skip
    queued = flask_cli(args, env)
    assert queued.returncode == 0, queued.stderr
    run_worker(app)
    assert book(app, layouts.isbn13(1)).book_type == "Comic" and book(app, layouts.isbn13(3)) is None
    name, content = layouts.shopify(101)
    second = tmp_path / "next.csv"
    second.write_bytes(content)
    assert flask_cli(["import-books", str(second), "--profile", "Shop"], env).returncode == 0
    run_worker(app)
    assert book(app, layouts.isbn13(101)).book_type == "Comic"
    bad = flask_cli(["import-books", str(second), "--map", "Vendor"], env)
    assert bad.returncode == 2 and "write it as 'HEADER=FIELD'" in bad.stderr
    name, content = layouts.shopify_variants(201, 1)
    variants = tmp_path / "formats.csv"
    variants.write_bytes(content)
    assert flask_cli(["import-books", str(variants), *args[2:-2], "--group-by", "Handle"], env).returncode == 0
    run_worker(app)
    assert book(app, layouts.isbn13(403)).title == "Shop book 201"
    missing = flask_cli(["import-books", str(variants), "--map", "Vendor=author", "--group-by", "Product"], env)
    assert missing.returncode != 0 and "'Product'" in missing.stderr


def test_a_file_made_from_the_template_needs_no_matching(app):
    headers = bearer(app)
    state = finished(app, headers, post_file(app, headers, "books.csv", csv_bytes([book_row(1)])))
    assert state["created"] == 1 and state["mapping"] is None and state["profile"] is None


def test_a_mapping_is_checked_before_anything_is_read():
    with pytest.raises(MappingError, match="ISBN cannot have one value for every row"):
        Mapping.from_json({"defaults": {"isbn": "9780000000002"}})
    with pytest.raises(MappingError, match="only Book type takes a value map"):
        Mapping.from_json({"values": {"description": {"a": "b"}}})
    header_map = map_headers(HEADER, Mapping.from_json({"columns": {"description": None}}))
    assert "description" not in header_map.positions and "Description" in header_map.ignored


def test_a_value_map_matches_case_and_spacing_variants_and_rejects_what_it_says():
    mapping = Mapping.from_json({"columns": {"book_type": "Kind"}, "values": {"book_type": {"Sci Fi": "Sci-tech",
                                                                                            "Zine": None}}})  # fmt: skip
    header = ["Title", "Author", "Kind", "ISBN", "Year published", "Price", "Quantity"]
    validator = RowValidator(map_headers(header, mapping), text_cells=True)
    cells = ["T", "A", "{}", "9780000000002", "2000", "1", "1"]
    rows = [(n, [c.format(kind) if c == "{}" else c for c in cells])
            for n, kind in enumerate(["sci  fi", "SCI FI", "zine", "Comic", "sci-fi"], start=2)]  # fmt: skip
    valid, problems = validator.validate_chunk(rows)
    assert [r.book_type for r in valid] == ["Sci-tech", "Sci-tech", "Comic"]
    assert [(p.row_number, p.message) for p in problems] == [
        (4, "Book type 'zine' is a value you chose to reject"),
        # A value the matching does not list says so: a profile saved before the file had it lacks it.
        (6, "Book type must be one of: Sci-tech, Magazine, Comic, Classic, Horror ('sci-fi' was not among the values "
            "matched at Match values for this import: match it to a type there, or change the cell to one of these "
            "types)"),
    ]  # fmt: skip


def test_a_chain_takes_the_first_filled_cell_then_the_default_and_skips_unreadable_cells():
    mapping = Mapping.from_json({"columns": {"isbn": ["EAN", "ISBN"], "quantity": ["Stock", "Qty"]},
                                 "defaults": {"quantity": "1", "book_type": "Comic", "price": "2.50"}})  # fmt: skip
    header = ["Title", "Author", "EAN", " isbn ", "Year", "Stock", "qty"]
    header_map = map_headers(header, mapping)
    assert header_map.positions["isbn"] == 2 and header_map.fallbacks == {"isbn": (3,), "quantity": (6,)}
    validator = RowValidator(header_map, text_cells=True)
    rows = [
        (2, ["A", "B", "9780000000002", "0-14-044913-2", "2000", "", ""]),  # EAN wins; no stock: the default
        (3, ["A", "B", '=""', "0-14-044913-2", "2000", " ", "7"]),  # blank EAN: ISBN; blank Stock: Qty
        (4, ["A", "B", "9.78014044913e+12", "0140449132", "2000", "3", ""]),  # EAN unreadable: ISBN
        (5, ["A", "B", "9.78014044913e+12", "", "2000", "3", ""]),  # nothing readable: EAN's problem
    ]
    valid, problems = validator.validate_chunk(rows)
    assert [(r.row_number, r.isbn, r.quantity, r.book_type, str(r.price)) for r in valid] == [
        (2, "9780000000002", 1, "Comic", "2.50"),
        (3, "9780140449136", 7, "Comic", "2.50"),
        (4, "9780140449136", 3, "Comic", "2.50"),
    ]
    assert [(p.row_number, p.column) for p in problems] == [(5, "EAN")]
    assert "scientific notation" in problems[0].message


def test_files_whose_headers_differ_only_in_case_and_spacing_share_a_profile():
    from bookapp.importer.mapping import header_key

    assert header_key(["Owned  Copies", "ISBN13"]) == header_key([" owned copies", "isbn13 "])
    assert header_key(["Owned Copies", "ISBN13"]) != header_key(["ISBN13", "Owned Copies"])
    mapping = Mapping.from_json({"columns": {"quantity": "Owned Copies"}})
    assert (
        map_headers(["Title", "Author", "Genre", "ISBN", "Year", "Price", "owned   copies"], mapping).positions[
            "quantity"
        ]
        == 6
    )


def test_a_shop_exports_image_rows_are_left_out_and_told_not_rejected(app, staff_client):
    """Shopify writes a row per extra image of a product, with nothing but its handle and image: no column
    the import reads holds anything there, so it is no book. Such rows are left out and counted on the
    import's page; a row with a book field filled but its title missing is still rejected."""
    import csv

    name, content = layouts.shopify(1, 3)
    rows = list(csv.reader(io.StringIO(content.decode())))
    header = rows[0]
    image_row = dict.fromkeys(header, "")
    image_row.update({"Handle": "book-1", "Image Src": "https://example.com/b1-back.jpg", "Image Position": "2"})
    variant_row = dict.fromkeys(header, "")
    variant_row.update({"Handle": "book-2", "Variant Price": "9.99", "Variant Barcode": layouts.isbn13(900)})
    rows[2:2] = [[image_row[h] for h in header], [variant_row[h] for h in header]]  # rows 3 and 4
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    headers = bearer(app)
    state = finished(app, headers, post_file(app, headers, name, buffer.getvalue().encode(),
                                             mapping=json.dumps(layouts.SHOPIFY_MAPPING)))  # fmt: skip
    # Books 1 and 2 created; book 3 (Poetry) and the variant row without a title rejected.
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 2, 2), state
    assert state["repairs"]["rows_without_book_cells"] == {"count": 1, "rows": [3]}
    page = " ".join(staff_client.get(f"/imports/{state['id']}").get_data(as_text=True).split())
    assert "Left out: 1 row with nothing in any matched column (row 3)" in page


@pytest.mark.parametrize(
    "options", [{}, {"all_or_nothing": "true"}, {"dry_run": "true"}], ids=["plain", "all-or-nothing", "dry-run"]
)
def test_rows_left_out_are_counted_once_however_the_file_is_read(app, options):
    """All or nothing reads the file twice (check, then save): its rows left out are still told once."""
    import csv

    rows = [book_row(n) for n in range(1, 7)] + [["", "", "", "", "", "", "", "", ""]]
    extra_header = [*HEADER, "Image Src"]
    lines = [[*row, ""] for row in rows[:6]]
    lines[2:2] = [
        [""] * len(HEADER) + ["https://example.com/a.jpg"],
        [""] * len(HEADER) + ["https://example.com/b.jpg"],
    ]
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([extra_header, *lines])
    headers = bearer(app)
    state = finished(app, headers, post_file(app, headers, "images.csv", buffer.getvalue().encode(), **options))
    assert (state["status"], state["rejected"]) == ("succeeded", 0), state
    assert state["repairs"]["rows_without_book_cells"] == {"count": 2, "rows": [4, 5]}


def test_a_shop_exports_variants_take_their_products_details_and_keep_their_own_isbn_price_and_stock(app, staff_client):
    """Shopify writes a product's second format (its paperback) on a row of its own with its barcode, price and
    stock, and the product's title, vendor, type and description left blank: with the column naming the product
    (group_by: Handle), that row takes them from the product's first row and is imported as its own book. The
    rows that only add an image are still left out, and the per-row report shows each variant as saved."""
    import csv

    headers = bearer(app)
    name, content = layouts.shopify_variants(1, 3)
    state = finished(app, headers, post_file(app, headers, name, content,
                                             mapping=json.dumps(layouts.SHOPIFY_VARIANTS_MAPPING)))  # fmt: skip
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 6, 0), state
    assert state["repairs"]["rows_without_book_cells"] == {"count": 3, "rows": [4, 7, 10]}
    hardcover, paperback = book(app, layouts.isbn13(2)), book(app, layouts.isbn13(3))
    assert (paperback.title, paperback.author, paperback.book_type, paperback.description) == (
        "Shop book 1", "Penguin", "Classic", "About book 1")  # fmt: skip
    assert (str(paperback.price), paperback.quantity) == ("10.99", 5)
    assert (str(hardcover.price), hardcover.quantity) == ("21.00", 2)
    report = staff_client.get(f"/imports/{state['id']}/report.csv").get_data(as_text=True)
    lines = {r[0]: r for r in csv.reader(io.StringIO(report.lstrip("\ufeff")))}
    assert lines["3"][1:4] == ["created", layouts.isbn13(3), "Shop book 1"], lines["3"]

    # Without the column, each paperback row is rejected for the title it lacks, as before.
    name, content = layouts.shopify_variants(11, 2)
    state = finished(app, headers, post_file(app, headers, name, content,
                                             mapping=json.dumps(layouts.SHOPIFY_MAPPING)))  # fmt: skip
    assert (state["created"], state["rejected"]) == (2, 2), state


def test_the_imports_list_counts_a_files_rows_as_its_page_does_with_those_left_out(app, staff_client):
    """A Shopify export of 3 products in 9 rows, a row per extra image among them: the import's page says
    "9 rows: 6 created, 3 left out", and the imports list's Rows column has its 9, then 6 read, 3 left out,
    not 6 alone as if the file had 6 rows; a file with no row left out shows its rows alone."""
    from tests.test_imports import history_rows

    headers = bearer(app)
    name, content = layouts.shopify_variants(1, 3)
    state = finished(app, headers, post_file(app, headers, name, content,
                                             mapping=json.dumps(layouts.SHOPIFY_VARIANTS_MAPPING)))  # fmt: skip
    assert (state["rows_label"], state["left_out_rows"]) == ("9 rows: 6 created, 3 left out", 3)
    assert "9 rows: 6 created, 3 left out" in page_said(app, state["id"])
    name, content = layouts.shopify(10, 2)
    finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(layouts.SHOPIFY_MAPPING)))

    rows = history_rows(staff_client.get("/imports").get_data(as_text=True))
    # Newest first: number, file, status, uploaded, by, mode, seconds, rows, created, …
    assert [(r[0], r[7], r[8]) for r in rows] == [("2", "2", "2"), ("1", "9 rows: 6 read, 3 left out", "6")]


def test_a_variant_never_takes_its_products_isbn_price_or_stock_and_its_rejected_row_comes_back_whole(
    app, staff_client
):
    """A variant row with its own price blank is rejected (it never takes the first row's: each format has
    its own), and its rejected row is downloaded with the product's details filled in, so the fixed file
    imports on its own, without the product's first row."""
    import csv

    name, content = layouts.shopify_variants(1, 2)
    rows = list(csv.reader(io.StringIO(content.decode())))
    price_at = rows[0].index("Variant Price")
    rows[2][price_at] = ""  # book 1's paperback: no price
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    headers = bearer(app)
    state = finished(app, headers, post_file(app, headers, name, buffer.getvalue().encode(),
                                             mapping=json.dumps(layouts.SHOPIFY_VARIANTS_MAPPING),
                                             save_as="Shop with formats"))  # fmt: skip
    assert (state["created"], state["rejected"]) == (3, 1), state
    rejected = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]
    assert [(r["row"], r["column"], r["message"]) for r in rejected] == [(3, "Variant Price", "Price is required")]

    download = staff_client.get(f"/imports/{state['id']}/rejected.csv")
    assert download.status_code == 200
    back = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    row = dict(zip(back[0], back[1], strict=True))
    assert (row["Title"], row["Vendor"], row["Type"]) == ("Shop book 1", "Penguin", "Fiction")
    back[1][back[0].index("Variant Price")] = "8.50"
    fixed = io.StringIO(newline="")
    csv.writer(fixed).writerows(back)
    again = finished(app, headers, post_file(app, headers, "fixed.csv", fixed.getvalue().encode()))
    assert (again["created"], again["rejected"]) == (1, 0), again
    assert str(book(app, layouts.isbn13(3)).price) == "8.50" and book(app, layouts.isbn13(3)).title == "Shop book 1"


def test_rows_continue_an_item_only_while_its_column_repeats_and_only_in_the_books_details():
    mapping = Mapping.from_json({"columns": {"author": "Vendor", "title": ["Title", "Alt title"]},
                                 "defaults": {"book_type": "Comic"}, "group_by": "Group"})  # fmt: skip
    header = ["Group", "Title", "Alt title", "Vendor", "ISBN", "Year", "Price", "Qty", "Note"]
    validator = RowValidator(map_headers(header, mapping), text_cells=True)
    rows = [
        (2, ["a", "First", "", "Ann", layouts.isbn13(1), "2001", "1.00", "1", ""]),
        (3, ["a", "", "", "", layouts.isbn13(2), "", "2.00", "", ""]),  # continues a: no quantity of its own
        (4, ["a", "", "", "", "", "", "", "", "an image"]),  # nothing a field reads: left as it is
        (5, ["", "", "", "", layouts.isbn13(3), "2003", "3.00", "3", ""]),  # no group: stands alone
        (6, ["a", "", "", "", layouts.isbn13(4), "2004", "4.00", "4", ""]),  # a starts again after a blank
        (7, ["b", "", "Alt", "Bo", layouts.isbn13(5), "2005", "5.00", "5", ""]),
        (8, [" b ", "", "", "", layouts.isbn13(6), "", "6.00", "6", ""]),  # fallback column filled too
    ]
    read = list(validator.continued(rows))
    assert read[1][1] == ["a", "First", "", "Ann", layouts.isbn13(2), "2001", "2.00", "", ""]
    assert read[2][1] is rows[2][1] and read[3][1] is rows[3][1] and read[4][1] is rows[4][1]
    valid, problems = validator.validate_chunk(read)
    assert [(r.row_number, r.title, r.author, r.year_published) for r in valid] == [
        (2, "First", "Ann", "2001"), (7, "Alt", "Bo", "2005"), (8, "Alt", "Bo", "2005")]  # fmt: skip
    assert {(p.row_number, p.message) for p in problems if p.row_number == 3} == {(3, "Quantity is required")}

    assert list(RowValidator(map_headers(header, Mapping.from_json({**mapping.to_json(), "group_by": None})),
                             text_cells=True).continued(rows)) == rows  # fmt: skip
    with pytest.raises(FileProblem, match="'Handle'"):
        map_headers(header, Mapping.from_json({**mapping.to_json(), "group_by": "Handle"}))
    with pytest.raises(MappingError, match="group_by must be a header"):
        Mapping.from_json({"group_by": ["Handle"]})
    assert "group_by" not in Mapping.from_json({"columns": {"title": "T"}}).to_json()


def test_of_two_columns_naming_one_field_the_plainer_name_is_read_and_a_cost_or_a_flag_never_is():
    """A shop list with Cost (what the shop paid) left of Price is read at its Price, not its cost; a shop
    export's "In stock?" (1 or 0) is no count of copies beside its Stock; Regular price is a price."""
    shop = map_headers(["Title", "Author", "Book type", "ISBN", "Year published", "Cost", "Price", "Quantity"])
    assert shop.positions["price"] == 6 and "Cost" in shop.ignored
    assert (
        map_headers(["Title", "Author", "Type", "ISBN", "Year", "Unit price", "Price", "Qty"]).positions["price"] == 6
    )
    woo = ["ID", "Type", "SKU", "Name", "In stock?", "Stock", "Regular price", "Author", "Year", "ISBN", "Genre"]
    header_map, _ = Mapping().resolve(woo)
    assert header_map.positions["quantity"] == 5 and header_map.positions["price"] == 6
    from bookapp.importer.matching import suggest

    assert suggest(woo).chain("quantity") == ["Stock"]


def test_catalogue_and_shop_exports_columns_are_found_by_their_own_names():
    """A catalogue app's ean_isbn13, creators and publish_date, a shop's "GTIN, UPC, EAN, or ISBN" and its
    custom "Author (product.metafields.custom.author)" column name their fields; a bracketed note after a
    plain name ("Price (EUR)") counts after a column without one."""
    libib = ["item_type", "title", "creators", "first_name", "last_name", "ean_isbn13", "upc_isbn10", "description",
             "publisher", "publish_date", "group", "tags", "notes", "price", "length", "copies"]  # fmt: skip
    found = Mapping().resolve(libib)[0].positions
    assert {f: libib[p] for f, p in found.items()} == {
        "title": "title", "author": "creators", "isbn": "ean_isbn13", "description": "description",
        "year_published": "publish_date", "price": "price", "quantity": "copies"}  # fmt: skip
    woo = ["ID", "Type", "SKU", "GTIN, UPC, EAN, or ISBN", "Name", "Stock", "Regular price"]
    assert woo[Mapping().resolve(woo)[0].positions["isbn"]] == "GTIN, UPC, EAN, or ISBN"
    shop = ["Handle", "Title", "Body (HTML)", "Vendor", "Author (product.metafields.custom.author)", "Price (EUR)"]
    assert Mapping().resolve(shop)[0].positions["author"] == 4
    assert Mapping().resolve(["Price (EUR)", "Price"])[0].positions["price"] == 1


def test_a_shop_export_whose_names_all_match_still_goes_to_match_columns_for_its_product_column(app, staff_client):
    """A Shopify export with its author in a custom column names every field by its headers, Published
    (TRUE/FALSE) as the year among them: uploaded in the browser it still opens Match columns, with its
    Handle suggested as the product column and Published not taken for the year; Handle is never listed
    as an ignored column when it is read."""
    import csv

    from tests.test_matching import selected

    name, content = layouts.shopify_variants(1, 2)
    rows = list(csv.reader(io.StringIO(content.decode())))
    rows[0] = [h if h != "Vendor" else "Author (product.metafields.custom.author)" for h in rows[0]]
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    answer = staff_client.post("/imports/new", data={"file": (io.BytesIO(buffer.getvalue().encode()), name)},
                               content_type="multipart/form-data")  # fmt: skip
    assert answer.location == "/imports/1/columns"
    run_worker(app)  # the column profile
    page = staff_client.get("/imports/1/columns").get_data(as_text=True)
    assert selected(page, "group_by") == "Handle" and selected(page, "column-year_published") == ""
    read = ["Handle", "Title", "Author", "Type", "ISBN", "Year", "Price", "Qty"]
    header_map = Mapping.from_json({"group_by": "Handle"}).header_map(read)
    assert "Handle" not in header_map.ignored


def test_missing_columns_are_told_on_the_row_the_header_was_found_on(app, tmp_path, monkeypatch):
    """A Goodreads export saved with a title line and a blank line above its header: its header is row 3,
    and the API's and the command line's refusals for the columns it lacks say so, as does the job of a
    workbook whose header is only read in the job (a shop's .ods, header under a title, lacking Book type)."""
    name, content = layouts.goodreads(1)
    titled = b"My Goodreads library\r\n\r\n" + content
    headers = bearer(app)
    refused = post_file(app, headers, name, titled)
    assert refused.status_code == 422
    message = refused.get_json()["error"]["message"]
    assert "in the header row, row 3," in message and "row 1" not in message, message

    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": app.config["REDIS_URL"],
           "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"], "BOOKAPP_IMPORT_QUEUE": app.config["IMPORT_QUEUE"]}  # fmt: skip
    path = tmp_path / name
    path.write_bytes(titled)
    cli = flask_cli(["import-books", str(path), "--map", "Owned Copies=quantity"], env)
    assert cli.returncode != 0 and "in the header row, row 3," in cli.stderr, cli.stderr

    from bookapp.importer import peek
    from tests.helpers import typed_book_row, write_ods

    monkeypatch.setattr(peek, "OPEN_WHOLE_BYTES", 0)  # as for a large workbook: its header is read in the job
    without_type = [h for h in HEADER if h != "Book type"]
    rows = [[c for h, c in zip(HEADER, typed_book_row(n), strict=True) if h != "Book type"] for n in (1, 2)]
    stock = write_ods(tmp_path / "stock.ods", [[], without_type, *rows], header=["Hartley Books — stock list"])
    state = finished(app, headers, post_file(app, headers, "stock.ods", stock.read_bytes(),
                                             mapping=json.dumps({"columns": {"title": "Title"}})))  # fmt: skip
    assert state["status"] == "failed" and "in the header row, row 3," in state["error"], state


def test_a_large_workbooks_genre_column_named_book_type_waits_for_match_values_as_a_small_one_does(
    app, tmp_path, monkeypatch
):
    """A workbook too large to read in the upload's request (its header is read by its job) whose Book type
    column holds a reading app's genres waits on Match columns when uploaded in the browser, as the same file
    small does, rather than having every row rejected; matched there, it imports. Sent through the API, which
    asks to import a file as it is, it is read at once, as the small one is."""
    from bookapp.importer import peek
    from bookapp.services.imports import submit_mapping
    from tests.helpers import isbn13, typed_book_row, write_ods
    from tests.test_imports import import_state, upload

    genres = ["Science Fiction", "Fantasy", "Science Fiction", "Mystery"]
    rows = [typed_book_row(n, **{"Book type": genre}) for n, genre in enumerate(genres, 1)]
    content = write_ods(tmp_path / "library.ods", rows).read_bytes()
    headers = bearer(app)
    small = finished(app, headers, post_file(app, headers, "library.ods", content))
    monkeypatch.setattr(peek, "OPEN_WHOLE_BYTES", 0)  # as for a large workbook: its header is read in the job
    large = finished(app, headers, post_file(app, headers, "library.ods", content, allow_repeat="true"))
    assert large["status"] == small["status"] != "needs_mapping"
    assert (large["created"], large["rejected"]) == (small["created"], small["rejected"]) == (0, 4)

    staff = sign_in(app.test_client(), "staff@example.com")
    sent = upload(staff, content, "library.ods", allow_repeat="1")
    run_worker(app)
    state = import_state(staff, sent.location)
    assert (state["status"], state["created"], state["rejected"]) == ("needs_mapping", 0, 0), state
    assert "Book type" in state["headers"] and "waiting for its columns to be matched" in page_said(app, state["id"])
    values = {"Science Fiction": "Sci-tech", "Fantasy": "Classic", "Mystery": "Horror"}
    with app.app_context():
        submit_mapping(db.session.get(Import, state["id"]), Mapping.from_json({"values": {"book_type": values}}), None)
    run_worker(app)
    state = import_state(staff, sent.location)
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 4, 0), state
    assert book(app, isbn13(2)).book_type == "Classic"


def test_a_large_workbook_sent_through_the_api_without_a_required_column_is_refused_saying_what_is_missing(
    app, tmp_path, monkeypatch
):
    """A Zotero export saved as a workbook too large for its upload to read (its job reads its header) has no
    Book type, Price nor Quantity column. Sent through the API, whose callers cannot use Match columns, it
    waited there all the same; it ends refused as the same file small is at once (422), in the same words
    (what is missing, the file's columns), and saves nothing."""
    import csv

    from bookapp.importer import peek
    from tests.helpers import write_ods

    _, content = layouts.zotero(1, 3)
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    workbook = write_ods(tmp_path / "zotero_export.ods", rows, header=header).read_bytes()
    headers = bearer(app)
    small = post_file(app, headers, "zotero_export.ods", workbook)
    assert small.status_code == 422, small.get_json()
    refused = small.get_json()["error"]["message"]
    assert refused.startswith("The file has no column for: ") and "'Publication Year'" in refused, refused

    monkeypatch.setattr(peek, "OPEN_WHOLE_BYTES", 0)  # as for a large workbook: its header is read in the job
    state = finished(app, headers, post_file(app, headers, "zotero_export.ods", workbook))
    assert (state["status"], state["file_problem"], state["error"]) == ("failed", True, refused), state
    assert (state["outcome"], state["created"], state["rejected"]) == ("failed", 0, 0)
    assert state["headers"] == header
    assert refused in page_said(app, state["id"]) and "waiting for its columns" not in page_said(app, state["id"])
    assert book(app, layouts.isbn13_of(1)) is None


def test_a_zotero_exports_isbn_cell_holding_a_books_isbn13_and_isbn10_is_read_as_the_first(app, tmp_path):
    """Zotero writes a book's ISBN-13 and ISBN-10 in one cell, "9780441172719 0441172717": the first is
    read (and the import says so); a cell with two books' ISBNs is refused as holding more than one."""
    from bookapp.importer.matching import suggest
    from bookapp.importer.profiling import profile_file

    headers = bearer(app)
    other = layouts.isbn13_of(40)
    name, content = layouts.zotero(1, isbns=lambda n: f"{other}; {layouts.isbn13_of(n)}" if n == 3 else None)
    state = finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(layouts.ZOTERO_MAPPING)))
    assert (state["created"], state["rejected"]) == (4, 1)
    assert book(app, layouts.isbn13_of(1)).title == "Dune 1"
    assert state["repairs"]["isbn_first_of_several"] == {"count": 4, "rows": [2, 3, 5, 6]}
    rejected = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]
    assert [(r["row"], r["message"]) for r in rejected] == [
        (4, "ISBN holds more than one ISBN, and not all of one book; keep one ISBN per cell")
    ]
    said = page_said(app, state["id"])
    assert (
        "on the way in" not in said
        and (
            "4 cells of the ISBN column “ISBN” held more than one ISBN of the same book, such as its ISBN-13 and its "
            "ISBN-10 (rows 2, 3, 5, 6): the import kept the book's ISBN-13."
        )
        in said
    )
    (tmp_path / name).write_bytes(layouts.zotero(1)[1])
    assert suggest(layouts.ZOTERO_HEADER, profile_file(tmp_path / name)).chain("isbn") == ["ISBN"]


def test_a_librarythings_isbns_pair_says_which_isbn_was_stored_and_from_which_column(app):
    """LibraryThing writes each book's ISBN-13 and ISBN-10 in its ISBNs column ("9780…, 0439…"). Read from it,
    the import's page names that column and says it kept the book's ISBN-13 (not "as the first of them"); a
    dry run reading ISBNs, else ISBN, names both columns and says it would keep it."""
    headers = bearer(app)
    name, content = layouts.librarything(1, 3)
    columns = layouts.LIBRARYTHING_MAPPING["columns"]
    mapping = {**layouts.LIBRARYTHING_MAPPING, "columns": {**columns, "isbn": "ISBNs"}}
    state = finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(mapping)))
    assert (state["created"], state["repairs"]["isbn_first_of_several"]) == (3, {"count": 3, "rows": [2, 3, 4]})
    assert book(app, layouts.isbn13_of(2)).title == "The Left Hand of Darkness 2"
    said = page_said(app, state["id"])
    assert (
        "3 cells of the ISBN column “ISBNs” held more than one ISBN of the same book, such as its ISBN-13 and its "
        "ISBN-10 (rows 2, 3, 4): the import kept the book's ISBN-13."
    ) in said and "first of them" not in said
    with app.app_context():  # the command line's import-report says the same
        line = summary_line(db.session.get(Import, state["id"]))
    assert (
        "Kept the book's ISBN-13 where 3 cells of 'ISBNs' held more than one ISBN of the same book: rows 2, 3, 4."
        in line
    )

    name, content = layouts.librarything(11, 1)
    mapping = {**layouts.LIBRARYTHING_MAPPING, "columns": {**columns, "isbn": ["ISBNs", "ISBN"]}}
    state = finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(mapping), dry_run="true"))
    assert (
        "1 cell of the ISBN columns “ISBNs” and “ISBN” held more than one ISBN of the same book, such as its ISBN-13 "
        "and its ISBN-10 (row 2): the import would keep the book's ISBN-13."
    ) in page_said(app, state["id"])


def test_a_zotero_exports_several_authors_are_stored_in_their_order_as_it_writes_them(app):
    """Zotero writes an item's authors in one cell, each "Last, First", in their order separated by "; "
    ("Herbert, Frank; Anderson, Kevin J."). bookapp stores a name as the file writes it (a single "Herbert,
    Frank" stays "Herbert, Frank", as a collection program's or a catalogue's): so is this cell, whole and in
    order, never cut at its commas or semicolons, and the API gives it back so."""
    headers = bearer(app)
    name, content = layouts.zotero(1, count=3)
    state = finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(layouts.ZOTERO_MAPPING)))
    assert (state["created"], state["rejected"]) == (3, 0), state
    assert [book(app, layouts.isbn13_of(n)).author for n in (1, 2, 3)] == list(layouts.ZOTERO_AUTHORS)
    listed = app.test_client().get("/api/v1/books?sort=title&direction=asc", headers=headers).get_json()["items"]
    assert [b["author"] for b in listed] == list(layouts.ZOTERO_AUTHORS)


def test_an_inventory_flat_files_row_of_field_names_under_its_labels_is_left_out_and_told(app, tmp_path):
    """A seller inventory flat file: a template row, the labels (the header), then the field names
    (feed_product_type, item_sku, …). That row is no book: left out and told, not rejected; and its
    "external_product_id" no longer keeps Product ID (ISBN-10s) from being suggested for ISBN, nor are
    Standard Price and Product Description left unmatched."""
    from bookapp.importer.left_out import is_second_header
    from bookapp.importer.matching import suggest
    from bookapp.importer.profiling import profile_file

    headers = bearer(app)
    name, content = layouts.amazon_flatfile(1)
    mapping = {"columns": {"isbn": "Product ID"}, "defaults": {"book_type": "Classic"}}
    state = finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(mapping)))
    assert (state["created"], state["rejected"]) == (4, 0)
    assert state["repairs"] == {"second_header_row": {"count": 1, "rows": [3]}}
    found = book(app, layouts.isbn13_of(1))
    assert (found.price, found.description, found.no_of_pages) == (Decimal("9.99"), "A novel, part 1.", 401)
    page = sign_in(app.test_client(), "staff@example.com").get(f"/imports/{state['id']}").get_data(as_text=True)
    assert "Left out: row 3, right under the header, is a second header" in page
    (tmp_path / name).write_bytes(content)
    suggested = suggest(layouts.AMAZON_FLATFILE_LABELS, profile_file(tmp_path / name))
    assert [suggested.chain(f) for f in ("isbn", "price", "description")] == [
        ["Product ID"], ["Standard Price"], ["Product Description"]]  # fmt: skip
    assert not is_second_header(["Dune", "Frank Herbert", "9780441172719", "", ""]), "a book lacking its price"
    assert not is_second_header(["Dune", "Herbert", "Classic", "", ""]), "a book's one-word values"


def test_a_collection_programs_publication_date_with_the_months_name_gives_its_year(app):
    """CLZ Books writes "Jan 01, 1965" in Publication Date; "1 January 1965" and "January 1965" are as
    common: each gives its year, as a numeric date does, where every row was rejected as no 4-digit year."""
    headers = bearer(app)
    name, content = layouts.clz_books(1, 6)
    state = finished(
        app, headers, post_file(app, headers, name, content, mapping=json.dumps(layouts.CLZ_BOOKS_MAPPING))
    )
    assert (state["created"], state["rejected"]) == (6, 0)
    assert {book(app, layouts.isbn13_of(n)).year_published for n in range(1, 7)} == {"1965"}


def test_a_note_under_the_books_and_a_sums_row_without_a_label_are_left_out_and_told(app):
    """A sheet downloaded as CSV ends with a note ("Notes: prices checked 3/2/2024", one cell) and a
    spreadsheet app's export with its sums and no label ($63.23, 11): each was rejected with six "is
    required" problems. They are left out and told; a book lacking its price still is rejected, saying so."""
    headers = bearer(app)
    header = ["Title", "Author", "Type", "ISBN", "Published", "Price", "Qty", "Pages"]
    rows = [[f"Dune {n}", "Frank Herbert", "Classic", layouts.isbn13_of(n), "1965", "$9.99", "3", "412"]
            for n in range(1, 4)]  # fmt: skip
    rows += [
        ["Dune 4", "", "", layouts.isbn13_of(4), "", "", "", ""],
        [""] * 8,
        ["", "", "", "", "", "$29.97", "9", ""],
    ]
    rows += [["Notes: prices checked 3/2/2024", "", "", "", "", "", "", ""]]
    state = finished(app, headers, post_file(app, headers, "numbers_export.csv", layouts._csv(header, rows)))
    assert (state["created"], state["rejected"]) == (3, 1)
    assert (state["repairs"]["totals_rows"], state["repairs"]["note_rows"]) == (
        {"count": 1, "rows": [7]}, {"count": 1, "rows": [8]})  # fmt: skip
    rejected = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]
    assert {(r["row"], r["message"]) for r in rejected} >= {(5, "Price is required"), (5, "Author is required")}
    page = sign_in(app.test_client(), "staff@example.com").get(f"/imports/{state['id']}").get_data(as_text=True)
    assert "holding one cell of text and nothing else (row 8)" in page


def test_a_profile_saved_with_a_price_for_every_row_written_with_a_decimal_comma_reads_that_price(app):
    """A profile saved before a typed "0,00" was kept as "0.00" still holds "0,00": the next Goodreads export
    (a comma-separated file) read by it saves its rows at 0.00, not every row rejected for the comma."""
    headers = bearer(app)
    name, content = layouts.goodreads(1)
    from bookapp.importer.mapping import header_key

    header_row = list(layouts.GOODREADS_HEADER)
    old = {**layouts.GOODREADS_MAPPING, "defaults": {"book_type": "Classic", "price": "0,00"}}
    with app.app_context():
        db.session.add(ImportProfile(name="Goodreads", header_key=header_key(header_row),
                                     headers=header_row, mapping=old))  # fmt: skip
        db.session.commit()

    done = finished(app, headers, post_file(app, headers, name, content))
    assert done["profile"]["name"] == "Goodreads"
    assert (done["status"], done["created"], done["rejected"]) == ("succeeded", 5, 1), done
    with app.app_context():
        assert set(db.session.scalars(select(Book.price))) == {Decimal("0.00")}


def test_a_librarything_exports_year_is_guessed_from_its_date_not_from_book_ids_that_look_like_years(tmp_path):
    """A LibraryThing export's Book Ids 2020 to 2027 look like years, and Book Id is its first column: Match
    columns guessed Year published from it. The column headed Date, whose values are years too, is guessed."""
    from bookapp.importer.matching import suggest
    from bookapp.importer.profiling import profile_file

    name, content = layouts.librarything(20, 8)
    (tmp_path / name).write_bytes(content)
    assert suggest(layouts.LIBRARYTHING_HEADER, profile_file(tmp_path / name)).chain("year_published") == ["Date"]


def test_a_large_workbook_is_read_with_the_profile_saved_for_its_header(app, tmp_path, monkeypatch):
    """A shop saves a profile for its LibraryThing export, then sends the next month's as an OpenDocument workbook
    too large to read in the upload's request (its job reads the header). Its job found no profile: through the
    API the file was refused for the fields its header lacks, and in the browser it waited on Match columns. It
    is read with the saved profile, as the same file small is."""
    import csv

    from bookapp.importer import peek
    from tests.helpers import write_ods
    from tests.test_imports import import_state, upload

    headers = bearer(app)
    name, content = layouts.librarything(1)
    first = finished(app, headers, post_file(app, headers, name, content,
                                             mapping=json.dumps(layouts.LIBRARYTHING_MAPPING), save_as="LibraryThing"))  # fmt: skip
    assert (first["status"], first["created"]) == ("succeeded", 5), first

    _, content = layouts.librarything(101)
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8")), delimiter="\t"))
    workbook = write_ods(tmp_path / "librarything.ods", rows, header=header).read_bytes()
    monkeypatch.setattr(peek, "OPEN_WHOLE_BYTES", 0)  # as for a large workbook: its header is read in the job
    through_api = finished(app, headers, post_file(app, headers, "librarything.ods", workbook))
    assert (through_api["status"], through_api["created"], through_api["rejected"]) == ("succeeded", 5, 0), through_api
    assert through_api["profile"]["name"] == "LibraryThing"
    assert book(app, layouts.isbn13_of(101)) is not None

    _, content = layouts.librarything(201)
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8")), delimiter="\t"))
    workbook = write_ods(tmp_path / "next.ods", rows, header=header).read_bytes()
    staff = sign_in(app.test_client(), "staff@example.com")
    sent = upload(staff, workbook, "next.ods")
    run_worker(app)
    state = import_state(staff, sent.location)
    assert (state["status"], state["created"]) == ("succeeded", 5), state
    assert "LibraryThing" in page_said(app, state["id"])
