"""Match columns in the browser, server side: a Goodreads library export is kept for matching, its page shows
each column (samples, blank share, different values), Continue is refused until every required field has a
column or a value, a real worker imports it with a fallback chain, defaults and a value map, and the profile
saved then reads the next file with the same header with no matching step."""

import csv
import html
import io
import re
import zipfile
from decimal import Decimal

import pytest
from sqlalchemy import select

from bookapp.extensions import db
from bookapp.importer.book_types import own_kind
from bookapp.importer.fields import BOOK_TYPES
from bookapp.importer.mapping import Mapping
from bookapp.importer.matching import Choices, from_form, suggest
from bookapp.importer.value_matches import value_section
from bookapp.models import Book, Import, ImportProfile, ImportStatus, Role
from tests.conftest import add_user, build_app, run_worker, sign_in
from tests.helpers import (
    GOODREADS_HEADER,
    book_row,
    csv_bytes,
    goodreads_csv,
    goodreads_row,
    isbn13,
    with_shared_strings,
    write_ods,
    write_xls,
    write_xlsx,
)

#: What a person chooses for a Goodreads export: ISBN13 else ISBN, Year Published else Original Publication
#: Year, Owned Copies as Quantity, Book type from Exclusive Shelf with its values matched, Price 0.00 for all.
GOODREADS_CHOICES = {
    "column-title": "Title",
    "column-author": "Author",
    "column-isbn": "ISBN13",
    "else-isbn": ["ISBN", ""],
    "column-year_published": "Year Published",
    "else-year_published": "Original Publication Year",
    "column-no_of_pages": "Number of Pages",
    "column-quantity": "Owned Copies",
    "column-book_type": "Exclusive Shelf",
    "value-text-1": "read",
    "value-1": "Classic",
    "value-text-2": "to-read",
    "value-2": "Horror",
    "value-text-3": "currently-reading",
    "value-3": "reject",
    "default-price": "0.00",
}


def upload(client, data: bytes, name: str = "goodreads_library_export.csv", **form):
    return client.post(
        "/imports/new",
        data={"file": (io.BytesIO(data), name), "mode": "create_update", **form},
        content_type="multipart/form-data",
    )


