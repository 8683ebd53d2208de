"""An import reads the columns its first read met, to its end: a confirm, a resume, its reports and fix grid
never match its header anew, whatever a later release's header names say."""

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update

from bookapp.extensions import db
from bookapp.importer import headers as header_names
from bookapp.models import Book, Import
from tests.conftest import after_chunk_saved, run_worker, sign_in
from tests.helpers import HEADER, book_row, csv_bytes, isbn13
from tests.test_access import bearer
from tests.test_api import post_file

#: A shop's list: what it sells a book at (Price) and the publisher's price beside it (List price).
SHOP_HEADER = [*HEADER, "List price"]


def shop_row(n: int, **overrides) -> list[str]:
    return [*book_row(n, **{"Price": f"{10 + n}.00", **overrides}), "99.00"]


def take_list_price_first(monkeypatch) -> None:
    """Stand for an upgrade whose header names differ: a release that takes "List price" as the plainer
    name for the price, so that of Price and List price, List price would be read."""
    monkeypatch.setitem(header_names._RANK, header_names.normalise_header("List price"), -1)


@pytest.fixture
def list_price_plainer(monkeypatch):
    return lambda: take_list_price_first(monkeypatch)


def prices(app) -> dict[str, Decimal]:
    with app.app_context():
        return {isbn: price for isbn, price in db.session.execute(select(Book.isbn, Book.price))}


def test_a_dry_run_confirmed_after_an_upgrade_imports_the_columns_it_previewed(app, list_price_plainer):
    headers = bearer(app)
    client = app.test_client()
    rows = [shop_row(n) for n in range(1, 6)] + [shop_row(6, Price="n/a")]
    dry = post_file(client, headers, csv_bytes(rows, header=SHOP_HEADER), dry_run="true")
    run_worker(app)
    previewed = client.get(dry.headers["Location"], headers=headers).get_json()
    assert (previewed["status"], previewed["created"], previewed["rejected"]) == ("succeeded", 5, 1)
    assert previewed["mapping"] is None, "no mapping was given: the header's names said"
    assert previewed["columns_read"]["columns"]["price"] == "Price"
    assert previewed["ignored_columns"] == ["List price"]

    list_price_plainer()
    confirmed = client.post(dry.headers["Location"] + "/confirm", headers=headers)
    assert confirmed.status_code == 202
    run_worker(app)
    state = client.get(confirmed.headers["Location"], headers=headers).get_json()
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 5, 1), "row 7 rejected, as previewed"
    assert state["mapping"] is None and state["columns_read"] == previewed["columns_read"]
    assert state["ignored_columns"] == ["List price"]
    assert prices(app) == {isbn13(n): Decimal(f"{10 + n}.00") for n in range(1, 6)}, "from Price, as previewed"

    # The fix grid's check and the per-row report read the confirmed import's columns too.
    check = client.post(confirmed.headers["Location"] + "/validate-row", headers=headers,
                        json={"cells": shop_row(6, Price="n/a"), "row": 7})  # fmt: skip
    assert check.status_code == 200 and not check.get_json()["valid"]
    assert list(check.get_json()["columns"]) == ["Price"]
    report = client.get(confirmed.headers["Location"] + "/report.csv", headers=headers).get_data(as_text=True)
    lines = list(csv.reader(io.StringIO(report.lstrip("\ufeff"))))[1:]
    assert [(r[0], r[1]) for r in lines] == [(str(n + 1), "created") for n in range(1, 6)] + [("7", "rejected")]

    # Match columns and import again opens with the columns the import read, not as the header now reads.
    staff = sign_in(app.test_client(), "staff@example.com")
    rematched = staff.post(confirmed.headers["Location"].replace("/api/v1", "") + "/rematch")
    assert rematched.status_code == 302
    waiting = staff.get(rematched.location.removesuffix("/columns") + ".json").get_json()
    assert waiting["status"] == "needs_mapping" and waiting["mapping"]["columns"]["price"] == "Price"
    page = staff.get(rematched.location).get_data(as_text=True)
    assert 'value="Price" selected' in page and 'value="List price" selected' not in page


def stopped_after(app, staff_client, rows: list[list[str]], chunks: int) -> str:
    """Upload *rows* as a shop's list and run its import in chunks of 3 until *chunks* are committed (a
    stop between chunks, as a lost worker leaves it); return its page's address."""
    app.config["IMPORT_CHUNK_SIZE"] = 3
    response = staff_client.post("/imports/new", content_type="multipart/form-data", data={
        "file": (io.BytesIO(csv_bytes(rows, header=SHOP_HEADER)), "shop.csv")})  # fmt: skip

    def stop(cursor):  # the run stops at its next check, after this chunk's commit
        stopping = cursor.connection.cursor()
        stopping.execute("UPDATE imports SET cancel_requested = TRUE")
        stopping.close()

    with after_chunk_saved(app, stop, nth=chunks):
        run_worker(app)
    assert staff_client.get(response.location + ".json").get_json()["processed_rows"] == 3 * chunks
    return response.location


