"""Rejected rows fixed in the browser: the grid, checking a row, and the follow-up import that takes the
fixed rows, linked both ways; on SQLite and PostgreSQL, with a real worker."""

import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from bookapp.extensions import db
from bookapp.importer.errors import ValueProblem
from bookapp.importer.fields import LABELS
from bookapp.importer.values import converters
from bookapp.models import Book, Import, ImportRowError, RejectedRow, Role
from tests import layouts
from tests.conftest import PASSWORD, add_user, build_app, run_worker, sign_in
from tests.helpers import HEADER, book_row, csv_bytes, isbn13
from tests.test_access import bearer
from tests.test_imports import import_state, upload
from tests.test_plain_words import offered, waiting_at_columns

TYPE, ISBN, YEAR, PRICE = (HEADER.index(h) for h in ("Book type", "ISBN", "Year published", "Price"))


def import_with_bad_rows(app, client) -> int:
    """Import ten books of which rows 4, 7 and 10 (in the file) are rejected; return the import's id."""
    rows = [book_row(n) for n in range(1, 11)]
    rows[2] = book_row(3, **{"Book type": "Horor"})  # row 4: a typing slip of Horror, rejected to be fixed
    rows[5] = book_row(6, **{"Year published": "19"})  # row 7
    rows[8] = book_row(9, Price="ten")  # row 10
    response = upload(client, csv_bytes(rows))
    run_worker(app)
    state = import_state(client, response.location)
    assert (state["created"], state["rejected"]) == (7, 3)
    return state["id"]


def importer_says(field: str, cell: str) -> str:
    """Return the importer's own words for a cell it refuses (its converter's message)."""
    try:
        converters()[field](cell)
    except ValueProblem as problem:
        return f"{LABELS[field]} {problem}"
    raise AssertionError(f"{cell!r} is a valid {field}")


def cells_of(page: str) -> dict[str, str]:
    return {m[1]: m[0] for m in re.findall(r'<input type="text" value="([^"]*)" name="(r\d+c\d+)"', page)}


