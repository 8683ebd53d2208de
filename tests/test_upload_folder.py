"""The upload folder holds the files of recorded imports and nothing else for long: an upload that is
refused, or that fails before its import is recorded, leaves no file, and a partial file a dead process
left is deleted by the workers' rounds."""

import contextlib
import os
import time
from pathlib import Path

from bookapp.services.reconcile import PARTIAL_UPLOAD_SECONDS, reconcile
from tests.helpers import book_row, csv_bytes
from tests.test_access import bearer
from tests.test_api import post_file
from tests.test_import_again import files_in


def test_a_partial_upload_a_dead_process_left_is_deleted_and_one_being_received_is_not(app):
    folder = Path(app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    left, receiving, stored = folder / ".left.part", folder / ".receiving.part", folder / "a1b2c3.csv"
    for path in (left, receiving, stored):
        path.write_bytes(b"Title,Author\n")
    long_ago = time.time() - PARTIAL_UPLOAD_SECONDS - 60
    os.utime(left, (long_ago, long_ago))
    os.utime(stored, (long_ago, long_ago))  # an import's file goes by its import's retention, not its age
    with app.app_context():
        done = reconcile()
    assert done["partial_uploads_deleted"] == 1
    assert files_in(folder) == {".receiving.part", "a1b2c3.csv"}


def test_an_upload_refused_before_its_import_is_recorded_leaves_no_file(app):
    client, headers = app.test_client(), bearer(app)
    response = post_file(client, headers, csv_bytes([book_row(1)]), save_as="x" * 101)  # a name too long
    assert response.status_code == 422 and "at most 100 characters" in response.get_json()["error"]["message"]
    assert files_in(Path(app.config["UPLOAD_FOLDER"])) == set()


def test_an_upload_whose_check_fails_unforeseen_leaves_no_file(app, monkeypatch):
    # A fault the checks do not foresee (a bug, the disk gone) cannot be made by a file: one is made here.
    def fails(path):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr("bookapp.services.imports.peek_file", fails)
    client, headers = app.test_client(), bearer(app)
    with contextlib.suppress(RuntimeError):  # the test app hands unforeseen errors on; a served one answers 500
        post_file(client, headers, csv_bytes([book_row(1)]))
    assert files_in(Path(app.config["UPLOAD_FOLDER"])) == set()


def test_an_upload_whose_commit_answer_was_lost_keeps_its_file_and_is_imported_by_the_workers_rounds(app):
    """The import row's commit is made, then its answer lost (the connection cut as it returned): the
    upload fails, but its import exists, so its file is kept, and reconcile queues it; no book is lost."""
    from sqlalchemy import event, select
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    from bookapp.extensions import db
    from bookapp.models import Book, Import
    from tests.conftest import run_worker

    recorded = []

    def note(session, _context):
        recorded.extend(obj for obj in session.new if isinstance(obj, Import))

    def lose_answer(_session):
        if recorded and recorded[0].id not in lost:
            lost.add(recorded[0].id)
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    lost: set[int] = set()
    event.listen(Session, "after_flush", note)
    event.listen(Session, "after_commit", lose_answer)
    client, headers = app.test_client(), bearer(app)
    try:
        with contextlib.suppress(OperationalError):  # the test app hands unforeseen errors on
            post_file(client, headers, csv_bytes([book_row(1), book_row(2)]))
    finally:
        event.remove(Session, "after_flush", note)
        event.remove(Session, "after_commit", lose_answer)
    assert lost, "the commit of the import row was not reached"

    folder = Path(app.config["UPLOAD_FOLDER"])
    with app.app_context():
        stored_name = db.session.scalar(select(Import.stored_name))
    assert files_in(folder) == {stored_name}

    app.config["QUEUED_GRACE_SECONDS"] = 0
    with app.app_context():
        reconcile()
    run_worker(app)
    with app.app_context():
        assert db.session.scalar(select(Import.status)) == "succeeded"
        assert sorted(db.session.scalars(select(Book.title))) == ["Book 1", "Book 2"]
