"""Match columns and import again: a file whose header named every field, but not as it meant (an AbeBooks
listing's `booktype` column of "Book"), is rejected row by row; its import's page makes a new import of the
same stored file that waits at Match columns, filled in as the first import read it, and imports every row
once "Book" is matched to a type. The first import is left as it was; each keeps its own file."""

import io
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import select, update

from bookapp.extensions import db
from bookapp.models import Book, Import, ImportStatus, Role, utcnow
from bookapp.services.reconcile import delete_expired_uploads
from tests.conftest import add_user, run_worker, sign_in
from tests.helpers import book_row, csv_bytes, goodreads_csv, goodreads_row, isbn13
from tests.test_access import bearer
from tests.test_matching import GOODREADS_CHOICES, listed_values, selected, text_of, upload

#: An AbeBooks listing file's header: every required field is named (`booktype` is Book type,
#: `yearpublished` the year), but its `booktype` says what kind of item a listing is, not the genre.
ABEBOOKS_HEADER = ["listingid", "title", "author", "booktype", "isbn", "price", "quantity", "pubdate",
                   "yearpublished", "publishername", "bindingtext", "description"]  # fmt: skip


def abebooks_row(n: int) -> list[str]:
    return [f"L{n:06d}", f"Listing Book {n}", f"Author {n}", "Book", isbn13(n), f"{n}.50", str(n % 3 + 1),
            f"{1990 + n}-01-01", str(1990 + n), "A Publisher", "Hardcover", f"A copy of book {n}"]  # fmt: skip


def abebooks_tsv(count: int = 6) -> bytes:
    return csv_bytes([abebooks_row(n) for n in range(1, count + 1)], header=ABEBOOKS_HEADER, delimiter="\t")


class _FormReader(HTMLParser):
    """What a browser sends for the columns form as it stands: each select's selected option, each input's value."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._chosen: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") not in ("submit", "checkbox"):
            self.fields.append((attrs["name"], attrs.get("value") or ""))
        elif tag == "select":
            self._select, self._chosen = attrs.get("name"), ""
        elif tag == "option" and self._select and "selected" in attrs:
            self._chosen = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.fields.append((self._select, self._chosen or ""))
            self._select = None


def form_as_shown(page_html: str) -> dict[str, list[str]]:
    form = page_html[page_html.index('<form method="post" id="columns-form"') :]
    reader = _FormReader()
    reader.feed(form[: form.index("</form>")])
    fields: dict[str, list[str]] = {}
    for name, value in reader.fields:
        fields.setdefault(name, []).append(value)
    return fields


def value_field(page_html: str, text: str) -> str:
    """The name of the select that matches Book type's value *text*."""
    for name, values in form_as_shown(page_html).items():
        if name.startswith("value-text-") and values == [text]:
            return "value-" + name.removeprefix("value-text-")
    raise AssertionError(f"{text!r} is not listed")


def get_import(app, import_id: int) -> Import | None:
    with app.app_context():
        imp = db.session.get(Import, import_id)
        if imp is not None:
            db.session.expunge(imp)
        return imp


def import_count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Import.id)).all())


def stored_file(app, imp: Import) -> Path:
    return Path(app.config["UPLOAD_FOLDER"]) / imp.stored_name


def upload_abebooks(app, client, **options) -> Import:
    answer = client.post(
        "/imports/new",
        data={"file": (io.BytesIO(abebooks_tsv()), "abebooks_listings.txt"), "mode": "create_update", **options},
        content_type="multipart/form-data",
    )
    # Every field is named, but the first rows' booktype holds no type: the file waits at Match columns,
    # where a person who continues without matching "Book" gets every row rejected.
    assert answer.status_code == 302 and answer.location == "/imports/1/columns"
    body = client.get("/imports/1/columns").get_data(as_text=True)
    continued = client.post("/imports/1/columns", data=form_as_shown(body) | {"action": ["continue"]})
    assert continued.status_code == 302 and continued.location == "/imports/1"
    run_worker(app)
    return get_import(app, 1)


