"""WCAG 2.2 AA in a real Chromium: axe-core on every page (with data in them, signed in and out, at a laptop's
and a phone's width), the focus ring and the field borders measured, the books table at 200 % zoom and 320 px,
and a keyboard-only pass through upload, following an import, fixing it, and finding and editing a book."""

import re
from pathlib import Path

import pytest

from tests import test_browser
from tests.axe_check import assert_accessible
from tests.conftest import PASSWORD, add_user, run_worker, sign_in, stop_worker
from tests.helpers import HEADER, book_row, csv_bytes, goodreads_csv, goodreads_row, write_csv
from tests.layouts import GOODREADS_HEADER, GOODREADS_MAPPING
from tests.pause_points import PausedWorker
from tests.test_access import bearer
from tests.test_browser import screenshot, sign_in_as_staff
from tests.test_imports import upload

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.accessibility]
#: The browser, the served app and its worker, as the other browser tests have them.
page, web_server, live_server = test_browser.page, test_browser.web_server, test_browser.live_server

VIEWPORTS = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
YEAR = HEADER.index("Year published")
#: WCAG 1.4.11: a focus ring and a field's border need 3:1 against what is around them.
NON_TEXT_CONTRAST = 3.0

# The contrast of two CSS colours, and the colour behind an element (its first ancestor with a background).
CONTRAST_JS = """
(() => {
  const rgb = (css) => (css.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const [R, G, B] = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  window.contrast = (a, b) => {
    const [x, y] = [luminance(rgb(a)), luminance(rgb(b))].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  window.backgroundBehind = (element) => {
    for (let node = element; node && node.nodeType === 1; node = node.parentElement) {
      const colour = getComputedStyle(node).backgroundColor;
      const parts = rgb(colour);
      if (parts.length === 3 || (parts.length === 4 && parts[3] > 0)) return colour;
    }
    return "rgb(255, 255, 255)";
  };
})()
"""


def seed(app) -> dict:
    """Fill the app the way staff would: an import with rejected rows (its books in the list), a dry run, a
    file waiting for its columns, a profile. Return the ids the pages need."""
    add_user(app, "staff@example.com")
    client = sign_in(app.test_client(), "staff@example.com")
    rows = [book_row(n) for n in range(1, 61)]
    rows[4] = book_row(5, **{"Year published": "19"})
    rows[9] = book_row(10, Price="ten")
    rows[14] = book_row(15, **{"Book type": "Horor"})  # a typing slip: the row is rejected, to be fixed
    upload(client, csv_bytes(rows), name="delivery.csv")
    run_worker(app)
    upload(client, csv_bytes([book_row(n) for n in range(55, 75)]), name="next-delivery.csv", dry_run="y")
    run_worker(app)
    response = upload(client, goodreads_csv([goodreads_row(n) for n in range(1, 21)]), name="goodreads.csv")
    assert response.headers["Location"].endswith("/imports/3/columns"), response.headers.get("Location")
    upload(client, goodreads_csv([goodreads_row(n) for n in range(30, 40)]), name="goodreads-2.csv")  # import 4
    profile = client.post(
        "/api/v1/profiles",
        headers=bearer(app, "api@example.com"),
        json={"name": "Goodreads export", "headers": GOODREADS_HEADER, "mapping": GOODREADS_MAPPING},
    )
    assert profile.status_code == 201, profile.get_json()
    return {"rejected": 1, "dry_run": 2, "columns": 3, "profiling": 4, "profile": profile.get_json()["id"]}


def check_fields_and_focus(page, label: str) -> None:
    """Every visible text box, select and file input has a border of 3:1 against what is behind it."""
    page.evaluate(CONTRAST_JS)
    faint = page.evaluate(
        """(minimum) => [...document.querySelectorAll(
              "input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea")]
            .filter(el => el.offsetParent !== null)
            .map(el => [el.id || el.name, getComputedStyle(el).borderTopColor, backgroundBehind(el.parentElement)])
            .filter(([, border, behind]) => contrast(border, behind) < minimum)""",
        NON_TEXT_CONTRAST,
    )
    assert faint == [], f"{label}: field borders under 3:1 (field, border, background): {faint}"