def test_fixed_rows_are_imported_by_a_follow_up_linked_both_ways(app, staff_client):
    original = import_with_bad_rows(app, staff_client)
    page = staff_client.get(f"/imports/{original}").get_data(as_text=True)
    assert f'href="/imports/{original}/fix"' in page and "Fix rejected rows" in page

    grid = staff_client.get(f"/imports/{original}/fix")
    assert grid.status_code == 200
    html = grid.get_data(as_text=True)
    # Each bad cell is marked, and described by its message, as the import reported it.
    marked = re.search(rf'name="r4c{TYPE}"[^>]*aria-describedby="m-4-{TYPE}"[^>]*aria-invalid="true"', html)
    assert marked, html
    assert f'id="m-4-{TYPE}">{importer_says("book_type", "Horor")}</span>' in html
    assert f'id="m-7-{YEAR}">{importer_says("year_published", "19")}</span>' in html
    cells = cells_of(html)
    assert sorted({int(re.match(r"r(\d+)", n)[1]) for n in cells}) == [4, 7, 10]

    # Rows 4 and 7 fixed; row 10 left as it was (it stays on this import to fix later).
    cells[f"r4c{TYPE}"] = "Classic"
    cells[f"r7c{YEAR}"] = "1956"
    response = staff_client.post(f"/imports/{original}/fix", data={**cells, "action": "import", "page": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    follow_up = int(response.location.rsplit("/", 1)[1])
    assert follow_up != original
    landing = staff_client.get(response.location).get_data(as_text=True)
    assert f"Import #{follow_up} is importing the 2 rows you fixed." in landing

    run_worker(app)
    state = import_state(staff_client, f"/imports/{follow_up}")
    assert state["status"] == "succeeded"
    assert (state["created"], state["updated"], state["rejected"]) == (2, 0, 0)
    assert state["fixes_import_id"] == original and state["mode"] == "create_update"
    assert import_state(staff_client, f"/imports/{original}")["fixed_by"] == [follow_up]
    with app.app_context():
        saved = {b.isbn: b for b in db.session.scalars(select(Book).where(Book.import_id == follow_up))}
        assert set(saved) == {isbn13(3), isbn13(6)}
        assert (saved[isbn13(3)].book_type, saved[isbn13(6)].year_published) == ("Classic", "1956")
        assert db.session.get(Import, follow_up).file_kind == "csv"

    # Both pages link each other; the original counts what was fixed, row by row.
    later = staff_client.get(f"/imports/{follow_up}").get_data(as_text=True)
    assert f'Fixes for <a href="/imports/{original}">import #{original}</a>' in later
    page = staff_client.get(f"/imports/{original}").get_data(as_text=True)
    banner = re.search(r'data-banner="fixed-later">(.*?)</p>', page, re.S)[1]
    assert " ".join(re.sub(r"<[^>]+>", "", banner).split()) == (
        f"2 of its 3 rejected rows were fixed later in import #{follow_up}."
    )
    assert f'href="/imports/{follow_up}">import #{follow_up}</a>' in banner

    # The follow-up's report names the rows by the numbers they had in the original file.
    report = staff_client.get(f"/imports/{follow_up}/report.csv").get_data(as_text=True).lstrip("\ufeff")
    assert [(r["Row"], r["Outcome"]) for r in csv.DictReader(io.StringIO(report))] == [
        ("4", "created"),
        ("7", "created"),
    ]
    # What is left to fix on the original is the row nobody changed.
    cells = cells_of(staff_client.get(f"/imports/{original}/fix").get_data(as_text=True))
    assert {int(re.match(r"r(\d+)", n)[1]) for n in cells} == {10}


def test_a_row_still_wrong_is_rejected_again_and_fixed_from_the_follow_up(app, staff_client):
    original = import_with_bad_rows(app, staff_client)
    cells = cells_of(staff_client.get(f"/imports/{original}/fix").get_data(as_text=True))
    cells[f"r4c{TYPE}"] = "Classic"
    cells[f"r10c{PRICE}"] = "ten euros"  # changed, still wrong: the server does not take the browser's word
    response = staff_client.post(f"/imports/{original}/fix", data={**cells, "action": "import"})
    first = int(response.location.rsplit("/", 1)[1])
    flashed = staff_client.get(response.location).get_data(as_text=True)
    assert "1 of them still has problems: it is rejected again" in flashed
    run_worker(app)
    state = import_state(staff_client, f"/imports/{first}")
    assert (state["created"], state["rejected"]) == (1, 1)
    with app.app_context():
        again = db.session.scalars(select(ImportRowError).where(ImportRowError.import_id == first)).all()
        assert [(e.row_number, e.column, e.message) for e in again] == [
            (10, "Price", importer_says("price", "ten euros"))
        ]

    page = staff_client.get(f"/imports/{original}").get_data(as_text=True)
    assert re.search(rf"1 of the fixed rows is still rejected in\s*<a href=\"/imports/{first}\">", page)
    # Row 10 is fixed from the follow-up now (its page offers it), row 7 still from the original.
    assert {k[:3] for k in cells_of(staff_client.get(f"/imports/{original}/fix").get_data(as_text=True))} == {"r7c"}
    cells = cells_of(staff_client.get(f"/imports/{first}/fix").get_data(as_text=True))
    assert {k.partition("c")[0] for k in cells} == {"r10"}
    cells[f"r10c{PRICE}"] = "10.00"
    second = staff_client.post(f"/imports/{first}/fix", data={**cells, "action": "import"})
    second_id = int(second.location.rsplit("/", 1)[1])
    run_worker(app)
    assert import_state(staff_client, f"/imports/{second_id}")["fixes_import_id"] == first
    page = staff_client.get(f"/imports/{original}").get_data(as_text=True)
    banner = " ".join(re.sub(r"<[^>]+>", "", re.search(r'data-banner="fixed-later">(.*?)</p>', page, re.S)[1]).split())
    assert banner == f"2 of its 3 rejected rows were fixed later in import #{first} and import #{second_id}."
    assert "still rejected in" not in page


@pytest.mark.parametrize("language, slip", [("fr", "Comc"), ("de", "Horor"), ("es", "Comc")])
def test_a_typing_slip_of_a_book_type_in_one_row_is_rejected_and_fixed_in_the_grid(app, staff_client, language, slip):
    """A stock list of book types with one of them mistyped ("Comc", "Horor": close to Comic and Horror, no
    kind of the shop's own) is imported at once, not sent to Match values: the row with the slip is rejected,
    its Book type cell marked in the grid, and fixed there."""
    kinds = ["Comic", slip, "Horror", "Comic"]
    name, content = layouts.stock_list(language, 1, kinds=kinds)
    response = upload(staff_client, content, name)
    assert not response.location.endswith("/columns"), response.location
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["created"], state["rejected"]) == (3, 1), state

    grid = staff_client.get(f"/imports/{state['id']}/fix").get_data(as_text=True)
    assert f'id="m-3-4">{importer_says("book_type", slip)}</span>' in grid
    cells = cells_of(grid)
    assert cells["r3c4"] == slip
    cells["r3c4"] = "Comic" if slip == "Comc" else "Horror"
    fixed = staff_client.post(f"/imports/{state['id']}/fix", data={**cells, "action": "import"})
    assert fixed.status_code == 302, fixed.get_data(as_text=True)
    run_worker(app)
    with app.app_context():
        assert db.session.scalar(select(Book.book_type).where(Book.isbn == layouts.isbn13_of(2))) == cells["r3c4"]


def test_validate_row_answers_in_the_import_s_own_words(app):
    headers = bearer(app)
    client = app.test_client()
    rows = [book_row(n) for n in range(1, 8)]
    rows[1] = book_row(2, ISBN="978-0-00-000000-1", Price="-3")
    rows[2] = book_row(3, **{"Year published": "3000", "Book type": "Magazne", "No. of pages": "0"})
    rows[3] = book_row(4, Title="", Quantity="lots")
    rows[4] = book_row(5, Price="12,50")  # a decimal comma in a comma-separated file
    response = client.post("/api/v1/imports", headers=headers, data={"file": (io.BytesIO(csv_bytes(rows)), "b.csv")})
    import_id = response.get_json()["id"]
    run_worker(app)
    with app.app_context():
        rejected = db.session.scalars(select(RejectedRow).where(RejectedRow.import_id == import_id)).all()
        reported = {}
        for e in db.session.scalars(select(ImportRowError).where(ImportRowError.import_id == import_id)):
            reported.setdefault(e.row_number, {}).setdefault(e.column, []).append(e.message)
        cells = {r.row_number: r.cells for r in rejected}
    assert sorted(cells) == [3, 4, 5, 6]
    for row_number, row_cells in cells.items():
        body = {"cells": dict(zip(HEADER, row_cells, strict=True)), "row": row_number}
        answer = client.post(f"/api/v1/imports/{import_id}/validate-row", headers=headers, json=body)
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["valid"] is False
        assert answer.get_json()["columns"] == reported[row_number]
        as_list = client.post(f"/api/v1/imports/{import_id}/validate-row", headers=headers, json={"cells": row_cells})
        assert as_list.get_json()["columns"] == reported[row_number]

    valid = client.post(f"/api/v1/imports/{import_id}/validate-row", headers=headers,
                        json={"cells": dict(zip(HEADER, book_row(40, Price="9.5"), strict=True))})  # fmt: skip
    assert valid.get_json()["valid"] is True and valid.get_json()["book"]["price"] == "9.50"
    unknown = client.post(
        f"/api/v1/imports/{import_id}/validate-row", headers=headers, json={"cells": {"Colour": "red"}}
    )
    assert unknown.status_code == 422 and "no column 'Colour'" in unknown.get_json()["error"]["message"]
    wrong = client.post(f"/api/v1/imports/{import_id}/validate-row", headers=headers, json={"cells": "Title"})
    assert wrong.status_code == 400
    assert client.post("/api/v1/imports/999/validate-row", headers=headers, json={"cells": []}).status_code == 404


def test_validate_row_reads_the_row_with_the_import_s_mapping(app):
    headers = bearer(app)
    client = app.test_client()
    header = ["Name", "Writer", "Genre", "EAN", "Published", "Cost", "Notes"]
    mapping = {"columns": {"title": "Name", "author": "Writer", "book_type": "Genre", "isbn": "EAN",
                           "year_published": "Published", "price": "Cost", "description": None},
               "defaults": {"quantity": "1"}, "values": {"book_type": {"Fiction": "Classic", "Poetry": None}}}  # fmt: skip
    rows = [["Dune", "Frank Herbert", "Fiction", isbn13(1), "1965", "9.99", "x"],
            ["Odes", "Keats", "Poetry", isbn13(2), "1819", "5.00", "y"]]  # fmt: skip
    response = client.post("/api/v1/imports", headers=headers, data={
        "file": (io.BytesIO(csv_bytes(rows, header=header)), "mine.csv"), "mapping": json.dumps(mapping)})  # fmt: skip
    assert response.status_code == 202, response.get_json()
    import_id = response.get_json()["id"]
    run_worker(app)
    with app.app_context():
        message = db.session.scalar(select(ImportRowError.message).where(ImportRowError.import_id == import_id))

    def check(**cells):
        answer = client.post(f"/api/v1/imports/{import_id}/validate-row", headers=headers, json={"cells": cells})
        return answer.get_json()

    row = dict(zip(header, rows[0], strict=True))
    fiction = check(**row)
    assert fiction["valid"] and fiction["book"]["book_type"] == "Classic" and fiction["book"]["quantity"] == 1
    assert check(**{**row, "Genre": "Poetry"})["columns"] == {"Genre": [message]}


def test_checking_rows_of_the_grid(app, staff_client):
    original = import_with_bad_rows(app, staff_client)

    def check(row: int, cells: list[str]):
        return staff_client.post(f"/imports/{original}/fix/check.json", json={"rows": [{"row": row, "cells": cells}]})

    as_read = book_row(3, **{"Book type": "Horor"})
    answer = check(4, as_read).get_json()["rows"][0]
    assert not answer["changed"]
    assert [(p["position"], p["column"]) for p in answer["problems"]] == [(TYPE, "Book type")]
    fixed = check(4, book_row(3, **{"Book type": " comic "})).get_json()["rows"][0]
    assert fixed["changed"] and fixed["problems"] == []
    worse = check(4, book_row(3, **{"Book type": "Comic", "ISBN": "12"})).get_json()["rows"][0]
    assert [p["message"] for p in worse["problems"]] == [importer_says("isbn", "12")]
    assert check(2, book_row(1)).get_json()["rows"] == [], "row 2 was not rejected: not in the grid"
    assert staff_client.post(f"/imports/{original}/fix/check.json", json={"rows": "x"}).status_code == 400


def test_replace_and_set_work_without_javascript(app, staff_client):
    rows = [book_row(n, **({"Book type": "Novel"} if n < 5 else {})) for n in range(1, 11)]
    # Novel in 4 rows waits at Match values; left unmatched there, its rows are rejected.
    location = waiting_at_columns(app, staff_client, "books.csv", csv_bytes(rows))
    form = offered(staff_client.get(location).get_data(as_text=True))
    assert staff_client.post(location, data={**form, "action": "continue"}).status_code == 302
    run_worker(app)
    original = import_state(staff_client, location.removesuffix("/columns"))["id"]
    cells = cells_of(staff_client.get(f"/imports/{original}/fix").get_data(as_text=True))
    page = staff_client.post(f"/imports/{original}/fix", data={
        **cells, "action": "replace", "replace_find": "Novel", "replace_with": "Horror", "replace_column": str(TYPE)})  # fmt: skip
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Replaced in 4 cells of Book type." in html
    assert 'aria-invalid="true"' not in html
    cells = cells_of(html)
    assert {cells[f"r{n}c{TYPE}"] for n in range(2, 6)} == {"Horror"}
    page = staff_client.post(f"/imports/{original}/fix", data={
        **cells, "action": "set", "set_column": str(TYPE), "set_value": "Comic", "selected": ["3", "5"]})  # fmt: skip
    cells = cells_of(page.get_data(as_text=True))
    assert [cells[f"r{n}c{TYPE}"] for n in range(2, 6)] == ["Horror", "Comic", "Horror", "Comic"]
    done = staff_client.post(f"/imports/{original}/fix", data={**cells, "action": "import"})
    run_worker(app)
    follow_up = int(done.location.rsplit("/", 1)[1])
    with app.app_context():
        types = dict(db.session.execute(select(Book.isbn, Book.book_type).where(Book.import_id == follow_up)).all())
    assert types == {isbn13(1): "Horror", isbn13(2): "Comic", isbn13(3): "Horror", isbn13(4): "Comic"}


def test_what_cannot_be_fixed_here_says_why(app, staff_client):
    original = import_with_bad_rows(app, staff_client)
    nothing = staff_client.post(f"/imports/{original}/fix", data={"action": "import"})
    assert nothing.status_code == 400 and "There is nothing to import" in nothing.get_data(as_text=True)
    cells = cells_of(staff_client.get(f"/imports/{original}/fix").get_data(as_text=True))
    unchanged = staff_client.post(f"/imports/{original}/fix", data={**cells, "action": "import"})
    assert unchanged.status_code == 400 and "change the rows to fix first" in unchanged.get_data(as_text=True)

    # A follow-up queued (no worker yet): the original's rows wait for it.
    cells[f"r4c{TYPE}"] = "Classic"
    queued = staff_client.post(f"/imports/{original}/fix", data={**cells, "action": "import"})
    follow_up = int(queued.location.rsplit("/", 1)[1])
    again = staff_client.post(f"/imports/{original}/fix", data={**cells, "action": "import"})
    assert again.status_code == 302 and again.location == f"/imports/{original}"
    said = staff_client.get(again.location).get_data(as_text=True)
    assert f"Import #{follow_up} is importing fixed rows of this import now" in said
    assert "Fix rejected rows</a>" not in said
    with app.app_context():
        assert db.session.scalars(select(Import.id).where(Import.fixes_import_id == original)).all() == [follow_up]

    # A dry run saves nothing: its rows are fixed on the import that confirms it.
    rows = [book_row(n, Price="x") if n == 2 else book_row(n) for n in range(20, 23)]
    dry = upload(staff_client, csv_bytes(rows), dry_run="y")
    run_worker(app)
    dry_id = import_state(staff_client, dry.location)["id"]
    refused = staff_client.get(f"/imports/{dry_id}/fix", follow_redirects=True).get_data(as_text=True)
    assert "A dry run saves nothing, so its rows are fixed on the import that confirms it" in refused
    assert f'href="/imports/{dry_id}/fix"' not in refused


def test_viewers_may_not_fix_rows(app, staff_client):
    original = import_with_bad_rows(app, staff_client)
    add_user(app, "viewer@example.com", Role.VIEWER)
    viewer = sign_in(app.test_client(), "viewer@example.com")
    assert viewer.get(f"/imports/{original}/fix").status_code == 403
    assert (
        viewer.post(f"/imports/{original}/fix", data={"action": "import", f"r4c{TYPE}": "Classic"}).status_code == 403
    )
    checked = viewer.post(f"/imports/{original}/fix/check.json", json={"rows": [{"row": 4, "cells": []}]})
    assert checked.status_code == 403 and checked.is_json
    token = bearer(app, "reader@example.com", Role.VIEWER)
    api = app.test_client().post(f"/api/v1/imports/{original}/validate-row", headers=token, json={"cells": []})
    assert api.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Import.id).where(Import.fixes_import_id == original)) is None