def test_an_abebooks_file_rejected_whole_is_matched_again_and_imports_every_row(app, staff_client):
    first = upload_abebooks(app, staff_client)
    assert (first.status, first.created, first.rejected) == ("succeeded", 0, 6)
    page = staff_client.get("/imports/1")
    assert "Every row of this import was rejected (6 rejected rows)" in text_of(page)
    assert "Book type must be one of" in text_of(page)
    assert "Match columns and import again" in text_of(page)

    answer = staff_client.post("/imports/1/rematch")

    assert answer.status_code == 302 and answer.location == "/imports/2/columns"
    columns = staff_client.get("/imports/2/columns")
    body = columns.get_data(as_text=True)
    assert "Import #2 reads the file of import #1 again: match its columns, then Continue." in text_of(columns)
    assert "This is the file of import #1 (every row rejected), to import again" in text_of(columns)
    # Filled in as the first import read the file: by its header's names, nothing guessed.
    assert {f: selected(body, f"column-{f}") for f in ("title", "author", "book_type", "isbn", "year_published",
                                                       "price", "quantity", "no_of_pages", "description")} == {
        "title": "title", "author": "author", "book_type": "booktype", "isbn": "isbn",
        "year_published": "yearpublished", "price": "price", "quantity": "quantity", "no_of_pages": "",
        "description": "description",
    }  # fmt: skip
    assert listed_values(body) == {"Book": (6, "")}  # the value to match, over the whole file

    choices = form_as_shown(body) | {value_field(body, "Book"): ["Classic"], "action": ["continue"]}
    answer = staff_client.post("/imports/2/columns", data=choices)

    assert answer.status_code == 302 and answer.location == "/imports/2"
    run_worker(app)
    again = get_import(app, 2)
    assert (again.status, again.created, again.rejected, again.source_import_id) == ("succeeded", 6, 0, 1)
    assert again.mapping["values"] == {"book_type": {"Book": "Classic"}}
    with app.app_context():
        books = db.session.scalars(select(Book).order_by(Book.isbn)).all()
        assert [(b.title, b.book_type, b.year_published) for b in books] == [
            (f"Listing Book {n}", "Classic", str(1990 + n)) for n in range(1, 7)
        ]
    page = text_of(staff_client.get("/imports/2"))
    assert "succeeded" in page and "The file of import #1, imported again with its columns matched again." in page
    assert "confirms dry run" not in page
    # The first import is as it was, and says where its file went; each import has its own stored file.
    before = get_import(app, 1)
    assert (before.status, before.created, before.rejected) == ("succeeded", 0, 6)
    assert before.mapping["values"] == {}, "its mapping as the person continued, no value matched"
    assert "This file was imported again with its columns matched again in import #2." in text_of(
        staff_client.get("/imports/1")
    )
    assert before.stored_name != again.stored_name
    assert stored_file(app, before).read_bytes() == stored_file(app, again).read_bytes() == abebooks_tsv()


