"""Every time a page shows is a <time> that carries its instant with its offset and the UTC time in its title,
its text the UTC time (what is read without scripts); static/js/local-times.js writes it in the reader's zone
(tests/test_browser_local_times.py). SQLite and PostgreSQL."""

import re
from datetime import UTC, datetime

from sqlalchemy import update

from bookapp.extensions import db
from bookapp.importer import Mapping
from bookapp.models import Book, Import, ImportProfile
from bookapp.services.profiles import save_profile
from tests.conftest import run_worker
from tests.helpers import HEADER, book_row, csv_bytes
from tests.test_imports import upload

#: Known instants, their minutes and seconds apart from zero so that no zone's offset hides in them.
UPLOADED = datetime(2026, 3, 14, 21, 47, 9, 250_000, tzinfo=UTC)
FINISHED = datetime(2026, 3, 14, 21, 50, 31, tzinfo=UTC)
UPDATED = datetime(2026, 3, 15, 8, 5, 42, tzinfo=UTC)


def set_times(app) -> None:
    with app.app_context():
        db.session.execute(update(Import).values(created_at=UPLOADED, finished_at=FINISHED))
        db.session.execute(update(Book).values(created_at=UPLOADED, updated_at=UPDATED))
        save_profile("Warehouse list", [*HEADER, "Shelf"], Mapping(), None)
        db.session.execute(update(ImportProfile).values(updated_at=UPDATED))
        db.session.commit()


def times(page: str) -> list[str]:
    return re.findall(r"<time [^>]*>[^<]*</time>", page)


def test_each_page_writes_its_times_as_time_elements_with_the_instant_and_the_utc_text(app, staff_client):
    location = upload(staff_client, csv_bytes([book_row(1)])).location
    run_worker(app)
    set_times(app)

    book = staff_client.get("/books/1").get_data(as_text=True)
    assert times(book) == [
        '<time datetime="2026-03-14T21:47:09+00:00" title="2026-03-14 21:47 UTC" data-shape="date time zone">'
        "2026-03-14 21:47 UTC</time>",
        '<time datetime="2026-03-15T08:05:42+00:00" title="2026-03-15 08:05 UTC" data-shape="date time zone">'
        "2026-03-15 08:05 UTC</time>",
    ]
    assert "<dd><time " in book, "the Created and Updated lines start with their time"

    shown = staff_client.get(location).get_data(as_text=True)
    assert (
        'has succeeded (<time datetime="2026-03-14T21:50:31+00:00" title="2026-03-14 21:50:31 UTC"'
        ' data-shape="time seconds zone">21:50:31 UTC</time>).' in shown
    ), "the banner's end, seconds and all"
    assert (
        'Uploaded <time datetime="2026-03-14T21:47:09+00:00" title="2026-03-14 21:47 UTC"'
        ' data-shape="date time zone">2026-03-14 21:47 UTC</time>' in shown
    )

    listed = staff_client.get("/imports").get_data(as_text=True)
    assert (
        '<span class="nowrap"><time datetime="2026-03-14T21:47:09+00:00" title="2026-03-14 21:47 UTC"'
        ' data-shape="date">2026-03-14</time></span> <span class="nowrap"><time datetime="2026-03-14T21:47:09+00:00"'
        ' title="2026-03-14 21:47 UTC" data-shape="time">21:47</time></span>' in listed
    ), "the date and the time each on a line of its own, as before"

    profiles = staff_client.get("/imports/profiles").get_data(as_text=True)
    assert times(profiles) == [
        '<time datetime="2026-03-15T08:05:42+00:00" title="2026-03-15 08:05 UTC" data-shape="date time">'
        "2026-03-15 08:05</time>"
    ]
    for page in (book, shown, listed, profiles):
        assert "local-times.js" in page


def test_an_undone_imports_time_is_a_time_element_on_its_page_and_in_the_list(app, staff_client):
    location = upload(staff_client, csv_bytes([book_row(1)])).location
    run_worker(app)
    staff_client.post(location + "/undo")
    with app.app_context():
        db.session.execute(update(Import).values(undone_at=UPDATED))
        db.session.commit()
    stamp = 'datetime="2026-03-15T08:05:42+00:00" title="2026-03-15 08:05 UTC"'
    shown = staff_client.get(location).get_data(as_text=True)
    assert f'undone on <time {stamp} data-shape="date time zone">2026-03-15 08:05 UTC</time> by' in shown
    listed = staff_client.get("/imports").get_data(as_text=True)
    assert f'<span class="nowrap"><time {stamp} data-shape="date">2026-03-15</time></span>' in listed
    assert f'<time {stamp} data-shape="time">08:05</time> by staff@example.com' in listed


def test_a_time_in_a_message_is_a_time_element_too(app, staff_client):
    """The repeated-file warning and a flashed message say when in sentences built on the server: their
    times are written in the reader's zone as every other one, the text itself escaped."""
    from bookapp import times_tagged

    assert str(times_tagged("<b> at 2026-03-14 21:47 UTC")).startswith("&lt;b&gt; at <time ")
    # A book's title may hold what reads as a time but is none: the message says it as it is.
    assert str(times_tagged("Deleted “Sale 2026-02-30 10:00 UTC”.")) == "Deleted “Sale 2026-02-30 10:00 UTC”."
    content = csv_bytes([book_row(1)])
    location = upload(staff_client, content).location
    run_worker(app)
    set_times(app)
    tag = ('<time datetime="2026-03-14T21:47:00+00:00" title="2026-03-14 21:47 UTC" data-shape="date time zone">'
           "2026-03-14 21:47 UTC</time>")  # fmt: skip
    warning = upload(staff_client, content, name="again.csv").get_data(as_text=True)
    assert f"This file was imported on {tag} by staff@example.com" in warning

    staff_client.post(location + "/undo")
    with app.app_context():
        db.session.execute(update(Import).values(undone_at=UPLOADED))
        db.session.commit()
    page = staff_client.post(location + "/undo", follow_redirects=True).get_data(as_text=True)
    assert f"was already undone on {tag}." in page


def test_a_title_that_reads_like_an_impossible_time_is_flashed_as_it_is(app, staff_client):
    """Deleting "Sale 2026-02-30 10:00 UTC" says so on the next page, which shows as any other."""
    upload(staff_client, csv_bytes([book_row(1, Title="Sale 2026-02-30 10:00 UTC")]))
    run_worker(app)
    deleted = staff_client.post("/books/1/delete", follow_redirects=True)
    assert deleted.status_code == 200
    assert "Deleted “Sale 2026-02-30 10:00 UTC”." in deleted.get_data(as_text=True)
    assert staff_client.get("/books").status_code == 200
