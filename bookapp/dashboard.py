"""rq-dashboard at /rq, for signed-in staff only.

The dashboard has no login and no CSRF tokens of its own. It is kept behind staff sign-in; its
POST buttons are exempt from the form CSRF check but must come from this site (Origin or Referer),
and its one state-changing GET route is refused.
"""

from urllib.parse import urlsplit

import rq_dashboard
from flask import Flask, abort, request
from flask_login import current_user

from .extensions import csrf, login_manager

URL_PREFIX = "/rq"


def mount_dashboard(app: Flask) -> None:
    """Register the dashboard blueprint and its guard on *app*."""
    app.config.setdefault("RQ_DASHBOARD_REDIS_URL", app.config["REDIS_URL"])
    app.config.setdefault("RQ_DASHBOARD_POLL_INTERVAL", 2500)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=URL_PREFIX)
    rq_dashboard.web.setup_rq_connection(app)
    csrf.exempt(rq_dashboard.blueprint)
    app.before_request(guard_dashboard)


def _same_origin() -> bool:
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source:
        return False
    here, there = urlsplit(request.host_url), urlsplit(source)
    return (here.scheme, here.netloc) == (there.scheme, there.netloc)


def guard_dashboard():
    """Refuse dashboard requests from anyone but staff, and cross-site or GET state changes."""
    if request.blueprint != rq_dashboard.blueprint.name:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_staff:
        abort(403)
    if request.method == "GET" and request.endpoint == "rq_dashboard.requeue_all":
        abort(405)
    if request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin():
        abort(403, description="Dashboard actions must come from the dashboard's own page.")
    return None
