"""Who may see what: sign-in, the dashboard, the API and its tokens, the health check.

What each kind of caller gets from every route is in tests/test_access_matrix.py; this file has the
stories around it (messages, tokens revoked, the dashboard's buttons, the health check)."""

import io

import pytest
from rq import Queue

from bookapp.api import issue_token
from bookapp.extensions import db
from bookapp.models import Role, User
from tests.conftest import PASSWORD, add_user, build_app, run_worker, sign_in
from tests.helpers import book_row, csv_bytes

pytestmark = pytest.mark.security


def bearer(app, email="staff@example.com", role=Role.STAFF):
    add_user(app, email, role)
    with app.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        return {"Authorization": f"Bearer {issue_token(user)}"}


def test_a_wrong_password_is_refused_with_a_message(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    response = sqlite_app.test_client().post("/login", data={"email": "staff@example.com", "password": "nope"})
    assert response.status_code == 200 and "do not match" in response.get_data(as_text=True)


def test_staff_see_the_dashboard_and_its_post_buttons_work_from_its_own_page(sqlite_app, redis_client):
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes([book_row(1)])), "b.csv")},
                content_type="multipart/form-data")  # fmt: skip
    job_id = Queue(sqlite_app.config["IMPORT_QUEUE"], connection=redis_client).job_ids[0]
    assert client.get("/rq/").status_code == 200
    queue = sqlite_app.config["IMPORT_QUEUE"]
    assert job_id in client.get(f"/rq/0/data/jobs/{queue}/queued/8/asc/1.json").get_data(as_text=True)

    cross_site = client.post(f"/rq/job/{job_id}/delete", headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    same_site = client.post(f"/rq/job/{job_id}/delete", headers={"Origin": "http://localhost"})
    assert same_site.status_code == 200 and same_site.get_json() == {"status": "OK"}
    assert Queue(sqlite_app.config["IMPORT_QUEUE"], connection=redis_client).job_ids == []
    assert client.get(f"/rq/requeue/{queue}").status_code == 405, "state-changing GET refused"


def test_the_dashboard_never_shows_file_names_or_cell_text(sqlite_app, redis_client):
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    payload = "<script>alert(1)</script>"
    client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes([book_row(1, Title=payload)])), f"{payload}.csv")},
                content_type="multipart/form-data")  # fmt: skip
    job = Queue(sqlite_app.config["IMPORT_QUEUE"], connection=redis_client).jobs[0]
    assert payload not in job.description and payload not in str(job.meta)


def test_the_api_refuses_requests_without_a_valid_token(sqlite_app):
    client = sqlite_app.test_client()
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/books", headers=headers)
        assert response.status_code == 401
        assert response.is_json and "token" in response.get_json()["error"]["message"]


def test_a_viewer_token_reads_books_but_may_not_import_and_a_revoked_token_is_refused(sqlite_app, redis_url):
    from tests.test_processes import env_for

    headers = bearer(sqlite_app, "viewer@example.com", Role.VIEWER)
    client = sqlite_app.test_client()
    assert client.get("/api/v1/books", headers=headers).status_code == 200
    refused = client.post("/api/v1/imports", headers=headers, data={"file": (io.BytesIO(b"x"), "b.csv")})
    assert refused.status_code == 403 and "viewer" in refused.get_json()["error"]["message"]
    from tests.conftest import flask_cli

    revoked = flask_cli(["revoke-tokens", "viewer@example.com"], env_for(sqlite_app, redis_url))
    assert revoked.returncode == 0 and "Revoked 1 token(s)" in revoked.stdout
    assert client.get("/api/v1/books", headers=headers).status_code == 401


