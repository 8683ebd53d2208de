"""A first-time staff user's walk through the pages, in a real headless Chromium at a desktop's 1280 px and a
phone's 390 px: what they would trip on. A form's list of problems has each bullet beside the start of its
problem, not its last line; the imports list writes each upload's date on one line; the header's Health
link leads to a page of bookapp's, with its header, in words, not to the monitors' JSON with no way back."""

import pytest

from tests import test_browser
from tests.conftest import add_user, run_worker, sign_in
from tests.helpers import book_row, csv_bytes
from tests.test_browser import screenshot, sign_in_as_staff
from tests.test_browser_table_edges import pixels
from tests.test_imports import upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]

page, web_server = test_browser.page, test_browser.web_server

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}


def seed(app, count: int = 3) -> None:
    """A staff member, and a stock list of *count* books imported through the app."""
    add_user(app, "staff@example.com")
    client = sign_in(app.test_client(), "staff@example.com")
    upload(client, csv_bytes([book_row(n) for n in range(1, count + 1)]), name="spring_stock_list_2025.csv")
    run_worker(app)


def bullet_rows(page, item) -> list[float]:
    """The heights (CSS px from the viewport's top) at which the list item's bullet shows: the rows of the
    strip left of its text that hold a pixel darker than the summary's white."""
    box = item.evaluate(
        """li => { li.scrollIntoView({block: 'center'}); const r = li.getBoundingClientRect();
                   return {left: r.left, top: r.top, bottom: r.bottom}; }"""
    )
    ys = [box["top"] + step / 2 for step in range(int((box["bottom"] - box["top"]) * 2))]
    xs = [box["left"] - offset for offset in range(6, 22, 2)]
    colours = pixels(page, [(x, y) for y in ys for x in xs])
    dark = [ys[i // len(xs)] for i, rgb in enumerate(colours) if sum(rgb) < 600]
    return sorted(set(dark))


def test_each_problem_of_a_forms_summary_has_its_bullet_beside_its_first_line_on_a_phone(sqlite_app, web_server, page):
    """Editing a book with a short ISBN and a negative price lists both problems at the form's top. At 390 px
    each wraps over two or three lines, and its bullet stood beside the last of them, under the words it
    belongs to, as if it started the next problem."""
    seed(sqlite_app)
    sign_in_as_staff(page, web_server)
    page.set_viewport_size(PHONE)
    page.goto(web_server + "/books/1/edit")
    page.fill("#isbn", "12")
    page.fill("#price", "-3")
    page.click("main button[type=submit]")
    items = page.locator(".error-summary li")
    assert items.count() == 2
    for n in range(2):
        item = items.nth(n)
        lines = item.locator("a").evaluate(
            """a => { const range = document.createRange(); range.selectNodeContents(a);
                      return [...range.getClientRects()].map(r => [r.top, r.bottom]); }"""
        )
        first_top, first_bottom = lines[0]
        assert lines[-1][0] > first_bottom - 1, f"problem {n + 1} wraps at 390 px: {lines}"
        bullet = bullet_rows(page, item)
        assert bullet, f"no bullet found beside problem {n + 1}"
        assert first_top <= min(bullet) and max(bullet) <= first_bottom, (
            f"problem {n + 1}'s bullet at {bullet}, its first line at {first_top}-{first_bottom}"
        )
    screenshot(page, "first-visit-edit-problems-390")


def lines_of_text(cell, text: str) -> int:
    """On how many lines the cell shows *text* (a part of what it holds)."""
    return cell.evaluate(
        """(cell, text) => {
            const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
            const nodes = []; let all = '';
            while (walker.nextNode()) { nodes.push([walker.currentNode, all.length]); all += walker.currentNode.data; }
            const start = all.indexOf(text), end = start + text.length;
            const at = offset => { const [node, from] = nodes.filter(([n, f]) => f <= offset).pop();
                                   return [node, Math.min(offset - from, node.data.length)]; };
            const range = document.createRange();
            range.setStart(...at(start)); range.setEnd(...at(end));
            return new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size;
        }""",
        text,
    )


def test_the_imports_list_writes_each_uploads_date_on_one_line(sqlite_app, web_server, page):
    """The twelve columns of /imports leave Uploaded a narrow column (on a phone, and at 1280 px once the file
    names and counts are long), and its "2026-12-05 14:22" broke at a hyphen of the date: "2026-12-" over
    "05 14:22". The date and the time now each keep to a line."""
    from datetime import UTC, datetime

    seed(sqlite_app)
    sign_in_as_staff(page, web_server)
    for viewport in (LAPTOP, PHONE):
        page.set_viewport_size(viewport)
        page.goto(web_server + "/imports")
        cell = page.locator("main table tbody tr").first.locator("td").nth(3)
        shown = cell.inner_text()
        date = datetime.now(UTC).strftime("%Y-%m-%d")
        assert shown.replace("\n", " ").startswith(date), shown
        assert lines_of_text(cell, date) == 1, f"at {viewport['width']} px the date breaks: {shown!r}"
        assert lines_of_text(cell, shown.replace("\n", " ")[len(date) + 1 :]) == 1, shown
    page.set_viewport_size(LAPTOP)
    screenshot(page, "first-visit-imports-1280")


def test_the_operate_menus_health_leads_to_a_page_in_words_with_the_way_back(sqlite_app, web_server, page):
    """Health, in the header's Operate menu, opened /healthz: a line of JSON for monitors, with no header and
    no link, a dead end. It leads to a page of bookapp's now, which says in words how the database, the
    queue and the workers are (no worker runs with this test's server: the page says what that means), and
    names the JSON for monitors."""
    from playwright.sync_api import expect

    seed(sqlite_app)
    sign_in_as_staff(page, web_server)
    for viewport in (LAPTOP, PHONE):
        page.set_viewport_size(viewport)
        page.goto(web_server + "/books")
        page.locator("header details.nav-menu summary").click()
        page.locator("header details.nav-menu").get_by_role("link", name="Health").click()
        expect(page.locator("main h1")).to_have_text("Health")
        expect(page).to_have_title("Health · bookapp")
        health = page.locator("main dl.health")
        expect(health).to_contain_text("Database")
        expect(health).to_contain_text("Queue (Redis)")
        expect(health.locator("[data-check=workers]")).to_contain_text("No worker is running")
        expect(page.locator("main")).to_contain_text("/healthz")
        expect(page.locator("header nav").get_by_role("link", name="Books")).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0
        screenshot(page, f"first-visit-health-{viewport['width']}")
