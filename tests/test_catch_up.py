"""An import's job ends when its books are saved; the search and sort indexes catch up in a job of their own,
after any import that is waiting, and searches stay exact meanwhile."""

import io
from datetime import UTC

from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import func, select

from bookapp.extensions import db
from bookapp.models import Book, Import, SearchState
from bookapp.queue import app_job_class, import_queue, index_queue, make_worker, redis_connection
from bookapp.services.search_index import SEARCH_MARK
from bookapp.services.sort_index import SORT_MARK
from tests.helpers import book_row, csv_bytes


def upload(client, rows: list[list[str]], name: str) -> str:
    response = client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes(rows)), name)},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location


def run_imports_only(app) -> None:
    """Run the import queue's jobs alone: what an import's own job leaves behind."""
    SimpleWorker([import_queue(app)], connection=redis_connection(app), job_class=app_job_class(app)).work(
        burst=True, logging_level="WARNING"
    )


def marks(app) -> dict[int, int]:
    with app.app_context():
        return dict(db.session.execute(select(SearchState.id, SearchState.indexed_upto)).all())


def test_the_import_job_ends_before_the_indexes_catch_up_and_the_next_import_goes_first(app, staff_client,
                                                                                          redis_client):  # fmt: skip
    first = upload(staff_client, [book_row(n) for n in range(1, 301)], "first.csv")
    second = upload(staff_client, [book_row(n) for n in range(301, 501)], "second.csv")
    worker = make_worker(app, simple=True, maintenance=None)
    run_imports_only(app)

    assert [staff_client.get(u + ".json").get_json()["status"] for u in (first, second)] == ["succeeded"] * 2
    with app.app_context():
        highest = db.session.scalar(select(func.max(Book.id)))
        waiting = index_queue(app).jobs
    assert marks(app) == {SEARCH_MARK: 0, SORT_MARK: 0}, "the import jobs ended without catching up"
    assert [job.description for job in waiting] == [
        "Catch up the search and sort indexes after import #1",
        "Catch up the search and sort indexes after import #2",
    ]
    found = staff_client.get("/books?q=Book+42").get_data(as_text=True)
    assert ">Book 42<" in found and ">Book 420<" in found, "searches stay exact before the catch-up"

    worker.work(burst=True, logging_level="WARNING")
    assert marks(app) == {SEARCH_MARK: highest, SORT_MARK: highest}
    assert Queue(index_queue(app).name, connection=redis_client).count == 0


def test_a_worker_takes_a_waiting_import_before_a_catch_up(app, staff_client, redis_client):
    first = upload(staff_client, [book_row(n) for n in range(1, 201)], "first.csv")
    run_imports_only(app)
    second = upload(staff_client, [book_row(n) for n in range(201, 401)], "second.csv")

    make_worker(app, simple=True, maintenance=None).work(burst=True, logging_level="WARNING")
    first_id, second_id = (int(u.rsplit("/", 1)[1]) for u in (first, second))
    assert staff_client.get(second + ".json").get_json()["status"] == "succeeded"
    catch_up = Job.fetch(f"catch-up-after-import-{first_id}", connection=redis_client)
    with app.app_context():
        second_ended = db.session.get(Import, second_id).finished_at
    # Queued before the second import, the first's catch-up still ran after it: imports go first.
    assert catch_up.started_at.replace(tzinfo=UTC) >= second_ended
