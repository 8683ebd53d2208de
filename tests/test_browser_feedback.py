"""What a person sees while things happen, in a real headless Chromium: the upload's own progress, the
import's progress told to screen readers, the end of an import shown in place, the operators' menu."""

import itertools
import re
import socket
import struct
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import test_browser
from tests.conftest import add_user, stop_worker
from tests.helpers import book_row, write_csv
from tests.pause_points import PausedWorker
from tests.test_browser import screenshot, sign_in_as_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The browser, the served app and its worker, as the other browser tests have them.
page = test_browser.page
web_server = test_browser.web_server
live_server = test_browser.live_server

#: The upload link a throttled page has: 256 KB/s, so a few MB take seconds to send.
SLOW_UPLOAD_BYTES_PER_SECOND = 256 * 1024
#: An import held twice mid-way, at pause points: in its 3rd and its 8th chunk of 500 rows.
HELD_IMPORT_ROWS = 6_000
HELD_IMPORT_CHUNK = 500
HELD_AT_CHUNKS = (3, 8)
DESCRIPTION_PADDING = "x" * 900  # about 1 kB a row, so a few thousand rows make a few MB


def throttle(page) -> None:
    """Slow this page's network to a slow link through the DevTools protocol."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": 4 * 1024 * 1024,
         "uploadThroughput": SLOW_UPLOAD_BYTES_PER_SECOND},
    )  # fmt: skip


class CuttableLink:
    """A TCP relay in front of the server whose open connections can be cut, as a dropped link does."""

    def __init__(self, server_url: str):
        self.target = ("127.0.0.1", int(server_url.rsplit(":", 1)[1]))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                browser_side, _ = self.listener.accept()
            except OSError:
                return
            server_side = socket.create_connection(self.target)
            with self.lock:
                self.open += [browser_side, server_side]
            for source, sink in ((browser_side, server_side), (server_side, browser_side)):
                threading.Thread(target=self._relay, args=(source, sink), daemon=True).start()

    @staticmethod
    def _relay(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def cut(self) -> None:
        """Reset every open connection, both ways; new ones still go through."""
        with self.lock:
            doomed, self.open = self.open, []
        for sock in doomed:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
            sock.close()

    def close(self) -> None:
        self.listener.close()
        self.cut()


def screenshots(page, name: str) -> None:
    """Take the page's screenshot on a laptop (1280 px) and a phone (390 px) screen."""
    before = page.viewport_size
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size(before)


def big_csv(tmp_path: Path, rows: int) -> Path:
    return write_csv(tmp_path / "big.csv", [book_row(n, Description=DESCRIPTION_PADDING) for n in range(1, rows + 1)])


def upload_percent(page) -> int:
    return int(page.locator("[data-upload-bar]").evaluate("bar => bar.value"))


def test_the_upload_shows_its_progress_on_a_slow_link(sqlite_app, live_server, page, tmp_path: Path):
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    csv_path = big_csv(tmp_path, 3000)  # about 3 MB: some seconds at 512 KB/s
    sign_in_as_staff(page, live_server)
    page.goto(live_server + "/imports/new")
    throttle(page)
    page.set_input_files("#file", str(csv_path))
    button = page.locator("main form#upload-form button[type=submit]")
    button.click()

    text = page.locator("[data-upload-text]")
    expect(text).to_have_text(re.compile(r"^\d+ % · [\d.]+ of 2\.7 MB sent · about .+ left$"), timeout=30_000)
    expect(button).to_be_disabled()
    first, first_text = upload_percent(page), text.text_content()
    assert first < 100
    expect(text).not_to_have_text(first_text)
    # the text moves with every progress event (MB sent, time left); the bar moves on as the bytes go
    page.wait_for_function("first => document.querySelector('[data-upload-bar]').value > first", arg=first,
                           timeout=30_000)  # fmt: skip
    expect(button).to_be_disabled()
    screenshots(page, "upload-progress")

    expect(page.locator("h1")).to_contain_text("big.csv", timeout=60_000)
    expect(page.locator("[data-field=status]")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator("[data-field=created]")).to_have_text("3,000")
    assert re.search(r"/imports/1$", page.url)


