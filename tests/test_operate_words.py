"""Words staff meet when they stop, start again or look into an import, in a shop's terms: no "chunk"
boundary or "fallback", and the queue dashboard's intro pointing where its links are."""

import csv
import io
import json

from sqlalchemy import update

from bookapp.extensions import db
from bookapp.models import Import, ImportStatus
from tests import layouts
from tests.conftest import add_user, sign_in
from tests.test_access import bearer
from tests.test_mapping import finished, post_file
from tests.test_matching import text_of


def test_stopping_and_starting_again_are_said_without_chunks(app, staff_client):
    headers = bearer(app)
    name, content = layouts.goodreads(1, 3)
    response = post_file(app, headers, name, content, mapping=json.dumps(layouts.GOODREADS_MAPPING))
    assert response.status_code == 202, response.get_json()
    import_id = response.get_json()["id"]
    with app.app_context():  # a worker has taken it and is saving its rows
        db.session.execute(update(Import).where(Import.id == import_id).values(status=ImportStatus.RUNNING.value))
        db.session.commit()

    stopping = text_of(staff_client.post(f"/imports/{import_id}/cancel", follow_redirects=True))
    assert "Stopping: it stops once the rows it is saving now are saved…" in stopping, stopping
    with app.app_context():
        db.session.execute(update(Import).where(Import.id == import_id).values(status=ImportStatus.CANCELLED.value))
        db.session.commit()
    again = text_of(staff_client.post(f"/imports/{import_id}/retry", follow_redirects=True))
    assert "Queued again: it carries on after the last rows it saved." in again, again
    assert "chunk" not in stopping + again


def test_the_fix_grid_says_which_blank_column_a_fallback_stands_in_for(app, staff_client):
    """A Goodreads export read with ISBN13, else ISBN: the grid's ISBN column says when it is read."""
    headers = bearer(app)
    name, content = layouts.goodreads(1, 3)
    rows = list(csv.reader(io.StringIO(content.decode())))
    rows[1][layouts.GOODREADS_HEADER.index("Title")] = ""  # book 1 has no title: rejected
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    mapping = json.dumps(layouts.GOODREADS_MAPPING)
    state = finished(app, headers, post_file(app, headers, name, buffer.getvalue().encode(), mapping=mapping))
    assert (state["created"], state["rejected"]) == (2, 1), state

    said = text_of(staff_client.get(f"/imports/{state['id']}/fix"))
    assert "ISBN13ISBN " in said and "ISBNISBN, where ISBN13 is blank " in said, said  # header, then what it fills
    assert "fallback" not in said


def test_the_queue_dashboard_says_its_numbers_lead_to_the_jobs(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    said = text_of(sign_in(sqlite_app.test_client(), "staff@example.com").get("/rq/", follow_redirects=True))
    assert "Every queue, with how many of its jobs are in each state. Select a number to see those jobs." in said
    assert "from above" not in said