def test_the_page_opens_with_the_mapping_the_import_had_and_keeps_its_options(app, staff_client):
    rows = [goodreads_row(n) for n in range(1, 9)]
    staff_client.post(
        "/imports/new",
        data={"file": (io.BytesIO(goodreads_csv(rows)), "goodreads_library_export.csv"), "mode": "create_only",
              "dry_run": "y", "all_or_nothing": "y"},
        content_type="multipart/form-data",
    )  # fmt: skip
    staff_client.post("/imports/1/columns", data={**GOODREADS_CHOICES, "action": "continue"})
    run_worker(app)
    assert get_import(app, 1).rejected == 3  # books 2, 5 and 8 are currently-reading

    answer = staff_client.post("/imports/1/rematch")

    assert answer.location == "/imports/2/columns"
    again = get_import(app, 2)
    assert (again.status, again.mode) == ("needs_mapping", "create_only")
    assert again.dry_run and again.all_or_nothing
    body = staff_client.get("/imports/2/columns").get_data(as_text=True)
    assert (selected(body, "column-isbn"), selected(body, "else-isbn-1")) == ("ISBN13", "ISBN")
    assert selected(body, "column-quantity") == "Owned Copies"
    assert 'id="default-price" name="default-price" value="0.00"' in body
    assert {v: choice for v, (_, choice) in listed_values(body).items()} == {
        "read": "Classic", "to-read": "Horror", "currently-reading": "reject",
    }  # fmt: skip
    # Its rows that were rejected are taken now: a dry run again, as the first one was.
    choices = form_as_shown(body) | {value_field(body, "currently-reading"): ["Comic"], "action": ["continue"]}
    assert staff_client.post("/imports/2/columns", data=choices).location == "/imports/2"
    run_worker(app)
    again = get_import(app, 2)
    assert (again.status, again.dry_run, again.created, again.rejected) == ("succeeded", True, 8, 0)
    with app.app_context():
        assert db.session.scalar(select(Book.id)) is None  # dry runs save nothing
    # It can be confirmed like any dry run (not taken for the first one's confirmation).
    confirmed = staff_client.post("/imports/2/confirm")
    assert confirmed.location == "/imports/3"
    run_worker(app)
    assert (get_import(app, 3).created, get_import(app, 3).source_import_id) == (8, 2)
    assert "confirms dry run #2" in text_of(staff_client.get("/imports/3"))


def test_match_again_says_why_not_where_it_cannot_work(app, staff_client):
    # Still queued (no worker yet): nothing ended to match again.
    staff_client.post(
        "/imports/new",
        data={"file": (io.BytesIO(csv_bytes([book_row(1)])), "books.csv")},
        content_type="multipart/form-data",
    )
    answer = staff_client.post("/imports/1/rematch", follow_redirects=True)
    assert "Import #1 has not ended yet: its columns can be matched again once it has" in text_of(answer)
    assert "Match columns and import again" not in text_of(staff_client.get("/imports/1"))
    # Waiting for its columns itself.
    upload(staff_client, goodreads_csv([goodreads_row(1)]))
    answer = staff_client.post("/imports/2/rematch", follow_redirects=True)
    assert "Import #2 is itself waiting for its columns to be matched" in text_of(answer)
    assert import_count(app) == 2
    # A viewer may not.
    run_worker(app)
    add_user(app, "viewer@example.com", Role.VIEWER)
    viewer = sign_in(app.test_client(), "viewer@example.com")
    assert viewer.post("/imports/1/rematch").status_code == 403
    assert import_count(app) == 2
    # A second press while the first one's import waits for its columns leads to that one.
    assert staff_client.post("/imports/1/rematch").location == "/imports/3/columns"
    assert staff_client.post("/imports/1/rematch").location == "/imports/3/columns"
    assert import_count(app) == 3
    # The file is gone once its time is up: the retention deleted it.
    app.config["UPLOAD_RETENTION_DAYS"] = 0
    staff_client.post("/imports/3/cancel")
    with app.app_context():
        delete_expired_uploads()
    assert get_import(app, 1).file_deleted_at is not None
    answer = staff_client.post("/imports/1/rematch", follow_redirects=True)
    assert "The file of import #1 is no longer kept on the server (uploads are deleted 0 days after their import " \
           "ends): upload it again." in text_of(answer)  # fmt: skip
    assert "Match columns and import again" not in text_of(staff_client.get("/imports/1"))
    assert import_count(app) == 3


