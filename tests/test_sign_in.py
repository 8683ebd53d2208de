"""Signing in and staying signed in: where a sign-in may lead, how often it may be tried, and what ends a
session (a copied session cookie stops working after each of those)."""

import re
import time
from urllib.parse import urlencode

import pytest

from bookapp.auth import sessions
from bookapp.models import Role
from tests.conftest import PASSWORD, add_user, build_app, sign_in

pytestmark = pytest.mark.security

#: `next` addresses that lead off the site (or would fail): each ends on the home page instead.
BYPASSES = [
    "//evil.example",
    "///evil.example",
    "////evil.example/x",
    "\\\\evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\x00/evil.example",
    " //evil.example",
    "\t//evil.example",
    "/\x0b/evil.example",
    "/\x7f/evil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%2F%2Fevil.example",
    "/%09/evil.example",
    "/%0A/x",
    "/%5Cevil.example",
    "/%255C%255Cevil.example",
    "/%25252F%25252Fevil.example",
    "https://evil.example",
    "HTTPS://evil.example",
    "https:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "@evil.example",
    "//evil.example@localhost/books",
    "/\u3000/evil.example",
    "/\uff0f/evil.example",
]


def post_sign_in(client, address: str, email="staff@example.com", password=PASSWORD, query="", **headers):
    """Sign in from *address* (each address has its own limit of attempts)."""
    return client.post(f"/login{query}", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)  # fmt: skip


