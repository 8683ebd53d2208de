"""The job dashboard in a real Chromium, for everyone: with a live worker, a queued and a failed job in it,
every page passes axe-core's WCAG 2.2 AA rules at 1280 and 390 px once its script has filled its lists,
fits a phone's width, and its job list is worked from the keyboard alone."""

import time

import pytest
from rq import Queue
from rq.command import send_stop_job_command
from rq.job import JobStatus

from tests import test_browser
from tests.axe_check import assert_accessible
from tests.conftest import add_user, run_worker, stop_worker
from tests.test_browser import screenshot, sign_in_as_staff, start_worker

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.accessibility]
#: The browser and the served app, as the other browser tests have them.
page, web_server = test_browser.page, test_browser.web_server


@pytest.fixture
def jobs(sqlite_app, redis_client) -> dict:
    """bookapp's import queue with a failed job (a real worker in this process ran it) and a queued one."""
    queue = Queue(sqlite_app.config["IMPORT_QUEUE"], connection=redis_client)
    failed = queue.enqueue("builtins.int", "not a number", description="Import #1 of stock.csv")
    run_worker(sqlite_app)
    assert failed.get_status(refresh=True) == JobStatus.FAILED
    queued = queue.enqueue("builtins.len", "x", description="Import #3 of more.csv")
    add_user(sqlite_app, "staff@example.com")
    return {"queue": queue, "failed": failed, "queued": queued}


@pytest.fixture
def busy_worker(sqlite_app, redis_client, jobs):
    """A real worker process running a long job, put in the queue ahead of the queued one."""
    running = jobs["queue"].enqueue("time.sleep", 120, description="Import #2 of big.csv", at_front=True)
    worker = start_worker(sqlite_app)
    try:
        deadline = time.monotonic() + 60
        while running.get_status(refresh=True) != JobStatus.STARTED:
            assert time.monotonic() < deadline, "the worker never started the long job"
            time.sleep(0.1)
        yield running
    finally:
        if running.get_status(refresh=True) == JobStatus.STARTED:
            send_stop_job_command(redis_client, running.id)  # else the worker's warm shutdown waits for it
        stop_worker(worker)


def test_every_dashboard_page_passes_axe_with_its_lists_filled(sqlite_app, web_server, page, jobs, busy_worker):
    from playwright.sync_api import expect

    queue, failed = jobs["queue"].name, jobs["failed"]
    assert jobs["queued"].get_status(refresh=True) == JobStatus.QUEUED, "it waits behind the long job"
    sign_in_as_staff(page, web_server)
    pages = {  # each page, and what its script puts in its list once it has read the JSON
        "/rq/": ("table#queues tbody tr[data-role=queue]", queue),
        "/rq/0/view/workers": ("table#workers tbody", "time.sleep(120)"),
        f"/rq/0/view/jobs/{queue}/queued/8/asc/1": ("table#jobs tbody", "Import #3 of more.csv"),
        f"/rq/0/view/jobs/{queue}/failed/8/asc/1": ("table#jobs tbody", "ValueError"),
        f"/rq/0/view/job/{failed.id}": ("#job-data", "ValueError"),
    }
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        for path, (where, shown) in pages.items():
            page.goto(web_server + path)
            expect(page.locator(where)).to_contain_text(shown)
            if "/view/jobs/" in path:
                expect(page.locator("#page-selection [aria-current=page]")).to_have_text("1")
            expect(page.locator("a.bookapp-back")).to_have_text("← Back to bookapp")
            assert_accessible(page, f"the dashboard's {path}")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width} px"
    screenshot(page, "dashboard-job-phone")


def focus_by_tab(page, selector: str, most: int = 25) -> None:
    """Press Tab until the element matching *selector* has the focus (at most *most* times)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{selector} is not reached with {most} presses of Tab")


def test_the_job_list_is_worked_from_the_keyboard(sqlite_app, web_server, page, jobs):
    """Skip to the dashboard, pick a registry with the arrow keys (the page stays until Show is pressed:
    it used to leave on the first arrow), show it, open and close a confirmation (it takes the focus and
    gives it back), requeue the failed job; on a phone, open the menu."""
    from playwright.sync_api import expect

    queue, failed = jobs["queue"].name, jobs["failed"]
    sign_in_as_staff(page, web_server)
    queued_list = f"{web_server}/rq/0/view/jobs/{queue}/queued/8/asc/1"
    page.goto(queued_list)
    expect(page.locator("table#jobs tbody")).to_contain_text("Import #3 of more.csv")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to the dashboard")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_id("select-queue")
    expect(page.locator(":focus")).to_have_accessible_name("Queue")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_accessible_name("Registry")
    for _ in range(5):  # queued → scheduled → deferred → started → finished → failed
        page.keyboard.press("ArrowDown")
    expect(page.locator("#select-registry")).to_have_value("failed")
    assert page.url.partition("#")[0] == queued_list, "choosing is not leaving"
    focus_by_tab(page, "#filter-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{web_server}/rq/0/view/jobs/{queue}/failed/8/asc/1")
    expect(page).to_have_title("Failed jobs · Queue dashboard · bookapp")
    expect(page.locator("table#jobs tbody")).to_contain_text("ValueError")

    focus_by_tab(page, "#empty-btn")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Do you really want to empty?")).to_be_visible()
    expect(page.locator(":focus")).to_have_id("confirmation-modal-no")  # the safe answer
    page.keyboard.press("Escape")
    expect(page.locator("#confirmation-modal")).to_be_hidden()
    expect(page.locator(":focus")).to_have_id("empty-btn")  # back where it was
    focus_by_tab(page, "[data-role=requeue-job-btn]")
    page.keyboard.press("Enter")
    expect(page.locator("table#jobs tbody")).to_contain_text("No jobs.")
    assert failed.get_status(refresh=True) == JobStatus.QUEUED

    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(queued_list)
    workers_link = page.get_by_role("navigation", name="Queue dashboard").get_by_role("link", name="Workers")
    expect(workers_link).to_be_hidden()
    focus_by_tab(page, "#navbar-dashboard .navbar-toggler")
    page.keyboard.press("Enter")
    expect(workers_link).to_be_visible()
    focus_by_tab(page, "#navbar-dashboard a[href$='/view/workers']")
    page.keyboard.press("Enter")
    expect(page.locator("table#workers tbody")).to_contain_text("No workers.")
