"""In a real Chromium: an import's rejected rows fixed in the grid (by keyboard, replace-all, set a column for
the selected rows), imported as a follow-up, and the two imports linked both ways."""

import re

import pytest

from tests.conftest import add_user
from tests.helpers import HEADER, book_row, write_csv
from tests.test_browser import live_server, page, screenshot, sign_in_as_staff, web_server  # noqa: F401 (fixtures)
from tests.test_browser_outcomes import upload_on_the_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TYPE, YEAR, QUANTITY = (HEADER.index(h) for h in ("Book type", "Year published", "Quantity"))


def test_fix_rejected_rows_in_the_grid_and_import_them(sqlite_app, live_server, page, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    sign_in_as_staff(page, live_server)
    rows = [book_row(n) for n in range(1, 8)]
    rows[1] = book_row(2, **{"Book type": "Novel"})  # row 3
    rows[2] = book_row(3, **{"Book type": "Novel"})  # row 4
    rows[3] = book_row(4, **{"Year published": "19"})  # row 5
    rows[4] = book_row(5, Quantity="many")  # row 6
    rows[5] = book_row(6, Quantity="lots")  # row 7
    upload_on_the_page(page, live_server, write_csv(tmp_path / "stock.csv", rows))
    # Novel in two rows waits at Match values: left unmatched there, its rows are rejected.
    page.wait_for_url("**/columns")
    page.click("#continue")
    expect(page.locator("[data-field=status]")).to_have_text("succeeded with 5 rejected rows", timeout=60_000)
    original = int(page.url.rsplit("/", 1)[1])

    page.get_by_role("link", name="Fix rejected rows").click()
    expect(page.locator("h1")).to_have_text(f"Fix the rejected rows of import #{original}")
    expect(page.locator("table.fix-grid tbody tr")).to_have_count(5)
    year = page.locator(f"[name=r5c{YEAR}]")
    expect(year).to_have_attribute("aria-invalid", "true")
    message = page.locator(f"#m-5-{YEAR}")
    expect(message).to_contain_text("Year published")
    assert year.get_attribute("aria-describedby") == f"m-5-{YEAR}"
    screenshot(page, "fix-grid")

    # Keyboard only: Tab to the year of row 5 (a box entered by Tab has its text selected), type, leave it.
    page.locator("body").focus()
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == f"r5c{YEAR}":
            break
    else:
        pytest.fail("Tab never reached the year of row 5")
    page.keyboard.type("20")
    page.keyboard.press("Tab")
    expect(message).to_have_text(re.compile(r"^Year published"))  # "20" is still no year: checked again
    focused = page.evaluate("[document.activeElement.name, getComputedStyle(document.activeElement).outlineWidth]")
    assert focused == [f"r5c{YEAR + 1}", "3px"], "the focus moves on, and shows"

    # A row changed and still wrong: the import asks once, and takes the keyboard to it.
    page.get_by_role("button", name="Import the fixed rows").click()
    expect(page.locator("#fix-warning")).to_contain_text("still has problems (the first is row 5)")
    assert page.evaluate("document.activeElement.name") == f"r5c{YEAR}"
    page.keyboard.press("Control+A")
    page.keyboard.type("1956")
    page.keyboard.press("Tab")
    expect(year).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#m-5-{YEAR}")).to_have_count(0)
    expect(page.locator("#fix-warning")).to_be_hidden()

    # Replace every "Novel" of Book type.
    page.fill("#replace-find", "Novel")
    page.fill("#replace-with", "Comic")
    page.select_option("#replace-column", label="Book type")
    page.click("button:text-is('Replace')")
    expect(page.locator("#fix-status")).to_have_text("Replaced in 2 cells of Book type.")
    for row in (3, 4):
        expect(page.locator(f"[name=r{row}c{TYPE}]")).to_have_value("Comic")
        expect(page.locator(f"[name=r{row}c{TYPE}]")).not_to_have_attribute("aria-invalid", "true")

    # Set Quantity for the selected rows.
    page.check("[aria-label='Select row 6']")
    page.check("[aria-label='Select row 7']")
    page.select_option("#set-column", label="Quantity")
    page.fill("#set-value", "2")
    page.click("text=Set for the selected rows")
    expect(page.locator("#fix-status")).to_have_text("Set Quantity to '2' in 2 rows.")
    expect(page.locator("tr.has-problems")).to_have_count(0)
    screenshot(page, "fix-grid-fixed")

    page.get_by_role("button", name="Import the fixed rows").click()
    expect(page.locator("[data-banner=fixes]")).to_contain_text(f"Fixes for import #{original}")
    expect(page.locator("[data-field=status]")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator("[data-field=created]")).to_have_text("5")
    follow_up = int(page.url.rsplit("/", 1)[1])
    assert follow_up != original

    page.click(f"[data-banner=fixes] >> text=import #{original}")
    expect(page.locator("h1")).to_contain_text(f"Import #{original}")
    banner = page.locator("[data-banner=fixed-later]")
    expect(banner).to_have_text(re.compile(rf"5 of its 5 rejected rows\s+were fixed later in\s+import #{follow_up}\."))
    expect(page.get_by_role("link", name="Fix rejected rows")).to_have_count(0)
    screenshot(page, "fixed-later")
    banner.locator(f"text=import #{follow_up}").click()
    expect(page.locator("h1")).to_contain_text(f"Import #{follow_up}")
