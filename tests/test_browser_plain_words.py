"""In a real headless Chromium: a dry run's page tells screen readers and the browser's tab it is a dry run, and
at 390 px Match columns fits Book type's values on the screen and says which tables scroll sideways."""

import re
from pathlib import Path

import pytest

from tests import layouts, test_browser
from tests.conftest import add_user, stop_worker
from tests.pause_points import PausedWorker
from tests.test_browser import screenshot, sign_in_as_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow]

page = test_browser.page
web_server = test_browser.web_server
live_server = test_browser.live_server

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}


def test_a_dry_run_tells_screen_readers_and_the_tab_it_is_a_dry_run(
    sqlite_app, web_server, page, tmp_path, monkeypatch
):
    """A shop's stock sheet of 1,000 books, uploaded with "check only": its live region says the dry run is
    queued, then how far the check has got (held mid-way by a real worker), then what the import would do;
    the tab's title says dry run throughout."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    name, content = layouts.euro_sheet(1, 1_000)
    (tmp_path / name).write_bytes(content)
    sign_in_as_staff(page, web_server)
    page.goto(web_server + "/imports/new")
    page.set_input_files("#file", str(tmp_path / name))
    page.check("input[name=dry_run]")
    page.click("main form#upload-form button[type=submit]")
    announcer = page.locator("#import-announcer")
    expect(announcer).to_have_text("Dry run queued: waiting for a worker.")
    expect(page).to_have_title(re.compile(r"^Dry run #1 · queued"))
    expect(page.get_by_role("progressbar", name="Dry run progress")).to_be_visible()

    monkeypatch.setenv("BOOKAPP_IMPORT_CHUNK_SIZE", "200")
    pause = PausedWorker(tmp_path / "pause", 3)
    worker = test_browser.start_worker(sqlite_app, pause=pause)
    try:
        pause.wait_paused(worker)
        expect(announcer).to_have_text(
            re.compile(r"^Dry run, checking the file: \d+ % · 400 of 1,000 rows"), timeout=30_000
        )
        expect(page).to_have_title(re.compile(r"^Dry run #1 · running"))
        expect(page.locator("main button", has_text="Cancel dry run")).to_be_visible()
        pause.release()
        # What the import would do, said once: the outcome's counts were said again after it.
        expect(announcer).to_have_text("Dry run #1: would create 1,000 books.", timeout=60_000)
    finally:
        stop_worker(worker)
    expect(page).to_have_title(re.compile(r"^Dry run #1 · would create 1,000 books"))
    assert "Import #" not in page.title()


def regions(page) -> list[dict]:
    """Each scrolling region of the page: its name, whether its table goes past it, whether its hint shows,
    and how far its selects reach past its right edge."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.table-wrap[role=region]')].map(region => {
            const hint = region.previousElementSibling;
            const right = region.getBoundingClientRect().right;
            const reach = [...region.querySelectorAll('select')].map(s => s.getBoundingClientRect().right - right);
            return {name: region.getAttribute('aria-label'), scrolls: region.scrollWidth > region.clientWidth + 1,
                    hint: !!hint && hint.classList.contains('scroll-hint') && !hint.hidden && hint.offsetHeight > 0,
                    past: Math.max(0, ...reach)};
        })"""
    )


def test_at_390_px_book_types_values_fit_and_a_table_wider_than_the_screen_says_so(
    sqlite_app, live_server, page, tmp_path
):
    """The French shop list waits at Match columns for its Genre values. On a phone the values' table fits the
    screen, each select whole (they were cut off at its edge); the preview, eleven columns wide, says above it
    that it scrolls sideways, and each region that scrolls says so. On a laptop nothing scrolls: no hint."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    name, content = layouts.stock_list("fr", 1)
    path = Path(tmp_path / name)
    path.write_bytes(content)
    sign_in_as_staff(page, live_server)
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/imports/new")
    page.set_input_files("#file", str(path))
    page.click("main form#upload-form button[type=submit]")
    expect(page).to_have_url(live_server + "/imports/1/columns", timeout=30_000)
    expect(page.locator("table.value-matches")).to_contain_text("Roman", timeout=30_000)

    shown = {r["name"]: r for r in regions(page)}
    values = shown["Values of Book type"]
    assert not values["scrolls"] and values["past"] <= 0 and not values["hint"], values
    assert shown["Preview"]["scrolls"] and shown["Preview"]["hint"], shown["Preview"]
    assert all(r["hint"] == r["scrolls"] for r in shown.values()), shown
    expect(page.locator(".scroll-hint:visible").first).to_have_text(re.compile(r"scroll the table sideways"))
    page.locator("table.value-matches").scroll_into_view_if_needed()
    screenshot(page, "plain-words-values-390")

    page.get_by_label("Book type for the value “Roman”").select_option("Classic")
    expect(page.locator("#preview")).to_contain_text("Valid")  # the preview replaced by the script
    # The hint follows the new table on the next animation frame (scroll-regions.js): give it a few.
    for _ in range(50):
        shown = {r["name"]: r for r in regions(page)}
        if shown["Preview"]["hint"]:
            break
        page.wait_for_timeout(100)
    assert shown["Preview"]["scrolls"] and shown["Preview"]["hint"], shown["Preview"]

    page.set_viewport_size(LAPTOP)
    page.wait_for_function("() => ![...document.querySelectorAll('.scroll-hint')].some(h => !h.hidden)")
    assert not any(r["scrolls"] or r["hint"] for r in regions(page)), regions(page)