def test_each_import_keeps_its_own_file_until_its_own_time_is_up(app, staff_client):
    upload_abebooks(app, staff_client)
    staff_client.post("/imports/1/rematch")
    body = staff_client.get("/imports/2/columns").get_data(as_text=True)
    staff_client.post("/imports/2/columns", data=form_as_shown(body) | {value_field(body, "Book"): ["Horror"],
                                                                        "action": ["continue"]})  # fmt: skip
    run_worker(app)
    with app.app_context():  # the first import ended long ago; the second just now
        db.session.execute(update(Import).where(Import.id == 1).values(finished_at=utcnow() - timedelta(days=31)))
        db.session.commit()
        assert delete_expired_uploads() == 1

    first, again = get_import(app, 1), get_import(app, 2)
    assert first.file_deleted_at is not None and not stored_file(app, first).exists()
    assert again.file_deleted_at is None and stored_file(app, again).read_bytes() == abebooks_tsv()
    assert staff_client.get("/imports/2/rejected.csv").status_code == 200


def test_the_api_imports_an_ended_imports_file_again_with_another_mapping(app):
    headers = bearer(app)
    client = app.test_client()
    sent = client.post(
        "/api/v1/imports",
        data={"file": (io.BytesIO(abebooks_tsv()), "abebooks_listings.txt")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert sent.status_code == 202
    refused = client.post("/api/v1/imports/1/rematch", data={"mapping": "{}"}, headers=headers)
    assert refused.status_code == 409 and "has not ended yet" in refused.get_json()["error"]["message"]
    run_worker(app)

    assert client.post("/api/v1/imports/1/rematch", headers=headers).status_code == 400  # read with what?
    unmatched = client.post(
        "/api/v1/imports/1/rematch", data={"mapping": '{"columns": {"year_published": "Year"}}'}, headers=headers
    )
    assert unmatched.status_code == 422 and unmatched.get_json()["missing_fields"] == ["year_published"]
    assert "'Year'" in unmatched.get_json()["error"]["message"]  # the column it named, which the file lacks
    answer = client.post(
        "/api/v1/imports/1/rematch",
        data={"mapping": '{"values": {"book_type": {"Book": "Sci-tech"}}}', "save_as": "AbeBooks listings"},
        headers=headers,
    )

    assert answer.status_code == 202 and answer.headers["Location"] == "/api/v1/imports/2"
    assert answer.get_json()["source_import_id"] == 1 and answer.get_json()["status"] == "queued"
    run_worker(app)
    again = client.get("/api/v1/imports/2", headers=headers).get_json()
    assert (again["status"], again["created"], again["rejected"]) == ("succeeded", 6, 0)
    assert again["profile"]["name"] == "AbeBooks listings"
    assert client.get("/api/v1/imports/1", headers=headers).get_json()["rematched_as"] == [2]
    with app.app_context():
        assert {b.book_type for b in db.session.scalars(select(Book))} == {"Sci-tech"}
        assert db.session.get(Import, 1).status == ImportStatus.SUCCEEDED.value


def test_an_add_to_stock_import_that_added_copies_is_undone_before_its_file_is_read_again(app, staff_client):
    """Reading an add-to-stock file again would add its copies a second time: the button is not offered
    and the action says to undo the import first; once undone, its columns can be matched again."""
    rows = [[f"Stock {n}", "Ann", "Classic", isbn13(n), "2001", "9.99", "2"] for n in range(1, 4)]
    header = ["Title", "Author", "Book type", "ISBN", "Year published", "Price", "Quantity"]
    staff_client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes(rows, header)), "delivery.csv"),
                                            "mode": "add_stock"}, content_type="multipart/form-data")  # fmt: skip
    run_worker(app)
    assert "Match columns and import again" not in text_of(staff_client.get("/imports/1"))
    answer = staff_client.post("/imports/1/rematch", follow_redirects=True)
    assert "Import #1 added its rows' copies to the stock: reading its file again would add them a second time. " \
           "Undo it first, then match its columns again." in text_of(answer)  # fmt: skip
    assert import_count(app) == 1
    staff_client.post("/imports/1/undo")
    run_worker(app)
    assert staff_client.post("/imports/1/rematch").location == "/imports/2/columns"
