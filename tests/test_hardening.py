"""What a local user, a careless setting or a hostile file could get at: file permissions, the production
secret key and HTTPS, odd upload names, values of the wrong type, tokens that end, rows too wide to keep."""

import io
import json
import os
import secrets
import stat
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bookapp import create_app
from bookapp.extensions import db
from bookapp.models import ApiToken, RejectedRow, Role, utcnow
from bookapp.services.problems import STORED_ROW_BYTES, STORED_ROW_CELLS, capped_cells
from tests.conftest import add_user, build_app, run_worker, sign_in
from tests.helpers import HEADER, book_row, csv_bytes
from tests.test_access import bearer
from tests.test_imports import upload

pytestmark = pytest.mark.security


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_instance_folder_database_and_uploads_are_for_this_user_alone(redis_url, redis_client, tmp_path):
    old_umask = os.umask(0o022)  # what most systems give: new files readable by every local user
    try:
        instance = tmp_path / "instance"
        database = instance / "bookapp.sqlite3"
        app = build_app(f"sqlite:///{database}", redis_url, tmp_path)
        add_user(app, "staff@example.com")
        client = sign_in(app.test_client(), "staff@example.com")
        assert upload(client, csv_bytes([book_row(1)])).status_code == 302
    finally:
        os.umask(old_umask)
    assert mode_of(instance) == 0o700
    for path in [database, *instance.glob("bookapp.sqlite3-*")]:
        assert mode_of(path) == 0o600, path.name
    uploads = tmp_path / "uploads"
    assert mode_of(uploads) == 0o700
    stored = list(uploads.iterdir())
    assert stored and all(mode_of(path) == 0o600 for path in stored)


def test_the_embedded_queues_folder_and_the_instance_folder_it_makes_first_are_for_this_user_alone(tmp_path):
    """`make run` starts the embedded Redis before the app makes its instance folder: the queue's data
    (what imports were given) is not readable by other local users either."""
    from bookapp.embedded_redis import EmbeddedRedis, free_port

    old_umask = os.umask(0o022)
    try:
        server = EmbeddedRedis(tmp_path / "instance" / "redis", port=free_port()).start()
        server.stop()
    finally:
        os.umask(old_umask)
    assert mode_of(tmp_path / "instance") == 0o700 and mode_of(tmp_path / "instance" / "redis") == 0o700


@pytest.mark.parametrize("key", ["x", "k" * 64, "0123456789abcdef" * 4, "please-change-me-to-a-long-random-key"])
def test_production_refuses_a_weak_secret_key(key, tmp_path, monkeypatch, redis_url):
    monkeypatch.setenv("BOOKAPP_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY is too weak for production"):
        create_app({"SECRET_KEY": key, "REDIS_URL": redis_url}, instance_path=str(tmp_path))


def production_app(tmp_path, redis_url, **config):
    return create_app({"SECRET_KEY": secrets.token_hex(32), "REDIS_URL": redis_url, "TESTING": True,
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}", **config},
                      instance_path=str(tmp_path / "instance"))  # fmt: skip


def test_production_takes_a_random_key_and_tells_browsers_to_use_https_only(tmp_path, monkeypatch, redis_url):
    monkeypatch.setenv("BOOKAPP_ENV", "production")
    response = production_app(tmp_path, redis_url).test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    monkeypatch.setenv("BOOKAPP_HSTS_SECONDS", "0")  # the proxy sends its own
    assert "Strict-Transport-Security" not in production_app(tmp_path, redis_url).test_client().get("/login").headers


def test_development_sends_no_hsts(sqlite_app):
    assert "Strict-Transport-Security" not in sqlite_app.test_client().get("/login").headers