def test_the_upload_button_says_check_while_the_dry_run_box_is_ticked(sqlite_app, web_server, page, tmp_path):
    """Ticking "Dry run" turns "Upload and import" into "Upload and check", and back; the dry run it starts is one."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    name, content = layouts.goodreads(1)
    (tmp_path / name).write_bytes(content)
    sign_in_as_staff(page, web_server)
    page.goto(web_server + "/imports/new")
    button = page.locator("main form#upload-form button[type=submit]")
    expect(button).to_have_text("Upload and import")
    page.check("input[name=dry_run]")
    expect(button).to_have_text("Upload and check")
    page.uncheck("input[name=dry_run]")
    expect(button).to_have_text("Upload and import")
    page.check("input[name=dry_run]")
    page.set_input_files("#file", str(tmp_path / name))
    button.click()
    expect(page).to_have_title(re.compile(r"Dry run #1"))


def test_without_scripts_the_upload_button_still_says_import_or_check_as_the_dry_run_box_is_ticked(
    sqlite_app, web_server, page, tmp_path
):
    """With scripts off the button cannot be renamed by upload.js, yet it follows the dry-run box ("Upload and
    import", "Upload and check": the style sheet shows the name that is true), and the plain form starts what
    it says: a dry run while the box is ticked."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    name, content = layouts.goodreads(1)
    (tmp_path / name).write_bytes(content)
    plain = page.context.browser.new_context(java_script_enabled=False).new_page()
    sign_in_as_staff(plain, web_server)
    plain.goto(web_server + "/imports/new")
    button = plain.locator("main form#upload-form button[type=submit]")
    expect(button).to_have_accessible_name("Upload and import")
    assert button.inner_text() == "Upload and import"
    plain.check("input[name=dry_run]")
    expect(button).to_have_accessible_name("Upload and check")
    assert button.inner_text() == "Upload and check"
    plain.uncheck("input[name=dry_run]")
    expect(button).to_have_accessible_name("Upload and import")
    plain.check("input[name=dry_run]")
    screenshot(plain, "upload-without-scripts-dry-run")
    plain.set_input_files("#file", str(tmp_path / name))
    button.click()
    expect(plain).to_have_title(re.compile(r"Dry run #1"))
    plain.context.close()
