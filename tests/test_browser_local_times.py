"""In a real headless Chromium set to India's time (UTC+05:30: the hour and the minute both differ from
UTC's), a book's page and an import's page show their times in that zone and name it, each keeping the UTC
time in its title; so does the report the import's page puts in place when the import it follows ends."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests import test_browser
from tests.conftest import add_user, run_worker, sign_in
from tests.helpers import book_row, csv_bytes, write_csv
from tests.test_browser import sign_in_as_staff
from tests.test_imports import upload
from tests.test_local_times import set_times

pytestmark = [pytest.mark.browser, pytest.mark.slow]
page, web_server = test_browser.page, test_browser.web_server

KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.fixture
def tab_in_kolkata(page):
    """A tab of a browser whose clock is India's, in English as written in India."""
    context = page.context.browser.new_context(timezone_id="Asia/Kolkata", locale="en-IN")
    yield context.new_page()
    context.close()


def test_a_books_and_an_imports_times_are_shown_in_the_readers_zone(sqlite_app, web_server, tab_in_kolkata):
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    upload(client, csv_bytes([book_row(1)]))
    run_worker(sqlite_app)
    set_times(sqlite_app)  # uploaded 2026-03-14 21:47:09 UTC, finished 21:50:31, the book updated 2026-03-15 08:05
    tab = tab_in_kolkata
    sign_in_as_staff(tab, web_server)

    tab.goto(web_server + "/books/1")
    created, updated = tab.locator("dl.fields time").all()
    expect(created).to_have_text("2026-03-15 03:17 IST")  # past midnight there: the next day
    expect(created).to_have_attribute("title", "2026-03-14 21:47 UTC")
    expect(updated).to_have_text("2026-03-15 13:35 IST")
    expect(updated).to_have_attribute("title", "2026-03-15 08:05 UTC")

    tab.goto(web_server + "/imports/1")
    expect(tab.locator("[data-banner=succeeded]")).to_have_text("This import has succeeded (03:20:31 IST).")
    expect(tab.locator("[data-banner=succeeded] time")).to_have_attribute("title", "2026-03-14 21:50:31 UTC")
    expect(tab.locator("p.meta").first).to_contain_text("Uploaded 2026-03-15 03:17 IST by staff@example.com")

    tab.goto(web_server + "/imports")
    expect(tab.locator("main table tbody tr").first.locator("td").nth(3)).to_have_text("2026-03-15 03:17")
    expect(tab.locator("main table thead th").nth(3)).to_have_text("Uploaded IST")  # the bare times' zone


def test_a_column_of_times_in_a_zone_with_summer_time_names_both_of_its_names(sqlite_app, web_server, page):
    """New York's times are EST in winter and EDT in summer: the imports list's heading must not name only
    today's, for its rows fall in either (March 14, 2026 is EDT there, and a December reader's is EST)."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    upload(client, csv_bytes([book_row(1)]))
    run_worker(sqlite_app)
    set_times(sqlite_app)  # uploaded 2026-03-14 21:47:09 UTC
    context = page.context.browser.new_context(timezone_id="America/New_York", locale="en-US")
    tab = context.new_page()
    try:
        sign_in_as_staff(tab, web_server)
        tab.goto(web_server + "/imports")
        expect(tab.locator("main table tbody tr").first.locator("td").nth(3)).to_have_text("2026-03-14 17:47")
        expect(tab.locator("main table thead th").nth(3)).to_have_text("Uploaded EST/EDT")
        tab.goto(web_server + "/imports/1")
        expect(tab.locator("p.meta").first).to_contain_text("Uploaded 2026-03-14 17:47 EDT")  # its own, exactly
    finally:
        context.close()


def test_the_repeated_file_warning_the_upload_puts_in_place_shows_the_readers_time(
    sqlite_app, web_server, tab_in_kolkata, tmp_path
):
    """The upload page's script puts the server's answer in place of the form: the warning's time of the
    earlier import is written in the reader's zone too, as every other time is."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    path = write_csv(tmp_path / "stock.csv", [book_row(1)])
    upload(sign_in(sqlite_app.test_client(), "staff@example.com"), path.read_bytes())
    tab = tab_in_kolkata
    sign_in_as_staff(tab, web_server)
    tab.goto(web_server + "/imports/new")
    tab.set_input_files("#file", str(path))
    tab.click("main form#upload-form button[type=submit]")
    earlier = tab.locator("[role=alert] time").first
    expect(earlier).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d IST$"))
    expect(earlier).to_have_attribute("title", re.compile(r" UTC$"))


def test_the_report_put_in_place_when_an_import_ends_shows_the_readers_time(sqlite_app, web_server, tab_in_kolkata):
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    upload(client, csv_bytes([book_row(1), book_row(2)]))  # queued: no worker yet
    tab = tab_in_kolkata
    sign_in_as_staff(tab, web_server)
    tab.goto(web_server + "/imports/1")
    expect(tab.locator("[data-field=status]")).to_have_text("queued")
    tab.evaluate("window.stillTheSamePage = true")

    run_worker(sqlite_app)
    banner = tab.locator("[data-banner=succeeded]")
    expect(banner).to_be_visible(timeout=30_000)
    assert tab.evaluate("window.stillTheSamePage === true"), "the report was put in place, the page not reloaded"
    ended = banner.locator("time")
    utc = datetime.fromisoformat(ended.get_attribute("datetime"))
    expect(ended).to_have_text(f"{utc.astimezone(KOLKATA):%H:%M:%S} IST")
    expect(ended).to_have_attribute("title", f"{utc:%Y-%m-%d %H:%M:%S} UTC")
    uploaded = tab.locator("p.meta time").first
    expect(uploaded).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d IST$"))


def test_a_browser_that_would_write_a_12_hour_clock_keeps_the_utc_times(sqlite_app, web_server, tab_in_kolkata):
    """Older browsers ignore the 24-hour clock asked for and, for some languages, write 02:22 for 14:22 with
    an AM/PM the page leaves out: such a browser keeps the UTC times, which are right."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    upload(client, csv_bytes([book_row(1)]))
    run_worker(sqlite_app)
    set_times(sqlite_app)
    tab = tab_in_kolkata
    tab.add_init_script(
        "const own = Intl.DateTimeFormat.prototype.resolvedOptions;"
        "Intl.DateTimeFormat.prototype.resolvedOptions = function () {"
        "  return Object.assign(own.call(this), {hour12: true, hourCycle: 'h12'}); };"
    )
    sign_in_as_staff(tab, web_server)
    tab.goto(web_server + "/books/1")
    expect(tab.locator("dl.fields time").first).to_have_text("2026-03-14 21:47 UTC")