def test_a_dropped_connection_says_so_and_lets_the_upload_start_again(sqlite_app, web_server, page, tmp_path: Path):
    from playwright.sync_api import expect

    from bookapp.extensions import db
    from bookapp.models import Import

    add_user(sqlite_app, "staff@example.com")
    csv_path = big_csv(tmp_path, 3000)
    link = CuttableLink(web_server)
    sign_in_as_staff(page, link.url)
    page.goto(link.url + "/imports/new")
    throttle(page)
    page.set_input_files("#file", str(csv_path))
    button = page.locator("main form#upload-form button[type=submit]")
    button.click()
    expect(page.locator("[data-upload-text]")).to_have_text(re.compile(r"^[1-9]\d % "), timeout=30_000)
    expect(button).to_be_disabled()
    link.cut()  # the connection drops in the middle of the upload

    problem = page.locator("[data-upload-error]")
    expect(problem).to_be_visible(timeout=30_000)
    expect(problem).to_have_text(
        re.compile(
            r"^The connection to bookapp was lost during the upload \(after [\d.]+ of 2\.7 MB\)\. Check the connection"
        )
    )
    assert float(re.search(r"after ([\d.]+) of", problem.text_content())[1]) < 2.7
    expect(problem).to_have_attribute("role", "alert")
    expect(button).to_be_enabled()
    expect(page.locator("[data-upload-progress]")).to_be_hidden()
    screenshots(page, "upload-connection-lost")
    with sqlite_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Import)) == 0

    button.click()  # the link is back: the same form sends the file
    expect(page.locator("h1")).to_contain_text("big.csv", timeout=60_000)
    link.close()


def test_the_form_answers_in_place_and_works_without_javascript(sqlite_app, live_server, page, tmp_path: Path):
    """A refused or repeated file comes back in the same page, whose form still sends; with scripts off
    the plain form posts and lands on the import page. A file imported before is imported again by a
    button, without choosing it again."""
    from playwright.sync_api import expect

    from bookapp.extensions import db
    from bookapp.models import Import

    add_user(sqlite_app, "staff@example.com")
    csv_path = write_csv(tmp_path / "stock.csv", [book_row(n) for n in range(1, 11)])
    wrong = tmp_path / "notes.docx"
    wrong.write_text("not a spreadsheet")

    plain = page.context.browser.new_context(java_script_enabled=False).new_page()
    sign_in_as_staff(plain, live_server)
    plain.goto(live_server + "/imports/new")
    plain.set_input_files("#file", str(csv_path))
    plain.click("main form#upload-form button[type=submit]")
    expect(plain.locator("h1")).to_contain_text("stock.csv")
    assert plain.url == live_server + "/imports/1"
    expect(plain.locator("[data-upload-progress]")).to_be_hidden()
    plain.context.close()

    sign_in_as_staff(page, live_server)
    page.goto(live_server + "/imports/new")
    page.set_input_files("#file", str(wrong))
    page.click("main form#upload-form button[type=submit]")
    expect(page.locator(".field-error").first).to_have_text(
        "“notes.docx” cannot be imported. Upload a .csv, .tsv, .txt, .xlsx, .xls, .xlsb or .ods file."
    )
    assert page.url == live_server + "/imports/new"

    page.set_input_files("#file", str(csv_path))  # the same file as import #1
    page.check("#all_or_nothing")
    page.click("main form#upload-form button[type=submit]")
    expect(page.locator("[role=alert]").first).to_contain_text("import #1")
    # The server kept the file: one button imports it, with the options chosen, and the file box stays
    # for another file.
    expect(page.locator("main h2", has_text="Choose another file")).to_be_visible()
    expect(page.locator("main form#upload-form button[type=submit]")).to_have_text("Upload and import")
    again = page.get_by_role("button", name="Import it again")
    expect(again).to_be_enabled()
    page.set_input_files("#file", str(wrong))  # another file chosen: the button for it is Upload and import
    expect(again).to_be_hidden()
    page.set_input_files("#file", [])
    expect(again).to_be_visible()
    again.click()
    expect(page.locator("h1")).to_contain_text("Import #2: stock.csv")
    with sqlite_app.app_context():
        assert db.session.get(Import, 2).all_or_nothing
        assert db.session.scalar(select(func.count(Import.id))) == 2


