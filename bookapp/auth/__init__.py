"""Sign in and out, and the access rules the other areas use."""

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from ..extensions import db, limiter
from ..models import User

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


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


#: Sign-in attempts allowed per address (POSTs only; showing the form is free).
LOGIN_RATE_LIMIT = "10 per minute;50 per hour"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    LOGIN_RATE_LIMIT, methods=["POST"], error_message="Too many sign-in attempts. Wait a minute and try again."
)
def login():
    """Show the sign-in form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("books.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.email == form.email.data.strip().lower()))
        if user is not None and user.check_password(form.password.data):
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("books.index"))
        flash("That email and password do not match an account.", "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Sign out (a POST, so another site cannot sign you out)."""
    if LogoutForm().validate_on_submit():
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
