"""In a real Chromium, the choices made on Match columns as the tab keeps them: they stay with their own import
in each tab, outlive a Continue the server refuses, and go once the import no longer waits for them."""

import pytest

from tests import layouts
from tests.conftest import add_user
from tests.helpers import goodreads_csv, goodreads_row
from tests.test_browser import page, sign_in_as_staff, web_server  # noqa: F401 (fixtures)
from tests.test_browser_matching import choose_with_keys, upload_layout, upload_on_the_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def kept(tab, import_id: int):
    """The choices the tab keeps for an import (None: none), once the page and its scripts are loaded."""
    tab.wait_for_load_state()
    return tab.evaluate("key => sessionStorage.getItem(key)", f"bookapp.columns.{import_id}")


def test_two_tabs_keep_the_choices_of_their_own_imports_until_each_import_stops_waiting(
    sqlite_app,
    web_server,  # noqa: F811
    page,  # noqa: F811
    tmp_path,
):
    """Two Goodreads exports wait at Match columns, one in each tab (the second opened from the first, so it
    starts with a copy of what the first keeps). Each tab's choices come back on its own import's page, not
    the other's. Continue taken, the import's choices go; cancelled, too: they stayed in the tab as long as it
    was open."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    sign_in_as_staff(page, web_server)
    for n, name in enumerate(("goodreads_library_export.csv", "goodreads_library_export (1).csv")):
        path = tmp_path / name
        path.write_bytes(goodreads_csv([goodreads_row(n * 100 + i) for i in range(1, 6)]))
        upload_on_the_page(page, web_server, path)
        expect(page).to_have_url(web_server + f"/imports/{n + 1}/columns")
    first = page
    first.goto(web_server + "/imports/1/columns")
    choose_with_keys(first, "Author: column", "Author l-f")
    first.get_by_label("Save as profile (optional)").fill("First tab")
    with first.context.expect_page() as opened:
        first.evaluate("url => window.open(url)", web_server + "/imports/2/columns")
    second = opened.value
    second.wait_for_load_state()
    choose_with_keys(second, "Quantity: column", "Owned Copies")
    second.get_by_label("Save as profile (optional)").fill("Second tab")
    second.get_by_label("Price: same value for every row").fill("0.00")

    for tab in (first, second):
        tab.reload()
    expect(first.get_by_label("Author: column", exact=True)).to_have_value("Author l-f")
    expect(first.get_by_label("Save as profile (optional)")).to_have_value("First tab")
    expect(first.get_by_label("Quantity: column", exact=True)).to_have_value("")
    expect(second.get_by_label("Author: column", exact=True)).to_have_value("Author")
    expect(second.get_by_label("Quantity: column", exact=True)).to_have_value("Owned Copies")
    expect(second.get_by_label("Save as profile (optional)")).to_have_value("Second tab")

    second.get_by_label("Book type: same value for every row").fill("Classic")
    expect(second.locator("#continue")).to_be_enabled()
    second.locator("#continue").click()
    expect(second).to_have_url(web_server + "/imports/2")
    expect(second.locator("[data-field=matched]")).to_have_text("Columns matched: the import is queued.")
    assert kept(second, 2) is None
    assert kept(first, 1) is not None

    first.on("dialog", lambda dialog: dialog.accept())
    first.get_by_role("button", name="Cancel import").click()
    expect(first).to_have_url(web_server + "/imports/1")
    expect(first.locator("[data-field=status]")).to_have_text("cancelled")
    assert kept(first, 1) is None


def test_the_choices_outlive_a_continue_the_server_refuses(sqlite_app, web_server, page, tmp_path):  # noqa: F811
    """The server's answer to a change is lost (the network dropped it), so Continue stays pressable with
    Quantity's column taken away; the server refuses it. The choices were dropped as Continue was pressed:
    leaving the refused page and coming back found the suggested column again."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    sign_in_as_staff(page, web_server)
    upload_layout(page, web_server, tmp_path, layouts.stock_list("de", 1))
    expect(page).to_have_url(web_server + "/imports/1/columns")
    page.route("**/columns/preview", lambda route: route.abort())
    choose_with_keys(page, "Quantity: column", "— choose a column —")
    page.locator("#continue").click()
    expect(page.locator("#continue-reason")).to_have_text(
        "Continue needs a column, or a value for every row, for: Quantity."
    )
    page.unroute("**/columns/preview")

    page.click("p.back a")
    expect(page).to_have_url(web_server + "/imports/1")
    page.goto(web_server + "/imports/1/columns")
    expect(page.get_by_label("Quantity: column", exact=True)).to_have_value("")
    expect(page.locator("#continue")).to_be_disabled()