def test_a_cell_too_long_to_show_is_kept_unless_replaced(sqlite_app, redis_client):
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    header = [*HEADER, "Notes"]
    huge = "n" * 100_001
    rows = [[*book_row(1), "short"], [*book_row(2, Price="x"), huge], [*book_row(3), huge]]
    response = upload(client, csv_bytes(rows, header=header))
    run_worker(sqlite_app)
    original = import_state(client, response.location)["id"]
    html = client.get(f"/imports/{original}/fix").get_data(as_text=True)
    assert "As read, this cell has 100,001 characters" in html and huge not in html
    assert "Notes is 100,001 characters long; the most a cell may hold is 100,000" in html
    cells = cells_of(html)
    assert cells["r3c9"] == "" and cells["r4c9"] == ""
    cells["r3c5"] = "4.00"  # row 3: its price fixed, its long note left as it was: rejected again
    cells["r4c9"] = "shorter"  # row 4: the note replaced
    checked = client.post(f"/imports/{original}/fix/check.json", json={"rows": [
        {"row": 3, "cells": [cells[f"r3c{i}"] for i in range(10)]}]}).get_json()["rows"][0]  # fmt: skip
    assert [p["message"] for p in checked["problems"]] == [
        "Notes is 100,001 characters long; the most a cell may hold is 100,000"
    ]
    done = client.post(f"/imports/{original}/fix", data={**cells, "action": "import"})
    run_worker(sqlite_app)
    state = import_state(client, done.location)
    assert (state["created"], state["rejected"]) == (1, 1)