def test_import_it_again_works_in_a_browser_that_does_not_name_the_button_pressed(
    sqlite_app, live_server, page, tmp_path: Path
):
    """Older browsers (Safari before 15.4) give a form's submit event no submitter: the button still sends
    the form to its own address, not through the upload's script (which would send it without a file)."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    csv_path = write_csv(tmp_path / "stock.csv", [book_row(1)])
    page.add_init_script("Object.defineProperty(SubmitEvent.prototype, 'submitter', {get: () => undefined})")
    sign_in_as_staff(page, live_server)
    for _ in range(2):  # the second time it is refused: the first import of it is under way
        page.goto(live_server + "/imports/new")
        page.set_input_files("#file", str(csv_path))
        page.click("main form#upload-form button[type=submit]")
    page.get_by_role("button", name="Import it again").click()
    expect(page.locator("h1")).to_contain_text("Import #2: stock.csv")


def test_operators_reach_the_queue_from_a_menu_by_keyboard_and_come_back(sqlite_app, web_server, page):
    """The Operate menu opens with the keyboard; the dashboard has a way back; nothing the browser loads
    from the dashboard (pages, scripts, JSON) names the Redis it reads."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    redis_url = sqlite_app.config["REDIS_URL"]  # the dashboard reads the same Redis
    where = redis_url.split("://", 1)[1].split("/", 1)[0]  # host:port
    sign_in_as_staff(page, web_server)
    page.goto(web_server + "/imports")
    menu = page.locator("header details.nav-menu")
    expect(menu.locator("a", has_text="Queue")).to_be_hidden()
    page.locator("header a", has_text="Imports").focus()
    page.keyboard.press("Tab")
    expect(menu.locator("summary")).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    expect(menu.locator("a", has_text="Queue")).to_be_focused()
    screenshots(page, "operate-menu")

    loaded: list[tuple[str, str]] = []
    page.on(
        "response", lambda response: loaded.append((response.url, response.text())) if "/rq/" in response.url else None
    )
    page.keyboard.press("Enter")
    expect(page).to_have_url(web_server + "/rq/")
    expect(page.locator(".container")).to_contain_text("Queues", timeout=15_000)
    page.goto(web_server + "/rq/0/view/workers")
    expect(page.locator("body")).to_contain_text("Workers")
    page.wait_for_load_state("networkidle")
    assert any(url.endswith(".json") for url, _ in loaded), "the dashboard's own JSON was loaded"
    for url, body in loaded:
        assert redis_url not in body and where not in body, url
    screenshots(page, "dashboard")

    page.click("text=Back to bookapp")
    expect(page).to_have_url(web_server + "/imports")
    expect(page.locator("header a[aria-current=page]")).to_have_text("Imports")


