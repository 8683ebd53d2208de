"""The pages in a real headless Chromium: sign in, upload, watch the bar reach 100 %, find the books."""

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, ROOT, add_user, skip_or_fail
from tests.helpers import book_row, write_csv

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


@pytest.fixture
def live_server(sqlite_app):
    """Serve the app on a free port in a thread; the imports run in a real `flask worker` process."""
    server = make_server("127.0.0.1", 0, sqlite_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = {
        **os.environ,
        "DATABASE_URL": sqlite_app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": sqlite_app.config["REDIS_URL"],
        "UPLOAD_FOLDER": sqlite_app.config["UPLOAD_FOLDER"],
        "SECRET_KEY": "test-secret",
    }
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env)
    yield f"http://127.0.0.1:{server.server_port}"
    worker.terminate()
    worker.wait(30)
    server.shutdown()


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
    expect(page.locator("[data-field=status]")).to_have_text("succeeded")
    expect(page.locator("[data-field=created]")).to_have_text("2,999")
    expect(page.locator("[data-field=rejected]")).to_have_text("1")
    expect(page.locator("table.errors")).to_contain_text("Price is not a price")
    screenshot(page, "import-report")

    page.goto(live_server + "/books")
    expect(page.locator("table.books")).to_contain_text("Book 3000")
    expect(page.locator("h1 small")).to_have_text("2,999")
    screenshot(page, "books")