def test_a_semicolon_separated_file_keeps_its_decimal_comma(sqlite_app, redis_client):
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    rows = [book_row(1, Price="12,50"), book_row(2, Price="3,25", Quantity="many")]
    response = upload(client, csv_bytes(rows, delimiter=";"))
    run_worker(sqlite_app)
    original = import_state(client, response.location)["id"]
    cells = cells_of(client.get(f"/imports/{original}/fix").get_data(as_text=True))
    assert cells["r3c5"] == "3,25"
    cells["r3c7"] = "4"
    done = client.post(f"/imports/{original}/fix", data={**cells, "action": "import"})
    run_worker(sqlite_app)
    assert import_state(client, done.location)["created"] == 1
    with sqlite_app.app_context():
        assert str(db.session.scalar(select(Book.price).where(Book.isbn == isbn13(2)))) == "3.25"


def test_a_semicolon_files_rejected_rows_download_comes_back_fixed_with_its_decimal_commas(sqlite_app, redis_client):
    """A file saved by a spreadsheet in a decimal-comma locale (semicolons, Windows-1252): its rejected rows
    come back semicolon-separated, so once fixed and uploaded again "3,25" reads as 3.25, not as a
    decimal comma in a comma-separated file."""
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    rows = [book_row(1, Price="12,50", Title="Café"), book_row(2, Price="3,25", Title="Über", Quantity="many")]
    response = upload(client, csv_bytes(rows, delimiter=";").decode().encode("cp1252"))
    run_worker(sqlite_app)
    original = import_state(client, response.location)["id"]
    text = client.get(f"/imports/{original}/rejected.csv").get_data(as_text=True).removeprefix("\ufeff")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert lines[0] == [*HEADER, "row", "error"] and len(lines) == 2
    fixed = lines[1]
    assert (fixed[HEADER.index("Title")], fixed[HEADER.index("Price")]) == ("Über", "3,25")
    fixed[HEADER.index("Quantity")] = "4"
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";").writerows([lines[0], fixed])

    again = upload(client, buffer.getvalue().encode(), name="rejected-fixed.csv")

    run_worker(sqlite_app)
    assert (import_state(client, again.location)["created"], import_state(client, again.location)["rejected"]) == (1, 0)
    with sqlite_app.app_context():
        book = db.session.scalar(select(Book).where(Book.isbn == isbn13(2)))
        assert (book.title, str(book.price), book.quantity) == ("Über", "3.25", 4)


