"""A file refused on the upload page as imported before is imported again by one button: the server kept
it, so the person does not choose it again; the button works once, for its uploader, for a bounded time."""

import os
import re
import time
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import select

from bookapp.extensions import db
from bookapp.models import Book, Import
from bookapp.services.reconcile import reconcile
from tests import layouts
from tests.conftest import PASSWORD, add_user, run_worker, sign_in
from tests.helpers import book_row, csv_bytes, isbn13
from tests.test_access_matrix import csrf_app  # noqa: F401  (an app that checks CSRF tokens, as production does)
from tests.test_imports import import_state, upload
from tests.test_matching import text_of

GONE = "That file is no longer kept"


class _UploadForm(HTMLParser):
    """What a browser sends for the upload form when "Import it again" is pressed: the form's own inputs
    and those that name it (form="upload-form"), radios and boxes only when ticked, no file; and where the
    button sends them."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self.action: str | None = None
        self._inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._inside = attrs.get("id") == "upload-form"
        ours = self._inside or attrs.get("form") == "upload-form"
        if tag == "button" and ours and "formaction" in attrs:
            self.action = attrs["formaction"]
        if tag != "input" or not ours or not attrs.get("name") or attrs.get("type") == "file":
            return
        if attrs.get("type") in ("radio", "checkbox") and "checked" not in attrs:
            return
        self.fields[attrs["name"]] = attrs.get("value") or ("y" if attrs.get("type") == "checkbox" else "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


def again_form(response, **ticked) -> dict:
    """The fields the page's "Import it again" button sends (no file among them), with *ticked* changed
    on the page before pressing it (a value of None unticks)."""
    reader = _UploadForm()
    reader.feed(response.get_data(as_text=True))
    assert reader.action == "/imports/new/again", "no Import it again button for the upload form"
    fields = {**reader.fields, **ticked}
    return {name: value for name, value in fields.items() if value is not None}


def imports(app) -> list[Import]:
    with app.app_context():
        found = db.session.scalars(select(Import).order_by(Import.id)).all()
        db.session.expunge_all()
        return found


def files_in(folder: Path) -> set[str]:
    """Every file under the upload folder, as a path relative to it."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def refused_again(app, client, content: bytes, **form):
    response = upload(client, content, **form)
    assert response.status_code == 409, response.get_data(as_text=True)
    return response


def test_a_refused_repeat_is_imported_again_with_its_options_and_no_second_upload(csrf_app):  # noqa: F811
    app = csrf_app
    add_user(app, "staff@example.com")
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    client.post("/login", data={"email": "staff@example.com", "password": PASSWORD, "csrf_token": token})
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/imports/new").text).group(1)
    content = csv_bytes([book_row(1, Quantity="3"), book_row(2, Quantity="4")])
    first = upload(client, content, csrf_token=csrf)
    assert first.status_code == 302
    run_worker(app)

    again = upload(client, content, name="stock again.csv", csrf_token=csrf, mode="add_stock", all_or_nothing="y")
    assert again.status_code == 409
    said = text_of(again)
    assert "This file was imported on" in said and "press Import it again" in said
    assert "with the options ticked below" in said and "no need to choose it again" in said
    assert "Choose another file" in said and 'id="upload-form"' in again.text  # the other way stays
    fields = again_form(again)
    assert fields["mode"] == "add_stock" and fields["all_or_nothing"] == "y", "the form shows what was chosen"
    assert len(fields["token"]) >= 40 and "/" not in fields["token"] and "." not in fields["token"]
    assert len(imports(app)) == 1

    imported = client.post("/imports/new/again", data=fields)  # the button: the file is not sent again
    assert imported.status_code == 302 and re.fullmatch(r"/imports/\d+", imported.location), imported.location
    state = import_state(client, imported.location)
    assert state["filename"] == "stock again.csv" and state["status"] == "queued"
    assert (state["mode"], state["all_or_nothing"], state["dry_run"]) == ("add_stock", True, False)
    run_worker(app)
    assert import_state(client, imported.location)["created"] == 0
    with app.app_context():
        assert db.session.scalar(select(Book.quantity).where(Book.isbn == isbn13(1))) == 6, "3 + 3: added to stock"

    # Nothing is left behind but the files the two imports read (the second kept under its own name).
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert files_in(folder) == {imp.stored_name for imp in imports(app)}
    assert len(files_in(folder)) == 2

    used = client.post("/imports/new/again", data=fields)  # pressed again (back button, second tab)
    assert used.status_code == 302 and used.location == "/imports/new"
    assert GONE in text_of(client.get(used.location))
    assert len(imports(app)) == 2


def test_a_forged_used_or_someone_elses_token_imports_nothing_and_says_why(app, staff_client):
    content = csv_bytes([book_row(1)])
    upload(staff_client, content)
    run_worker(app)
    fields = again_form(refused_again(app, staff_client, content))

    add_user(app, "other@example.com")
    other = sign_in(app.test_client(), "other@example.com")
    for client, data in [
        (staff_client, {"token": "A" * 43}),  # forged
        (staff_client, {"token": "../../" + Path(app.config["UPLOAD_FOLDER"]).name}),
        (staff_client, {}),  # no token at all
        (other, fields),  # another user's: refused, and left for its owner
    ]:
        response = client.post("/imports/new/again", data=data, follow_redirects=True)
        assert response.status_code == 200 and response.request.path == "/imports/new", data
        said = text_of(response)
        assert f"{GONE}: it was imported already, replaced by a file refused later, or kept more than 60" in said
        assert "minutes, so nothing was imported. Choose the file again to import it." in said
    assert len(imports(app)) == 1

    assert staff_client.post("/imports/new/again", data=fields).status_code == 302  # its owner's still works
    reused = staff_client.post("/imports/new/again", data=fields, follow_redirects=True)
    assert reused.status_code == 200 and GONE in text_of(reused)
    assert len(imports(app)) == 2


