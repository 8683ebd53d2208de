"""Sign in and out, and the access rules the other areas use."""

import re
import time
from functools import wraps
from urllib.parse import unquote, urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from ..extensions import db, limiter
from ..models import User, password_matches
from .sessions import end_every_session, end_session, start_session

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class LogoutForm(FlaskForm):
    """An empty form: signing out is a POST with a CSRF token."""


def staff_required(view):
    """Let only signed-in staff through (others: sign-in redirect or 403)."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


#: What a `next` address may hold: printable ASCII without spaces or backslashes (an address this site
#: made is percent-encoded). Browsers drop tabs and line breaks inside an address and read a backslash
#: as a slash, so "/<tab>/evil.example" and "/\\evil.example" lead to another site.
_PLAIN_ADDRESS = re.compile(r"[!-\[\]-~]+")
#: What no decoding of a `next` address may hold: control characters and backslashes.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]")
#: Decodings of a `next` address checked; one encoded more times than this is refused.
_DECODINGS = 3


def safe_next(target: str | None) -> str | None:
    """Return *target* when it is a path on this site, else None (the caller goes to the home page).

    The address must be plain, and it and each decoding of it a path ("/…", not "//…") with no scheme,
    host, control character or backslash: an encoded "//" or "\\" (%2F%2F, %5C) cannot pass on to
    something that decodes it again."""
    if not target or not _PLAIN_ADDRESS.fullmatch(target):
        return None
    form = target
    for _ in range(_DECODINGS + 1):
        parts = urlsplit(form)
        if parts.scheme or parts.netloc or not form.startswith("/") or form.startswith("//") or _UNSAFE.search(form):
            return None
        decoded = unquote(form)
        if decoded == form:
            return target
        form = decoded
    return None


#: Failed sign-in attempts allowed per address (POSTs only; showing the form is free).
LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
#: Failed sign-ins allowed per email, from any address (behind a proxy, or from many machines).
ACCOUNT_RATE_LIMIT = "5 per minute;20 per hour"


def _account_key() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()


def _failed(response) -> bool:
    """Whether a sign-in attempt failed (a success redirects): only those count against the limits, so
    a busy office signing in from one address is never locked out by its own sign-ins (nor by the
    attempts a limit already turned away: those were never checked)."""
    return response.status_code not in (302, 429)


def _until_reset(what: str):
    """The limit's message with how long it really lasts (an hour's limit is not "a minute")."""

    def message() -> str:
        limit = limiter.current_limit
        seconds = max(int(limit.reset_at - time.time()), 1) if limit is not None else 60
        return f"{what} Try again in {_duration(seconds)}."

    return message


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    LOGIN_RATE_LIMIT, methods=["POST"], deduct_when=_failed,
    error_message=_until_reset("Too many failed sign-in attempts from this address."),
)  # fmt: skip
@limiter.limit(
    ACCOUNT_RATE_LIMIT,
    methods=["POST"],
    key_func=_account_key,
    deduct_when=_failed,
    error_message=_until_reset("Too many failed sign-ins for this email."),
)
def login():
    """Show the sign-in form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("books.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.email == form.email.data.strip().lower()))
        if password_matches(user, form.password.data):
            start_session(user)
            return redirect(safe_next(request.args.get("next")) or url_for("books.index"))
        # Shown in the form, tied to both fields (neither alone is known to be wrong).
        form.form_errors.append("That email and password do not match an account.")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Sign out, here and in every other session of the account (a POST, so another site cannot sign you out)."""
    if LogoutForm().validate_on_submit():
        if current_user.is_authenticated:
            end_every_session(current_user)
        end_session()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
