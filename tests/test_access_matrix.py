"""Who may do what, route by route, and every form's CSRF defence.

Every route of app.url_map, bookapp's and the dashboard's, has a line in ACCESS saying what each kind of
caller gets: a new route without one fails the suite. Each caller then sends a request to every route
(the routes' ids name things that exist) and must get what its line says. Every form (a POST with a
cookie) refuses a request without a CSRF token, with another session's token and from another site.
"""

import io
import re

import pytest
from werkzeug.routing import Rule

from bookapp.models import Role
from tests import layouts
from tests.conftest import PASSWORD, add_user, build_app, run_worker, sign_in
from tests.helpers import book_row, csv_bytes
from tests.test_access import bearer

pytestmark = pytest.mark.security

# What a caller gets from a route.
OK = "ok"  # let through: the route answers as it does for anyone allowed (any status but these, and no 500)
LOGIN = "login"  # sent to sign in (302 to /login?next=…)
TOKEN = "401"  # the API asks for a valid token
NO = "403"  # refused
GET_REFUSED = "405"  # a state change asked for with GET

ROLES = ("anonymous", "viewer cookie", "viewer token", "staff cookie", "staff token")
# The usual lines, one entry per role above.
PUBLIC = (OK, OK, OK, OK, OK)
READER_PAGE = (LOGIN, OK, LOGIN, OK, LOGIN)  # pages read a session cookie only: a token is no sign-in
STAFF_PAGE = (LOGIN, NO, LOGIN, OK, LOGIN)
READER_API = (TOKEN, TOKEN, OK, TOKEN, OK)  # the API reads a token only: a cookie is no token
STAFF_API = (TOKEN, TOKEN, NO, TOKEN, OK)

