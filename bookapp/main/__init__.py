"""The home page and the health check."""

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import text

from ..auth import staff_required
from ..extensions import db
from ..queue import live_worker_count, redis_connection
from ..services.setup import schema_behind
from .metrics import metrics_page

bp = Blueprint("main", __name__)
bp.add_url_rule("/metrics", view_func=metrics_page)


@bp.get("/")
def index():
    """Send visitors to the books, or to sign in."""
    return redirect(url_for("books.index" if current_user.is_authenticated else "auth.login"))


@bp.get("/favicon.ico")
def favicon():
    """Serve the icon where browsers look for it unasked (a JSON page or a download has no <link rel=icon>)."""
    return current_app.send_static_file("favicon.svg")


def health() -> dict:
    """Return whether the database and Redis answer, and how many workers are alive."""
    report = {"database": "ok", "redis": "ok", "workers": 0}
    try:
        db.session.execute(text("SELECT 1"))
        if schema_behind():
            report["database"] = "schema not up to date: run `flask db upgrade`"
    except Exception:  # any driver error means the same thing here: unavailable
        db.session.rollback()
        report["database"] = "unavailable"
    try:
        connection = redis_connection()
        connection.ping()
        # Live ones: a worker SIGKILLed stays in RQ's list until a cleanup, but its key expires; a worker
        # whose registration a Redis restart erased registers again at its next heartbeat.
        report["workers"] = live_worker_count(connection)
    except RedisError:
        report["redis"] = "unavailable"
    return report


@bp.get("/healthz")
def healthz():
    """Answer 200 when the database, Redis and at least one worker are there, else 503."""
    report = health()
    healthy = report["database"] == "ok" and report["redis"] == "ok" and report["workers"] > 0
    return jsonify(report), 200 if healthy else 503


@bp.get("/health")
@staff_required
def health_page():
    """The health check in words, for staff: the Operate menu's Health (/healthz is the monitors' JSON)."""
    return render_template("health.html", report=health())