def test_an_upload_name_with_control_characters_is_stored_without_them(app, staff_client):
    for sent, stored in [("books\x00.csv", "books.csv"), ("../../etc/shop\t.csv", "shop.csv"),
                         ("\u202egnp.csv", "gnp.csv")]:  # fmt: skip
        response = upload(staff_client, csv_bytes([book_row(1)]), name=sent, allow_repeat="1")
        assert response.status_code == 302, response.get_data(as_text=True)
        assert staff_client.get(response.location + ".json").get_json()["filename"] == stored
        assert staff_client.get("/imports").status_code == 200
    nameless = upload(staff_client, csv_bytes([book_row(1)]), name="\x00")
    assert (
        nameless.status_code == 400
        and "Upload a .csv, .tsv, .txt, .xlsx, .xls, .xlsb or .ods file." in nameless.get_data(as_text=True)
    )


def test_the_api_refuses_values_of_the_wrong_type_instead_of_writing_their_python_text(sqlite_app):
    headers = bearer(sqlite_app)
    client = sqlite_app.test_client()
    book = {"title": "Dune", "author": "Frank Herbert", "book_type": "Classic", "isbn": "0-441-17271-7",
            "year_published": 1965, "price": 9.99, "quantity": "3"}  # fmt: skip
    wrong = {"title": ["a"], "author": {"name": "Frank"}, "book_type": 1, "isbn": 9780441172719,
             "quantity": True, "price": [9.99], "description": False}  # fmt: skip
    for name, value in wrong.items():
        response = client.post("/api/v1/books", headers=headers, json={**book, name: value})
        assert response.status_code == 422, (name, response.get_json())
        assert list(response.get_json()["error"]["fields"]) == [name]
    assert client.get("/api/v1/books", headers=headers).get_json()["total"] == 0
    created = client.post("/api/v1/books", headers=headers, json=book)
    assert created.status_code == 201, "numbers where numbers belong are fine"
    patched = client.patch(created.headers["Location"], headers=headers, json={"title": ["a"]})
    assert patched.status_code == 422 and "Title must be text, not a list" in patched.get_json()["error"]["message"]
    assert client.get(created.headers["Location"], headers=headers).get_json()["title"] == "Dune"


def test_api_tokens_may_expire_and_are_listed(sqlite_app, monkeypatch):
    from bookapp.api import tokens

    add_user(sqlite_app, "staff@example.com")
    runner = sqlite_app.test_cli_runner()
    made = runner.invoke(args=["create-token", "staff@example.com", "--expires-days", "7"])
    assert made.exit_code == 0 and "expires in 7 day(s)" in made.output
    expiring = {"Authorization": f"Bearer {made.output.split()[-1]}"}
    lasting_token = runner.invoke(args=["create-token", "staff@example.com"]).output.split()[-1]
    lasting = {"Authorization": f"Bearer {lasting_token}"}
    client = sqlite_app.test_client()
    assert client.get("/api/v1/books", headers=expiring).status_code == 200
    assert runner.invoke(args=["create-token", "staff@example.com", "--expires-days", "0"]).exit_code != 0

    eight_days_on = utcnow() + timedelta(days=8)
    monkeypatch.setattr(tokens, "utcnow", lambda: eight_days_on)
    refused = client.get("/api/v1/books", headers=expiring)
    assert refused.status_code == 401 and "expired" in refused.get_json()["error"]["message"]
    assert client.get("/api/v1/books", headers=lasting).status_code == 200

    import bookapp.models

    monkeypatch.setattr(bookapp.models, "utcnow", lambda: eight_days_on)
    listed = runner.invoke(args=["list-tokens", "staff@example.com"]).output.splitlines()
    assert len(listed) == 2
    assert "expired" in listed[0] and "active, never expires" in listed[1], listed
    with sqlite_app.app_context():
        assert db.session.scalar(select(ApiToken.expires_at).where(ApiToken.id == 1)) is not None


def test_list_tokens_says_when_a_user_has_none(sqlite_app):
    add_user(sqlite_app, "viewer@example.com", Role.VIEWER)
    listed = sqlite_app.test_cli_runner().invoke(args=["list-tokens", "viewer@example.com"])
    assert listed.exit_code == 0 and "has no API tokens" in listed.output


#: Cells in the hostile row: past what a sheet holds (16,384 columns) and past what a column letter
#: can name (18,278); a row with more cells than the header is rejected as ragged.
WIDE_CELLS = 20_000


