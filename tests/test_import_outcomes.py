"""What an import's page, history, API and report say about how it ended: a dry run confirmed once,
partial and undone imports, the problems summarised, rejected rows in context, file problems final."""

import csv
import io
import re
import threading

from sqlalchemy import select, text

from bookapp.extensions import db
from bookapp.models import Book, Import, ImportRowError
from tests.conftest import run_worker
from tests.helpers import book_row, csv_bytes, isbn13
from tests.test_access import bearer
from tests.test_api import post_file
from tests.test_imports import import_state, upload


def import_ids(app, *, dry_run: bool = False) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Import.id).where(Import.dry_run.is_(dry_run)).order_by(Import.id)))


def text_of(html: str) -> str:
    """Return a page's text: tags dropped, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.replace("<wbr>", "")))


def finished_dry_run(app, client, content: bytes, **form) -> str:
    location = upload(client, content, dry_run="y", **form).location
    run_worker(app)
    return location


def test_a_dry_run_is_confirmed_once_and_its_page_says_as_what(app, staff_client):
    dry = finished_dry_run(app, staff_client, csv_bytes([book_row(n) for n in range(1, 6)]))
    first = staff_client.post(dry + "/confirm")
    assert first.status_code == 302 and first.location != dry
    confirmed_id = int(first.location.rsplit("/", 1)[1])

    again = staff_client.post(dry + "/confirm", follow_redirects=True)
    page = again.get_data(as_text=True)
    assert again.request.path == dry
    assert f"was already confirmed as import #{confirmed_id}" in page
    assert f'it was imported as\n    <a href="/imports/{confirmed_id}">import #{confirmed_id}</a>' in page
    assert "Confirm import" not in page
    assert import_ids(app) == [confirmed_id]
    assert import_state(staff_client, dry)["confirmed_as_id"] == confirmed_id


def test_two_confirms_at_once_of_an_add_to_stock_dry_run_add_the_stock_once(app, staff_client):
    headers = bearer(app)
    upload(staff_client, csv_bytes([book_row(1, Quantity="3"), book_row(2, Quantity="1")]))
    run_worker(app)
    dry = finished_dry_run(app, staff_client, csv_bytes([book_row(1, Quantity="3")]), mode="add_stock")
    dry_id = int(dry.rsplit("/", 1)[1])

    start = threading.Barrier(2)
    answers = []

    def confirm() -> None:
        client = app.test_client()
        start.wait()
        response = client.post(f"/api/v1/imports/{dry_id}/confirm", headers=headers)
        answers.append((response.status_code, response.get_json()))

    clients = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(60)
    assert sorted(status for status, _ in answers) == [202, 409], answers
    created = next(body for status, body in answers if status == 202)
    refused = next(body for status, body in answers if status == 409)
    assert refused["confirmed_import"]["id"] == created["id"]
    assert f"already confirmed as import #{created['id']}" in refused["error"]["message"]

    run_worker(app)
    later = app.test_client().post(f"/api/v1/imports/{dry_id}/confirm", headers=headers)
    assert later.status_code == 409 and later.get_json()["confirmed_import"]["id"] == created["id"]
    run_worker(app)
    with app.app_context():
        assert db.session.scalar(select(Book.quantity).where(Book.isbn == isbn13(1))) == 6, "3 + 3, once"
    assert len(import_ids(app)) == 2


def test_confirming_a_file_imported_before_asks_first_as_an_upload_does(app, staff_client):
    content = csv_bytes([book_row(1), book_row(2)])
    imported = upload(staff_client, content)
    run_worker(app)
    dry = finished_dry_run(app, staff_client, content)

    asked = staff_client.post(dry + "/confirm")
    assert asked.status_code == 409
    page = asked.get_data(as_text=True)
    assert "This file was imported on" in page and f"(import #{imported.location.rsplit('/', 1)[1]})" in page
    assert "Confirm anyway" in page and 'name="allow_repeat" value="1"' in page
    assert len(import_ids(app)) == 1

    headers = bearer(app)
    api = app.test_client().post(f"/api/v1{dry}/confirm", headers=headers)
    assert api.status_code == 409 and api.get_json()["previous_import"]["id"] == import_ids(app)[0]

    anyway = staff_client.post(dry + "/confirm", data={"allow_repeat": "1"})
    assert anyway.status_code == 302 and len(import_ids(app)) == 2


def test_the_repeated_file_warning_says_when_that_import_was_undone(app, staff_client):
    content = csv_bytes([book_row(1)])
    first = upload(staff_client, content)
    run_worker(app)
    staff_client.post(first.location + "/undo")
    again = upload(staff_client, content)
    assert again.status_code == 409
    assert re.search(  # the time in a <time>, which the page writes again in the reader's zone
        r"That import was undone on \d{4}-\d\d-\d\d \d\d:\d\d UTC by staff@example.com\.",
        text_of(again.get_data(as_text=True)),
    )


def test_the_repeated_file_warning_names_first_the_import_whose_books_are_still_stored(app, staff_client):
    content = csv_bytes([book_row(1), book_row(2)])
    first = upload(staff_client, content)
    run_worker(app)
    upload(staff_client, csv_bytes([book_row(1, Price="99.00")]))  # so that the same bytes again change a book
    run_worker(app)
    second = upload(staff_client, content, name="renamed.csv", allow_repeat="1")
    run_worker(app)
    staff_client.post(second.location + "/undo")
    first_id, second_id = (int(r.location.rsplit("/", 1)[1]) for r in (first, second))

    again = upload(staff_client, content, name="again.csv")
    assert again.status_code == 409
    warning = text_of(again.get_data(as_text=True))
    kept = re.search(
        rf"This file was imported on .*? \(import #{first_id}\), and its books are still stored\.", warning
    )
    undone = re.search(rf"It was also imported on .*? \(import #{second_id}\)\. That import was undone on", warning)
    assert kept and undone and kept.start() < undone.start(), warning
    assert f"See import #{first_id}" in warning
    assert "press Import it again to import this file a second time, with the options ticked below" in warning

    api = post_file(app.test_client(), bearer(app), content)
    assert api.status_code == 409 and api.get_json()["previous_import"]["id"] == first_id


def test_a_file_imported_many_times_is_named_by_its_latest_import_in_one_sentence(app, staff_client):
    """Stock deliveries re-sent each week: the warning links the newest import, and stays one sentence."""
    content = csv_bytes([book_row(1, Quantity="2")])
    upload(staff_client, content)
    for _ in range(6):
        run_worker(app)
        latest = upload(staff_client, content, mode="add_stock", allow_repeat="1")
    run_worker(app)
    latest_id = int(latest.location.rsplit("/", 1)[1])

    again = upload(staff_client, content, name="again.csv")
    warning = text_of(again.get_data(as_text=True))
    assert again.status_code == 409 and f"See import #{latest_id}" in warning, warning
    assert re.search(rf"This file was imported 5 or more times, most recently on .*? \(import #{latest_id}\), and "
                     r"their books are still stored\.", warning), warning  # fmt: skip
    assert warning.count("(import #") == 1


def test_a_rejected_value_shows_a_letter_among_its_digits_as_a_letter(app, staff_client):
    """ "20O1" (the letter O) is refused as a year: it is stored and shown as the file held it, and the
    O marked, since in many fonts it looks like the zero of 2001."""
    response = upload(staff_client, csv_bytes([book_row(1), book_row(2, **{"Year published": "20O1"})]))
    run_worker(app)
    with app.app_context():
        stored = db.session.scalars(select(ImportRowError.value)).all()
    assert stored == ["20O1"]
    page = staff_client.get(response.location).get_data(as_text=True)
    table = page[page.index('<table class="errors">') :]
    assert '<td class="mono" data-label="Value">20<mark class="letter" title="the letter O">O</mark>1</td>' in table
    assert "Year published must be a 4-digit year" in table


def test_a_partial_import_says_how_many_rows_were_rejected_everywhere(app, staff_client):
    rows = [book_row(n) for n in range(1, 11)]
    rows[2] = book_row(3, Price="free")
    rows[6] = book_row(7, Price="gratis")
    response = upload(staff_client, csv_bytes(rows))
    run_worker(app)

    page = staff_client.get(response.location).get_data(as_text=True)
    assert 'data-banner="partial"' in page and 'class="flash flash-warning"' in page
    assert "This import has succeeded with 2 rejected rows" in text_of(page)
    assert '<strong data-field="status" class="status-partial">succeeded with 2 rejected rows</strong>' in page
    assert '<div class="count-alert"><dt>Rejected</dt>' in page
    assert "<title>Import #1 · succeeded with 2 rejected rows · bookapp</title>" in page

    history = staff_client.get("/imports").get_data(as_text=True)
    assert '<td class="status-partial">succeeded with 2 rejected rows' in history

    state = app.test_client().get("/api/v1/imports/1", headers=bearer(app)).get_json()
    assert (state["status"], state["rejected"], state["outcome"]) == ("succeeded", 2, "succeeded with 2 rejected rows")
    assert state["problems_summary"] == [
        {"kind": state["problems_summary"][0]["kind"], "column": "Price", "message": "Price is not a price: write it like 12.99",
         "count": 2, "rows": [4, 8]}
    ]  # fmt: skip


def test_a_clean_import_is_a_plain_success(app, staff_client):
    response = upload(staff_client, csv_bytes([book_row(1)]))
    run_worker(app)
    page = staff_client.get(response.location).get_data(as_text=True)
    assert 'data-banner="succeeded"' in page and "count-alert" not in page and "Problems</h3>" not in page
    assert import_state(staff_client, response.location)["outcome"] == "succeeded"


def test_an_undone_import_shows_as_undone_with_who_and_when(app, staff_client):
    response = upload(staff_client, csv_bytes([book_row(n) for n in range(1, 4)]))
    run_worker(app)
    staff_client.post(response.location + "/undo")

    page = text_of(staff_client.get(response.location).get_data(as_text=True))
    assert re.search(r"This import was undone on \d{4}-\d\d-\d\d \d\d:\d\d UTC by staff@example.com", page)
    assert "Status: undone" in page and "has succeeded" not in page
    history = staff_client.get("/imports").get_data(as_text=True)
    assert '<td class="status-undone">undone' in history and "by staff@example.com</small>" in history
    state = app.test_client().get("/api/v1/imports/1", headers=bearer(app)).get_json()
    assert state["status"] == "succeeded" and state["outcome"] == "undone"
    assert state["undone_at"] and state["undone_by"] == "staff@example.com"


def test_a_dry_run_whose_every_row_is_rejected_says_so_and_offers_no_confirm(app, staff_client):
    dry = finished_dry_run(app, staff_client, csv_bytes([book_row(n, Price="x") for n in range(1, 4)]))
    page = staff_client.get(dry).get_data(as_text=True)
    assert "the import would reject every row of the file (3 rows), so there is nothing to import" in text_of(page)
    assert "was rejected" not in text_of(page) and "Confirm import" not in page
    state = import_state(staff_client, dry)
    # What the page's script shows while it follows an import, as the finished page says it.
    assert (state["status"], state["outcome"], state["outcome_class"]) == (
        "succeeded", "would reject all 3 rows", "status-partial")  # fmt: skip
    refused = app.test_client().post(f"/api/v1{dry}/confirm", headers=bearer(app))
    assert refused.status_code == 409 and "nothing to import" in refused.get_json()["error"]["message"]
    assert import_ids(app) == []


def test_problems_are_summarised_by_kind_with_their_first_rows_each_a_filter(app, staff_client):
    rows = [book_row(n) for n in range(1, 41)]
    for index, year in zip((3, 5, 9, 12, 20, 30, 33), ("19", "abc", "20201", "1", "MCMLX", "196", "x"), strict=True):
        rows[index] = book_row(index + 1, **{"Year published": year})
    rows[14] = book_row(2)  # row 16 repeats the ISBN of row 3
    rows[24] = book_row(8)  # row 26 repeats the ISBN of row 9
    rows[25] = book_row(26, Price="-1")
    response = upload(staff_client, csv_bytes(rows))
    run_worker(app)

    state = app.test_client().get(response.location.replace("/imports", "/api/v1/imports"), headers=bearer(app))
    summary = state.get_json()["problems_summary"]
    assert [(k["column"], k["message"], k["count"], k["rows"]) for k in summary] == [
        ("Year published", "Year published must be a 4-digit year, like 1969", 7, [5, 7, 11, 14, 22]),
        ("ISBN", "ISBN … already appears in row …; only the first row with an ISBN is imported", 2, [16, 26]),
        ("Price", "Price is negative; a price must be 0 or more", 1, [27]),
    ]
    page = staff_client.get(response.location).get_data(as_text=True)
    years = summary[0]["kind"]
    assert (
        f'<a href="/imports/1?kind={years}">Year published must be a 4-digit year, like 1969</a>:\n'
        "      7 rows\n      (5, 7, 11, 14, 22, …)"
    ) in page
    assert "Price is negative; a price must be 0 or more</a>:\n      1 row\n      (27)" in page

    filtered = staff_client.get(f"{response.location}?kind={years}").get_data(as_text=True)
    table = filtered[filtered.index('<table class="errors">') :]
    assert table.count("must be a 4-digit year") == 7 and "already appears" not in table and "negative" not in table
    api = app.test_client().get(f"/api/v1/imports/1/rejected?kind={summary[1]['kind']}", headers=bearer(app))
    assert [item["row"] for item in api.get_json()["items"]] == [16, 26]


def test_each_rejected_row_shows_its_title_and_isbn_as_the_file_held_them(app, staff_client):
    rows = [book_row(n) for n in range(1, 5)]
    rows[1] = book_row(2, Title="The Lost Atlas", ISBN="978-0-00-BAD", Price="12.5.0")
    rows[2] = book_row(3, Title="Night Trains", Quantity="many")
    response = upload(staff_client, csv_bytes(rows))
    run_worker(app)

    page = staff_client.get(response.location).get_data(as_text=True)
    cells = '<tr><td class="num" data-label="Row">{}</td><td data-label="Title">{}</td><td class="mono" data-label="ISBN">{}</td><td data-label="Column">{}</td>'  # fmt: skip
    assert cells.format(3, "The Lost Atlas", "978-0-00-BAD", "ISBN") in page
    assert cells.format(4, "Night Trains", isbn13(3), "Quantity") in page
    items = app.test_client().get("/api/v1/imports/1/rejected", headers=bearer(app)).get_json()["items"]
    assert {(i["row"], i["title"], i["isbn"]) for i in items} == {
        (3, "The Lost Atlas", "978-0-00-BAD"),
        (4, "Night Trains", isbn13(3)),
    }

    with staff_client.get(response.location + "/report.csv") as report:
        lines = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    by_row = {line[0]: line for line in lines[1:]}
    assert by_row["3"][1:4] == ["rejected", "978-0-00-BAD", "The Lost Atlas"]
    assert by_row["4"][1:4] == ["rejected", isbn13(3), "Night Trains"]


def test_a_file_refused_for_itself_offers_an_upload_not_a_retry(app, staff_client):
    response = upload(staff_client, csv_bytes([]))  # a header and no rows: found by the job
    run_worker(app)

    page = staff_client.get(response.location).get_data(as_text=True)
    assert '<a class="button" href="/imports/new">Upload a corrected file</a>' in page
    assert ">Retry</button>" not in page and "retrying the same file cannot work" in page
    refused = app.test_client().post(f"/api/v1{response.location}/retry", headers=bearer(app))
    assert refused.status_code == 409
    assert "The file itself is the problem" in refused.get_json()["error"]["message"]
    after = staff_client.post(response.location + "/retry", follow_redirects=True).get_data(as_text=True)
    assert "a retry would fail the same way" in after
    assert import_state(staff_client, response.location)["status"] == "failed"


def test_a_failure_of_the_server_still_offers_a_retry(app, staff_client):
    response = upload(staff_client, csv_bytes([book_row(1)]))
    with app.app_context():
        db.session.execute(text("UPDATE imports SET stored_name = 'gone.csv'"))
        db.session.commit()
    run_worker(app)
    page = staff_client.get(response.location).get_data(as_text=True)
    assert ">Retry</button>" in page and "Upload a corrected file" not in page


def test_the_status_shows_the_phase_only_when_it_adds_something(app, staff_client):
    response = upload(staff_client, csv_bytes([book_row(1)]))
    queued = staff_client.get(response.location).get_data(as_text=True)
    assert '>queued</strong><span\n    data-field="phase"></span>' in queued, "not 'queued · queued'"
    with app.app_context():
        db.session.execute(text("UPDATE imports SET status = 'running', phase = 'saving'"))
        db.session.commit()
    running = staff_client.get(response.location).get_data(as_text=True)
    assert '>running</strong><span\n    data-field="phase">saving</span>' in running


def test_a_file_of_new_books_with_stored_ones_among_them_counts_each_row_right_in_every_mode(app, staff_client):
    """The first rows are new, so the import inserts before looking; the stored books among them are then
    found, updated, left alone or skipped as the mode says, and the history records each update."""
    modes = {  # mode: (created, updated, unchanged, skipped) for rows base+1 … base+10, base+3/6/9 stored
        "create_update": (7, 1, 2, 0),
        "create_only": (7, 0, 0, 3),
        "update_only": (0, 1, 2, 7),
    }
    stored = [base + n for base in (0, 100, 200) for n in (3, 6, 9)]
    upload(staff_client, csv_bytes([book_row(n) for n in stored]))
    run_worker(app)
    for base, (mode, counts) in zip((0, 100, 200), modes.items(), strict=True):
        rows = [book_row(base + n, Price="5.00") if n == 3 else book_row(base + n) for n in range(1, 11)]
        location = upload(staff_client, csv_bytes(rows), name=f"{mode}.csv", mode=mode).location
        run_worker(app)
        state = import_state(staff_client, location)
        assert state["status"] == "succeeded", state
        assert tuple(state[key] for key in ("created", "updated", "unchanged", "skipped")) == counts, mode
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Book.id))) == 9 + 7 + 7
        prices = db.session.scalars(select(Book.price).where(Book.isbn.in_([isbn13(3), isbn13(103), isbn13(203)])))
        assert sorted(str(p) for p in prices) == ["3.03", "5.00", "5.00"]  # create-only left it alone
        from bookapp.models import ImportChange

        changes = db.session.execute(select(ImportChange.row_number, ImportChange.before)).all()
        # row 4 (the header is row 1) of the create-and-update and of the update-only file
        assert [(number, before["price"]) for number, before in changes] == [(4, "3.03"), (4, "3.03")]


def test_every_kind_of_repair_noted_of_the_valid_rows_is_counted_under_the_importers_own_note():
    """Each list of rows ValidRows keeps of a repair is counted in the import's repairs, under the note the
    importer declares for it: a new kind of repair needs no second list in the services to be told."""
    from dataclasses import fields
    from types import SimpleNamespace

    from bookapp.importer.fields import FIELDS
    from bookapp.importer.validation import NOTED_ROWS, ValidRows
    from bookapp.services.row_records import note_chunk_repairs

    lists = [f.name for f in fields(ValidRows) if f.name not in ("numbers", "columns")]
    valid = ValidRows([2, 3], [[None, None] for _ in FIELDS], **{name: [3] for name in lists})
    imp = SimpleNamespace(repairs=None)
    note_chunk_repairs(imp, SimpleNamespace(valid=valid, shown=[]))
    assert imp.repairs == {NOTED_ROWS[name]: {"count": 1, "rows": [3]} for name in lists}
    assert valid.where([True, False]).repaired == [] and valid.where([False, True]).repaired == [3]
