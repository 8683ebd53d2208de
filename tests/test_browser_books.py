"""The book list in a real Chromium: a sorted view kept through the pager, the book page and exports;
the pager on every list; the pages at a desktop's and a phone's width (screenshots in test-artifacts/)."""

import csv
from decimal import Decimal

import pytest

from tests import test_browser
from tests.conftest import add_user, run_worker, sign_in
from tests.helpers import book_row, csv_bytes
from tests.test_browser import screenshot, sign_in_as_staff
from tests.test_imports import upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]
#: The browser and the served app, as the other browser tests have them.
page, web_server = test_browser.page, test_browser.web_server


def seed_through_the_app(app, files: dict[str, list[list[str]]]) -> None:
    """Upload each file as staff and run its import in this process."""
    add_user(app, "staff@example.com")
    client = sign_in(app.test_client(), "staff@example.com")
    for name, rows in files.items():
        upload(client, csv_bytes(rows), name=name)
        run_worker(app)


def prices_shown(page) -> list[Decimal]:
    return [Decimal(t) for t in page.locator("table.books tbody td.num:nth-child(6)").all_inner_texts()]


def test_a_sorted_view_survives_the_pager_the_book_page_and_its_export(sqlite_app, web_server, page):
    from playwright.sync_api import expect

    seed_through_the_app(sqlite_app, {"books.csv": [book_row(n) for n in range(1, 81)]})
    sign_in_as_staff(page, web_server)
    page.goto(web_server + "/books?sort=price&direction=desc&per_page=25")
    pager = page.locator("nav.pager")
    expect(pager).to_contain_text("Page 1 of 4")
    shown = prices_shown(page)
    for number in (2, 3):
        pager.get_by_role("link", name="Next ›").click()
        expect(pager).to_contain_text(f"Page {number} of 4")
        shown += prices_shown(page)
    assert len(shown) == 75 and shown == sorted(shown, reverse=True), "three pages, one order"
    screenshot(page, "books-pager")

    pager.get_by_role("link", name="Last »").click()
    expect(pager).to_contain_text("Page 4 of 4")
    expect(pager.get_by_role("link", name="Next ›")).to_have_count(0)
    page.fill("#pager-page", "2")
    pager.get_by_role("button", name="Go").click()
    expect(pager).to_contain_text("Page 2 of 4")
    assert "direction=desc" in page.url and "sort=price" in page.url
    second_page = page.url

    page.locator("table.books tbody a").first.click()
    page.get_by_role("link", name="← Back to the list").click()
    assert page.url == second_page
    expect(pager).to_contain_text("Page 2 of 4")

    with page.expect_download() as exported:
        page.get_by_role("link", name="Export CSV").click()
    assert exported.value.suggested_filename.startswith("books-") and exported.value.suggested_filename.endswith(".csv")
    with open(exported.value.path(), encoding="utf-8-sig", newline="") as fh:
        prices = [Decimal(row[5]) for row in list(csv.reader(fh))[1:]]
    assert len(prices) == 80 and prices == sorted(prices, reverse=True)

    pager.get_by_role("link", name="« First").click()
    expect(pager).to_contain_text("Page 1 of 4")
    expect(pager).not_to_contain_text("Older")


def test_the_rejected_rows_have_the_same_pager(sqlite_app, web_server, page):
    from playwright.sync_api import expect

    rows = [book_row(n, **({"Year published": "19"} if n > 5 else {})) for n in range(1, 156)]
    seed_through_the_app(sqlite_app, {"many-bad-rows.csv": rows})
    sign_in_as_staff(page, web_server)
    page.goto(web_server + "/imports/1")
    pager = page.locator("nav.pager")
    expect(pager).to_contain_text("Page 1 of 2")
    pager.get_by_role("link", name="Next ›").click()
    expect(pager).to_contain_text("Page 2 of 2")
    expect(page.locator("table.errors tbody tr").first).to_contain_text("107")
    pager.get_by_role("link", name="‹ Previous").click()
    expect(pager).to_contain_text("Page 1 of 2")


def horizontal_overflow(page, selector: str = "html") -> int:
    """How far the element (the page by default) scrolls sideways, in CSS pixels."""
    return page.eval_on_selector(selector, "e => e.scrollWidth - e.clientWidth")


