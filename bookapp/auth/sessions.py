"""Signed-in sessions, and what ends them.

Flask keeps the session in a signed cookie: a copy of it works wherever it is sent until the server
says no. Two things on the server do:

- The user's session version, written into the cookie's user id ("7:3"). Sign-out, a password change
  and `flask revoke-sessions EMAIL` raise it, which ends every session the user had until then, on
  every browser and for every copy of the cookie.
- The time of the session's last request: a session unused for BOOKAPP_SESSION_IDLE_MINUTES ends.

Signing in starts a new session: nothing from before (its CSRF token included) carries over.
"""

import time

from flask import Flask, current_app, g, session
from flask_login import login_user, logout_user
from sqlalchemy import update

from ..extensions import db, login_manager
from ..models import User

#: Where the session keeps the time of its last request (seconds since the epoch).
LAST_SEEN = "_seen"
#: The last-seen time is written again only once it is this old: the cookie does not change on every request.
LAST_SEEN_STEP_SECONDS = 60


def now() -> float:
    """The clock sessions are timed by (tests move it)."""
    return time.time()


def init_sessions(app: Flask) -> None:
    """Load the signed-in user from the session, and end idle sessions before each request."""
    login_manager.user_loader(load_user)
    app.before_request(end_idle_session)


def load_user(session_user_id: str) -> User | None:
    """Return the session's user, or None when the session is of an earlier session version (or of a
    release before versions: such sessions end once)."""
    user_id, _, version = session_user_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user


def start_session(user: User) -> None:
    """Sign *user* in on a new session."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)  # the page's token, made from the old one
    login_user(user)
    session[LAST_SEEN] = now()


def end_session() -> None:
    """Sign out here (the user's other sessions are ended by end_every_session)."""
    logout_user()
    session.clear()


def end_every_session(user: User) -> None:
    """End every session *user* has now, wherever it is (a new version makes the old ones unknown)."""
    db.session.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1))
    db.session.commit()


def end_idle_session() -> None:
    """End the session of a request that comes longer than the idle time after the one before it."""
    if "_user_id" not in session:
        return
    seen, moment = session.get(LAST_SEEN), now()
    idle_seconds = current_app.config["SESSION_IDLE_MINUTES"] * 60
    if not isinstance(seen, int | float) or moment - seen > idle_seconds:
        end_session()
    elif moment - seen >= LAST_SEEN_STEP_SECONDS:
        session[LAST_SEEN] = moment
