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