def test_the_grid_and_its_checks_need_the_page_s_csrf_token(redis_url, redis_client, tmp_path):
    app = build_app(f"sqlite:///{tmp_path / 'csrf.sqlite3'}", redis_url, tmp_path, WTF_CSRF_ENABLED=True)
    add_user(app, "staff@example.com")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    client.post("/login", data={"email": "staff@example.com", "password": PASSWORD, "csrf_token": token})
    # Signing in starts a new session with a new token: take it from a page of the new session.
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/imports/new").get_data(as_text=True)
    )[1]
    rows = [book_row(1), book_row(2, Price="x")]
    client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes(rows)), "b.csv"), "csrf_token": token},
                content_type="multipart/form-data")  # fmt: skip
    run_worker(app)
    html = client.get("/imports/1/fix").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    body = {"rows": [{"row": 3, "cells": book_row(2)}]}
    assert client.post("/imports/1/fix/check.json", json=body).status_code == 400
    checked = client.post("/imports/1/fix/check.json", json=body, headers={"X-CSRFToken": token})
    assert checked.status_code == 200 and checked.get_json()["rows"][0]["problems"] == []
    cells = {**cells_of(html), "r3c5": "2.00", "action": "import"}
    assert client.post("/imports/1/fix", data=cells).status_code == 400
    assert client.post("/imports/1/fix", data={**cells, "csrf_token": token}).status_code == 302
    with app.app_context():
        db.engine.dispose()


