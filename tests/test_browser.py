"""The pages in a real headless Chromium: sign in, upload, watch the bar reach 100 %, find the books."""

import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, ROOT, add_user, skip_or_fail, stop_worker
from tests.helpers import book_row, csv_bytes, write_csv
from tests.pause_points import PausedWorker

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


def chromium_path() -> str:
    path = os.environ.get("BOOKAPP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        skip_or_fail("no chromium binary (apt-get install chromium)")
    return path


def start_worker(app, pause: PausedWorker | None = None) -> subprocess.Popen:
    """Start a real `flask worker` process on the app's database, Redis and upload folder (with *pause*,
    one whose import pauses at the chunks it names)."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
        "SECRET_KEY": "test-secret",
    }
    flask_args = ["--app", "wsgi", "worker"]
    command = pause.command(*flask_args) if pause else [sys.executable, "-m", "flask", *flask_args]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


@pytest.fixture
def web_server(sqlite_app):
    """Serve the app on a free port in a thread (no worker)."""
    server = make_server("127.0.0.1", 0, sqlite_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def live_server(sqlite_app, web_server):
    """The app served, with its imports run by a real `flask worker` process."""
    worker = start_worker(sqlite_app)
    yield web_server
    stop_worker(worker)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        yield page
        browser.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_sign_in_upload_watch_progress_and_find_the_books(sqlite_app, live_server, page, tmp_path: Path):
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    rows = [book_row(n) for n in range(1, 3001)]
    rows[41] = book_row(42, Price="not a price")
    csv_path = write_csv(tmp_path / "stock.csv", rows)

    page.goto(live_server + "/imports/new")
    expect(page).to_have_url(live_server + "/login?next=%2Fimports%2Fnew")
    screenshot(page, "sign-in")
    page.fill("#email", "staff@example.com")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")

    expect(page.locator("h1")).to_have_text("Upload a spreadsheet of books")
    page.set_input_files("#file", str(csv_path))
    screenshot(page, "upload")
    page.click("main button[type=submit]")

    expect(page.locator("h1")).to_contain_text("stock.csv")
    bar = page.locator("progress[role=progressbar], progress")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=60_000)
    expect(page.locator("[data-field=status]")).to_have_text("succeeded with 1 rejected row")
    expect(page.locator("[data-field=created]")).to_have_text("2,999")
    expect(page.locator("[data-field=rejected]")).to_have_text("1")
    expect(page.locator("table.errors")).to_contain_text("Price is not a price")
    screenshot(page, "import-report")

    page.goto(live_server + "/books")
    expect(page.locator("table.books")).to_contain_text("Book 3000")
    expect(page.locator("h1 small")).to_have_text("2,999")
    screenshot(page, "books")


def sign_in_as_staff(page, live_server):
    page.goto(live_server + "/login")
    page.fill("#email", "staff@example.com")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")


def drop_file(page, selector: str, path: Path, mime: str) -> None:
    """Drop a file on an element the way a browser does: a DataTransfer carrying the file."""
    import base64

    payload = base64.b64encode(path.read_bytes()).decode()
    handle = page.evaluate_handle(
        """([payload, name, mime]) => {
            const bytes = Uint8Array.from(atob(payload), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: mime}));
            return transfer;
        }""",
        [payload, path.name, mime],
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": handle})


def test_a_staff_member_does_every_task_from_the_pages(sqlite_app, live_server, page, tmp_path: Path):
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    rows = [book_row(n) for n in range(1, 121)]
    rows[9] = book_row(10, Price="ten")
    csv_path = write_csv(tmp_path / "delivery.csv", rows)
    sign_in_as_staff(page, live_server)

    # Templates from the upload page.
    page.goto(live_server + "/imports/new")
    with page.expect_download() as template:
        page.click("text=Excel (.xlsx)")
    assert template.value.suggested_filename == "bookapp-template.xlsx"

    # Upload by drag and drop, watch it finish, download the rejected rows.
    drop_file(page, "[data-dropzone]", csv_path, "text/csv")
    page.click("main form#upload-form button[type=submit]")
    expect(page.locator("[data-field=status]")).to_have_text("succeeded with 1 rejected row", timeout=60_000)
    expect(page).to_have_title(re.compile(r"Import #1 · succeeded"))
    expect(page.locator("[data-field=created]")).to_have_text("119")
    expect(page.locator("table.errors")).to_contain_text("Price is not a price")
    with page.expect_download() as rejected:
        page.click("text=Rejected rows (CSV)")
    assert "Book 10" in Path(rejected.value.path()).read_text(encoding="utf-8-sig")
    screenshot(page, "import-report")

    # Search, filter, sort on /books.
    page.goto(live_server + "/books")
    page.fill("#q", "Book 11")
    page.select_option("#book_type", "Magazine")
    page.click("form[role=search] button[type=submit]")
    expect(page.locator("table.books tbody tr")).to_have_count(3)  # Books 11, 111 and 116 are magazines
    page.click("th >> text=Title")
    expect(page).to_have_url(re.compile(r"sort=title&direction=asc"))
    # On a wide screen the search, the type and the page size share one line.
    boxes = [page.locator(f"form[role=search] {s}").bounding_box() for s in ("#q", "#book_type", "#per_page")]
    middles = [box["y"] + box["height"] / 2 for box in boxes]
    assert max(middles) - min(middles) < 15, boxes
    screenshot(page, "books-search")

    # Edit a book with a mistake, then right; then delete it.
    page.goto(live_server + "/books?q=Book+1&sort=title&direction=asc")
    page.click("table.books tbody a >> nth=0")
    page.click("text=Edit")
    page.fill("#price", "-5")
    page.click("main button[type=submit]")
    expect(page.locator(".field-error")).to_contain_text("Price is negative")
    page.fill("#price", "5.50")
    page.click("main button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("The book is saved")
    expect(page.locator("dl.fields")).to_contain_text("5.50")
    screenshot(page, "book")
    page.click("text=Delete…")
    page.click("text=Delete the book")
    expect(page.locator(".flash")).to_contain_text("Deleted")

    # Export the current view.
    page.goto(live_server + "/books?book_type=Comic")
    with page.expect_download() as exported:
        page.click("text=Export CSV")
    assert Path(exported.value.path()).read_text(encoding="utf-8-sig").count("\n") == 1 + 24

    # Sign out.
    page.click("text=Sign out")
    expect(page).to_have_url(live_server + "/login")
    page.goto(live_server + "/books")
    expect(page).to_have_url(live_server + "/login?next=%2Fbooks")


def test_the_pages_fit_a_phone_screen(sqlite_app, live_server, page, tmp_path: Path):
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_as_staff(page, live_server)
    page.goto(live_server + "/imports/new")
    page.set_input_files("#file", str(write_csv(tmp_path / "phone.csv", [book_row(n) for n in range(1, 30)])))
    page.click("main form#upload-form button[type=submit]")
    expect(page.locator("[data-field=status]")).to_have_text("succeeded", timeout=60_000)
    for path in ("/books", "/imports", "/imports/1", "/imports/new", "/books/1"):
        page.goto(live_server + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    screenshot(page, "phone-book")


@pytest.mark.security
def test_the_job_dashboard_shows_no_text_from_files(sqlite_app, web_server, page, tmp_path: Path):
    """rq-dashboard renders job descriptions, meta and exception text without escaping: nothing from a
    file (its name, its cells) may reach them. A hostile name and hostile cells go through the real
    form; one job succeeds, one fails in a real worker; every dashboard page showing them is opened."""
    from playwright.sync_api import expect

    from bookapp.extensions import db
    from bookapp.models import Import

    add_user(sqlite_app, "staff@example.com")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    hostile = '<img src=x onerror="alert(document.domain)">'
    rows = [book_row(1, Title=hostile), book_row(2, Author="<script>alert(2)</script>"), book_row(3, Price=hostile)]
    sign_in_as_staff(page, web_server)
    for name, body in ((f"{hostile}.csv", rows), ("gone.csv", [book_row(4)])):
        page.goto(web_server + "/imports/new")
        page.set_input_files("#file", {"name": name, "mimeType": "text/csv", "buffer": csv_bytes(body)})
        page.click("main form#upload-form button[type=submit]")
        expect(page.locator("[data-field=status]")).to_have_text("queued")
    with sqlite_app.app_context():
        gone = db.session.scalars(db.select(Import).where(Import.filename == "gone.csv")).one()
        (Path(sqlite_app.config["UPLOAD_FOLDER"]) / gone.stored_name).unlink()  # fails in the worker
    worker = start_worker(sqlite_app)
    try:
        page.goto(web_server + "/imports/1")
        expect(page.locator("[data-field=status]")).to_have_text("succeeded with 1 rejected row", timeout=60_000)
        page.goto(web_server + "/imports/2")
        expect(page.locator("[data-field=status]")).to_have_text("failed", timeout=60_000)
    finally:
        stop_worker(worker)

    queue = sqlite_app.config["IMPORT_QUEUE"]
    views = {
        "/rq/": queue,
        f"/rq/0/view/jobs/{queue}/finished/8/asc/1": "import-1-0",
        f"/rq/0/view/jobs/{queue}/failed/8/asc/1": "import-2-0",
        "/rq/0/view/job/import-1-0": "Import #1",
        "/rq/0/view/job/import-2-0": "StoredFileMissing",
        "/rq/0/view/workers": "Workers",
    }
    for path, shown in views.items():
        page.goto(web_server + path)
        expect(page.locator("body")).to_contain_text(shown, timeout=15_000)
        page.wait_for_load_state("networkidle")
        html = page.content()
        assert "onerror" not in html and "<script>alert" not in html and "alert(2)" not in html, path
        assert page.locator("img[src=x]").count() == 0, path
    screenshot(page, "dashboard-job")
    assert dialogs == []