def test_screen_readers_hear_the_progress_and_the_end_comes_in_place(
    sqlite_app, web_server, page, tmp_path: Path, monkeypatch
):
    """The import is held twice mid-way (at pause points, in its 3rd and its 8th chunk): each time the
    live region tells the rows saved so far. Then it ends and the finished page appears without a
    reload, its outcome told in the same live region."""
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    rows = [book_row(n) for n in range(1, HELD_IMPORT_ROWS + 1)]
    rows[6] = book_row(7, Price="seven")
    csv_path = write_csv(tmp_path / "held.csv", rows)
    sign_in_as_staff(page, web_server)
    page.goto(web_server + "/imports/new")
    page.set_input_files("#file", str(csv_path))
    page.click("main form#upload-form button[type=submit]")
    expect(page.locator("[data-field=status]")).to_have_text("queued")
    announcer = page.locator("#import-announcer")
    expect(announcer).to_have_attribute("role", "status")
    expect(announcer).to_have_text("Queued: waiting for a worker.")
    page.evaluate(
        """() => {
            window.stillTheSamePage = true;
            window.announced = [];
            const region = document.getElementById("import-announcer");
            new MutationObserver(() => window.announced.push([performance.now(), region.textContent]))
                .observe(region, {childList: true, characterData: true, subtree: true});
        }"""
    )

    pause = PausedWorker(tmp_path / "pause", *HELD_AT_CHUNKS)
    monkeypatch.setenv("BOOKAPP_IMPORT_CHUNK_SIZE", str(HELD_IMPORT_CHUNK))
    worker = test_browser.start_worker(sqlite_app, pause=pause)
    try:
        held = [(chunk - 1) * HELD_IMPORT_CHUNK for chunk in HELD_AT_CHUNKS]  # the chunks before it are saved
        pause.wait_paused(worker, HELD_AT_CHUNKS[0])
        expect(announcer).to_have_text(re.compile(rf"^\d+ % · {held[0]:,} of [\d,]+ rows"), timeout=30_000)
        expect(page.locator("[data-field=status]")).to_have_text("running")
        screenshots(page, "import-held")
        pause.release(HELD_AT_CHUNKS[0])
        pause.wait_paused(worker, HELD_AT_CHUNKS[1])
        expect(announcer).to_have_text(re.compile(rf"^\d+ % · {held[1]:,} of [\d,]+ rows"), timeout=30_000)
        page.locator("main button", has_text="Cancel import").focus()  # where focus is when the page changes
        pause.release(HELD_AT_CHUNKS[1])

        expect(announcer).to_have_text(
            re.compile(rf"^Import #1: succeeded with 1 rejected row\. {HELD_IMPORT_ROWS - 1:,} created\.$"),
            timeout=60_000,
        )
    finally:
        stop_worker(worker)
    expect(page.locator("table.errors")).to_contain_text("Price is not a price")
    expect(page).to_have_title(re.compile(r"^Import #1 · succeeded"))
    assert page.evaluate("window.stillTheSamePage") is True, "the page was not reloaded"
    expect(page.locator("main h1")).to_be_focused()  # the Cancel button it was on is gone
    assert page.locator("#import-announcer").count() == 1

    told = page.evaluate("window.announced")
    progress = [(at, text) for at, text in told if " rows" in text and not text.startswith("Import")]
    assert len({text for _, text in progress}) >= 2, told
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(progress)]
    assert all(gap >= 4_900 for gap in gaps), f"progress is told at most every 5 s: {told}"
    screenshots(page, "import-finished-in-place")


def test_no_page_asks_the_server_for_something_missing(sqlite_app, live_server, page, tmp_path: Path):
    """Every request a page makes, the icon the browser fetches by itself included, is answered."""
    from flask import request
    from playwright.sync_api import expect

    answered: list[tuple[str, int]] = []

    @sqlite_app.after_request
    def note(response):
        answered.append((request.path, response.status_code))
        return response

    add_user(sqlite_app, "staff@example.com")
    sign_in_as_staff(page, live_server)
    page.goto(live_server + "/imports/new")
    page.set_input_files("#file", str(write_csv(tmp_path / "few.csv", [book_row(n) for n in range(1, 6)])))
    page.click("main form#upload-form button[type=submit]")
    expect(page.locator("[data-field=status]")).to_have_text("succeeded", timeout=60_000)
    for path in ("/books", "/books/1", "/books/1/edit", "/imports", "/imports/1", "/rq/"):
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
    deadline = time.monotonic() + 30
    while not any("favicon" in path for path, _ in answered):
        assert time.monotonic() < deadline, "the browser never asked for the icon"
        time.sleep(0.1)
    missing = [(path, status) for path, status in answered if status >= 400]
    assert missing == [], missing


def test_the_scripted_upload_carries_the_forms_csrf_token(redis_url, redis_client, tmp_path: Path, page):
    """With CSRF protection on (as in production), the upload sent by the script is accepted."""
    from playwright.sync_api import expect
    from werkzeug.serving import make_server

    from tests.conftest import build_app

    app = build_app(f"sqlite:///{tmp_path / 'csrf.sqlite3'}", redis_url, tmp_path, WTF_CSRF_ENABLED=True)
    add_user(app, "staff@example.com")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        sign_in_as_staff(page, url)
        page.goto(url + "/imports/new")
        page.set_input_files("#file", str(write_csv(tmp_path / "guarded.csv", [book_row(1)])))
        page.click("main form#upload-form button[type=submit]")
        expect(page.locator("h1")).to_contain_text("guarded.csv")
        expect(page.locator("[data-field=status]")).to_have_text("queued")
    finally:
        server.shutdown()
