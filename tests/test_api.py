"""The JSON API covers what the pages do: imports (options, list, cancel, retry, confirm, undo, reports), books CRUD."""

import io

from tests.conftest import run_worker
from tests.helpers import book_row, csv_bytes, isbn13
from tests.test_access import bearer


def post_file(client, headers, content: bytes, **form):
    return client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(content), "books.csv"), **form})  # fmt: skip


def test_dry_run_confirm_undo_and_reports_through_the_api(app):
    headers = bearer(app)
    client = app.test_client()
    rows = [book_row(n) for n in range(1, 6)] + [book_row(6, Price="x")]
    dry = post_file(client, headers, csv_bytes(rows), dry_run="true")
    assert dry.status_code == 202 and dry.get_json()["dry_run"] is True
    run_worker(app)
    confirmed = client.post(dry.headers["Location"] + "/confirm", headers=headers)
    assert confirmed.status_code == 202 and confirmed.headers["Location"] != dry.headers["Location"]
    run_worker(app)
    state = client.get(confirmed.headers["Location"], headers=headers).get_json()
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 5, 1)

    rejected = client.get(confirmed.headers["Location"] + "/rejected", headers=headers).get_json()
    assert rejected["total"] == 1 and rejected["items"][0]["row"] == 7 and rejected["items"][0]["column"] == "Price"
    assert client.get(confirmed.headers["Location"] + "/rejected.csv", headers=headers).status_code == 200
    report = client.get(confirmed.headers["Location"] + "/report.csv", headers=headers).get_data(as_text=True)
    assert report.count("created") == 5 and "rejected" in report

    listed = client.get("/api/v1/imports?status=succeeded", headers=headers).get_json()
    assert listed["total"] == 2
    undone = client.post(confirmed.headers["Location"] + "/undo", headers=headers)
    assert undone.status_code == 200 and undone.get_json()["undo_report"]["deleted"] == 5
    again = client.post(confirmed.headers["Location"] + "/undo", headers=headers)
    assert again.status_code == 409 and "already undone" in again.get_json()["error"]["message"]
    assert client.get("/api/v1/books", headers=headers).get_json()["total"] == 0


def test_the_repeated_file_warning_through_the_api(app):
    headers = bearer(app)
    client = app.test_client()
    content = csv_bytes([book_row(1)])
    first = post_file(client, headers, content)
    repeated = post_file(client, headers, content)
    assert repeated.status_code == 409
    body = repeated.get_json()
    assert body["previous_import"]["id"] == first.get_json()["id"]
    # Not imported yet (no worker has run it): said so, not that its books are stored.
    said = body["error"]["message"]
    assert said.startswith("This file is being imported: it was uploaded on") and "staff@example.com" in said, said
    assert post_file(client, headers, content, allow_repeat="true").status_code == 202


def test_cancel_and_retry_through_the_api(app):
    headers = bearer(app)
    client = app.test_client()
    location = post_file(client, headers, csv_bytes([book_row(1)])).headers["Location"]
    assert client.post(location + "/cancel", headers=headers).get_json()["status"] == "cancelled"
    assert client.post(location + "/cancel", headers=headers).status_code == 409
    assert client.post(location + "/retry", headers=headers).get_json()["status"] == "queued"
    run_worker(app)
    assert client.get(location, headers=headers).get_json()["status"] == "succeeded"


def test_books_crud_with_the_importer_rules(app):
    headers = bearer(app)
    client = app.test_client()
    book = {"title": "Dune", "author": "Frank Herbert", "book_type": "classic", "isbn": "0-441-17271-7",
            "year_published": 1965, "price": "9.99", "quantity": 3}  # fmt: skip
    created = client.post("/api/v1/books", headers=headers, json=book)
    assert created.status_code == 201
    body = created.get_json()
    assert (body["isbn"], body["book_type"], body["price"], body["no_of_pages"]) == (
        "9780441172719",
        "Classic",
        "9.99",
        None,
    )
    location = created.headers["Location"]
    bad = client.patch(location, headers=headers, json={"price": "-1", "quantity": "lots"})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"price", "quantity"}
    patched = client.patch(location, headers=headers, json={"quantity": 10})
    assert patched.get_json()["quantity"] == 10 and patched.get_json()["title"] == "Dune"
    duplicate = client.post("/api/v1/books", headers=headers, json={**book, "isbn": isbn13(1)})
    assert duplicate.status_code == 201
    clash = client.put(duplicate.headers["Location"], headers=headers, json=book)
    assert clash.status_code == 422 and "belongs to another book" in clash.get_json()["error"]["fields"]["isbn"]
    found = client.get("/api/v1/books?q=herbert&sort=title&direction=asc", headers=headers).get_json()
    assert [b["title"] for b in found["items"]] == ["Dune", "Dune"]
    assert client.delete(location, headers=headers).status_code == 204
    assert client.get(location, headers=headers).status_code == 404
