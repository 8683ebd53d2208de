"""The job dashboard's URLs name only what bookapp has (else 404, or 400 for paging that is not a page,
never a 500), and its pages carry their own Content-Security-Policy. The browser's side of it is in
tests/test_browser_dashboard.py."""

import re

import pytest
from rq import Queue
from rq.job import Job

from tests.conftest import add_user, sign_in

pytestmark = pytest.mark.security

SAME_SITE = {"Origin": "http://localhost"}
HOSTILE = "x')}});alert(document.domain);(function(){if(0){$('"


@pytest.fixture
def staff(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    return sign_in(sqlite_app.test_client(), "staff@example.com")


@pytest.fixture
def queued_job(sqlite_app, redis_client) -> Job:
    return Queue(sqlite_app.config["IMPORT_QUEUE"], connection=redis_client).enqueue("builtins.len", "x")


@pytest.mark.parametrize("queue", ["default", "imports-of-someone-else", HOSTILE, "%3Cscript%3E"])
def test_a_url_naming_another_queue_is_not_found(sqlite_app, staff, redis_client, queue):
    Queue(queue, connection=redis_client).enqueue("builtins.len", "x")  # it exists in Redis, not in bookapp
    urls = [
        ("GET", f"/rq/0/view/jobs/{queue}/queued/8/asc/1"),
        ("GET", f"/rq/0/data/jobs/{queue}/queued/8/asc/1.json"),
        ("POST", f"/rq/queue/{queue}/queued/empty"),
        ("POST", f"/rq/queue/{queue}/compact"),
        ("POST", f"/rq/requeue/{queue}"),
    ]
    for method, url in urls:
        response = staff.open(url, method=method, headers=SAME_SITE)
        assert response.status_code == 404, url
        assert "bookapp has no queue of that name" in response.get_data(as_text=True), url
        assert "alert(" not in response.get_data(as_text=True)
    assert Queue(queue, connection=redis_client).count == 1, "untouched"


def test_bookapps_own_queues_are_shown(sqlite_app, staff, queued_job):
    imports = sqlite_app.config["IMPORT_QUEUE"]
    for queue in (imports, f"{imports}.indexes"):
        assert staff.get(f"/rq/0/view/jobs/{queue}/queued/8/asc/1").status_code == 200
        listed = staff.get(f"/rq/0/data/jobs/{queue}/queued/8/asc/1.json")
        assert listed.status_code == 200 and listed.get_json()["name"] == queue
    assert listed.get_json()["jobs"] == [] and queued_job.id in staff.get(
        f"/rq/0/data/jobs/{imports}/queued/8/asc/1.json").get_data(as_text=True)  # fmt: skip
    # The navigation's bare "Jobs" link opens the import queue (rq-dashboard's own default is "default").
    bare = staff.get("/rq/0/view/jobs")
    assert bare.status_code == 302 and bare.location == f"/rq/0/view/jobs/{imports}/queued/8/asc/1"


def test_jobs_and_instances_that_are_not_there_are_not_found(sqlite_app, staff, redis_client, queued_job):
    foreign = Queue("someone-else", connection=redis_client).enqueue("builtins.len", "x")
    for job_id in ("no-such-job", foreign.id):
        for method, url in [("GET", f"/rq/0/view/job/{job_id}"), ("GET", f"/rq/0/data/job/{job_id}.json"),
                            ("POST", f"/rq/job/{job_id}/requeue"), ("POST", f"/rq/job/{job_id}/delete")]:  # fmt: skip
            response = staff.open(url, method=method, headers=SAME_SITE)
            assert response.status_code == 404 and "There is no such job" in response.get_data(as_text=True), url
    assert Job.exists(foreign.id, connection=redis_client), "another queue's job is left alone"
    for url in ("/rq/5/view/queues", "/rq/1/data/queues.json", f"/rq/2/view/job/{queued_job.id}"):
        response = staff.get(url)
        assert response.status_code == 404 and "one Redis server, number 0" in response.get_data(as_text=True), url
    assert staff.get(f"/rq/0/view/job/{queued_job.id}").status_code == 200
    assert staff.get(f"/rq/0/data/job/{queued_job.id}.json").get_json()["status"] == "queued"


@pytest.mark.parametrize(
    "tail, status, message",
    [("queued/x/asc/1", 400, "per page must be a whole number from 1 to 200"),
     ("queued/0/asc/1", 400, "per page must be a whole number"), ("queued/-8/asc/1", 400, "per page"),
     ("queued/201/asc/1", 400, "per page"), ("queued/8/asc/0", 400, "page must be a whole number from 1"),
     ("queued/8/asc/1e3", 400, "page must be"), ("queued/8/asc/%D9%A1", 400, "page must be"),
     ("queued/8/sideways/1", 400, "order must be asc or dsc"), ("bogus/8/asc/1", 404, "no job registry of that name")],
)  # fmt: skip
def test_malformed_paging_is_a_400_and_an_unknown_registry_a_404(sqlite_app, staff, tail, status, message):
    queue = sqlite_app.config["IMPORT_QUEUE"]
    response = staff.get(f"/rq/0/data/jobs/{queue}/{tail}.json")
    assert response.status_code == status and message in response.get_json()["error"]["message"]
    if "x" not in tail and "e3" not in tail and "%" not in tail and "-" not in tail:
        assert staff.get(f"/rq/0/view/jobs/{queue}/{tail}").status_code == status  # the page, as its data


def test_buttons_on_what_is_not_there_say_so(sqlite_app, staff, redis_client, queued_job):
    queue = sqlite_app.config["IMPORT_QUEUE"]
    not_failed = staff.post(f"/rq/job/{queued_job.id}/requeue", headers=SAME_SITE)
    assert not_failed.status_code == 400 and "Only a failed job can be requeued" in not_failed.get_data(as_text=True)
    assert staff.post(f"/rq/queue/{queue}/compact", headers=SAME_SITE).get_json() == {"status": "OK"}
    assert staff.post(f"/rq/queue/{queue}/queued/empty", headers=SAME_SITE).get_json() == {"status": "OK"}
    empty = staff.post(f"/rq/queue/{queue}/compact", headers=SAME_SITE)
    assert empty.status_code == 404 and "The queue is empty" in empty.get_data(as_text=True)
    # A failed job is requeued.
    failed = Queue(queue, connection=redis_client).enqueue("builtins.len", "x")
    failed.set_status("failed")
    failed.failed_job_registry.add(failed, ttl=60)
    requeued = staff.post(f"/rq/job/{failed.id}/requeue", headers=SAME_SITE)
    assert requeued.status_code == 200 and failed.id in Queue(queue, connection=redis_client).job_ids


def test_dashboard_pages_carry_a_nonce_policy_and_refuse_to_be_framed(sqlite_app, staff, queued_job):
    queue = sqlite_app.config["IMPORT_QUEUE"]
    nonces = set()
    for url in ("/rq/", f"/rq/0/view/jobs/{queue}/queued/8/asc/1", f"/rq/0/view/job/{queued_job.id}",
                "/rq/0/view/workers"):  # fmt: skip
        response = staff.get(url)
        policy = response.headers["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]+)", policy).group(1).split()
        nonce = re.fullmatch(r"'nonce-([\w-]+)'", script_src[1]).group(1)
        assert script_src == ["'self'", f"'nonce-{nonce}'"], policy  # no 'unsafe-inline', no 'unsafe-eval'
        assert "frame-ancestors 'none'" in policy and response.headers["X-Frame-Options"] == "DENY"
        page = response.get_data(as_text=True)
        inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*text/template)([^>]*)>", page)
        assert inline == [f' nonce="{nonce}" type="text/javascript"'], url  # one inline script, with the nonce
        assert "_.template = function" in page and "new Function" not in page
        nonces.add(nonce)
    assert len(nonces) == 4, "a new nonce for each response"
    for url in ("/rq/0/data/queues.json", "/rq/static/js/jquery-3.5.1.min.js", "/books"):
        assert staff.get(url).headers["X-Frame-Options"] == "DENY"
    assert "'nonce-" not in staff.get("/books").headers["Content-Security-Policy"], (
        "bookapp's pages have no inline script"
    )