#: One line per route: "METHOD rule" as app.url_map has it -> what each of ROLES gets.
ACCESS = {
    "GET /": PUBLIC,  # to the books, or to sign in
    "GET /favicon.ico": PUBLIC,
    "GET /static/<path:filename>": PUBLIC,
    "GET /healthz": PUBLIC,
    "GET /health": STAFF_PAGE,  # the same check in words, from the Operate menu
    "GET /metrics": STAFF_API,  # or from an address in BOOKAPP_METRICS_ALLOW (none by default)
    "GET /login": PUBLIC,
    "POST /login": PUBLIC,
    "POST /logout": PUBLIC,
    "GET /books": READER_PAGE,
    "GET /books/export.<fmt>": READER_PAGE,
    "GET /books/<int:book_id>": READER_PAGE,
    "GET /books/<int:book_id>/edit": STAFF_PAGE,
    "POST /books/<int:book_id>/edit": STAFF_PAGE,
    "GET /books/<int:book_id>/delete": STAFF_PAGE,
    "POST /books/<int:book_id>/delete": STAFF_PAGE,
    "GET /imports": STAFF_PAGE,
    "GET /imports/new": STAFF_PAGE,
    "POST /imports/new": STAFF_PAGE,
    "POST /imports/new/again": STAFF_PAGE,
    "GET /imports/template.<fmt>": STAFF_PAGE,
    "GET /imports/<int:import_id>": STAFF_PAGE,
    "GET /imports/<int:import_id>.json": STAFF_PAGE,
    "GET /imports/<int:import_id>/rejected.<fmt>": STAFF_PAGE,
    "GET /imports/<int:import_id>/report.<fmt>": STAFF_PAGE,
    "POST /imports/<int:import_id>/cancel": STAFF_PAGE,
    "POST /imports/<int:import_id>/confirm": STAFF_PAGE,
    "POST /imports/<int:import_id>/retry": STAFF_PAGE,
    "POST /imports/<int:import_id>/undo": STAFF_PAGE,
    "POST /imports/<int:import_id>/rematch": STAFF_PAGE,
    "GET /imports/<int:import_id>/columns": STAFF_PAGE,
    "POST /imports/<int:import_id>/columns": STAFF_PAGE,
    "POST /imports/<int:import_id>/columns/preview": STAFF_PAGE,
    "GET /imports/<int:import_id>/columns/profile.json": STAFF_PAGE,
    "POST /imports/<int:import_id>/columns/profile": STAFF_PAGE,
    "GET /imports/profiles": STAFF_PAGE,
    "GET /imports/profiles/<int:profile_id>": STAFF_PAGE,
    "POST /imports/profiles/<int:profile_id>": STAFF_PAGE,
    "POST /imports/profiles/<int:profile_id>/check": STAFF_PAGE,
    "POST /imports/profiles/<int:profile_id>/rename": STAFF_PAGE,
    "POST /imports/profiles/<int:profile_id>/delete": STAFF_PAGE,
    "GET /imports/<int:import_id>/fix": STAFF_PAGE,
    "POST /imports/<int:import_id>/fix": STAFF_PAGE,
    "POST /imports/<int:import_id>/fix/check.json": STAFF_PAGE,
    "GET /api/v1/openapi.json": PUBLIC,
    "GET /api/v1/books": READER_API,
    "POST /api/v1/books": STAFF_API,
    "GET /api/v1/books/<int:book_id>": READER_API,
    "PUT /api/v1/books/<int:book_id>": STAFF_API,
    "PATCH /api/v1/books/<int:book_id>": STAFF_API,
    "DELETE /api/v1/books/<int:book_id>": STAFF_API,
    "GET /api/v1/imports": STAFF_API,
    "POST /api/v1/imports": STAFF_API,
    "GET /api/v1/imports/<int:import_id>": STAFF_API,
    "GET /api/v1/imports/<int:import_id>/rejected": STAFF_API,
    "GET /api/v1/imports/<int:import_id>/rejected.<fmt>": STAFF_API,
    "GET /api/v1/imports/<int:import_id>/report.<fmt>": STAFF_API,
    "POST /api/v1/imports/<int:import_id>/cancel": STAFF_API,
    "POST /api/v1/imports/<int:import_id>/confirm": STAFF_API,
    "POST /api/v1/imports/<int:import_id>/retry": STAFF_API,
    "POST /api/v1/imports/<int:import_id>/undo": STAFF_API,
    "POST /api/v1/imports/<int:import_id>/rematch": STAFF_API,
    "POST /api/v1/imports/<int:import_id>/validate-row": STAFF_API,
    "GET /api/v1/profiles": STAFF_API,
    "POST /api/v1/profiles": STAFF_API,
    "GET /api/v1/profiles/<int:profile_id>": STAFF_API,
    "PUT /api/v1/profiles/<int:profile_id>": STAFF_API,
    "DELETE /api/v1/profiles/<int:profile_id>": STAFF_API,
    # The job dashboard: staff with a cookie only, for every page, data URL, file and button.
    "GET /rq/": STAFF_PAGE,
    "GET /rq/<int:instance_number>/": STAFF_PAGE,
    "GET /rq/<int:instance_number>/view": STAFF_PAGE,
    "GET /rq/<int:instance_number>/view/queues": STAFF_PAGE,
    "GET /rq/<int:instance_number>/view/workers": STAFF_PAGE,
    "GET /rq/<int:instance_number>/view/jobs": STAFF_PAGE,
    "GET /rq/<int:instance_number>/view/jobs/<queue_name>/<registry_name>/<int:per_page>/<order>/<int:page>": STAFF_PAGE,
    "GET /rq/<int:instance_number>/view/job/<job_id>": STAFF_PAGE,
    "GET /rq/<int:instance_number>/data/queues.json": STAFF_PAGE,
    "GET /rq/<int:instance_number>/data/workers.json": STAFF_PAGE,
    "GET /rq/<int:instance_number>/data/jobs/<queue_name>/<registry_name>/<per_page>/<order>/<page>.json": STAFF_PAGE,
    "GET /rq/<int:instance_number>/data/job/<job_id>.json": STAFF_PAGE,
    "GET /rq/favicon.ico": STAFF_PAGE,
    "GET /rq/static/<path:filename>": STAFF_PAGE,
    "POST /rq/job/<job_id>/delete": STAFF_PAGE,
    "POST /rq/job/<job_id>/requeue": STAFF_PAGE,
    "POST /rq/queue/<queue_name>/<registry_name>/empty": STAFF_PAGE,
    "POST /rq/queue/<queue_name>/compact": STAFF_PAGE,
    "GET /rq/requeue/<queue_name>": (LOGIN, NO, LOGIN, GET_REFUSED, LOGIN),
    "POST /rq/requeue/<queue_name>": STAFF_PAGE,
}  # fmt: skip

#: Values for the routes' variables: things that exist once `seeded` has run (ids, a job of bookapp's queue).
#: A route that destroys what others read gets its own (ROUTE_VALUES).
VALUES = {"book_id": 1, "import_id": 1, "profile_id": 1, "fmt": "csv", "instance_number": 0, "job_id": "import-1-0",
          "registry_name": "finished", "per_page": 8, "order": "asc", "page": 1}  # fmt: skip