def test_an_import_resumed_after_an_upgrade_reads_the_rest_with_the_columns_of_its_first_chunks(
    app, staff_client, list_price_plainer
):
    location = stopped_after(app, staff_client, [shop_row(n) for n in range(1, 11)], chunks=2)
    list_price_plainer()
    staff_client.post(location + "/retry")
    run_worker(app)
    state = staff_client.get(location + ".json").get_json()
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 10, 0)
    assert prices(app) == {isbn13(n): Decimal(f"{10 + n}.00") for n in range(1, 11)}, "every price from Price"


def started_by_an_earlier_release(app, staff_client, rows: list[list[str]]) -> str:
    """Run an import of *rows* to its first chunk of 3 and leave it as a release that recorded no columns
    would have: columns_read empty. Return its page's address."""
    location = stopped_after(app, staff_client, rows, chunks=1)
    with app.app_context():
        db.session.execute(update(Import).values(columns_read=None))
        db.session.commit()
    return location


def test_an_import_an_earlier_release_started_resumes_only_if_it_leaves_aside_the_same_columns(
    app, staff_client, list_price_plainer
):
    same = started_by_an_earlier_release(app, staff_client, [shop_row(n) for n in range(1, 8)])
    staff_client.post(same + "/retry")
    run_worker(app)
    state = staff_client.get(same + ".json").get_json()
    assert (state["status"], state["created"]) == ("succeeded", 7)
    assert state["columns_read"]["columns"]["price"] == "Price", "recorded at the resume"

    with app.app_context():
        db.session.execute(delete(Book))
        db.session.commit()
    other = started_by_an_earlier_release(app, staff_client, [shop_row(n) for n in range(11, 18)])
    list_price_plainer()
    staff_client.post(other + "/retry")
    run_worker(app)
    state = staff_client.get(other + ".json").get_json()
    assert state["status"] == "failed" and state["file_problem"]
    assert "earlier release" in state["error"] and "'List price'" in state["error"] and "'Price'" in state["error"]
    assert state["created"] == 3 and state["columns_read"] is None
    assert prices(app) == {isbn13(n): Decimal(f"{10 + n}.00") for n in range(11, 14)}, "its first 3 rows kept"
    assert "Match columns and import again" in staff_client.get(other).get_data(as_text=True)


def test_a_dry_run_an_earlier_release_previewed_asks_to_be_previewed_again(app, staff_client):
    headers = bearer(app, "api@example.com")
    client = app.test_client()
    dry = post_file(client, headers, csv_bytes([shop_row(n) for n in range(1, 4)], header=SHOP_HEADER), dry_run="true")
    run_worker(app)
    with app.app_context():
        db.session.execute(update(Import).values(columns_read=None))
        db.session.commit()

    refused = client.post(dry.headers["Location"] + "/confirm", headers=headers)
    assert refused.status_code == 409
    assert "Preview it again" in refused.get_json()["error"]["message"]
    location = dry.headers["Location"].replace("/api/v1", "")
    page = staff_client.get(location).get_data(as_text=True)
    assert 'data-note="preview-again"' in page and "Confirm import" not in page
    assert "Match columns and check again" in page and "Match columns and import again" not in page
    flashed = staff_client.post(location + "/confirm", follow_redirects=True).get_data(as_text=True)
    assert "Preview it again" in flashed
    rematched = staff_client.post(location + "/rematch")
    assert rematched.status_code == 302 and "/columns" in rematched.location
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Import).where(Import.dry_run.is_(False))) == 0


def test_a_header_read_otherwise_than_the_recorded_columns_fails_the_import_saying_so(app, staff_client):
    """Should a later release take another row or sheet as the header (its choice weighs the header names
    too), the recorded columns are not there: the import stops saying so, never reads other columns."""
    location = stopped_after(app, staff_client, [shop_row(n) for n in range(1, 8)], chunks=1)
    with app.app_context():
        imp = db.session.scalars(select(Import)).one()
        imp.columns_read = {**imp.columns_read, "columns": {**imp.columns_read["columns"], "price": "Cost"}}
        db.session.commit()
    staff_client.post(location + "/retry")
    run_worker(app)
    state = staff_client.get(location + ".json").get_json()
    assert state["status"] == "failed" and state["created"] == 3
    assert "no longer has the columns import" in state["error"] and "'Cost'" in state["error"]
    assert prices(app) == {isbn13(n): Decimal(f"{10 + n}.00") for n in range(1, 4)}