def fix_rows_4_and_7(app, client, original: int) -> int:
    """Fix rows 4 and 7 of import_with_bad_rows's import in the grid and import them; return the follow-up's id."""
    cells = cells_of(client.get(f"/imports/{original}/fix").get_data(as_text=True))
    cells[f"r4c{TYPE}"] = "Classic"
    cells[f"r7c{YEAR}"] = "1956"
    response = client.post(f"/imports/{original}/fix", data={**cells, "action": "import"})
    run_worker(app)
    return int(response.location.rsplit("/", 1)[1])


def test_undoing_an_import_says_that_the_rows_fixed_later_stay(app, staff_client):
    original = import_with_bad_rows(app, staff_client)
    follow_up = fix_rows_4_and_7(app, staff_client, original)
    stays = f"What import #{follow_up} saved of the 2 rows fixed later stays: undo that import to take it back."

    page = staff_client.get(f"/imports/{original}").get_data(as_text=True)
    asked = re.search(r'data-confirm="([^"]*)">Undo import<', page)[1]
    assert asked.startswith("Undo this import?") and asked.endswith(stays), asked
    done = staff_client.post(f"/imports/{original}/undo", follow_redirects=True).get_data(as_text=True)
    assert re.search(rf"Undone: 7 books deleted, 0 restored\. {re.escape(stays)}", done), done
    with app.app_context():
        left = set(db.session.scalars(select(Book.isbn)))
    assert left == {isbn13(3), isbn13(6)}, "the follow-up's books stay"