ROUTE_VALUES = {
    "GET /static/<path:filename>": {"filename": "css/app.css"},
    "GET /rq/static/<path:filename>": {"filename": "js/jquery-3.5.1.min.js"},
    "POST /books/<int:book_id>/delete": {"book_id": 2},
    "DELETE /api/v1/books/<int:book_id>": {"book_id": 3},
    "POST /rq/job/<job_id>/delete": {"job_id": "import-2-0"},
}


def routes(app) -> dict[str, Rule]:
    """Every route of *app* as "METHOD rule" (HEAD and OPTIONS, which Flask adds, left out)."""
    return {f"{method} {rule.rule}": rule for rule in app.url_map.iter_rules()
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})}  # fmt: skip


def path_of(rule: Rule, values: dict) -> str:
    """Return the path of *rule* with *values* for its variables."""
    lacking = sorted(rule.arguments - values.keys() - (rule.defaults or {}).keys())
    assert not lacking, f"{rule.rule}: give {', '.join(lacking)} a value in VALUES (tests/test_access_matrix.py)"
    return rule.build(values, append_unknown=False)[1]


def test_every_route_has_a_line_saying_who_may_use_it(sqlite_app):
    present = routes(sqlite_app)
    missing = sorted(set(present) - set(ACCESS))
    assert not missing, (
        "These routes have no line in ACCESS (tests/test_access_matrix.py); add one per route saying what "
        "anonymous visitors, viewers and staff (cookie and token) get:\n  " + "\n  ".join(missing)
    )
    gone = sorted(set(ACCESS) - set(present))
    assert not gone, "ACCESS names routes the app no longer has; remove their lines:\n  " + "\n  ".join(gone)


def test_a_new_route_without_a_line_is_named(sqlite_app):
    sqlite_app.add_url_rule("/imports/<int:import_id>/shred", "shred", lambda import_id: "", methods=["POST"])
    assert set(routes(sqlite_app)) - set(ACCESS) == {"POST /imports/<int:import_id>/shred"}


def seeded(app) -> dict[str, dict]:
    """Make a viewer and a staff member, an import (books 1-3, one rejected row), a profile and a
    second import; return each role's request headers and the clients that carry their cookies."""
    staff_token = bearer(app, "staff@example.com", Role.STAFF)
    viewer_token = bearer(app, "viewer@example.com", Role.VIEWER)
    client = app.test_client()
    for rows in ([book_row(1), book_row(2), book_row(3), book_row(4, Price="x")], [book_row(5)]):
        response = client.post("/api/v1/imports", headers=staff_token,
                               data={"file": (io.BytesIO(csv_bytes(rows)), "books.csv")})  # fmt: skip
        assert response.status_code == 202, response.get_json()
        run_worker(app)
    profile = client.post("/api/v1/profiles", headers=staff_token, json={
        "name": "Ours", "headers": layouts.GOODREADS_HEADER, "mapping": layouts.GOODREADS_MAPPING})  # fmt: skip
    assert profile.status_code == 201, profile.get_json()
    return {
        "anonymous": (app.test_client(), {}),
        "viewer cookie": (sign_in(app.test_client(), "viewer@example.com"), {}),
        "viewer token": (app.test_client(), viewer_token),
        "staff cookie": (sign_in(app.test_client(), "staff@example.com"), {}),
        "staff token": (app.test_client(), staff_token),
    }


def outcome(response) -> str:
    """Name what a response is: one of the refusals, OK, or the status of a failure."""
    if response.status_code == 302 and response.location.startswith("/login?next="):
        return LOGIN
    if response.status_code in (401, 403, 405):
        return str(response.status_code)
    return OK if response.status_code != 500 else "500 (an error)"