def text_of(response) -> str:
    """The page's text as a person reads it: tags gone (words inside a line kept together), entities
    decoded, spaces collapsed."""
    text = re.sub(r"</?(?:a|strong|em|small|span|code|wbr)\b[^>]*>", "", response.get_data(as_text=True))
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def column_row(page_html: str, header: str) -> list[str]:
    """The cells of the file-columns table's row for *header*, as text."""
    table = page_html[page_html.index('<table class="file-columns">') :]
    for row in re.findall(r"<tr>(.*?)</tr>", table[: table.index("</table>")], re.S):
        cells = [
            " ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split())
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        if cells[1] == header:
            return cells
    raise AssertionError(f"no row for {header!r}")


def selected(page_html: str, select_id: str) -> str:
    """The value of the option selected in a select ("" when none is)."""
    body = re.search(rf'<select id="{re.escape(select_id)}"[^>]*>(.*?)</select>', page_html, re.S)
    assert body, f"no select #{select_id}"
    found = re.search(r'<option value="([^"]*)" selected>', body.group(1))
    return html.unescape(found.group(1)) if found else ""


def listed_values(page_html: str) -> dict[str, tuple[int | None, str]]:
    """Book type's values listed for matching: value → (rows, the choice selected)."""
    found = re.findall(
        r'<td class="mono">([^<]*)<input type="hidden" name="value-text-(\d+)"[^>]*></td>\s*<td class="num">([\d,]*)</td>',
        page_html,
    )
    return {
        html.unescape(text): (int(count.replace(",", "")) if count else None, selected(page_html, f"value-{index}"))
        for text, index, count in found
    }


def waiting_import(app, import_id: int = 1) -> Import:
    with app.app_context():
        return db.session.get(Import, import_id)


def test_the_columns_page_shows_each_column_of_a_goodreads_export(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    rows = [goodreads_row(n) for n in range(1, 21)]
    rows[4] = goodreads_row(5, ISBN13='=""')  # a book Goodreads has no ISBN-13 for

    answer = upload(client, goodreads_csv(rows))

    assert answer.status_code == 302 and answer.location == "/imports/1/columns"
    assert waiting_import(sqlite_app).status == ImportStatus.NEEDS_MAPPING.value
    page = client.get("/imports/1/columns")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    # Samples as the importer reads them (="0441172717" is 0441172717), the blank share, the different values.
    isbn13_row = column_row(body, "ISBN13")
    assert isbn13_row[2].split()[:3] == [isbn13(1), isbn13(2), isbn13(3)]
    assert isbn13_row[3:5] == ["5 %", "19"]  # one =""
    assert column_row(body, "Date Read")[3:5] == ["70 %", "1"]  # read only in 6 of the 20 rows
    assert column_row(body, "Exclusive Shelf")[2:5] == ["to-read currently-reading read", "0 %", "3"]
    assert "Spoiler" not in columns_listed(body) and "Spoiler" in blank_columns_said(body)[1]  # blank in every row
    assert column_row(body, "My Review")[2].startswith("Loved it, truly. Second thought, on book 1.")
    assert "20 rows under the header" in text_of(page)
    # Filled in from the header: ISBN, else the second ISBN column; nothing guessed for the rest.
    assert selected(body, "column-title") == "Title"
    assert selected(body, "column-isbn") == "ISBN" and selected(body, "else-isbn-1") == "ISBN13"
    assert selected(body, "column-year_published") == "Year Published"
    for field in ("book_type", "price", "quantity"):
        assert selected(body, f"column-{field}") == ""
        assert re.search(rf'id="default-{field}" name="default-{field}" value=""', body)
    assert re.search(r'<button type="submit" name="action" value="continue" id="continue"[^>]* disabled>', body)
    assert "Continue needs a column, or a value for every row, for: Book type, Price, Quantity." in text_of(page)


def test_a_column_of_isbns_and_one_of_years_are_suggested_by_their_values(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    header = ["Name", "Code", "Printed", "Copies left"]
    rows = [[f"Book {n}", isbn13(n), str(1450 + n * 20), "3"] for n in range(1, 21)]

    upload(client, csv_bytes(rows, header=header), "stock.csv")
    body = client.get("/imports/1/columns").get_data(as_text=True)

    assert selected(body, "column-title") == "Name"  # a synonym
    assert selected(body, "column-isbn") == "Code"  # valid ISBNs
    assert selected(body, "column-year_published") == "Printed"  # years from 1450 to next year
    assert selected(body, "column-quantity") == ""  # 3s are no year, no ISBN: nothing guessed


def test_continue_is_refused_until_every_required_field_has_a_column_or_a_value(sqlite_app, redis_client):
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    upload(client, goodreads_csv([goodreads_row(n) for n in range(1, 6)]))
    choices = {**GOODREADS_CHOICES, "default-price": "", "action": "continue"}

    refused = client.post("/imports/1/columns", data=choices)

    assert refused.status_code == 400
    assert "Continue needs a column, or a value for every row, for: Price." in text_of(refused)
    assert waiting_import(sqlite_app).status == ImportStatus.NEEDS_MAPPING.value
    assert not redis_client.keys("rq:job:*")
    live = client.post("/imports/1/columns/preview", data=choices).get_json()
    assert live["can_continue"] is False and live["missing"] == ["price"]
    # A value for every row that is no price would reject every row: refused at once, in the importer's words.
    live = client.post("/imports/1/columns/preview", data={**choices, "default-price": "free"}).get_json()
    assert live["can_continue"] is False
    assert live["reason"] == "Price's value for every row, 'free', is not a price: write it like 12.99."
    accepted = client.post("/imports/1/columns", data={**choices, "default-price": "0.00"})
    assert accepted.status_code == 302 and accepted.location == "/imports/1"
    assert waiting_import(sqlite_app).status == ImportStatus.QUEUED.value


def test_the_preview_shows_the_first_rows_as_they_would_be_saved_with_their_verdicts(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    upload(client, goodreads_csv([goodreads_row(n) for n in range(1, 31)]))

    live = client.post("/imports/1/columns/preview", data=GOODREADS_CHOICES).get_json()

    rows = re.findall(
        r"<tr><td class=\"num\">(\d+)</td>\s*<td class=\"verdict\">(.*?)</td>", live["preview_html"], re.S
    )
    verdicts = {int(n): " ".join(re.sub(r"<[^>]+>", " ", html.unescape(v)).split()) for n, v in rows}
    assert sorted(verdicts) == list(range(2, 12))  # the first 10 rows
    assert verdicts[2] == "Valid"  # book 1: to-read, a Horror
    assert verdicts[3] == "Rejected: Book type 'currently-reading' is a value you chose to reject"
    assert live["summary"] == "Preview of the first 10 rows: the import would reject 3; the other 7 are valid."
    # Without scripts, Preview shows the page again with the same choices, and one more fallback select.
    page = client.post("/imports/1/columns", data={**GOODREADS_CHOICES, "action": "preview"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and selected(body, "else-isbn-1") == "ISBN" and selected(body, "else-isbn-2") == ""
    assert "Rejected: Book type 'currently-reading' is a value you chose to reject" in text_of(page)
    assert listed_values(body)["currently-reading"] == (10, "reject")


def test_book_types_values_are_listed_with_their_counts_and_only_case_and_spacing_are_matched(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    genres = ["Sci-Tech", " sci tech ", "sci-fi", "Comic", "Manga"]
    rows = [book_row(n, **{"Book type": genres[n % 5]}) for n in range(1, 101)]
    header = ["Title", "Author", "Shelf", "ISBN", "Year published", "Price", "No. of pages", "Quantity", "Description"]
    upload(client, csv_bytes(rows, header=header), "shelves.csv")

    page = client.post(
        "/imports/1/columns", data={"column-title": "Title", "column-book_type": "Shelf", "action": "preview"}
    )

    assert listed_values(page.get_data(as_text=True)) == {
        "sci tech": (20, "Sci-tech"),  # " sci tech " once trimmed, as the value map looks it up
        "Sci-Tech": (20, "Sci-tech"),
        "Comic": (20, "Comic"),
        "sci-fi": (20, ""),  # the person decides
        "Manga": (20, ""),
    }


def test_a_worker_imports_with_a_fallback_chain_defaults_and_a_value_map(app, staff_client):
    rows = [goodreads_row(n) for n in range(1, 13)]
    rows[0] = goodreads_row(1, ISBN13='=""')  # the ISBN-10 is used
    rows[3] = goodreads_row(4, ISBN13='=""', ISBN='=""')  # no ISBN at all: rejected
    rows[6] = goodreads_row(7, **{"Year Published": ""})  # the original year is used
    upload(staff_client, goodreads_csv(rows))

    answer = staff_client.post(
        "/imports/1/columns", data={**GOODREADS_CHOICES, "action": "continue", "save_as": "Goodreads export"}
    )

    assert answer.status_code == 302 and answer.location == "/imports/1"
    run_worker(app)
    with app.app_context():
        imp = db.session.get(Import, 1)
        books = {b.title: b for b in db.session.scalars(select(Book))}
        assert (imp.status, imp.created, imp.rejected) == ("succeeded", 7, 5)
        assert imp.profile.name == "Goodreads export" and imp.column_profile is None
    # Shelves: read (3, 6, 9, 12) → Classic, to-read (1, 4, 7, 10) → Horror, currently-reading rejected.
    assert sorted(books) == [f"Goodreads Book {n}" for n in (1, 10, 12, 3, 6, 7, 9)]
    assert books["Goodreads Book 1"].isbn == isbn13(1)  # from the ISBN-10 column
    assert books["Goodreads Book 1"].book_type == "Horror" and books["Goodreads Book 3"].book_type == "Classic"
    assert books["Goodreads Book 7"].year_published == str(1900 + 7)
    assert books["Goodreads Book 6"].year_published == str(1960 + 6)
    assert {b.price for b in books.values()} == {Decimal("0.00")}
    assert books["Goodreads Book 6"].quantity == 6 % 4 and books["Goodreads Book 6"].no_of_pages == 206
    page = text_of(staff_client.get("/imports/1"))
    assert "Columns matched for this import and saved as profile 'Goodreads export' (edit)" in page
    assert "Book type 'currently-reading' is a value you chose to reject: 4 rows (3, 6, 9, 12)" in page
    assert "ISBN is required" in page  # book 4


def test_a_confirmed_dry_run_says_its_columns_were_matched_for_it_as_its_dry_run_does(app, staff_client):
    upload(staff_client, goodreads_csv([goodreads_row(n) for n in range(1, 4)]), dry_run="y")
    staff_client.post(
        "/imports/1/columns", data={**GOODREADS_CHOICES, "action": "continue", "save_as": "Goodreads export"}
    )
    run_worker(app)
    assert staff_client.post("/imports/1/confirm").status_code == 302
    run_worker(app)
    saved_here = "Columns matched for this import and saved as profile 'Goodreads export' (edit)"
    assert saved_here in text_of(staff_client.get("/imports/1"))
    assert saved_here in text_of(staff_client.get("/imports/2"))  # the real import, made from the dry run


def test_a_header_that_names_a_filled_column_too_is_not_called_blank():
    from bookapp.matching.context import blank_columns

    profile = {"rows": 4, "columns": [{"header": "Notes", "blank": 4}, {"header": "Notes", "blank": 1},
                                      {"header": "Shelf", "blank": 4}, {"header": "Title", "blank": 0}]}  # fmt: skip
    assert blank_columns(["Notes", "Notes", "Shelf", "Title"], profile) == ["Shelf"]


def test_the_profile_saved_reads_the_next_file_with_the_same_header_with_no_matching_step(app, staff_client):
    upload(staff_client, goodreads_csv([goodreads_row(n) for n in range(1, 4)]))
    staff_client.post(
        "/imports/1/columns", data={**GOODREADS_CHOICES, "action": "continue", "save_as": "Goodreads export"}
    )
    run_worker(app)

    second = upload(staff_client, goodreads_csv([goodreads_row(n) for n in range(50, 56)]), "later_export.csv")

    assert second.status_code == 302 and second.location == "/imports/2"
    run_worker(app)
    page = text_of(staff_client.get("/imports/2"))
    assert "Matched with profile 'Goodreads export' (edit)" in page
    with app.app_context():
        imp = db.session.get(Import, 2)
        assert (imp.status, imp.created, imp.rejected) == ("succeeded", 4, 2)  # 50 and 53 are currently-reading
        assert db.session.scalar(select(Book).where(Book.isbn == isbn13(51))).book_type == "Classic"


def test_the_profiles_page_renames_edits_and_deletes_profiles(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    upload(client, goodreads_csv([goodreads_row(n) for n in range(1, 4)]))
    client.post("/imports/1/columns", data={**GOODREADS_CHOICES, "action": "continue", "save_as": "Goodreads export"})
    with sqlite_app.app_context():
        profile_id = db.session.scalar(select(ImportProfile.id))

    listing = client.get("/imports/profiles")
    assert listing.status_code == 200 and "Goodreads export" in text_of(listing)
    assert f"{len(GOODREADS_HEADER)} columns: Book Id, Title" in text_of(listing)

    renamed = client.post(
        f"/imports/profiles/{profile_id}/rename", data={"name": "  My   shelves "}, follow_redirects=True
    )
    assert "Profile 'Goodreads export' renamed 'My shelves'." in text_of(renamed)
    refused = client.post(f"/imports/profiles/{profile_id}/rename", data={"name": " "}, follow_redirects=True)
    assert "Not renamed: Give the profile a name." in text_of(refused)

    # Edit: the same controls, filled from the profile; a required field left empty is refused.
    editor = client.get(f"/imports/profiles/{profile_id}").get_data(as_text=True)
    assert selected(editor, "column-isbn") == "ISBN13" and selected(editor, "else-isbn-1") == "ISBN"
    assert 'id="default-price" name="default-price" value="0.00"' in editor
    assert listed_values(editor) == {  # listed from the saved matches
        "currently-reading": (None, "reject"),
        "read": (None, "Classic"),
        "to-read": (None, "Horror"),
    }
    edited = {**GOODREADS_CHOICES, "default-price": "", "action": "save"}
    assert client.post(f"/imports/profiles/{profile_id}", data=edited).status_code == 400
    edited = {
        **GOODREADS_CHOICES,
        "default-price": "1.50",
        "value-text-new": "Favourites",
        "value-new": "Comic",
        "action": "save",
    }
    saved = client.post(f"/imports/profiles/{profile_id}", data=edited, follow_redirects=True)
    assert "Profile 'My shelves' saved." in text_of(saved)
    with sqlite_app.app_context():
        mapping = db.session.get(ImportProfile, profile_id).mapping
    assert mapping["defaults"] == {"price": "1.50"}
    assert mapping["values"]["book_type"]["Favourites"] == "Comic"

    deleted = client.post(f"/imports/profiles/{profile_id}/delete", follow_redirects=True)
    assert "Profile 'My shelves' deleted." in text_of(deleted) and "No profile yet." in text_of(deleted)
    with sqlite_app.app_context():
        imp = db.session.get(Import, 1)
        assert imp.profile_id is None and imp.mapping["defaults"] == {"price": "0.00"}  # its own copy


def test_the_import_page_of_a_file_waiting_for_its_columns_links_to_them_and_can_cancel(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    upload(client, goodreads_csv([goodreads_row(1)]))

    page = client.get("/imports/1")

    assert "This file waits for its columns" in text_of(page)
    assert 'href="/imports/1/columns"' in page.get_data(as_text=True)
    assert '<meta http-equiv="refresh"' not in page.get_data(as_text=True)  # nothing to follow until it is matched
    client.post("/imports/1/cancel")
    assert waiting_import(sqlite_app).status == ImportStatus.CANCELLED.value
    again = client.get("/imports/1/columns")
    assert again.status_code == 302 and again.location == "/imports/1"


def test_a_large_file_is_profiled_in_a_job_while_the_page_waits(sqlite_app):
    sqlite_app.config["PROFILE_IN_REQUEST_ROWS"] = 0  # every file is "large"
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    upload(client, goodreads_csv([goodreads_row(n) for n in range(1, 21)]))

    waiting = client.get("/imports/1/columns")

    assert waiting.status_code == 200 and "profiling…" in text_of(waiting)
    assert client.get("/imports/1/columns/profile.json").get_json() == {"state": "pending"}
    without = client.get("/imports/1/columns?without_profile=1")
    assert selected(without.get_data(as_text=True), "column-title") == "Title"  # matching from the header alone
    run_worker(sqlite_app)
    assert client.get("/imports/1/columns/profile.json").get_json() == {"state": "ready"}
    assert column_row(client.get("/imports/1/columns").get_data(as_text=True), "Exclusive Shelf")[4] == "3"


def test_a_profile_job_that_was_lost_says_so_and_can_be_run_again(sqlite_app, redis_client):
    sqlite_app.config["PROFILE_IN_REQUEST_ROWS"] = 0
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    upload(client, goodreads_csv([goodreads_row(n) for n in range(1, 4)]))
    client.get("/imports/1/columns")
    redis_client.flushdb()  # Redis forgot the job

    page = client.get("/imports/1/columns")

    assert "Reading the file's columns stopped before it ended." in text_of(page)
    assert selected(page.get_data(as_text=True), "column-title") == "Title"  # matching goes on without samples
    again = client.post("/imports/1/columns/profile")
    assert again.status_code == 302 and again.location == "/imports/1/columns"
    assert client.get("/imports/1/columns/profile.json").get_json() == {"state": "pending"}
    run_worker(sqlite_app)
    assert client.get("/imports/1/columns/profile.json").get_json() == {"state": "ready"}


def test_with_the_queue_down_a_large_file_is_profiled_in_the_request_and_still_matched(redis_client, tmp_path):
    app = build_app(
        f"sqlite:///{tmp_path / 'down.sqlite3'}", "redis://127.0.0.1:1/0", tmp_path, PROFILE_IN_REQUEST_ROWS=0
    )
    add_user(app, "staff@example.com")
    client = sign_in(app.test_client(), "staff@example.com")
    upload(client, goodreads_csv([goodreads_row(n) for n in range(1, 11)]))

    page = client.get("/imports/1/columns")

    assert column_row(page.get_data(as_text=True), "Exclusive Shelf")[4] == "3"
    answer = client.post("/imports/1/columns", data={**GOODREADS_CHOICES, "action": "continue"}, follow_redirects=True)
    assert "The queue (Redis) is unavailable right now" in text_of(answer)
    assert waiting_import(app).status == ImportStatus.QUEUED.value


def test_a_workbook_is_matched_and_previewed_from_its_typed_cells(sqlite_app, tmp_path):
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    header = ["Name", "Writer", "Code", "Printed", "Copies", "Cost"]
    rows = [[f"Workbook Book {n}", f"W {n}", isbn13(n), 1990 + n, n, 9.5] for n in range(1, 8)]
    upload(client, write_xlsx(tmp_path / "stock.xlsx", rows, header=header).read_bytes(), "stock.xlsx")

    body = client.get("/imports/1/columns").get_data(as_text=True)
    assert [selected(body, f"column-{f}") for f in ("title", "isbn", "year_published", "quantity")] == [
        "Name", "Code", "Printed", "Copies",
    ]  # fmt: skip
    assert selected(body, "column-price") == "", "a cost may be what the shop paid: the person says"
    assert selected(body, "column-book_type") == ""
    choices = {"column-title": "Name", "column-author": "Writer", "column-isbn": "Code", "column-year_published": "Printed",
               "column-quantity": "Copies", "column-price": "Cost", "default-book_type": "comic"}  # fmt: skip
    live = client.post("/imports/1/columns/preview", data=choices).get_json()
    assert live["summary"] == "Preview of the first 7 rows: all 7 are valid."
    assert "<td>1991</td>" in live["preview_html"] and "<td>9.50</td>" in live["preview_html"]

    client.post("/imports/1/columns", data={**choices, "action": "continue"})
    run_worker(sqlite_app)
    with sqlite_app.app_context():
        book = db.session.scalar(select(Book).where(Book.isbn == isbn13(3)))
        assert (book.title, book.year_published, book.price, book.quantity, book.book_type) == (
            "Workbook Book 3", "1993", Decimal("9.50"), 3, "Comic",
        )  # fmt: skip


def test_only_staff_match_columns_and_see_profiles(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    add_user(sqlite_app, "viewer@example.com", Role.VIEWER)
    upload(sign_in(sqlite_app.test_client(), "staff@example.com"), goodreads_csv([goodreads_row(1)]))
    viewer = sign_in(sqlite_app.test_client(), "viewer@example.com")

    for path in ("/imports/1/columns", "/imports/profiles"):
        assert viewer.get(path).status_code == 403
    assert viewer.post("/imports/1/columns/preview", data=GOODREADS_CHOICES).status_code == 403
    assert sqlite_app.test_client().get("/imports/profiles").location.startswith("/login")


@pytest.mark.parametrize("value", ["Sci-Tech", " sci tech ", "SCITECH"])
def test_case_and_spacing_variants_of_a_type_are_pre_matched(value):
    profile = {"columns": [{"header": "Genre", "values": [[value, 3], ["sci-fi", 2]]}]}
    choices = Choices(columns={"book_type": ["Genre"]})

    rows = {r.text: r for r in value_section(choices, profile).rows}

    assert rows[value.strip()].choice == "Sci-tech" and rows[value.strip()].pre_matched
    assert rows["sci-fi"].choice == "" and not rows["sci-fi"].pre_matched


@pytest.mark.parametrize(
    "value, own",
    [("Roman", True), ("BD", True), ("Novela", True), ("Science Fiction", True), ("Manga", True), ("Thriller", True),
     ("Comc", False), ("Horor", False), ("sci tec", False), ("Magazin", True), ("19", False), ("x", False),
     ("9.99", False), (1965, False)],
)  # fmt: skip
def test_a_word_near_no_book_type_is_a_kind_of_its_own_and_a_slip_of_one_is_not(value, own):
    """A word that is no book type and near none (Roman, BD) is a kind of book of the file's own, to match
    even in one row, and so is a type's name with another ending (Magazin: tests/test_type_spellings.py); a
    typing slip of a type (Comc, Horor), a number or a stray letter is its row's mistake."""
    assert own_kind(value) is own


def test_the_form_reads_back_into_a_mapping_naming_every_field():
    headers = GOODREADS_HEADER
    form = _MultiDict(GOODREADS_CHOICES)

    mapping = from_form(form, headers).as_json()

    assert mapping["columns"]["isbn"] == ["ISBN13", "ISBN"]
    assert mapping["columns"]["description"] is None  # no synonym may add it unseen
    assert mapping["defaults"] == {"price": "0.00"}
    assert mapping["values"] == {"book_type": {"read": "Classic", "to-read": "Horror", "currently-reading": None}}
    assert set(BOOK_TYPES) >= {v for v in mapping["values"]["book_type"].values() if v}
    # A column the file does not have is left out, and so is a value already a type.
    other = from_form(_MultiDict({"column-title": "Nope", "value-text-1": "classic", "value-1": "Classic"}), headers)
    assert other.chain("title") == [] and other.values == {}
    assert suggest(headers).chain("isbn") == ["ISBN", "ISBN13"]


class _MultiDict(dict):
    def getlist(self, key):
        value = self.get(key)
        return [] if value is None else value if isinstance(value, list) else [value]

    def get(self, key, default=None):
        value = super().get(key, default)
        return value[0] if isinstance(value, list) and value else value


def test_a_goodreads_files_rejected_rows_come_back_fixed_under_its_profile(app, staff_client):
    """The rejected-rows CSV of a Goodreads export keeps its ="…" ISBNs as Goodreads wrote them (no
    apostrophe in front: a spreadsheet shows the digits, leading zero and all), and uploaded again once
    fixed it is read with the file's profile, though "row" and "error" follow its columns."""
    rows = [goodreads_row(n) for n in range(1, 4)]
    rows[0] = goodreads_row(1, **{"Year Published": "soon", "Original Publication Year": ""})
    upload(staff_client, goodreads_csv(rows))
    staff_client.post(
        "/imports/1/columns", data={**GOODREADS_CHOICES, "action": "continue", "save_as": "Goodreads export"}
    )
    run_worker(app)
    text = staff_client.get("/imports/1/rejected.csv").get_data(as_text=True).removeprefix("\ufeff")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [*GOODREADS_HEADER, "row", "error"]
    rejected = {line[len(GOODREADS_HEADER)].split()[0]: line for line in lines[1:]}
    assert set(rejected) == {"2", "3"}  # row 2: book 1; row 3, book 2, is currently-reading
    fixed = rejected["2"]
    assert fixed[GOODREADS_HEADER.index("ISBN13")] == f'="{isbn13(1)}"', "written as Goodreads wrote it"
    fixed[GOODREADS_HEADER.index("Year Published")] = "2001"
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([lines[0], fixed])

    again = upload(staff_client, buffer.getvalue().encode(), "import-1-rejected-rows.csv")

    assert again.status_code == 302 and again.location == "/imports/2", "no matching step: the profile reads it"
    run_worker(app)
    with app.app_context():
        imp = db.session.get(Import, 2)
        assert (imp.status, imp.created, imp.rejected, imp.profile.name) == ("succeeded", 1, 0, "Goodreads export")
        book = db.session.scalar(select(Book).where(Book.isbn == isbn13(1)))
        assert (book.title, book.year_published) == ("Goodreads Book 1", "2001")


def test_an_apostrophe_an_earlier_download_put_before_a_text_formula_is_read_past():
    from bookapp.importer.values import clean_text

    assert clean_text('\'="0375704027"') == "0375704027"
    assert clean_text("'=SUM(A1)") == "=SUM(A1)"


def test_the_rejected_rows_show_the_isbn_from_the_matched_columns_as_the_file_meant_it(app, staff_client):
    """The rejected-rows table's ISBN is read through the column matches: ISBN13, else the ISBN-10 column
    where ISBN13 is ="", each without its ="…" wrapping (not the raw cell of a column called "ISBN")."""
    rows = [goodreads_row(n) for n in range(1, 4)]
    rows[1] = goodreads_row(2, ISBN13='=""')  # currently-reading: rejected; its ISBN-10 column is read
    rows[2] = goodreads_row(3, **{"Year Published": "soon", "Original Publication Year": ""})
    upload(staff_client, goodreads_csv(rows))
    staff_client.post("/imports/1/columns", data={**GOODREADS_CHOICES, "action": "continue"})
    run_worker(app)

    page = staff_client.get("/imports/1").get_data(as_text=True)

    shown = re.findall(r'data-label="Row">(\d+).*?data-label="ISBN">([^<]*)<', page)
    from stdnum import isbn as stdnum_isbn

    assert dict(shown) == {"3": stdnum_isbn.to_isbn10(isbn13(2)), "4": isbn13(3)}, shown


def test_a_value_for_every_row_that_no_row_could_take_is_refused_where_it_is_typed(app, staff_client):
    """Book type "Fiction" for every row would reject every row: Continue refuses it and says why, and
    the import keeps waiting for its columns."""
    upload(staff_client, goodreads_csv([goodreads_row(n) for n in range(1, 4)]))
    choices = {k: v for k, v in GOODREADS_CHOICES.items() if not k.startswith("value") and k != "column-book_type"}

    answer = staff_client.post("/imports/1/columns", data={**choices, "default-book_type": "Fiction",
                                                           "action": "continue"})  # fmt: skip

    assert answer.status_code == 400
    assert "Book type's value for every row, 'Fiction', must be one of: Sci-tech" in text_of(answer)
    with app.app_context():
        assert db.session.get(Import, 1).status == ImportStatus.NEEDS_MAPPING.value
    fine = staff_client.post(
        "/imports/1/columns", data={**choices, "default-book_type": "classic", "action": "continue"}
    )
    assert fine.status_code == 302


def test_the_preview_says_which_value_it_waits_for_not_that_the_columns_are_unread(app, staff_client):
    """Book type "Novel" for every row leaves no preview: the preview's place says the value is what it waits
    for, not that the file's columns have yet to be read (they are listed above it)."""
    upload(staff_client, goodreads_csv([goodreads_row(n) for n in range(1, 4)]))
    choices = {k: v for k, v in GOODREADS_CHOICES.items() if not k.startswith("value") and k != "column-book_type"}

    page = text_of(staff_client.post("/imports/1/columns", data={**choices, "default-book_type": "Novel"}))

    assert "once its columns have been read" not in page
    assert (
        "The preview waits for this to be put right: Book type's value for every row, 'Novel', must be one of:"
        " Sci-tech, Magazine, Comic, Classic, Horror."
    ) in page


def test_a_file_uploaded_again_while_it_waits_for_its_columns_is_said_to_wait_not_to_be_importing(app, staff_client):
    """Someone leaves Match columns and uploads the export again: the upload says the first one waits for its
    columns to be matched (nothing is being imported), and names it."""
    data = goodreads_csv([goodreads_row(n) for n in range(1, 4)])
    upload(staff_client, data)

    again = upload(staff_client, data)

    assert again.status_code == 409
    page = text_of(again)
    assert "being imported" not in page
    assert "This file is waiting for its columns to be matched: it was uploaded on" in page and "(import #1)" in page


def test_shop_and_catalogue_exports_get_their_columns_guessed_by_name_unless_the_values_say_otherwise(tmp_path):
    """Shopify's Variant Barcode, Variant Price and Variant Inventory Qty and LibraryThing's Primary Author
    are guessed from their names (Variant SKU, ISBNs too, read where the barcode is blank); Shopify's Published (TRUE/FALSE) is not taken for Year published,
    though its name says "published": none of its values is a year."""
    from bookapp.importer.profiling import profile_file
    from tests import layouts

    name, content = layouts.shopify(1, 8)
    path = tmp_path / name
    path.write_bytes(content)
    headers = layouts.SHOPIFY_HEADER
    shopify = suggest(headers, profile_file(path))
    assert (shopify.chain("isbn"), shopify.chain("price"), shopify.chain("quantity")) == (
        ["Variant Barcode", "Variant SKU"], ["Variant Price"], ["Variant Inventory Qty"])  # fmt: skip
    assert shopify.chain("year_published") == [], "TRUE is no year"
    assert shopify.group_by == "Handle", "a product's variants share its Handle"
    assert suggest(layouts.GOODREADS_HEADER).group_by == ""
    libib = ["item_type", "title", "creators", "ean_isbn13", "publish_date", "price", "copies"]
    path = tmp_path / "libib.csv"
    path.write_text(
        ",".join(libib) + "\n" + "\n".join(f"book,T{n},C,{isbn13(n)},1990-09-0{n},1.00,1" for n in range(1, 6))
    )
    assert suggest(libib, profile_file(path)).chain("year_published") == ["publish_date"], "a date gives its year"
    assert suggest(headers).chain("year_published") == ["Published"], "without the values, the name is all there is"
    name, content = layouts.librarything(1)
    (tmp_path / name).write_bytes(content)
    assert suggest(layouts.LIBRARYTHING_HEADER, profile_file(tmp_path / name)).chain("author") == ["Primary Author"]


def test_match_columns_warns_of_the_rows_a_blank_book_type_column_will_reject(app, staff_client):
    """Rows whose Book type column is blank are rejected too (a type is required): the warning counts them
    beside the values not matched, until a value for every row fills them."""
    rows = [goodreads_row(n) for n in range(1, 7)]
    rows[0] = goodreads_row(1, **{"Exclusive Shelf": ""})
    rows[4] = goodreads_row(5, **{"Exclusive Shelf": ""})
    upload(staff_client, goodreads_csv(rows))
    staff_client.get("/imports/1/columns")
    run_worker(app)  # the file's column profile

    live = staff_client.post("/imports/1/columns/preview", data=GOODREADS_CHOICES).get_json()

    said = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", live["preview_html"])).split())
    assert (
        "2 rows have no Book type in Exclusive Shelf: unless you give Book type a value for every row (used where "
        "the column is blank), those that hold a book are rejected." in said
    )
    filled = staff_client.post("/imports/1/columns/preview", data={**GOODREADS_CHOICES, "default-book_type": "Comic"})
    assert "no Book type in" not in filled.get_json()["preview_html"]


def test_a_profile_saved_with_a_value_no_row_can_take_still_reads_its_files(app, staff_client):
    """A profile saved before values for every row were checked may hold one no row takes: its files are
    still read with it (each row then says what is wrong) rather than failing the upload, and its edit
    page is where the value is refused."""
    from bookapp.importer.mapping import header_key
    from tests.layouts import GOODREADS_MAPPING

    stored = {**GOODREADS_MAPPING, "defaults": {**GOODREADS_MAPPING.get("defaults", {}), "price": "free"}}
    with app.app_context():
        db.session.add(ImportProfile(name="Old export", headers=GOODREADS_HEADER,
                                     header_key=header_key(GOODREADS_HEADER), mapping=stored))  # fmt: skip
        db.session.commit()

    answer = upload(staff_client, goodreads_csv([goodreads_row(n) for n in range(1, 4)]))

    assert answer.status_code == 302 and answer.location == "/imports/1"
    run_worker(app)
    with app.app_context():
        imp = db.session.get(Import, 1)
        assert imp.status in ("failed", "succeeded") and "unexpected" not in (imp.error or "")
    assert staff_client.get("/imports/1/report.csv").status_code == 200
    assert Mapping.from_json({"defaults": {"price": "1,234.50"}}, as_typed=True).defaults == {"price": "1,234.50"}


def test_the_preview_shows_a_row_with_nothing_in_the_matched_columns_as_left_out_as_the_import_does(app, staff_client):
    rows = [goodreads_row(n) for n in range(1, 5)]
    rows[1] = ["" if h != "Private Notes" else "an image row" for h in GOODREADS_HEADER]
    upload(staff_client, goodreads_csv(rows))
    staff_client.get("/imports/1/columns")
    run_worker(app)  # the file's column profile

    live = staff_client.post("/imports/1/columns/preview", data=GOODREADS_CHOICES).get_json()

    verdicts = re.findall(r'<td class="num">(\d+)</td>.*?<td class="verdict">(.*?)</td>', live["preview_html"], re.S)
    said = {n: " ".join(re.sub(r"<[^>]+>", " ", v).split()) for n, v in verdicts}
    assert said["3"] == "Left out: nothing in the matched columns", said
    assert said["2"] == "Valid"


def test_match_columns_offers_the_handle_for_a_shops_variants_and_previews_them_as_imported(app, staff_client):
    """A Shopify export with a paperback variant under each product: Match columns suggests its Handle as the
    column naming each row's product, the preview shows the variant row imported with the product's title
    (rejected without it), and Continue imports every variant; the file's columns say what Handle is read for."""
    from tests import layouts

    name, content = layouts.shopify_variants(1, 2)
    upload(staff_client, content, name)
    staff_client.get("/imports/1/columns")
    run_worker(app)  # the file's column profile
    page = staff_client.get("/imports/1/columns")
    assert selected(page.get_data(as_text=True), "group_by") == "Handle"
    assert column_row(page.get_data(as_text=True), "Handle")[-1] == "Item of each row"

    choices = {"column-title": "Title", "column-author": "Vendor", "column-isbn": "Variant Barcode",
               "column-price": "Variant Price", "column-quantity": "Variant Inventory Qty",
               "column-book_type": "Type", "value-text-1": "Fiction", "value-1": "Classic",
               "default-year_published": "2024", "group_by": "Handle"}  # fmt: skip
    live = staff_client.post("/imports/1/columns/preview", data=choices).get_json()
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td>\s*<td class=\"verdict\">(.*?)</td>\s*<td>(.*?)</td>",
                      live["preview_html"], re.S)  # fmt: skip
    verdicts = {int(n): (re.sub(r"<[^>]+>", "", v).strip(), title) for n, v, title in rows}
    assert verdicts[3] == ("Valid", "Shop book 1") and verdicts[4][0].startswith("Left out")
    alone = staff_client.post("/imports/1/columns/preview", data={**choices, "group_by": ""}).get_json()
    assert "Title is required" in alone["preview_html"]

    assert staff_client.post("/imports/1/columns", data={**choices, "action": "continue"}).status_code == 302
    run_worker(app)
    with app.app_context():
        imp = db.session.get(Import, 1)
        assert (imp.status, imp.created, imp.rejected) == ("succeeded", 4, 0)
        assert imp.mapping["group_by"] == "Handle"
        assert db.session.scalar(select(Book.title).where(Book.isbn == layouts.isbn13(5))) == "Shop book 2"


#: Match columns for a Shopify export of books in two formats, and for a WooCommerce one, Book type from the
#: product's type (Shopify's Type) or category (WooCommerce's Categories), its value left unmatched.
SHOP_VALUE_CHOICES = {
    "shopify-variants": {"column-title": "Title", "column-author": "Vendor", "column-isbn": "Variant Barcode",
                         "column-price": "Variant Price", "column-quantity": "Variant Inventory Qty",
                         "column-book_type": "Type", "default-year_published": "2024", "group_by": "Handle"},
    "woocommerce": {"column-title": "Name", "column-author": "Attribute 1 value(s)", "column-isbn": "SKU",
                    "column-price": "Regular price", "column-quantity": "Stock", "column-book_type": "Categories",
                    "default-year_published": "2024", "group_by": "Parent"},
}  # fmt: skip


@pytest.mark.parametrize(("layout", "value", "holding", "read_with"),
                         [("shopify-variants", "Fiction", 3, 6), ("woocommerce", "Books > Fiction", 2, 6)])  # fmt: skip
def test_match_values_counts_every_row_the_import_reads_with_a_value_and_rejects_as_many(
    app, staff_client, layout, value, holding, read_with
):
    """A shop's export writes a product's type on its first row only; its other formats' rows take it from
    there (the column naming each row's item), its image rows and a variable product's own row are left out.
    Match values counted only the cells holding the value (Shopify's Fiction: 3 rows), so its warning said 3
    rows would be rejected where the preview on the same page rejected 6, and so did the import: it counts
    the rows the import reads with the value, and the import, through the real pages and worker, rejects
    exactly those. With another column naming the items, whose rows were not counted, it says no number it
    does not know."""
    from tests import layouts

    name, content = layouts.shopify_variants(1, 3) if layout == "shopify-variants" else layouts.woocommerce(1, 2)
    choices = SHOP_VALUE_CHOICES[layout]
    upload(staff_client, content, name)
    staff_client.get("/imports/1/columns")
    run_worker(app)  # the file's column profile
    page = staff_client.post("/imports/1/columns", data=choices)  # Preview, as without JavaScript
    said = text_of(page)
    warning = f"1 value of Book type ({read_with} rows) is not matched to a type: its rows will be rejected"
    assert warning in said, said[said.find("Match values") :][:600]
    assert listed_values(page.get_data(as_text=True)) == {value: (read_with, "")}
    preview = re.findall(r'<td class="verdict">(.*?)</td>', page.get_data(as_text=True), re.S)
    assert sum("Rejected:" in verdict for verdict in preview) == read_with

    other = {**choices, "group_by": "Published"}  # a column that names no item: its rows were not counted
    live = staff_client.post("/imports/1/columns/preview", data=other).get_json()
    unsure = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", live["preview_html"])).split())
    assert f"the {holding} rows holding it, and the rows of the same item that take it from" in unsure, unsure

    assert staff_client.post("/imports/1/columns", data={**choices, "action": "continue"}).status_code == 302
    run_worker(app)
    with app.app_context():
        imp = db.session.get(Import, 1)
        assert (imp.status, imp.rejected, imp.created) == ("succeeded", read_with, 0)


def test_a_blank_column_or_a_category_id_is_not_suggested_and_a_listing_sheets_header_marks_are_read_past(
    tmp_path,
):
    """Zotero's blank Type, Pages and Notes are not suggested (Num Pages, filled, is; an empty Notes for
    Description would clear stored descriptions on update), nor a File Exchange sheet's *Category (261186,
    a category ID) for Book type; that sheet's "*StartPrice", "C:Author" and "C:Number of Pages" are read
    as their names without the marks."""
    from bookapp.importer.profiling import profile_file
    from tests import layouts

    name, content = layouts.zotero(1)
    (tmp_path / name).write_bytes(content)
    zotero = suggest(layouts.ZOTERO_HEADER, profile_file(tmp_path / name))
    assert [zotero.chain(f) for f in ("book_type", "no_of_pages", "description")] == [[], ["Num Pages"], []]
    name, content = layouts.ebay_file_exchange(1)
    (tmp_path / name).write_bytes(content)
    listing = suggest(layouts.EBAY_FILE_EXCHANGE_HEADER, profile_file(tmp_path / name))
    assert {f: listing.chain(f) for f in ("title", "author", "book_type", "price", "no_of_pages", "quantity")} == {
        "title": ["*Title"], "author": ["C:Author"], "book_type": [], "price": ["*StartPrice"],
        "no_of_pages": ["C:Number of Pages"], "quantity": ["*Quantity"],
    }  # fmt: skip


def test_a_book_type_column_of_genres_goes_to_match_columns_and_plural_types_are_pre_matched(
    app, staff_client, tmp_path
):
    """A reading app's export names Genre, a Book type synonym, and every other required field: it was
    imported straight away and most rows rejected ("Science Fiction" is no type). Its first rows show the
    column holds mostly no types, so it waits on Match columns for them to be matched; there "Classics"
    is pre-matched to Classic (as "Comics" to Comic), and a file of types (plural or not) imports at once."""
    from bookapp.importer.profiling import profile_file
    from tests import layouts

    name, content = layouts.bookbuddy(1)
    upload(staff_client, content, name)
    with app.app_context():
        assert db.session.get(Import, 1).status == ImportStatus.NEEDS_MAPPING.value
    (tmp_path / name).write_bytes(content)
    profile = profile_file(tmp_path / name)
    choices = suggest(layouts.BOOKBUDDY_HEADER, profile)
    rows = {r.text: r for r in value_section(choices, profile).rows}
    assert choices.chain("book_type") == ["Genre"]
    assert (rows["Classics"].choice, rows["Classics"].pre_matched) == ("Classic", True)
    assert rows["Science Fiction"].choice == ""
    name, content = layouts.bookbuddy(11, genres=("Classics", "Comics", "Horror"))
    upload(staff_client, content, name)
    run_worker(app)
    with app.app_context():
        imp = db.session.get(Import, 2)
        assert (imp.status, imp.created, imp.rejected) == (ImportStatus.SUCCEEDED.value, 5, 0)


def opened_and_saved(path, rows: list[list[str]], kind: str):
    """A reading app's CSV export opened in a spreadsheet program and saved as a workbook of *kind*: blank
    cells empty, digits numbers (the ISBN too), other cells text; an .xlsx's texts shared, as Excel saves them."""
    from tests import layouts

    cells = [[None if cell == "" else int(cell) if cell.isdigit() else cell for cell in row] for row in rows]
    if kind == "xlsx":
        return with_shared_strings(write_xlsx(path, cells, layouts.BOOKBUDDY_HEADER))
    return {"ods": write_ods, "xls": write_xls}[kind](path, cells, layouts.BOOKBUDDY_HEADER)


@pytest.mark.parametrize("kind", ["xlsx", "ods", "xls"])
def test_a_workbooks_book_type_column_of_genres_goes_to_match_columns_as_a_csvs_does(app, staff_client, tmp_path, kind):
    """The same export saved as a workbook: its first rows were read at upload only from a CSV, so the
    workbook was imported straight away and most of its rows rejected ("Science Fiction" is no type). Its
    first rows are read at upload too (an .xlsx's streamed from its XML, texts from its shared strings), so
    it waits on Match columns; a workbook of types imports at once."""
    from tests import layouts

    path = opened_and_saved(tmp_path / f"genres.{kind}", layouts.bookbuddy_rows(1), kind)
    response = upload(staff_client, path.read_bytes(), path.name)
    assert response.location.endswith("/columns")
    with app.app_context():
        assert db.session.get(Import, 1).status == ImportStatus.NEEDS_MAPPING.value
    types = layouts.bookbuddy_rows(11, genres=("Classics", "Comics", "Horror"))
    path = opened_and_saved(tmp_path / f"types.{kind}", types, kind)
    upload(staff_client, path.read_bytes(), path.name)
    run_worker(app)
    with app.app_context():
        imp = db.session.get(Import, 2)
        assert (imp.status, imp.created, imp.rejected) == (ImportStatus.SUCCEEDED.value, 5, 0)


def test_the_upload_reads_an_xlsxs_first_rows_only(tmp_path, monkeypatch):
    """At upload an .xlsx is streamed to FIRST_ROWS rows under its header, and their texts are read from
    the first FIRST_ROWS_STRINGS of its shared strings, whatever the workbook's size: a sheet broken further
    on is not read there (its import's job says what is wrong), and a text listed further on reads as blank."""
    from bookapp.importer import peek
    from tests import layouts

    monkeypatch.setattr(peek, "FIRST_ROWS", 3)
    path = opened_and_saved(tmp_path / "genres.xlsx", layouts.bookbuddy_rows(1, count=60), "xlsx")
    sheet = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path) as archive:
        parts = {info: archive.read(info.filename) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in parts.items():
            archive.writestr(
                info, data.replace(b'<row r="6"', b'<row r="6"><broken') if info.filename == sheet else data
            )
    genre = layouts.BOOKBUDDY_HEADER.index("Genre")
    found = peek.peek_file(path)
    assert (found.headers, found.header_row) == (layouts.BOOKBUDDY_HEADER, 1)
    assert [row[genre] for row in found.rows] == ["Science Fiction, Cyberpunk", "Classics", "Horror"]
    monkeypatch.setattr(
        peek, "FIRST_ROWS_STRINGS", len(layouts.BOOKBUDDY_HEADER) + 2
    )  # the header's, "Dune 1", one more
    assert [row[genre] for row in peek.peek_file(path).rows] == [None, None, None]


def test_a_dry_runs_match_columns_page_says_it_is_a_dry_run_that_checks(app, staff_client):
    """A dry run waiting at Match columns says so, as its own page does: Dry run #1, and a button that checks
    the file with these columns rather than one that imports it; Continue leads to the dry run, which saves
    nothing."""
    rows = [goodreads_row(n) for n in range(1, 7)]
    answer = staff_client.post(
        "/imports/new",
        data={"file": (io.BytesIO(goodreads_csv(rows)), "goodreads_library_export.csv"), "dry_run": "y"},
        content_type="multipart/form-data",
    )
    assert answer.location == "/imports/1/columns"
    run_worker(app)  # the column profile
    response = staff_client.get("/imports/1/columns")
    page = response.get_data(as_text=True)
    said = text_of(response)
    assert re.search(r"<h1>Match columns · Dry run #1 <small>", page), page
    assert "<title>Match columns · Dry run #1" in page and "Dry run #1: goodreads_library_export.csv" in said
    assert "Continue: check with these columns" in said
    assert "Import #1" not in said and "import with these columns" not in said

    answer = staff_client.post("/imports/1/columns", data={**GOODREADS_CHOICES, "action": "continue"})
    assert answer.status_code == 302 and answer.location == "/imports/1"
    run_worker(app)
    with app.app_context():
        imp = db.session.get(Import, 1)
        assert (imp.dry_run, imp.status, imp.created, imp.rejected) == (True, "succeeded", 4, 2)
        assert db.session.scalar(select(Book)) is None
    assert "Dry run #1: goodreads_library_export.csv" in text_of(staff_client.get("/imports/1"))


def test_an_imports_match_columns_page_still_offers_to_import(app, staff_client):
    upload(staff_client, goodreads_csv([goodreads_row(n) for n in range(1, 4)]))
    run_worker(app)  # the column profile
    said = text_of(staff_client.get("/imports/1/columns"))
    assert "Import #1: goodreads_library_export.csv" in said and "Continue: import with these columns" in said
    assert "Dry run" not in said and "check with these columns" not in said


def librarything_file(count: int, **one_value: str) -> tuple[str, bytes, list[str]]:
    """A LibraryThing export (tests/layouts.py) of *count* books, each column named in *one_value* filled in its
    second row only; return its name, its content and the columns of its header blank in every row."""
    from tests import layouts

    name, content = layouts.librarything(1, count)
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8")), delimiter="\t"))
    for column, value in one_value.items():
        rows[1][header.index(column)] = value
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter="\t", lineterminator="\n").writerows([header, *rows])
    blank = [h for i, h in enumerate(header) if not any(row[i] for row in rows)]
    return name, buffer.getvalue().encode("utf-8"), blank


def options_of(page_html: str, select_id: str) -> list[str]:
    """The columns a select offers (its empty choice aside)."""
    body = re.search(rf'<select id="{re.escape(select_id)}"[^>]*>(.*?)</select>', page_html, re.S)
    assert body, f"no select #{select_id}"
    return [html.unescape(v) for v in re.findall(r'<option value="([^"]+)"', body.group(1))]


def columns_listed(page_html: str) -> list[str]:
    """The names in the file-columns table, in its order."""
    table = page_html[page_html.index('<table class="file-columns">') :]
    names = re.findall(r'<th scope="row">(.*?)</th>', table[: table.index("</table>")], re.S)
    return [html.unescape(n) for n in names]


def blank_columns_said(page_html: str) -> tuple[str, list[str]] | None:
    """The line saying how many columns are blank in every row, and the names its disclosure lists (None
    when the page has no such line)."""
    found = re.search(
        r'<details[^>]* id="blank-columns"[^>]*>\s*<summary>(.*?)</summary>(.*?)</details>', page_html, re.S
    )
    if not found:
        return None
    line = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())
    names = [html.unescape(n) for n in re.findall(r"<li>(.*?)</li>", found.group(2), re.S)]
    return line, names


def test_a_librarything_exports_blank_columns_are_counted_in_one_line_and_offered_last(sqlite_app):
    """A LibraryThing export fills a third of its 49 columns: Match columns lists those only, and says in one line
    how many are blank in every row, their names a click away; each select offers the filled ones first, then the
    blank ones, said to be blank (one may still be wanted: a profile saved for next week's export). A column with
    one value in the whole file is listed and offered with the filled. Until the file's columns are read (a large
    file, in a job) every column is offered in the file's order: nothing tells a blank one yet."""
    from tests import layouts

    sqlite_app.config["PROFILE_IN_REQUEST_ROWS"] = 0  # read in a job, as a large file's columns are
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    name, content, blank = librarything_file(12, **{"Private Comment": "signed by the author"})
    assert len(blank) == 32 and "Private Comment" not in blank
    filled = [h for h in layouts.LIBRARYTHING_HEADER if h not in blank]

    answer = upload(client, content, name)

    assert answer.status_code == 302 and answer.location == "/imports/1/columns"
    before = client.get("/imports/1/columns?without_profile=1").get_data(as_text=True)
    assert options_of(before, "column-title") == layouts.LIBRARYTHING_HEADER
    assert blank_columns_said(before) is None
    run_worker(sqlite_app)  # the file's column profile
    response = client.get("/imports/1/columns")
    page = response.get_data(as_text=True)
    assert columns_listed(page) == filled
    assert column_row(page, "Private Comment")[2:4] == ["signed by the author", "92 %"]
    for select_id in ("column-title", "else-title-1", "column-description", "group_by"):
        assert options_of(page, select_id) == filled + blank, select_id
    assert '<option value="Lending Patron">Lending Patron (blank in every row)</option>' in page
    assert blank_columns_said(page) == ("32 columns of this file are blank in every row and are not shown", blank)
    assert text_of(response).count("are blank in every row and are not shown") == 1
    # The live parts keep their shape: what each column is read for, every column of the file.
    live = client.post("/imports/1/columns/preview", data={"column-title": "Title"}).get_json()
    assert len(live["used_for"]) == 49 and live["used_for"]["1"] == "Title"


def test_a_blank_column_a_saved_profile_or_an_earlier_choice_reads_stays_chosen(sqlite_app):
    """A profile saved for LibraryThing's header that reads Comment for Description (blank in this export) opens
    Match columns with Comment chosen, listed, and said to be blank; a blank column chosen on the page (Preview,
    without scripts) stays chosen too. Only the others are counted in the line."""
    from bookapp.importer.mapping import header_key
    from tests import layouts
    from tests.test_plain_words import offered

    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    header = layouts.LIBRARYTHING_HEADER
    with sqlite_app.app_context():
        mapping = {"columns": {"author": "Primary Author", "description": "Comment"}}
        db.session.add(
            ImportProfile(name="Our LibraryThing", headers=header, header_key=header_key(header), mapping=mapping)
        )
        db.session.commit()
    name, content, blank = librarything_file(6)
    assert "Comment" in blank and "Lending Patron" in blank

    answer = upload(client, content, name)

    assert answer.status_code == 302 and answer.location == "/imports/1/columns"
    page = client.get("/imports/1/columns").get_data(as_text=True)
    assert selected(page, "column-description") == "Comment"
    assert options_of(page, "column-title")[-len(blank) :] == blank  # offered last, Comment among them
    assert re.search(r'<option value="Comment" selected>Comment \(blank in every row\)</option>', page)
    assert column_row(page, "Comment")[2:4] == ["(every cell blank)", "100 %"]
    assert column_row(page, "Comment")[-1] == "Description"
    others = [h for h in blank if h != "Comment"]
    assert blank_columns_said(page) == (
        f"{len(others)} columns of this file are blank in every row and are not shown",
        others,
    )

    form = {**offered(page), "else-description": ["Lending Patron"], "action": "preview"}
    again = client.post("/imports/1/columns", data=form).get_data(as_text=True)
    assert (selected(again, "column-description"), selected(again, "else-description-1")) == (
        "Comment",
        "Lending Patron",
    )
    assert column_row(again, "Lending Patron")[-1] == "Description"
    others.remove("Lending Patron")
    assert blank_columns_said(again) == (
        f"{len(others)} columns of this file are blank in every row and are not shown",
        others,
    )