def quick_user(app, email: str) -> None:
    """Add a user whose password is quick to check (many sign-ins in one test)."""
    from werkzeug.security import generate_password_hash

    from bookapp.extensions import db
    from bookapp.models import User

    with app.app_context():
        db.session.add(User(email=email, password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")))
        db.session.commit()


def test_a_sign_in_never_leads_to_another_site(sqlite_app):
    quick_user(sqlite_app, "staff@example.com")
    for number, target in enumerate(BYPASSES):
        response = post_sign_in(sqlite_app.test_client(), f"10.1.0.{number}", query="?" + urlencode({"next": target}))
        assert (response.status_code, response.location) == (302, "/books"), target


def test_a_sign_in_leads_back_to_the_page_on_this_site_that_asked_for_it(sqlite_app):
    quick_user(sqlite_app, "staff@example.com")
    client = sqlite_app.test_client()
    asked = client.get("/books?q=dune&sort=title")
    assert asked.status_code == 302
    signed_in = post_sign_in(client, "10.2.0.1", query="?" + asked.location.partition("?")[2])
    assert signed_in.location == "/books?q=dune&sort=title"
    for number, target in enumerate(["/imports/new", "/books?q=caf%C3%A9", "/books?q=a+b&page=2"]):
        response = post_sign_in(sqlite_app.test_client(), f"10.2.1.{number}", query="?" + urlencode({"next": target}))
        assert response.location == target


def test_failed_sign_ins_for_one_email_are_limited_from_any_address(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    add_user(sqlite_app, "other@example.com")
    client = sqlite_app.test_client()
    answers = [post_sign_in(client, f"10.3.0.{n}", password="wrong").status_code for n in range(5)]
    assert answers == [200] * 5
    locked = post_sign_in(client, "10.3.1.1")
    assert locked.status_code == 429, "even the right password waits: the attempts were guesses"
    assert "Too many failed sign-ins for this email" in locked.get_data(as_text=True)
    assert post_sign_in(client, "10.3.1.1", email="other@example.com").status_code == 302, "others sign in"


def test_successful_sign_ins_do_not_count_against_the_email(sqlite_app):
    quick_user(sqlite_app, "staff@example.com")
    answers = [post_sign_in(sqlite_app.test_client(), f"10.4.0.{n}").status_code for n in range(8)]
    assert answers == [302] * 8


def test_an_office_signing_in_from_one_address_is_never_locked_out_by_its_own_sign_ins(sqlite_app):
    """Only failed attempts count against an address: a shop's staff behind one address sign in all day."""
    for n in range(12):
        quick_user(sqlite_app, f"staff{n}@example.com")
    answers = [post_sign_in(sqlite_app.test_client(), "10.4.1.1", email=f"staff{n}@example.com").status_code
               for n in range(12)]  # fmt: skip
    assert answers == [302] * 12


def test_a_locked_out_sign_in_says_how_long_it_really_waits(sqlite_app):
    from bookapp.auth import _duration

    client = sqlite_app.test_client()
    for n in range(10):
        post_sign_in(client, "10.4.2.1", email=f"person{n}@example.com")
    locked = post_sign_in(client, "10.4.2.1")
    text = locked.get_data(as_text=True)
    assert locked.status_code == 429 and "Too many failed sign-in attempts from this address" in text
    # a lockout that started this instant lasts the whole minute, which reads "1 minute", not "60 seconds"
    number, unit = re.search(r"Try again in (\d+) (second|minute)s?\.", text).groups()
    seconds = int(number) * (60 if unit == "minute" else 1)
    assert 0 < seconds <= 60 and abs(seconds - int(locked.headers["Retry-After"])) <= 1
    assert (_duration(2936), _duration(61), _duration(1)) == ("49 minutes", "2 minutes", "1 second")


def test_attempts_a_limit_turned_away_do_not_count_against_the_email(sqlite_app):
    """A colleague locked the office's address with wrong guesses; a user who keeps trying meanwhile
    was never checked, so those tries cost their email nothing: from elsewhere they sign in at once."""
    quick_user(sqlite_app, "staff@example.com")
    client = sqlite_app.test_client()
    for n in range(10):
        post_sign_in(client, "10.4.3.1", email=f"person{n}@example.com", password="wrong")
    assert [post_sign_in(client, "10.4.3.1").status_code for _ in range(6)] == [429] * 6
    assert post_sign_in(sqlite_app.test_client(), "10.4.3.2").status_code == 302


def test_sign_ins_from_one_address_are_limited_whatever_the_email(sqlite_app):
    client = sqlite_app.test_client()
    answers = [post_sign_in(client, "10.5.0.1", email=f"person{n}@example.com").status_code for n in range(11)]
    assert answers == [200] * 10 + [429]


def test_a_forged_forwarded_address_is_ignored_when_no_proxy_is_trusted(sqlite_app):
    client = sqlite_app.test_client()
    answers = [
        post_sign_in(client, "10.6.0.1", email=f"person{n}@example.com", **{"X-Forwarded-For": f"203.0.113.{n}"})
        for n in range(11)
    ]
    assert [a.status_code for a in answers] == [200] * 10 + [429]


def test_behind_one_trusted_proxy_each_client_has_its_own_limit(redis_url, redis_client, tmp_path):
    app = build_app(f"sqlite:///{tmp_path / 'proxy.sqlite3'}", redis_url, tmp_path, TRUSTED_PROXIES=1)
    client = app.test_client()
    proxy = "10.7.0.1"  # every request comes from the proxy; it adds the client's address last

    def attempt(n: int, forwarded: str):
        return post_sign_in(client, proxy, email=f"person{n}@example.com", **{"X-Forwarded-For": forwarded}).status_code

    assert [attempt(n, f"198.51.100.{n}, 203.0.113.5") for n in range(10)] == [200] * 10
    assert attempt(10, "198.51.100.99, 203.0.113.5") == 429, "what the client wrote before the proxy's entry is ignored"
    assert attempt(11, "203.0.113.6") == 200, "another client behind the same proxy still signs in"


def copy_of_session(app, client):
    """Return another browser holding a copy of *client*'s session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def signed_in_with_a_copy(app):
    add_user(app, "staff@example.com")
    client = sign_in(app.test_client(), "staff@example.com")
    copy = copy_of_session(app, client)
    assert copy.get("/books").status_code == 200, "the copy works while the session lasts"
    return client, copy


def signed_out(client) -> bool:
    response = client.get("/books")
    return response.status_code == 302 and response.location.startswith("/login")


def test_signing_out_ends_every_copy_of_the_session(sqlite_app):
    client, copy = signed_in_with_a_copy(sqlite_app)
    assert client.post("/logout").status_code == 302
    assert signed_out(copy) and signed_out(client)


def test_a_password_reset_ends_every_session(sqlite_app):
    client, copy = signed_in_with_a_copy(sqlite_app)
    result = sqlite_app.test_cli_runner().invoke(args=["create-admin", "staff@example.com", "--password", "a new one!"])
    assert result.exit_code == 0, result.output
    assert signed_out(copy) and signed_out(client)
    sign_in(sqlite_app.test_client(), "staff@example.com", "a new one!")


def test_revoke_sessions_ends_every_session_of_that_user_only(sqlite_app):
    client, copy = signed_in_with_a_copy(sqlite_app)
    add_user(sqlite_app, "viewer@example.com", Role.VIEWER)
    viewer = sign_in(sqlite_app.test_client(), "viewer@example.com")
    result = sqlite_app.test_cli_runner().invoke(args=["revoke-sessions", "staff@example.com"])
    assert result.exit_code == 0 and "Ended every session of staff@example.com" in result.output
    assert signed_out(copy) and signed_out(client)
    assert viewer.get("/books").status_code == 200
    assert sqlite_app.test_cli_runner().invoke(args=["revoke-sessions", "nobody@example.com"]).exit_code != 0


def test_a_session_unused_for_the_idle_time_ends(sqlite_app, monkeypatch):
    client, copy = signed_in_with_a_copy(sqlite_app)
    assert sqlite_app.config["SESSION_IDLE_MINUTES"] == 8 * 60
    start = time.time()
    monkeypatch.setattr(sessions, "now", lambda: start + 7 * 3600)
    assert client.get("/books").status_code == 200, "used within the idle time: it goes on"
    monkeypatch.setattr(sessions, "now", lambda: start + 14 * 3600)
    assert client.get("/books").status_code == 200, "seven hours after its last use"
    assert signed_out(copy), "the copy was last used fourteen hours ago"
    monkeypatch.setattr(sessions, "now", lambda: start + 22 * 3600 + 60)
    assert signed_out(client)


def test_a_session_from_before_session_versions_ends(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    client = sqlite_app.test_client()
    with client.session_transaction() as session:
        session.update({"_user_id": "1", "_fresh": True, "_seen": time.time()})
    assert signed_out(client)


def csrf_token_of(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_signing_in_starts_a_new_session_with_a_new_csrf_token(redis_url, redis_client, tmp_path):
    app = build_app(f"sqlite:///{tmp_path / 'csrf.sqlite3'}", redis_url, tmp_path, WTF_CSRF_ENABLED=True)
    add_user(app, "staff@example.com")
    client = app.test_client()
    before = csrf_token_of(client.get("/login").get_data(as_text=True))
    cookie_before = client.get_cookie("session").value
    response = client.post("/login", data={"email": "staff@example.com", "password": PASSWORD, "csrf_token": before})
    assert response.status_code == 302
    assert client.get_cookie("session").value != cookie_before
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400, "the token from before sign-in"
    assert client.get("/books").status_code == 200, "still signed in"
    after = csrf_token_of(client.get("/books").get_data(as_text=True))
    assert after != before
    assert client.post("/logout", data={"csrf_token": after}).status_code == 302
    assert signed_out(client)


def test_an_unknown_email_costs_the_same_password_check_as_a_known_one(sqlite_app, monkeypatch):
    from bookapp.models import users as models

    add_user(sqlite_app, "staff@example.com")
    checked = []
    real_check = models.check_password_hash

    def counting(stored_hash: str, password: str) -> bool:
        checked.append(password)
        return real_check(stored_hash, password)

    monkeypatch.setattr(models, "check_password_hash", counting)
    client = sqlite_app.test_client()
    for number, email in enumerate(["staff@example.com", "nobody@example.com"]):
        response = post_sign_in(client, f"10.8.0.{number}", email=email, password=f"guess {number}")
        assert response.status_code == 200 and "do not match" in response.get_data(as_text=True)
    assert checked == ["guess 0", "guess 1"], "both paths hash the password they were given"


def test_the_idle_time_is_a_setting(tmp_path, monkeypatch):
    from bookapp.config import load_config

    monkeypatch.setenv("BOOKAPP_SESSION_IDLE_MINUTES", "30")
    assert load_config(str(tmp_path))["SESSION_IDLE_MINUTES"] == 30