def test_the_api_imports_a_file_and_lists_the_books(app):
    headers = bearer(app)
    client = app.test_client()
    response = client.post(
        "/api/v1/imports",
        data={"file": (io.BytesIO(csv_bytes([book_row(n) for n in range(1, 6)])), "books.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 202
    created = response.get_json()
    assert created["status"] == "queued" and response.headers["Location"] == f"/api/v1/imports/{created['id']}"
    run_worker(app)
    state = client.get(response.headers["Location"], headers=headers).get_json()
    expected_keys = {"id", "status", "filename", "total_rows", "processed_rows", "created", "updated", "unchanged",
                     "rejected", "started_at", "finished_at", "error"}  # fmt: skip
    assert expected_keys <= state.keys()
    assert state["status"] == "succeeded" and state["created"] == 5
    page_client = sign_in(app.test_client(), "staff@example.com")
    assert state == page_client.get(f"/imports/{created['id']}.json").get_json()

    books = client.get("/api/v1/books?page=1&per_page=2", headers=headers).get_json()
    assert books["total"] == 5 and len(books["items"]) == 2
    assert books["items"][0]["title"] == "Book 5" and books["items"][0]["price"] == "5.05"


def test_api_errors_are_json(sqlite_app):
    headers = bearer(sqlite_app)
    client = sqlite_app.test_client()
    missing = client.get("/api/v1/imports/999", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"]["message"] == "There is no import 999."
    no_file = client.post("/api/v1/imports", headers=headers)
    assert no_file.status_code == 400 and "field 'file'" in no_file.get_json()["error"]["message"]
    bad = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                      data={"file": (io.BytesIO(b""), "empty.csv")})  # fmt: skip
    assert bad.status_code == 422 and "empty" in bad.get_json()["error"]["message"]


def test_sign_out_is_a_post_with_a_csrf_token(redis_url, redis_client, tmp_path):
    app = build_app(f"sqlite:///{tmp_path / 'csrf.sqlite3'}", redis_url, tmp_path, WTF_CSRF_ENABLED=True)
    add_user(app, "staff@example.com")
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"email": "staff@example.com", "password": PASSWORD}).status_code == 400
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/login", data={"email": "staff@example.com", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert client.post("/logout").status_code == 400  # no token: still signed in
    assert client.get("/books").status_code == 200


def test_healthz_reports_each_service(sqlite_app, redis_url, tmp_path):
    response = sqlite_app.test_client().get("/healthz")
    assert response.status_code == 503, "no worker is running"
    assert response.get_json() == {"database": "ok", "redis": "ok", "workers": 0}

    down = build_app(f"sqlite:///{tmp_path / 'h.sqlite3'}", "redis://127.0.0.1:1/0", tmp_path)
    response = down.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["redis"] == "unavailable"


def test_an_upload_while_redis_is_down_is_still_recorded_as_queued(redis_url, redis_client, tmp_path):
    app = build_app(f"sqlite:///{tmp_path / 'down.sqlite3'}", "redis://127.0.0.1:1/0", tmp_path)
    add_user(app, "staff@example.com")
    client = sign_in(app.test_client(), "staff@example.com")
    response = client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes([book_row(1)])), "b.csv")},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 302
    assert client.get(response.location + ".json").get_json()["status"] == "queued"


def test_sign_in_attempts_are_rate_limited(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    client = sqlite_app.test_client()
    # Each attempt names another email: one email has its own, lower limit (tests/test_sign_in.py).
    answers = [client.post("/login", data={"email": f"person{n}@example.com", "password": "wrong"}).status_code
               for n in range(11)]  # fmt: skip
    assert answers[:10] == [200] * 10 and answers[10] == 429
    page = client.post("/login", data={"email": "staff@example.com", "password": PASSWORD})
    assert page.status_code == 429 and "Too many failed sign-in attempts" in page.get_data(as_text=True)


def test_error_pages_are_friendly_html_for_pages_and_json_for_the_api(sqlite_app):
    client = sqlite_app.test_client()
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "<h1>Not Found</h1>" in missing.get_data(as_text=True)
    assert "Traceback" not in missing.get_data(as_text=True)
    api = client.get("/api/v1/no/such/thing")
    assert api.status_code == 404 and api.is_json


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    from bookapp import create_app

    monkeypatch.setenv("BOOKAPP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app(instance_path=str(tmp_path))


def test_pages_send_a_content_security_policy_without_inline_scripts(sqlite_app):
    response = sqlite_app.test_client().get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<script>" not in response.get_data(as_text=True)


def test_the_book_list_can_be_opened_to_anonymous_readers(sqlite_app):
    client = sqlite_app.test_client()
    assert client.get("/books").status_code == 302
    sqlite_app.config["PUBLIC_BOOKS"] = True
    page = client.get("/books")
    assert page.status_code == 200 and "Sign in" in page.get_data(as_text=True)
    assert "Upload" not in page.get_data(as_text=True)
    assert client.get("/imports/new").status_code == 302 and client.get("/rq/").status_code == 302


def test_an_unexpected_error_reaches_rq_without_any_cell_text(sqlite_app, redis_client, monkeypatch):
    from rq.job import Job

    from bookapp.services import saving

    payload = "<script>alert('cell')</script>"

    def broken(self, rows):
        raise ValueError(f"something about {rows[0].title}")

    monkeypatch.setattr(saving.BookWriter, "write", broken)
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    response = client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes([book_row(1, Title=payload)])), "b.csv")},
                           content_type="multipart/form-data")  # fmt: skip
    run_worker(sqlite_app)
    state = client.get(response.location + ".json").get_json()
    assert state["status"] == "failed" and "unexpected error" in state["error"] and payload not in state["error"]
    job = Job.fetch(f"import-{state['id']}-0", connection=redis_client)
    assert job.get_status() == "failed"
    assert "ImportCrashed" in job.latest_result().exc_string and payload not in job.latest_result().exc_string
