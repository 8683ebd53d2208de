"""The job dashboard in a real Chromium: a link naming a hostile queue runs nothing, script that reaches
a job's text is stopped by the dashboard's policy, and the dashboard's own script still runs under it."""

import re
from urllib.parse import quote

import pytest
from rq import Queue

from tests import test_browser
from tests.conftest import add_user
from tests.test_browser import sign_in_as_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.security]
#: The browser and the served app, as the other browser tests have them.
page, web_server = test_browser.page, test_browser.web_server

#: A queue name that closes rq-dashboard's `$(this).val('…')` in jobs.js and runs its own statements.
HOSTILE_QUEUE = "x')}});window.hacked=1;alert(document.domain);(function(){if(0){$('"


def watch(page) -> tuple[list[str], list[str]]:
    """Collect the page's dialogs (dismissed) and the policy violations Chromium reports."""
    dialogs: list[str] = []
    violations: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    return dialogs, violations


def hostile_link(server: str) -> str:
    return f"{server}/rq/0/view/jobs/{quote(HOSTILE_QUEUE, safe='')}/finished/8/asc/1"


def test_following_a_link_that_names_a_hostile_queue_runs_nothing(sqlite_app, web_server, page):
    from playwright.sync_api import expect

    add_user(sqlite_app, "staff@example.com")
    sign_in_as_staff(page, web_server)
    dialogs, _ = watch(page)
    response = page.goto(hostile_link(web_server))
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.hacked") is None and dialogs == []
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Not Found")


def test_a_queue_name_with_quotes_stays_a_name_in_the_dashboards_script(sqlite_app, web_server, page):
    """Were such a name ever bookapp's own queue (it is the operator's setting), the page would show it,
    and the script would hold it as a string: the template encodes it."""
    from playwright.sync_api import expect

    sqlite_app.config["IMPORT_QUEUE"] = HOSTILE_QUEUE
    add_user(sqlite_app, "staff@example.com")
    sign_in_as_staff(page, web_server)
    dialogs, violations = watch(page)
    response = page.goto(hostile_link(web_server))
    assert response.status == 200
    expect(page.locator("table#jobs tbody")).to_contain_text("No jobs.")  # the page's own script ran
    expect(page.locator("#select-queue")).to_have_value(HOSTILE_QUEUE)  # the picker's option holds it as text
    page.select_option("#select-registry", "failed")
    page.click("#filter-form button[type=submit]")  # the script builds the next page's address from the name
    expect(page).to_have_url(re.compile(r"/failed/8/asc/1$"))
    expect(page.locator("table#jobs tbody")).to_contain_text("No jobs.")  # bookapp's queue, found by that address
    expect(page.locator("#select-queue")).to_have_value(HOSTILE_QUEUE)
    assert page.evaluate("window.hacked") is None and dialogs == [] and violations == []


def test_script_in_a_jobs_text_is_stopped_by_the_dashboards_policy(sqlite_app, web_server, page, redis_client):
    """rq-dashboard writes a job's description into its job page unescaped. bookapp keeps file text out
    of descriptions; were some ever to reach one, the policy refuses its event handlers."""
    from playwright.sync_api import expect

    hostile = '<img src=x onerror="window.hacked=1;alert(document.domain)">'
    job = Queue(sqlite_app.config["IMPORT_QUEUE"], connection=redis_client).enqueue("builtins.len", "x",
                                                                                   description=hostile)  # fmt: skip
    add_user(sqlite_app, "staff@example.com")
    sign_in_as_staff(page, web_server)
    dialogs, violations = watch(page)
    page.goto(f"{web_server}/rq/0/view/job/{job.id}")
    expect(page.locator("#job-data")).to_contain_text("queued")  # the page's own script ran
    expect(page.locator("#job-data img[src=x]")).to_have_count(1)  # the markup landed…
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.hacked") is None and dialogs == []  # …and its handler never ran
    assert any("inline event handler" in v for v in violations), violations


def test_every_dashboard_page_runs_its_own_script_under_the_policy(sqlite_app, web_server, page, redis_client):
    from playwright.sync_api import expect

    queue = sqlite_app.config["IMPORT_QUEUE"]
    job = Queue(queue, connection=redis_client).enqueue("builtins.len", "x", description="Import #1 of books.csv")
    add_user(sqlite_app, "staff@example.com")
    sign_in_as_staff(page, web_server)
    dialogs, violations = watch(page)
    pages = {
        "/rq/": ("table#queues tbody", queue),
        "/rq/0/view/jobs": ("table#jobs tbody", job.id),  # the navigation's Jobs link: bookapp's import queue
        f"/rq/0/view/jobs/{queue}/queued/8/asc/1": ("table#jobs tbody", "Import #1 of books.csv"),
        f"/rq/0/view/jobs/{queue}/failed/8/dsc/1": ("table#jobs tbody", "No jobs."),
        f"/rq/0/view/job/{job.id}": ("#job-data", "Import #1 of books.csv"),
        "/rq/0/view/workers": ("table#workers tbody", "No workers."),
    }
    for path, (where, shown) in pages.items():
        response = page.goto(web_server + path)
        assert response.headers["x-frame-options"] == "DENY", path
        assert "'nonce-" in response.headers["content-security-policy"], path
        expect(page.locator(where)).to_contain_text(shown)
        page.wait_for_load_state("networkidle")
    page.goto(f"{web_server}/rq/0/view/jobs/{queue}/queued/8/asc/1")
    page.click("#empty-btn")  # a modal asks first (the dashboard's own script and Bootstrap's)
    expect(page.locator("#confirmation-modal")).to_be_visible()
    page.click("#confirmation-modal-yes")
    expect(page.locator("table#jobs tbody")).to_contain_text("No jobs.")
    assert Queue(queue, connection=redis_client).count == 0
    assert violations == [] and dialogs == []
