"""At a phone's 390 px, in a real headless Chromium: the import profiles page and the queue dashboard do
not scroll sideways (a wide table scrolls inside its own box, with the scroll hint), and the dashboard's
table header does not cover the intro above it."""

import pytest

from bookapp.extensions import db
from bookapp.importer import Mapping
from bookapp.services.profiles import save_profile
from tests import test_browser
from tests.conftest import add_user
from tests.helpers import HEADER
from tests.test_browser import sign_in_as_staff
from tests.test_browser_books import horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.slow]

page, web_server = test_browser.page, test_browser.web_server


def overlaps(page, upper: str, lower: str) -> float:
    """How far the element *lower* reaches up over the last line of *upper*'s text, in CSS pixels (0 if
    not): the text's own lines, which may run past a box of a fixed height."""
    return page.evaluate(
        """([upper, lower]) => {
            const range = document.createRange();
            range.selectNodeContents(document.querySelector(upper));
            const lines = [...range.getClientRects()];
            const a = lines[lines.length - 1];
            const b = document.querySelector(lower).getBoundingClientRect();
            return Math.max(0, a.bottom - b.top);
        }""",
        [upper, lower],
    )


def wide_table_scrolls_in_its_box(page) -> dict:
    """The first wide table's box: how far it scrolls, whether it is cut off (clipped, not scrollable), and
    whether the scroll hint shows."""
    return page.evaluate(
        """() => { const wrap = document.querySelector('.table-wrap');
                   const hint = wrap.previousElementSibling;
                   return {scrolls: wrap.scrollWidth - wrap.clientWidth,
                           overflow: getComputedStyle(wrap).overflowX,
                           right: wrap.getBoundingClientRect().right,
                           hint: hint && hint.classList.contains('scroll-hint') && !hint.hidden}; }"""
    )


def test_the_profiles_page_fits_390_px_its_table_scrolling_in_its_box(sqlite_app, web_server, page):
    add_user(sqlite_app, "staff@example.com")
    with sqlite_app.app_context():
        save_profile("Warehouse stock list, spring", [*HEADER, "Shelf", "Supplier reference"], Mapping(), None)
        db.session.commit()
    sign_in_as_staff(page, web_server)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(web_server + "/imports/profiles")
    page.wait_for_load_state("networkidle")
    assert horizontal_overflow(page) == 0, "the page itself scrolls sideways"
    box = wide_table_scrolls_in_its_box(page)
    assert box["scrolls"] > 0 and box["overflow"] == "auto" and box["right"] <= 390 and box["hint"], box


def test_the_queue_dashboard_fits_390_px_and_its_table_covers_nothing(sqlite_app, web_server, page):
    add_user(sqlite_app, "staff@example.com")
    sign_in_as_staff(page, web_server)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(web_server + "/rq/")
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("#queues tbody tr[data-role=loading-placeholder]", state="detached")
    assert horizontal_overflow(page) == 0, "the page itself scrolls sideways"
    assert overlaps(page, "#dashboard-main p.intro", "#queues thead") == 0, "the table's header covers the intro"
    box = wide_table_scrolls_in_its_box(page)
    assert box["scrolls"] > 0 and box["overflow"] == "auto" and box["right"] <= 390 and box["hint"], box
    # Every column can be scrolled to: the last one's right edge is inside the box once it is scrolled.
    page.eval_on_selector(".table-wrap", "e => { e.scrollLeft = e.scrollWidth; }")
    last = page.evaluate(
        """() => [document.querySelector('.table-wrap').getBoundingClientRect().right,
                  document.querySelector('#queues thead th:last-child').getBoundingClientRect().right]"""
    )
    assert last[1] <= last[0] + 1, last


def test_the_operate_menu_closes_on_escape_and_on_a_click_elsewhere(sqlite_app, web_server, page):
    """At 390 px the open Operate menu covers the header's sign-out line: Escape closes it (the focus back on
    Operate), and so does a click on the page beside it, as menus do."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    sign_in_as_staff(page, web_server)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(web_server + "/books")
    menu = page.locator("header details.nav-menu")
    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    expect(menu.locator("a", has_text="Queue")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(menu.locator("summary")).to_be_focused()

    menu.locator("summary").click()
    expect(menu).to_have_attribute("open", "")
    page.locator("main h1").click()
    expect(menu).not_to_have_attribute("open", "")


def test_the_fix_grid_at_390_px_shows_each_rows_problems_without_scrolling_sideways(sqlite_app, web_server, page):
    """On a phone the fix grid scrolled sideways in its box, and a problem in Price (the sixth column) sat
    off-screen beside its row. Each row's cells now stack, each named, its problem under it, in view."""
    from tests.conftest import sign_in
    from tests.test_fixes import import_with_bad_rows

    add_user(sqlite_app, "staff@example.com")
    import_id = import_with_bad_rows(sqlite_app, sign_in(sqlite_app.test_client(), "staff@example.com"))
    sign_in_as_staff(page, web_server)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{web_server}/imports/{import_id}/fix")
    page.wait_for_load_state("networkidle")

    assert horizontal_overflow(page) == 0 and horizontal_overflow(page, ".table-wrap") == 0
    problems = page.evaluate(
        """() => [...document.querySelectorAll('.fix-grid .cell-problem')].map(e => {
                const box = e.getBoundingClientRect();
                const cell = e.closest('td');
                return [e.id, box.left, box.right, getComputedStyle(cell, '::before').content]; })"""
    )
    price = HEADER.index("Price")
    assert [(p[0], p[3]) for p in problems] == [
        ("m-4-2", '"Book type"'),
        ("m-7-4", '"Year published"'),
        (f"m-10-{price}", '"Price"'),
    ], problems
    assert all(left >= 0 and right <= 390 for _, left, right, _ in problems), problems


def test_the_rejected_rows_filter_keeps_its_button_beside_its_column_at_390_px(sqlite_app, web_server, page):
    """On a phone the import page's filter of rejected rows put its Filter button on a line of its own, under
    the Column select it applies: it now sits beside them, on the screen, as on a laptop."""
    from tests.conftest import sign_in
    from tests.test_browser import screenshot
    from tests.test_browser_books import labels_apart_from_their_controls
    from tests.test_fixes import import_with_bad_rows

    add_user(sqlite_app, "staff@example.com")
    import_id = import_with_bad_rows(sqlite_app, sign_in(sqlite_app.test_client(), "staff@example.com"))
    sign_in_as_staff(page, web_server)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(f"{web_server}/imports/{import_id}")
        page.wait_for_load_state("networkidle")
        form = page.locator("form.filters")
        form.scroll_into_view_if_needed()
        screenshot(page, f"rejected-rows-filter-{width}")
        boxes = page.evaluate(
            """() => Object.fromEntries(['label[for=column]', '#column', 'button'].map(s => {
                const box = document.querySelector('form.filters ' + s).getBoundingClientRect();
                return [s, {top: box.top, bottom: box.bottom, left: box.left, right: box.right}]; }))"""
        )
        select, button = boxes["#column"], boxes["button"]
        assert button["top"] < select["bottom"] and select["top"] < button["bottom"], (width, boxes)
        assert select["right"] <= button["left"] and button["right"] <= width, (width, boxes)
        assert labels_apart_from_their_controls(page) == [], width
        assert horizontal_overflow(page) == 0, width
