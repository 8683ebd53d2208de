"""In a real Chromium: a Goodreads library export matched on its page with the keyboard-usable controls, saved
as a profile, imported; the next export with the same header goes straight to its import, matched by it. The
page's intro follows the choices as they change."""

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bookapp.extensions import db
from bookapp.models import Book
from tests import layouts
from tests.conftest import add_user, stop_worker
from tests.helpers import goodreads_csv, goodreads_row, isbn13
from tests.test_browser import (  # noqa: F401 (fixtures)
    live_server,
    page,
    screenshot,
    sign_in_as_staff,
    start_worker,
    web_server,
)
from tests.test_rematch import abebooks_tsv

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def upload_on_the_page(tab, server: str, path: Path) -> None:
    tab.goto(server + "/imports/new")
    tab.set_input_files("#file", str(path))
    tab.click("main form#upload-form button[type=submit]")


def upload_layout(tab, server: str, tmp_path: Path, layout: tuple[str, bytes]) -> None:
    """Upload a file built by tests/layouts.py on the page."""
    name, content = layout
    path = tmp_path / name
    path.write_bytes(content)
    upload_on_the_page(tab, server, path)


def upload_goodreads(app, tab, server: str, tmp_path: Path, count: int) -> None:
    """Sign in as staff and upload a Goodreads export of *count* books on the page."""
    add_user(app, "staff@example.com")
    path = tmp_path / "goodreads_library_export.csv"
    path.write_bytes(goodreads_csv([goodreads_row(n) for n in range(1, count + 1)]))
    sign_in_as_staff(tab, server)
    upload_on_the_page(tab, server, path)