def test_a_row_of_twenty_thousand_cells_is_kept_in_part_and_every_download_works(app, staff_client):
    row = book_row(2) + [f"cell {n}" for n in range(WIDE_CELLS - len(HEADER))]
    response = upload(staff_client, csv_bytes([book_row(1), row, book_row(3, Price="free")]))
    assert response.status_code == 302
    run_worker(app)
    state = staff_client.get(response.location + ".json").get_json()
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 1, 2)
    with app.app_context():
        stored = db.session.scalars(select(RejectedRow.cells).where(RejectedRow.import_id == state["id"])).all()
    assert sorted(map(len, stored)) == [len(HEADER), STORED_ROW_CELLS]
    note = f"only its first {STORED_ROW_CELLS:,} of {WIDE_CELLS:,} cells are kept"
    assert_downloads_work(staff_client, response.location, note)


def assert_downloads_work(client, location: str, note: str) -> None:
    as_csv = client.get(location + "/rejected.csv")
    assert as_csv.status_code == 200
    lines = as_csv.get_data(as_text=True).splitlines()
    assert len(lines) == 3 and note in lines[1] and "Price" in lines[2]
    as_xlsx = client.get(location + "/rejected.xlsx")
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.data), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    error = rows[0].index("error")  # after the header's columns; a long row's other cells come after it
    assert len(rows) == 3 and note in rows[1][error] and rows[2][0] == "Book 3"
    assert client.get(location).status_code == 200
    for report in ("report.csv", "report.xlsx"):
        assert client.get(f"{location}/{report}").status_code == 200


def test_a_row_stored_whole_by_an_earlier_release_still_downloads(app, staff_client):
    """Rows were stored whole before they were capped: a download cuts such a row as a new one would be."""
    response = upload(staff_client, csv_bytes([book_row(1), book_row(2, Price="free")]))
    run_worker(app)
    with app.app_context():
        row = db.session.scalars(select(RejectedRow)).one()
        row.cells = [*row.cells, *(f"cell {n}" for n in range(WIDE_CELLS))]
        db.session.commit()
    note = f"only its first {STORED_ROW_CELLS:,} of {WIDE_CELLS + len(HEADER):,} cells are kept"
    as_xlsx = staff_client.get(response.location + "/rejected.xlsx")
    assert as_xlsx.status_code == 200
    rows = list(load_workbook(io.BytesIO(as_xlsx.data), read_only=True).active.iter_rows(values_only=True))
    assert rows[1][0] == "Book 2" and note in rows[1][rows[0].index("error")]
    assert note in staff_client.get(response.location + "/rejected.csv").get_data(as_text=True)
    assert staff_client.get(response.location).status_code == 200


def test_a_rejected_row_keeps_at_most_a_million_bytes_of_text_and_says_so():
    cells = ["a" * 600_000, "\N{GRINNING FACE}" * 100_000, 12.5, "b" * 10, None]
    kept, note = capped_cells(cells)
    assert len(json.dumps(kept)) <= STORED_ROW_BYTES + 10 * len(kept)
    assert kept[0] == cells[0] and 0 < len(kept[1]) < 100_000 and kept[2] == 12.5 and kept[4] is None
    assert note == "This row is too large to keep whole: its text is cut to 1,000 KB"
    assert capped_cells(kept) == (kept, None), "a row kept in part is kept as it is"
    assert capped_cells(["x"] * 10) == (["x"] * 10, None)


def test_a_sheet_leaves_out_cells_past_its_last_column():
    from bookapp.services.spreadsheet import MAX_SHEET_COLUMNS, xlsx_chunks

    workbook = b"".join(xlsx_chunks(["first"], [[f"cell {n}" for n in range(WIDE_CELLS)]]))
    row = next(load_workbook(io.BytesIO(workbook)).active.iter_rows(min_row=2, values_only=True))
    assert len(row) == MAX_SHEET_COLUMNS and row[-1] == f"cell {MAX_SHEET_COLUMNS - 1}"
