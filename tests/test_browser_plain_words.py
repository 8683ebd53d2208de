"""In a real headless Chromium: a dry run's page tells screen readers and the browser's tab it is a dry run."""

import re

import pytest

from tests import layouts, test_browser
from tests.conftest import add_user, stop_worker
from tests.pause_points import PausedWorker
from tests.test_browser import sign_in_as_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow]

page = test_browser.page
web_server = test_browser.web_server


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
        expect(announcer).to_have_text("Dry run #1: succeeded. The import would create 1,000.", timeout=60_000)
    finally:
        stop_worker(worker)
    expect(page).to_have_title(re.compile(r"^Dry run #1 · succeeded"))
    assert "Import #" not in page.title()