@pytest.mark.parametrize("role", ROLES)
def test_each_caller_gets_what_its_line_says_on_every_route(app, role):
    callers = seeded(app)
    client, headers = callers[role]
    own_queue = app.config["IMPORT_QUEUE"]
    present = routes(app)
    # Signing out last: it ends the session the other requests use.
    order = sorted(ACCESS, key=lambda route: route == "POST /logout")
    wrong = []
    for route in order:
        method = route.split(" ", 1)[0]
        values = {**VALUES, "queue_name": own_queue, **ROUTE_VALUES.get(route, {})}
        path = path_of(present[route], values)
        body = {"json": {}} if path.startswith("/api/") else {"data": {}}
        with client.open(path, method=method, headers={**headers, "Origin": "http://localhost"},
                         **(body if method in ("POST", "PUT", "PATCH") else {})) as response:  # fmt: skip
            got, status = outcome(response), response.status_code
            if status == 308:  # a URL the routing spells another way (/rq/0/ is /rq/): follow it
                with client.open(response.location, method=method, headers=headers) as followed:
                    got, status = outcome(followed), followed.status_code
        expected = ACCESS[route][ROLES.index(role)]
        if got != expected:
            wrong.append(f"{route} ({path}): expected {expected}, got {status} ({got})")
    assert not wrong, f"{role}:\n  " + "\n  ".join(wrong)


def test_the_table_catches_a_route_let_through_that_should_not_be(app, monkeypatch):
    """The matrix can fail: a staff page opened to viewers is reported."""
    from bookapp.models import User

    callers = seeded(app)
    monkeypatch.setattr(User, "is_staff", property(lambda self: True))
    client, _ = callers["viewer cookie"]
    assert outcome(client.get("/imports")) == OK != ACCESS["GET /imports"][ROLES.index("viewer cookie")]


# Forms: every POST a signed-in browser sends with its cookie (the API takes tokens, the dashboard
# checks where its buttons were pressed instead: both are in the matrix above).
def form_routes(app) -> list[str]:
    return sorted(route for route, rule in routes(app).items()
                  if route.startswith("POST ") and rule.endpoint.partition(".")[0] not in ("api", "rq_dashboard"))  # fmt: skip


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.fixture
def csrf_app(database_url, redis_url, redis_client, tmp_path):
    app = build_app(database_url, redis_url, tmp_path, WTF_CSRF_ENABLED=True)
    yield app
    from bookapp.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def refused_as_forged(response) -> bool:
    text = response.get_data(as_text=True)
    return (response.status_code, "CSRF" in text) == (400, True) or (
        response.status_code == 403 and "sent from another site" in text
    )


def test_every_form_refuses_a_missing_or_foreign_token_and_another_sites_origin(csrf_app):
    app = csrf_app
    add_user(app, "staff@example.com")
    staff = app.test_client()
    signed_in = staff.post("/login", data={"email": "staff@example.com", "password": PASSWORD,
                                           "csrf_token": csrf_token(staff)})  # fmt: skip
    assert signed_in.status_code == 302
    visitor = app.test_client()  # signing in is a form too, sent before any session has a user
    tokens = {staff: csrf_token(staff, "/imports/new"), visitor: csrf_token(visitor)}
    other_token = csrf_token(app.test_client())  # another session's
    present = routes(app)
    forms = form_routes(app)
    assert {"POST /login", "POST /logout", "POST /books/<int:book_id>/edit", "POST /imports/new"} <= set(forms)
    wrong = []
    for route in forms:
        path = path_of(present[route], VALUES)
        client = visitor if route == "POST /login" else staff
        fields = {"email": "staff@example.com", "password": PASSWORD} if client is visitor else {}
        own = {**fields, "csrf_token": tokens[client]}
        attempts = {
            "no token": (fields, {}),
            "another session's token": ({**fields, "csrf_token": other_token}, {}),
            "its token, from another site's page (Origin)": (own, {"Origin": "https://evil.example"}),
            "its token, from another site's page (Referer)": (own, {"Referer": "https://evil.example/page"}),
            "its token, from an opaque origin": (own, {"Origin": "null"}),
            "its token, a browser saying cross-site": (own, {"Sec-Fetch-Site": "cross-site"}),
            "its token, a browser saying another subdomain": (own, {"Sec-Fetch-Site": "same-site"}),
        }
        for attempt, (data, headers) in attempts.items():
            response = client.post(path, data=data, headers=headers)
            if not refused_as_forged(response):
                wrong.append(f"{route} with {attempt}: {response.status_code}")
    assert not wrong, "forms that took a forged request:\n  " + "\n  ".join(wrong)
    # Never signed in nor out by those: a form from this site with its token works.
    assert staff.get("/imports/new").status_code == 200 and visitor.get("/imports/new").status_code == 302
    same_site = staff.post("/logout", data={"csrf_token": tokens[staff]},
                           headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})  # fmt: skip
    assert same_site.status_code == 302 and staff.get("/imports/new").status_code == 302