def labels_apart_from_their_controls(page) -> list[str]:
    """The filter labels that do not sit on the line of their control."""
    return page.evaluate(
        """() => [...document.querySelectorAll('form.filters label[for]')].filter(label => {
            const control = document.getElementById(label.htmlFor);
            const a = label.getBoundingClientRect(), b = control.getBoundingClientRect();
            const middle = a.top + a.height / 2;
            return !(middle >= b.top && middle <= b.bottom && a.right <= b.left + 1);
        }).map(label => label.textContent.trim())"""
    )


def test_the_pages_fit_a_desktop_and_a_phone(sqlite_app, web_server, page):
    from playwright.sync_api import expect

    seed_through_the_app(sqlite_app, {
        "spring-stock-list-from-the-warehouse-final.csv": [
            book_row(n, Title=f"A Rather Long Book Title About Storms, Part {n}", Author="Anna Maria Kowalska-Nowak")
            for n in range(1, 61)],
        "autumn-returns.csv": [book_row(n, **({"Price": "free"} if n % 7 == 0 else {})) for n in range(100, 160)],
    })  # fmt: skip
    sign_in_as_staff(page, web_server)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(web_server + "/imports")
    columns = page.locator("main table thead th")
    expect(columns).to_have_count(12)
    assert horizontal_overflow(page, ".table-wrap") <= 0, "/imports needs no sideways scroll at 1280 px"
    assert all(columns.nth(i).is_visible() for i in range(12))
    screenshot(page, "imports-1280")
    page.goto(web_server + "/books?sort=title")
    assert horizontal_overflow(page) <= 0 and labels_apart_from_their_controls(page) == []
    screenshot(page, "books-1280")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(web_server + "/books?sort=title&per_page=25")
    assert horizontal_overflow(page) <= 0 and horizontal_overflow(page, ".table-wrap") <= 0, "no sideways scroll"
    for shown in ("Title", "Price", "Qty"):
        expect(page.locator("table.books thead th", has_text=shown)).to_be_visible()
    expect(page.locator("table.books thead th", has_text="ISBN")).to_be_hidden()
    expect(page.locator("table.books tbody tr").first).to_contain_text("Anna Maria Kowalska-Nowak")
    assert labels_apart_from_their_controls(page) == [], "every label beside its control"
    screenshot(page, "books-390")
    page.screenshot(path=str(test_browser.ARTIFACTS / "books-390-screen.png"))  # what a phone shows first
    page.locator("nav.pager").screenshot(path=str(test_browser.ARTIFACTS / "books-390-pager.png"))
    assert horizontal_overflow(page, "nav.pager") <= 0
    page.locator("table.books tbody a").first.click()
    expect(page.locator("dl.fields")).to_contain_text("978")  # the rest is on the book's page
    assert horizontal_overflow(page) <= 0
    screenshot(page, "book-390")
    page.goto(web_server + "/imports")
    assert horizontal_overflow(page) <= 0 and labels_apart_from_their_controls(page) == []
    screenshot(page, "imports-390")
    page.goto(web_server + "/imports/2")
    assert horizontal_overflow(page) <= 0
    problems = page.locator("table.errors tbody tr")
    widths = problems.first.locator("td").evaluate_all("cells => cells.map(c => c.getBoundingClientRect().width)")
    assert min(w for w in widths if w) > 300, "each cell a line of the screen's width, the problem's words on it"
    assert horizontal_overflow(page, "table.errors") <= 0
    assert max(problems.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")) < 200
    screenshot(page, "import-390")


def test_a_long_description_is_read_across_the_page_and_a_long_file_name_wraps_on_a_phone(sqlite_app, web_server, page):
    """A 5,000-character description with line breaks takes the book page's width and keeps its lines (it
    was squeezed into a quarter of the page, its breaks gone); an import named with underscores wraps
    at 390 px instead of making the page scroll sideways."""
    paragraphs = "\n".join(f"Paragraph {n}: " + "a long line of words " * 12 for n in range(1, 21))
    name = "a_very_long_export_file_name_without_any_space_in_it_at_all.csv"
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    upload(client, csv_bytes([book_row(1, Description=paragraphs)]), name=name)
    run_worker(sqlite_app)
    sign_in_as_staff(page, web_server)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(web_server + "/books")
    page.locator("table.books tbody a").first.click()
    card = page.locator("section.card").bounding_box()
    description = page.locator(".fields .wide dd")
    assert description.bounding_box()["width"] >= 0.6 * card["width"], "the description takes the page's width"
    assert description.inner_text().count("\n") >= 19, "its line breaks are kept"
    screenshot(page, "book-long-description")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(web_server + "/imports/1")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the import page scrolls sideways by {overflow} px"