def test_a_price_with_a_decimal_comma_is_marked_in_the_grid_with_what_to_type(app, staff_client):
    """The import reads a file's prices with a point when its column's first prices have one, and refuses a
    12,00 in words for that column. The grid, where a person fixes one row at a time, marks the cell with
    what to type there, as read and as edited; and the follow-up reads its prices as the import did, so a
    row the grid still refuses is refused there too (its few rows would not tell how prices are written)."""
    rows = [book_row(n) for n in range(1, 6)]
    rows[3] = book_row(4, Price="12,00")  # row 5
    response = upload(staff_client, csv_bytes(rows))
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["created"], state["rejected"]) == (4, 1)

    grid = staff_client.get(f"/imports/{state['id']}/fix").get_data(as_text=True)
    assert f'id="m-5-{PRICE}">Price uses a decimal comma: write the price with a point: 12.00</span>' in grid
    cells = cells_of(grid)
    cells[f"r5c{PRICE}"] = "13,50"
    row = [cells[f"r5c{i}"] for i in range(len(HEADER))]
    checked = staff_client.post(f"/imports/{state['id']}/fix/check.json", json={"rows": [{"row": 5, "cells": row}]})
    assert [p["message"] for p in checked.get_json()["rows"][0]["problems"]] == [
        "Price uses a decimal comma: write the price with a point: 13.50"
    ]
    fixed = staff_client.post(f"/imports/{state['id']}/fix", data={**cells, "action": "import"})
    assert fixed.status_code == 302
    run_worker(app)
    follow_up = import_state(staff_client, fixed.location)
    assert (follow_up["created"], follow_up["rejected"]) == (0, 1)


def test_a_goodreads_rows_empty_text_formulas_show_as_the_blank_cells_they_are(app):
    """Goodreads writes an e-book's missing ISBN as ="" (a text formula keeping a number as text). Its rejected row
    showed ="" in both ISBN cells of the fix grid, which staff could not tell was blank; they show empty, as the
    import read them, and typing an ISBN into one imports the row."""
    from tests.test_mapping import finished, post_file

    headers = bearer(app)
    name, content = layouts.goodreads(1)
    state = finished(app, headers, post_file(app, headers, name, content,
                                             mapping=json.dumps(layouts.GOODREADS_MAPPING)))  # fmt: skip
    assert (state["created"], state["rejected"]) == (5, 1), state
    client = sign_in(app.test_client(), "staff@example.com")
    html = client.get(f"/imports/{state['id']}/fix").get_data(as_text=True)
    cells = cells_of(html)
    isbn13_at, isbn_at = (layouts.GOODREADS_HEADER.index(h) for h in ("ISBN13", "ISBN"))
    assert (cells[f"r6c{isbn13_at}"], cells[f"r6c{isbn_at}"]) == ("", "")  # book 5, row 6 of the file
    assert "=&#34;&#34;" not in html and 'value="=' not in html

    cells[f"r6c{isbn13_at}"] = layouts.isbn13_of(5)
    response = client.post(f"/imports/{state['id']}/fix", data={**cells, "action": "import", "page": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    run_worker(app)
    assert import_state(client, response.location)["created"] == 1
    with app.app_context():
        assert db.session.scalar(select(Book.title).where(Book.isbn == layouts.isbn13_of(5))) == "Dune, part 5"