def test_a_goodreads_export_is_matched_on_its_page_then_the_next_by_profile(sqlite_app, live_server, page, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    rows = [goodreads_row(n) for n in range(1, 31)]
    rows[0] = goodreads_row(1, ISBN13='=""')  # no ISBN-13: the ISBN column is read instead
    first = tmp_path / "goodreads_library_export.csv"
    first.write_bytes(goodreads_csv(rows))
    sign_in_as_staff(page, live_server)

    upload_on_the_page(page, live_server, first)

    expect(page).to_have_url(live_server + "/imports/1/columns")
    expect(page.locator("h1")).to_contain_text("Match columns")
    expect(page.locator("table.file-columns")).to_contain_text("currently-reading")
    proceed = page.locator("#continue")
    expect(proceed).to_be_disabled()
    expect(page.locator("#continue-reason")).to_have_text(
        "Continue needs a column, or a value for every row, for: Book type, Price, Quantity."
    )

    # ISBN13, else ISBN; Owned Copies as the quantity: the selects, from the keyboard.
    choose_with_keys(page, "ISBN: column", "ISBN13")
    choose_with_keys(page, "ISBN: column used where the first is blank or unreadable", "ISBN")
    choose_with_keys(page, "Quantity: column", "Owned Copies")
    # Room for a longer chain, its select saying what it does.
    expect(page.get_by_label("ISBN: column used where the 2 before it are blank or unreadable")).to_be_visible()
    # Book type from Exclusive Shelf: its values appear, each matched to a type or rejected.
    choose_with_keys(page, "Book type: column", "Exclusive Shelf")
    values = page.locator("#values")
    expect(values).to_contain_text("currently-reading")
    choose_with_keys(page, "Book type for the value “read”", "Classic")
    choose_with_keys(page, "Book type for the value “to-read”", "Horror")
    choose_with_keys(page, "Book type for the value “currently-reading”", "Reject these rows")
    # The same price for every row, typed.
    page.get_by_label("Price: same value for every row").focus()
    page.keyboard.type("0.00")
    expect(proceed).to_be_enabled()
    expect(page.locator("#continue-reason")).to_be_hidden()
    preview = page.locator("table.preview")
    expect(preview).to_contain_text("Rejected: Book type 'currently-reading' is a value you chose to reject")
    expect(preview.locator("tbody tr").first).to_contain_text(isbn13(1))  # Goodreads Book 1
    expect(page.locator("#columns-announcer")).to_have_text(
        "Preview of the first 10 rows: the import would reject 3; the other 7 are valid."
    )
    page.get_by_label("Save as profile (optional)").fill("Goodreads export")
    screenshot(page, "match-columns")
    proceed.focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(live_server + "/imports/1")
    expect(page.locator("[data-field=status]")).to_have_text("succeeded with 10 rejected rows", timeout=60_000)
    expect(page.locator("[data-field=created]")).to_have_text("20")
    expect(page.locator("[data-field=profile]")).to_have_text(
        "Columns matched for this import and saved as profile 'Goodreads export' (edit)."
    )

    second = tmp_path / "goodreads_library_export (1).csv"
    second.write_bytes(goodreads_csv([goodreads_row(n) for n in range(100, 106)]))
    upload_on_the_page(page, live_server, second)

    expect(page).to_have_url(live_server + "/imports/2")
    expect(page.locator("[data-field=profile]")).to_have_text("Matched with profile 'Goodreads export' (edit).")
    expect(page.locator("[data-field=status]")).to_have_text("succeeded with 2 rejected rows", timeout=60_000)
    with sqlite_app.app_context():
        book = db.session.scalar(select(Book).where(Book.isbn == isbn13(102)))
        assert (book.title, book.book_type, str(book.price)) == ("Goodreads Book 102", "Classic", "0.00")
        assert db.session.scalar(select(Book.book_type).where(Book.isbn == isbn13(1))) == "Horror"
    page.click("[data-field=profile] a")
    expect(page.locator("h1")).to_have_text("Profile “Goodreads export”")
    expect(page.get_by_label("ISBN: column", exact=True)).to_have_value("ISBN13")


def test_a_large_file_is_profiled_in_a_job_and_the_page_goes_on_by_itself(sqlite_app, web_server, page, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    sqlite_app.config["PROFILE_IN_REQUEST_ROWS"] = 0  # every file is large enough for a job
    upload_goodreads(sqlite_app, page, web_server, tmp_path, 20)

    expect(page).to_have_url(web_server + "/imports/1/columns")
    expect(page.locator("[role=status]")).to_contain_text("profiling…")
    worker = start_worker(sqlite_app)  # only now: the page waits for it
    try:
        expect(page.locator("table.file-columns")).to_contain_text("currently-reading", timeout=60_000)
    finally:
        stop_worker(worker)
    expect(page.get_by_label("Title: column", exact=True)).to_have_value("Title")


def choose_with_keys(tab, label: str, option: str) -> None:
    """Choose an option of a labelled select with the keyboard: focus it, then press the arrow keys until the
    option is selected (a closed select changes its value, and says so, on each key)."""
    select = tab.get_by_label(label, exact=True)
    select.focus()
    texts = select.locator("option").all_inner_texts()
    target = next(
        i for i, text in enumerate(texts) if text == option or re.match(rf"{re.escape(option)} \(e\.g\.", text)
    )
    current = select.evaluate("s => s.selectedIndex")
    key = "ArrowDown" if target > current else "ArrowUp"
    for _ in range(abs(target - current)):
        tab.keyboard.press(key)
    assert select.evaluate("s => s.selectedIndex") == target, f"{label}: the keys did not reach {option!r}"


def test_a_file_read_wrongly_by_its_header_is_matched_again(sqlite_app, live_server, page, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    listing = tmp_path / "abebooks_listings.txt"
    listing.write_bytes(abebooks_tsv())
    sign_in_as_staff(page, live_server)

    upload_on_the_page(page, live_server, listing)

    # Every field named, but booktype's first values are no types: Match columns first, where a person
    # who continues without matching "Book" gets every row rejected.
    expect(page).to_have_url(live_server + "/imports/1/columns")
    page.locator("#continue").click()
    expect(page).to_have_url(live_server + "/imports/1")
    expect(page.locator("[data-field=status]")).to_have_text("every row rejected", timeout=60_000)
    page.get_by_role("button", name="Match columns and import again").click()

    expect(page).to_have_url(live_server + "/imports/2/columns")
    expect(page.get_by_label("Book type: column", exact=True)).to_have_value("booktype")
    expect(page.get_by_label("Year published: column", exact=True)).to_have_value("yearpublished")
    # Choices kept in the tab from an earlier visit never replace the columns the import is read with.
    page.evaluate("""() => sessionStorage.setItem("bookapp.columns.2", JSON.stringify(
        {fields: {"column-book_type": ["title"], "save_as": ["Listings"]}, values: {}}))""")
    page.reload()
    expect(page.get_by_label("Save as profile (optional)")).to_have_value("Listings")
    expect(page.get_by_label("Book type: column", exact=True)).to_have_value("booktype")
    choose_with_keys(page, "Book type for the value “Book”", "Classic")
    expect(page.locator("#columns-announcer")).to_have_text("Preview of the first 6 rows: all 6 are valid.")
    page.locator("#continue").click()

    expect(page).to_have_url(live_server + "/imports/2")
    expect(page.locator("[data-field=status]")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator("[data-field=created]")).to_have_text("6")
    expect(page.locator("[data-banner=rematch-of]")).to_contain_text("The file of import #1")


def test_the_choices_made_are_there_again_after_leaving_and_coming_back(sqlite_app, live_server, page, tmp_path):  # noqa: F811
    """A first-time user chooses the author column, an ISBN fallback, Book type's column and a value's type, a
    year and a price for every row and a profile name, looks at the import's page, and comes back: every
    choice is still made, and the page says what it gives."""
    from playwright.sync_api import expect

    upload_goodreads(sqlite_app, page, live_server, tmp_path, 10)
    expect(page).to_have_url(live_server + "/imports/1/columns")

    choose_with_keys(page, "Author: column", "Author l-f")
    choose_with_keys(page, "ISBN: column used where the first is blank or unreadable", "ISBN")
    choose_with_keys(page, "Book type: column", "Exclusive Shelf")
    expect(page.locator("#values")).to_contain_text("to-read")
    choose_with_keys(page, "Book type for the value “to-read”", "Horror")
    page.get_by_label("Year published: same value for every row").fill("1999")
    page.get_by_label("Price: same value for every row").fill("0.00")
    page.get_by_label("Save as profile (optional)").fill("My shelves")
    expect(page.locator("#continue-reason")).to_have_text(
        "Continue needs a column, or a value for every row, for: Quantity."
    )

    page.click("p.back a")
    expect(page).to_have_url(live_server + "/imports/1")
    page.goto(live_server + "/imports/1/columns")

    expect(page.get_by_label("Author: column", exact=True)).to_have_value("Author l-f")
    expect(page.get_by_label("ISBN: column used where the first is blank or unreadable")).to_have_value("ISBN")
    expect(page.get_by_label("ISBN: column used where the 2 before it are blank or unreadable")).to_be_visible()
    expect(page.get_by_label("Book type: column", exact=True)).to_have_value("Exclusive Shelf")
    expect(page.get_by_label("Book type for the value “to-read”")).to_have_value("Horror")
    expect(page.get_by_label("Year published: same value for every row")).to_have_value("1999")
    expect(page.get_by_label("Price: same value for every row")).to_have_value("0.00")
    expect(page.get_by_label("Save as profile (optional)")).to_have_value("My shelves")
    expect(page.locator("#continue-reason")).to_have_text(
        "Continue needs a column, or a value for every row, for: Quantity."
    )
    expect(page.locator("#why-missing")).to_have_text(
        "No column is matched to Quantity yet: choose the column that fills it."
    )


def test_columns_matched_is_said_while_queued_and_goes_once_it_runs(sqlite_app, web_server, page, tmp_path):  # noqa: F811
    """No worker yet: the page says the import is queued; once a worker takes it, the note goes (as the
    page follows the import) and the page says how it ended."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    name, content = layouts.stock_list("de", 1)
    path = tmp_path / name
    path.write_bytes(content)
    sign_in_as_staff(page, web_server)
    upload_on_the_page(page, web_server, path)

    expect(page).to_have_url(web_server + "/imports/1/columns")
    page.locator("#continue").click()
    expect(page).to_have_url(web_server + "/imports/1")
    note = page.locator("[data-field=matched]")
    expect(note).to_have_text("Columns matched: the import is queued.")
    worker = start_worker(sqlite_app)
    try:
        expect(page.locator("[data-field=status]")).to_have_text(re.compile("^succeeded"), timeout=60_000)
    finally:
        stop_worker(worker)
    expect(page.locator("[data-banner=partial]")).to_contain_text("4 rows: 2 created, 2 rejected")
    expect(page.get_by_text("Columns matched")).to_have_count(0)


def test_a_price_for_every_row_typed_with_a_decimal_comma_is_that_price(sqlite_app, live_server, page, tmp_path):  # noqa: F811
    """Where prices are written 0,00, a first-time user types Price 0,00 for every row of a Goodreads export
    (a comma-separated file) and saves the matches as a profile: the preview shows the rows valid, and this
    export and the next, read by the profile, are saved at 0.00, not every row rejected for its comma."""
    from playwright.sync_api import expect

    upload_goodreads(sqlite_app, page, live_server, tmp_path, 6)
    expect(page).to_have_url(live_server + "/imports/1/columns")
    choose_with_keys(page, "Quantity: column", "Owned Copies")
    page.get_by_label("Book type: same value for every row").fill("Classic")
    page.get_by_label("Price: same value for every row").focus()
    page.keyboard.type("0,00")
    expect(page.locator("#columns-announcer")).to_have_text("Preview of the first 6 rows: all 6 are valid.")
    page.get_by_label("Save as profile (optional)").fill("Goodreads export")
    page.locator("#continue").click()

    expect(page).to_have_url(live_server + "/imports/1")
    expect(page.locator("[data-field=status]")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator("[data-field=created]")).to_have_text("6")
    second = tmp_path / "goodreads_library_export (1).csv"
    second.write_bytes(goodreads_csv([goodreads_row(n) for n in range(100, 103)]))
    upload_on_the_page(page, live_server, second)
    expect(page).to_have_url(live_server + "/imports/2")
    expect(page.locator("[data-field=status]")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator("[data-field=created]")).to_have_text("3")
    with sqlite_app.app_context():
        assert {str(price) for price in db.session.scalars(select(Book.price))} == {"0.00"}


def test_the_intro_follows_the_book_type_column_and_the_item_column_chosen(sqlite_app, web_server, page, tmp_path):  # noqa: F811
    """A Shopify export's intro names Type's values to match and Handle as the column naming each product. It
    said so still when the person chose Tags for Book type and no item column; it follows the choices."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    sign_in_as_staff(page, web_server)
    upload_layout(page, web_server, tmp_path, layouts.shopify(1, 5))
    expect(page).to_have_url(web_server + "/imports/1/columns")
    why = page.locator("#why")
    expect(why).to_contain_text("Its Type column, read for Book type, holds values that are not book types (“Fiction”")
    expect(why).to_contain_text("the column Handle says which product each row belongs to")

    choose_with_keys(page, "Book type: column", "Tags")
    expect(why).to_contain_text("Its Tags column, read for Book type, holds values that are not book types (“books”)")
    choose_with_keys(page, "Rows of one item (optional)", "— every row stands alone —")
    expect(why).not_to_contain_text("Handle")
    expect(why).not_to_contain_text("Fiction")
    choose_with_keys(page, "Book type for the value “books”", "Classic")
    expect(why).not_to_contain_text("not book types")
    expect(why).to_contain_text("No column is matched to Author and Year published yet")


def test_blank_columns_are_said_in_one_line_and_one_chosen_stays_chosen(sqlite_app, web_server, page, tmp_path):  # noqa: F811
    """A LibraryThing export matched before its columns are read (a large file, read in a job): Comment chosen for
    Description. Once they are read, the page lists only the columns that hold something (offers the others last), says in
    one line how many are blank in every row, their names behind a disclosure opened from the keyboard; Comment,
    blank too, is still chosen (kept in the tab), said to be blank."""
    from playwright.sync_api import expect

    name, content = layouts.librarything(1, 8)
    header, *rows = [line.split("\t") for line in content.decode("utf-8").splitlines()]
    blank = [h for i, h in enumerate(header) if not any(row[i] for row in rows)]
    sqlite_app.config["PROFILE_IN_REQUEST_ROWS"] = 0  # every file is large enough for a job
    add_user(sqlite_app, "staff@example.com")
    sign_in_as_staff(page, web_server)
    upload_layout(page, web_server, tmp_path, (name, content))
    expect(page).to_have_url(web_server + "/imports/1/columns")
    page.get_by_role("link", name="Match the columns now, without samples or a preview").click()
    choose_with_keys(page, "Description: column", "Comment")

    worker = start_worker(sqlite_app)
    try:
        page.get_by_role("link", name="Show them when they are ready").click()
        line = page.locator("#blank-columns summary")
        expect(line).to_have_text(
            f"{len(blank)} columns of this file are blank in every row and are not shown", timeout=60_000
        )
    finally:
        stop_worker(worker)
    description = page.get_by_label("Description: column", exact=True)
    expect(description).to_have_value("Comment")
    expect(description.locator("option:checked")).to_have_text("Comment (blank in every row)")
    expect(page.locator("table.file-columns tbody th")).to_have_count(len(header) - len(blank))
    title = page.get_by_label("Title: column", exact=True)
    expect(title.locator("option")).to_have_count(len(header) + 1)  # every column, the blank ones last
    expect(title.locator("option").last).to_have_text(f"{blank[-1]} (blank in every row)")
    names = page.locator("#blank-columns li")
    expect(names.first).to_be_hidden()
    height = page.evaluate("document.documentElement.scrollHeight")
    line.focus()
    page.keyboard.press("Enter")
    expect(names).to_have_text(blank)
    assert page.evaluate("document.documentElement.scrollHeight") > height
