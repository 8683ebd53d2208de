"""The figures of an import's page, its JSON and the command line agree, each saying what it counts."""

import csv
import io
import json

from bookapp.extensions import db
from bookapp.models import Import
from bookapp.services.import_words import summary_line
from tests import layouts
from tests.conftest import run_worker
from tests.helpers import book_row, csv_bytes
from tests.test_imports import book_count, import_state, upload
from tests.test_matching import text_of
from tests.test_plain_words import offered, waiting_at_columns
from tests.test_shop_sheets import progress_count


def two_valid_three_rejected(first: int) -> bytes:
    """A CSV of 5 rows: rows 2 and 5 of the file valid, 3, 4 and 6 with a negative price."""
    rows = [book_row(n) for n in range(first, first + 5)]
    for index in (1, 2, 4):
        rows[index] = book_row(first + index, Price="-3")
    return csv_bytes(rows)


def test_an_all_or_nothing_import_that_rejected_rows_says_nothing_was_created_and_offers_no_undo(app, staff_client):
    response = upload(staff_client, two_valid_three_rejected(1), all_or_nothing="y")
    run_worker(app)
    state = import_state(staff_client, response.location)
    said = "5 rows: 2 valid, 3 rejected; nothing was saved"
    assert (state["status"], state["created"], state["rejected"], state["percent"], state["rows_label"]) == (
        "failed", 0, 3, 100, said), state  # fmt: skip
    assert book_count(app) == 0

    page = staff_client.get(response.location).get_data(as_text=True)
    assert progress_count(page).startswith(f"100 % · {said}"), progress_count(page)
    assert 'value="100"' in page and 'aria-valuenow="100"' in page, "the bar reads as finished"
    text = text_of(staff_client.get(response.location))
    assert "Created 0" in text and "2 created" not in text
    assert "Undo import" not in text and "Books last written by this import" not in text

    report = staff_client.get(response.location + "/report.csv").get_data(as_text=True).lstrip("\ufeff")
    assert [tuple(r[:2]) for r in list(csv.reader(io.StringIO(report)))[1:]] == [
        ("2", "valid, not saved"), ("3", "rejected"), ("4", "rejected"), ("5", "valid, not saved"), ("6", "rejected")
    ]  # fmt: skip
    with app.app_context():  # the line the command line's import-report prints
        line = summary_line(db.session.get(Import, state["id"]))
    assert line.startswith(f"Import #{state['id']} failed: 2 valid, 3 rejected; nothing was saved."), line


def test_a_partly_rejected_imports_banner_and_count_say_the_same_rows(app, staff_client):
    response = upload(staff_client, two_valid_three_rejected(20))
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 2, 3), state
    said = "5 rows: 2 created, 3 rejected"
    assert state["rows_label"] == said
    page = staff_client.get(response.location).get_data(as_text=True)
    assert progress_count(page).startswith(f"100 % · {said}"), progress_count(page)
    text = text_of(staff_client.get(response.location))
    assert f"{said}; the rejected ones were not imported." in text and "rows were read" not in text


def test_a_shop_exports_count_says_its_rows_created_rejected_and_left_out_alike_everywhere(app, staff_client):
    """Shopify: 9 rows, 3 only adding an image (left out); one variant's price made negative (rejected)."""
    from tests.test_access import bearer
    from tests.test_mapping import finished, post_file

    name, content = layouts.shopify_variants(40, 3)
    content = content.replace(b",49.99,", b",-49.99,", 1)
    headers = bearer(app)
    state = finished(app, headers, post_file(app, headers, name, content,
                                             mapping=json.dumps(layouts.SHOPIFY_VARIANTS_MAPPING)))  # fmt: skip
    assert (state["created"], state["rejected"], state["left_out_rows"]) == (5, 1, 3), state
    said = "9 rows: 5 created, 1 rejected, 3 left out"
    assert state["rows_label"] == said
    page = staff_client.get(f"/imports/{state['id']}")
    assert progress_count(page.get_data(as_text=True)).startswith(f"100 % · {said}")
    assert f"{said}; the rejected ones were not imported." in text_of(page)


def test_columns_matched_is_said_while_the_import_is_queued_and_not_once_it_has_succeeded(app, staff_client):
    """A worker may end the import before its page is first shown: the page then says how it ended only."""
    name, content = layouts.stock_list("de", 1)
    location = waiting_at_columns(app, staff_client, name, content)
    form = offered(staff_client.get(location).get_data(as_text=True))
    answer = staff_client.post(location, data={**form, "action": "continue"})
    assert answer.status_code == 302
    run_worker(app)
    ended = text_of(staff_client.get(answer.location))
    assert "This import has succeeded" in ended and "Columns matched" not in ended, ended

    name, content = layouts.stock_list("es", 1)
    location = waiting_at_columns(app, staff_client, name, content)
    form = offered(staff_client.get(location).get_data(as_text=True))
    answer = staff_client.post(location, data={**form, "action": "continue"})
    queued = text_of(staff_client.get(answer.location))
    assert "Columns matched: the import is queued." in queued and "Status: queued" in queued, queued


def test_the_repeated_file_warning_does_not_say_books_are_stored_by_an_import_that_saved_none(app, staff_client):
    """An all-or-nothing import that rejected rows saved nothing: the same bytes uploaded again are said to
    have been imported, and that the import saved no book, not that its books are still stored."""
    content = two_valid_three_rejected(1)
    first = upload(staff_client, content, all_or_nothing="y")
    run_worker(app)
    first_id = int(first.location.rsplit("/", 1)[1])

    again = upload(staff_client, content, name="again.csv")
    assert again.status_code == 409
    warning = text_of(again)
    assert "This file was imported on " in warning and f"(import #{first_id}), which created and changed no book." in (
        warning
    ), warning
    assert "still stored" not in warning


def test_an_all_or_nothing_dry_run_with_rejected_rows_says_confirming_it_would_save_nothing(app, staff_client):
    response = upload(staff_client, two_valid_three_rejected(1), all_or_nothing="y", dry_run="y")
    run_worker(app)
    text = text_of(staff_client.get(response.location))
    assert (
        "All or nothing is ticked and 3 rows would be rejected, so confirming this dry run would save nothing." in text
    ), text
    clean = upload(staff_client, csv_bytes([book_row(20)]), all_or_nothing="y", dry_run="y")
    run_worker(app)
    assert "would save nothing" not in text_of(staff_client.get(clean.location))


def test_a_one_row_files_count_says_one_row(app, staff_client):
    """A file of one book said "100 % · 1 rows: 1 created" on its page and in its JSON."""
    response = upload(staff_client, csv_bytes([book_row(70)]))
    run_worker(app)
    state = import_state(staff_client, response.location)
    assert state["rows_label"] == "1 row: 1 created", state
    page = staff_client.get(response.location).get_data(as_text=True)
    assert progress_count(page).startswith("100 % · 1 row: 1 created"), progress_count(page)
