"""In a real Chromium: a dry run confirmed once whatever the clicks, and how a partial or undone import looks."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bookapp.extensions import db
from bookapp.models import Book, Import
from tests.conftest import add_user
from tests.helpers import book_row, isbn13, write_csv
from tests.test_browser import live_server, page, screenshot, sign_in_as_staff, web_server  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The warning colour (app.css --warn), and the success colour (--ok).
WARN = "rgb(138, 90, 0)"
OK = "rgb(27, 127, 59)"


def real_imports(app) -> list[Import]:
    with app.app_context():
        return list(db.session.scalars(select(Import).where(Import.dry_run.is_(False)).order_by(Import.id)))


def upload_on_the_page(tab, server: str, path: Path, *, dry_run: bool = False, mode: str | None = None) -> None:
    tab.goto(server + "/imports/new")
    tab.set_input_files("#file", str(path))
    if dry_run:
        tab.check("#dry_run")
    if mode:
        tab.check(f"input[name=mode][value={mode}]")
    tab.click("main form#upload-form button[type=submit]")


def test_a_double_click_and_a_second_tab_confirm_a_dry_run_once(sqlite_app, live_server, page, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    with sqlite_app.app_context():
        db.session.add(Book(title="Book 1", author="A", book_type="Comic", isbn=isbn13(1), year_published="1999",
                            price=Decimal("1.00"), quantity=3))  # fmt: skip
        db.session.commit()
    sign_in_as_staff(page, live_server)
    delivery = write_csv(tmp_path / "delivery.csv", [book_row(1, Quantity="3"), book_row(2, Quantity="2")])
    upload_on_the_page(page, live_server, delivery, dry_run=True, mode="add_stock")
    confirm = page.locator("button", has_text="Confirm import")
    expect(confirm).to_be_visible(timeout=60_000)
    dry_run_url = page.url

    # The same dry run open in a second tab (the same session's cookies).
    second = page.context.browser.new_context()
    second.add_cookies(page.context.cookies())
    other_tab = second.new_page()
    other_tab.goto(dry_run_url)

    confirm.dblclick()
    page.wait_for_load_state("networkidle")
    expect(page).to_have_url(re.compile(r"/imports/\d+$"))
    assert len(real_imports(sqlite_app)) == 1
    confirmed_as = real_imports(sqlite_app)[0].id

    # The second tab still shows the button: confirming there is refused, with the way to the import.
    other_tab.click("text=Confirm import")
    expect(other_tab).to_have_url(dry_run_url)
    expect(other_tab.locator(".flash-warning")).to_contain_text(f"already confirmed as import #{confirmed_as}")
    expect(other_tab.locator("[data-banner=confirmed]")).to_contain_text(f"it was imported as import #{confirmed_as}")
    expect(other_tab.locator("button", has_text="Confirm import")).to_have_count(0)
    screenshot(other_tab, "dry-run-confirmed")
    other_tab.click(f"[data-banner=confirmed] >> text=import #{confirmed_as}")
    expect(other_tab.locator("h1")).to_contain_text(f"Import #{confirmed_as}")
    expect(other_tab.locator("[data-field=status]")).to_have_text("succeeded", timeout=60_000)

    assert len(real_imports(sqlite_app)) == 1
    with sqlite_app.app_context():
        assert db.session.scalar(select(Book.quantity).where(Book.isbn == isbn13(1))) == 6, "3 + 3, added once"


def test_a_partial_import_is_a_warning_and_an_undone_one_says_so(sqlite_app, live_server, page, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in_as_staff(page, live_server)
    rows = [book_row(n) for n in range(1, 41)]
    for index in (4, 17, 29):
        rows[index] = book_row(index + 1, **{"Year published": "19"})
    rows[33] = book_row(34, Title="The Lost Atlas", Price="ten")
    upload_on_the_page(page, live_server, write_csv(tmp_path / "stock.csv", rows))

    status = page.locator("[data-field=status]")
    expect(status).to_have_text("succeeded with 4 rejected rows", timeout=60_000)
    assert status.evaluate("el => getComputedStyle(el).color") == WARN
    expect(page.locator("[data-banner=partial]")).to_contain_text("This import has succeeded with 4 rejected rows")
    rejected = page.locator(".counts .count-alert")
    expect(rejected).to_contain_text("Rejected")
    expect(rejected.locator("dd")).to_have_text("4")
    expect(page.locator("ul.problems li")).to_have_count(2)
    expect(page.locator("ul.problems li").first).to_have_text(
        "Year published must be a 4-digit year, like 1969: 3 rows (6, 19, 31)"
    )
    expect(page.locator("table.errors")).to_contain_text("The Lost Atlas")
    screenshot(page, "import-partial")

    page.click("ul.problems >> text=Price is not a price")
    expect(page).to_have_url(re.compile(r"kind=[0-9a-f]{16}"))
    expect(page.locator("table.errors tbody tr")).to_have_count(1)
    expect(page.locator("table.errors tbody tr")).to_contain_text("The Lost Atlas")

    page.goto(live_server + "/imports")
    expect(page.locator("td.status-partial")).to_have_text("succeeded with 4 rejected rows")

    page.goto(live_server + "/imports/1")
    page.click("text=Undo import")
    expect(page.locator("[data-banner=undone]")).to_contain_text("This import was undone on")
    expect(page.locator("[data-banner=undone]")).to_contain_text("by staff@example.com")
    expect(status).to_have_text("undone")
    assert status.evaluate("el => getComputedStyle(el).color") == WARN
    expect(page.locator("text=has succeeded")).to_have_count(0)
    page.goto(live_server + "/imports")
    expect(page.locator("td.status-undone")).to_contain_text("undone")
    expect(page.locator("td.status-undone")).to_contain_text("by staff@example.com")
    screenshot(page, "imports-undone")

    # A clean import stays a plain, green success; a dry run rejecting every row offers no Confirm.
    upload_on_the_page(page, live_server, write_csv(tmp_path / "clean.csv", [book_row(n) for n in range(50, 55)]))
    expect(status).to_have_text("succeeded", timeout=60_000)
    page.reload()
    assert status.evaluate("el => getComputedStyle(el).color") == OK
    expect(page.locator(".count-alert")).to_have_count(0)
    bad = write_csv(tmp_path / "bad.csv", [book_row(n, Price="x") for n in range(60, 63)])
    upload_on_the_page(page, live_server, bad, dry_run=True)
    expect(page.locator("[data-banner=all-rejected]")).to_contain_text(
        "the import would reject every row of the file (3 rows), so there is nothing to import", timeout=60_000
    )
    expect(page.locator("button", has_text="Confirm import")).to_have_count(0)