def visit(page, url: str, label: str, *, heading: str | None = None) -> None:
    from playwright.sync_api import expect

    response = page.goto(url)
    assert response is not None
    if heading:
        expect(page.locator("main h1")).to_contain_text(heading)
    assert_accessible(page, label)
    check_fields_and_focus(page, label)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_page_passes_axe(sqlite_app, web_server, page, viewport):
    """Each page of bookapp, as a visitor and as staff, with data in it: no serious or critical axe finding."""
    from playwright.sync_api import expect

    ids = seed(sqlite_app)
    page.set_viewport_size(VIEWPORTS[viewport])
    server = web_server

    # Signed out: sign in (as it comes, with a missing field and with a wrong password), a missing page.
    visit(page, server + "/login", "sign-in", heading="Sign in")
    page.click("main button[type=submit]")
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "sign-in, fields missing")
    page.fill("#email", "staff@example.com")
    page.fill("#password", "not the password")
    page.click("main button[type=submit]")
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "sign-in, wrong password")
    screenshot(page, f"a11y-sign-in-refused-{viewport}")
    visit(page, server + "/no-such-page", "not found, signed out")

    sign_in_as_staff(page, server)
    expect(page.locator("main h1")).to_contain_text("Books")
    pages = {
        "/books?per_page=25": "books",
        "/books?sort=price&direction=desc&per_page=25": "books sorted",
        "/books?q=book+1&per_page=25": "books searched",
        "/books?q=nothing+like+it": "books, no match",
        "/books/1": "a book",
        "/books/1/edit": "edit a book",
        "/books/1/delete": "delete a book",
        "/imports": "imports",
        "/imports/new": "upload",
        f"/imports/{ids['rejected']}": "an import with rejected rows",
        f"/imports/{ids['dry_run']}": "a dry run",
        f"/imports/{ids['rejected']}/fix": "fix rejected rows",
        f"/imports/{ids['columns']}": "an import waiting for its columns",
        f"/imports/{ids['columns']}/columns": "match columns",
        "/imports/profiles": "profiles",
        f"/imports/profiles/{ids['profile']}": "a profile",
        "/books/9999": "not found, signed in",
    }
    for path, label in pages.items():
        visit(page, server + path, label)
        if label in ("books sorted", "a dry run", "an import with rejected rows", "fix rejected rows"):
            screenshot(page, f"a11y-{label.replace(' ', '-')}-{viewport}")
    sqlite_app.config["PROFILE_IN_REQUEST_ROWS"] = 0  # a file large enough to have its columns read in a job
    visit(page, server + f"/imports/{ids['profiling']}/columns", "match columns, profiling")
    expect(page.locator("[role=status]")).to_contain_text("profiling…")

    # Forms with their errors.
    page.goto(server + "/books/1/edit")
    page.fill("#price", "-5")
    page.fill("#year_published", "someday")
    page.click("main button[type=submit]:text('Save')")
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#year_published")).to_be_focused()  # the first of the two
    assert_accessible(page, "edit a book, two errors")
    screenshot(page, f"a11y-edit-refused-{viewport}")
    page.goto(server + "/imports/new")
    page.set_input_files("#file", {"name": "empty.csv", "mimeType": "text/csv", "buffer": b""})
    page.click("main form#upload-form button[type=submit]")
    expect(page.locator("#file")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#file")).to_be_focused()
    assert_accessible(page, "upload, a refused file")
    # Too large for the limit: the script says so before sending, on the input too.
    limit, sqlite_app.config["MAX_CONTENT_LENGTH"] = sqlite_app.config["MAX_CONTENT_LENGTH"], 10
    page.goto(server + "/imports/new")
    sqlite_app.config["MAX_CONTENT_LENGTH"] = limit
    page.set_input_files("#file", {"name": "big.csv", "mimeType": "text/csv", "buffer": csv_bytes([book_row(1)])})
    page.click("main form#upload-form button[type=submit]")
    expect(page.locator("#file")).to_have_attribute("aria-describedby", "upload-problem")
    expect(page.locator("#file")).to_be_focused()
    expect(page.locator("#upload-problem")).to_contain_text("larger than the limit")
    assert_accessible(page, "upload, a file too large")
    page.goto(server + f"/imports/{ids['rejected']}/fix")
    page.get_by_role("button", name="Import the fixed rows").click()
    expect(page.locator("#fix-warning")).to_be_visible()
    assert_accessible(page, "fix rejected rows, nothing changed")
    # Match values: Book type from a column lists that column's values.
    page.goto(server + f"/imports/{ids['columns']}/columns")
    page.get_by_label("Book type: column", exact=True).select_option("Exclusive Shelf")
    expect(page.locator("#values table.value-matches")).to_be_visible()
    assert_accessible(page, "match values")
    screenshot(page, f"a11y-match-values-{viewport}")


def test_a_running_import_passes_axe_and_tells_its_progress(sqlite_app, web_server, page, tmp_path, monkeypatch):
    """An import held mid-way by a real worker: its page passes axe at both widths, and its live region has
    gone from "queued" to the rows saved so far."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    monkeypatch.setenv("BOOKAPP_IMPORT_CHUNK_SIZE", "200")
    sign_in_as_staff(page, web_server)
    page.goto(web_server + "/imports/new")
    page.set_input_files("#file", str(write_csv(tmp_path / "held.csv", [book_row(n) for n in range(1, 1001)])))
    page.click("main form#upload-form button[type=submit]")
    announcer = page.locator("#import-announcer")
    expect(announcer).to_have_text("Queued: waiting for a worker.")
    count = page.locator("#import .progress-count")
    expect(count).to_have_text(re.compile(r"^0 rows so far\s*$"), use_inner_text=True)  # no "0 % · 0 of ? rows"
    pause = PausedWorker(tmp_path / "pause", 3)
    worker = test_browser.start_worker(sqlite_app, pause=pause)
    try:
        pause.wait_paused(worker)
        expect(announcer).to_have_text(re.compile(r"^\d+ % · 400 of 1,000 rows"), timeout=30_000)
        expect(count).to_have_text(re.compile(r"^\d+ % · 400 of 1,000 rows"), use_inner_text=True)
        for name, size in VIEWPORTS.items():
            page.set_viewport_size(size)
            assert_accessible(page, "a running import")
            screenshot(page, f"a11y-running-{name}")
        pause.release()
        expect(page.locator("[data-field=status]")).to_have_text("succeeded", timeout=60_000)
    finally:
        stop_worker(worker)
    assert_accessible(page, "an import finished in place")


def test_the_books_table_fits_at_200_percent_zoom_and_320_px(sqlite_app, web_server, page):
    """At 200 % zoom (a 1280 px window shows 640 CSS px) and at 320 px the list needs no sideways scrolling,
    and Title, Price and Qty stay in view; what does not fit is on the book's page."""
    long_names = {"Title": "The Complete Illustrated Encyclopaedia of Everything, volume {}",
                  "Author": "Bartholomew Featherstonehaugh-Worthington {}"}  # fmt: skip
    rows = [book_row(n, **{k: v.format(n) for k, v in long_names.items()}) for n in range(1, 51)]
    seed_books = {"books.csv": rows}
    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    for name, rows in seed_books.items():
        upload(client, csv_bytes(rows), name=name)
        run_worker(sqlite_app)
    sign_in_as_staff(page, web_server)
    # 200 %, 175 %, 150 % and 125 % zoom of a 1280 px window; a small phone.
    for width, scale in ((640, 2), (731, 1.75), (853, 1.5), (1024, 1.25), (320, 1)):
        context = page.context.browser.new_context(
            viewport={"width": width, "height": 700},
            device_scale_factor=scale,
            storage_state=page.context.storage_state(),
        )
        tab = context.new_page()
        tab.goto(web_server + "/books")
        table = tab.locator("table.books")
        wrap = table.locator("xpath=..")
        overflow = wrap.evaluate("el => el.scrollWidth - el.clientWidth")
        assert overflow <= 0, f"at {width} px the table scrolls sideways by {overflow} px"
        page_overflow = tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert page_overflow <= 0, f"at {width} px the page scrolls sideways by {page_overflow} px"
        for name in ("Title", "Price", "Qty"):
            header = table.get_by_role("columnheader", name=name)
            box = header.bounding_box()
            assert header.is_visible() and box["x"] + box["width"] <= width, f"{name} is off-screen at {width} px"
        screenshot(tab, f"a11y-books-{width}")
        context.close()
    assert page is not None


def tab_to(page, predicate: str, what: str, limit: int = 150) -> None:
    """Press Tab until the focused element satisfies the JavaScript *predicate* (of `el`), checking at each stop
    that the focus ring shows at 3:1 against what is around it."""
    page.evaluate(CONTRAST_JS)
    for _ in range(limit):
        page.keyboard.press("Tab")
        ring = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || el === document.body) return null;
                const style = getComputedStyle(el);
                return [el.outerHTML.slice(0, 80), style.outlineStyle, parseFloat(style.outlineWidth),
                        contrast(style.outlineColor, backgroundBehind(el.parentElement))];
            }"""
        )
        if ring is not None:
            html, style, width, ratio = ring
            assert style != "none" and width >= 2, f"no focus ring on {html}"
            assert ratio >= NON_TEXT_CONTRAST, f"focus ring {ratio:.2f}:1 on {html}"
        if page.evaluate(f"(el => Boolean({predicate}))(document.activeElement)"):
            return
    pytest.fail(f"Tab never reached {what}")


def follow(page, predicate: str, heading: str) -> None:
    """Tab to the link or button *predicate* names, press Enter, and wait for the page headed *heading*."""
    from playwright.sync_api import expect

    tab_to(page, predicate, heading)
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_contain_text(heading)


def test_upload_follow_fix_find_and_edit_with_the_keyboard_only(sqlite_app, live_server, page, tmp_path: Path):
    """A person who uses no mouse: every step below is Tab, Enter, Space or typing."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    rows = [book_row(n) for n in range(1, 41)]
    rows[6] = book_row(7, **{"Year published": "19"})  # row 8
    csv_path = write_csv(tmp_path / "keyboard.csv", rows)
    keys = page.keyboard
    # Ask for file dialogs now: the request reaches the browser on its own time, and one made only when Space
    # is pressed can arrive after the dialog has already opened unseen.
    page.on("filechooser", lambda _chooser: None)

    page.goto(live_server + "/login")
    tab_to(page, "el.id === 'skip-link'", "the skip link")
    keys.press("Enter")
    tab_to(page, "el.id === 'email'", "the email box")
    keys.type("staff@example.com")
    keys.press("Tab")
    keys.type(PASSWORD)
    keys.press("Enter")
    expect(page.locator("main h1")).to_contain_text("Books")

    # Upload: the header's Upload link, the file chosen from the dialog Space opens, Enter on the button.
    follow(page, "el.matches('header a') && el.textContent === 'Upload'", "Upload a spreadsheet")
    tab_to(page, "el.id === 'file'", "the file input")
    with page.expect_file_chooser() as chooser:
        keys.press("Space")
    chooser.value.set_files(str(csv_path))
    tab_to(page, "el.type === 'submit' && el.textContent.includes('Upload and import')", "the upload button")
    keys.press("Enter")

    # Follow it: the page tells the end in place; then Tab to the grid to fix the rejected row.
    expect(page.locator("[data-field=status]")).to_have_text("succeeded with 1 rejected row", timeout=60_000)
    follow(page, "el.textContent === 'Fix rejected rows'", "Fix the rejected rows")
    tab_to(page, f"el.name === 'r8c{YEAR}'", "the year of row 8")
    keys.type("1975")
    keys.press("Tab")
    expect(page.locator(f"[name=r8c{YEAR}]")).not_to_have_attribute("aria-invalid", "true")
    tab_to(page, "el.textContent === 'Import the fixed rows'", "Import the fixed rows")
    keys.press("Enter")
    expect(page.locator("[data-banner=fixes]")).to_be_visible()
    expect(page.locator("[data-field=status]")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator("[data-field=created]")).to_have_text("1")

    # Find a book: the skip link, the search box, Enter; then its page, Edit, a mistake, the fix.
    follow(page, "el.matches('header a') && el.textContent === 'Books'", "Books")
    tab_to(page, "el.id === 'skip-link'", "the skip link")
    keys.press("Enter")
    tab_to(page, "el.id === 'q'", "the search box", limit=3)
    keys.type('"Book 7"')
    keys.press("Enter")
    expect(page.locator("table.books tbody tr")).to_have_count(1)
    follow(page, "el.textContent === 'Book 7'", "Book 7")
    follow(page, "el.textContent === 'Edit'", "Edit “Book 7”")
    tab_to(page, "el.id === 'price'", "the price")
    keys.press("Control+A")
    keys.type("-3")
    keys.press("Enter")
    price = page.locator("#price")
    expect(price).to_be_focused()  # the first field with a problem takes the focus
    expect(price).to_have_attribute("aria-invalid", "true")
    described = price.get_attribute("aria-describedby")
    expect(page.locator(f"#{described}")).to_contain_text("Price is negative")
    keys.press("Control+A")
    keys.type("12.50")
    keys.press("Enter")
    expect(page.locator(".flash")).to_contain_text("The book is saved")
    expect(page.locator("dl.fields")).to_contain_text("12.50")
    expect(page.locator("dl.fields")).to_contain_text("1975")