def test_import_it_again_takes_the_options_ticked_when_it_is_pressed(app, staff_client):
    """The refused upload asked for all or nothing; before pressing the button the person ticks Add to stock
    and Dry run and unticks all or nothing: that is what runs, not what the refused upload asked."""
    content = csv_bytes([book_row(1, Quantity="3")])
    upload(staff_client, content)
    run_worker(app)
    refused = refused_again(app, staff_client, content, all_or_nothing="y")
    fields = again_form(refused, mode="add_stock", dry_run="y", all_or_nothing=None)
    imported = staff_client.post("/imports/new/again", data=fields)
    assert imported.status_code == 302, text_of(staff_client.get("/imports/new"))
    state = import_state(staff_client, imported.location)
    assert (state["mode"], state["dry_run"], state["all_or_nothing"]) == ("add_stock", True, False)


def test_a_file_chosen_before_pressing_import_it_again_is_not_thrown_away_unsaid(app, staff_client):
    """Without the page's script the button also sends a file chosen meanwhile, which it would not read:
    nothing is imported, the page says which file to upload how, and the kept file still waits."""
    import io

    content = csv_bytes([book_row(1)])
    upload(staff_client, content)
    run_worker(app)
    fields = again_form(refused_again(app, staff_client, content))
    corrected = {**fields, "file": (io.BytesIO(csv_bytes([book_row(2)])), "corrected.csv")}
    sent = staff_client.post("/imports/new/again", data=corrected, content_type="multipart/form-data")
    assert sent.status_code == 302 and sent.location == "/imports/new"
    said = text_of(staff_client.get(sent.location))
    assert "Nothing was imported: you chose corrected.csv, which Import it again does not read" in said
    assert len(imports(app)) == 1
    assert staff_client.post("/imports/new/again", data=fields).status_code == 302  # the kept one still imports
    assert len(imports(app)) == 2


def test_a_kept_file_goes_when_imported_replaced_or_abandoned(app, staff_client):
    folder = Path(app.config["UPLOAD_FOLDER"])
    kept = folder / "repeated"
    content = csv_bytes([book_row(1)])
    upload(staff_client, content)
    other_content = csv_bytes([book_row(2)])
    upload(staff_client, other_content)
    run_worker(app)

    first = again_form(refused_again(app, staff_client, content))
    assert len(files_in(kept)) == 2  # the file and what was chosen for it
    # The same user has another file refused: it replaces the first, whose button then says so.
    second = again_form(refused_again(app, staff_client, other_content))
    assert len(files_in(kept)) == 2
    assert GONE in text_of(staff_client.post("/imports/new/again", data=first, follow_redirects=True))
    assert len(imports(app)) == 2

    # Abandoned: past BOOKAPP_REPEAT_KEEP_MINUTES the reconcile round every worker runs deletes it.
    hour_ago = time.time() - 61 * 60
    for path in kept.iterdir():
        os.utime(path, (hour_ago, hour_ago))
    with app.app_context():
        assert reconcile()["kept_uploads_deleted"] == 2
    assert files_in(kept) == set()
    assert GONE in text_of(staff_client.post("/imports/new/again", data=second, follow_redirects=True))
    assert len(imports(app)) == 2
    assert files_in(folder) == {imp.stored_name for imp in imports(app)}


def test_a_kept_file_past_its_time_is_refused_even_before_a_sweep(app, staff_client):
    content = csv_bytes([book_row(1)])
    upload(staff_client, content)
    run_worker(app)
    fields = again_form(refused_again(app, staff_client, content))
    hour_ago = time.time() - 61 * 60
    for path in (Path(app.config["UPLOAD_FOLDER"]) / "repeated").iterdir():
        os.utime(path, (hour_ago, hour_ago))
    response = staff_client.post("/imports/new/again", data=fields, follow_redirects=True)
    assert response.status_code == 200 and GONE in text_of(response)
    assert len(imports(app)) == 1
    assert files_in(Path(app.config["UPLOAD_FOLDER"])) == {imp.stored_name for imp in imports(app)}


def test_a_repeat_whose_columns_need_matching_goes_to_match_columns_as_its_upload_did(app, staff_client):
    name, content = layouts.goodreads(1)
    first = upload(staff_client, content, name=name)
    assert first.status_code == 302 and first.location.endswith("/columns")
    refused = refused_again(app, staff_client, content, name=name)
    assert "waiting for its columns to be matched" in text_of(refused)
    imported = staff_client.post("/imports/new/again", data=again_form(refused))
    assert imported.status_code == 302 and re.fullmatch(r"/imports/\d+/columns", imported.location)
    assert imported.location != first.location
    assert staff_client.get(imported.location).status_code == 200
