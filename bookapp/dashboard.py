"""rq-dashboard at /rq, for signed-in staff only.

The dashboard has no login and no CSRF tokens of its own. It is kept behind staff sign-in; its
POST buttons are exempt from the form CSRF check but must come from this site (Origin or Referer),
and its one state-changing GET route is refused.

Its pages are built by script from values in the URL, and its templates trusted them (a queue name
in a link once became script in bookapp's origin). So every dashboard URL must name what bookapp
has: Redis instance 0, one of bookapp's queues, a registry, a job of those queues, a sane page;
anything else is a 404 (or a 400 for paging that is not a page), never a 500. Its pages get a
Content-Security-Policy of their own: scripts from files on this site, plus the page's own inline
script, which carries a fresh nonce. Its Underscore row templates, which the library compiles with
`new Function` (refused by the policy), are compiled here instead, into that same script.
"""

import base64
import hashlib
import json
import re
import secrets

import rq_dashboard
from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_login import current_user
from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from werkzeug.exceptions import BadRequest, NotFound

from .extensions import csrf, login_manager
from .origin import SAFE_METHODS, from_this_site
from .queue import queue_names

URL_PREFIX = "/rq"
DASHBOARD = rq_dashboard.blueprint.name
#: The registries a queue's jobs can be listed from.
REGISTRIES = frozenset({"queued", "scheduled", "deferred", "started", "finished", "failed", "canceled"})
#: The most jobs on one page (the dashboard's own field stops at 200).
MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000
#: The style attributes in the dashboard's own markup (a hidden Requeue button, a centred warning),
#: allowed by hash: no other inline style.
DASHBOARD_STYLE_ATTRIBUTES = ("display: none", "text-align: center;")


def mount_dashboard(app: Flask) -> None:
    """Register the dashboard blueprint, its guard, its error answers and its headers on *app*."""
    app.config.setdefault("RQ_DASHBOARD_REDIS_URL", app.config["REDIS_URL"])
    app.config.setdefault("RQ_DASHBOARD_POLL_INTERVAL", 2500)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=URL_PREFIX)
    rq_dashboard.web.setup_rq_connection(app)
    csrf.exempt(rq_dashboard.blueprint)
    app.before_request(guard_dashboard)
    app.after_request(dashboard_headers)
    # A job that expired between the guard's look and the view's: the same answers as the guard's.
    app.register_error_handler(NoSuchJobError, lambda error: app.handle_http_exception(NotFound(NO_SUCH_JOB)))
    app.register_error_handler(InvalidJobOperation, lambda error: app.handle_http_exception(BadRequest(NOT_FAILED)))
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["bookapp_queues"] = queue_names  # the job list's queue picker offers these only
    app.jinja_env.filters["underscore_templates"] = underscore_templates


NO_SUCH_JOB = "There is no such job in bookapp's queues (a finished job expires after a while)."
NOT_FAILED = "Only a failed job can be requeued."


def guard_dashboard():
    """Refuse dashboard requests from anyone but staff, cross-site or GET state changes, and URLs
    naming anything bookapp does not have."""
    if request.blueprint != DASHBOARD:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_staff:
        abort(403)
    if request.method == "GET" and request.endpoint == "rq_dashboard.requeue_all":
        abort(405)
    if request.method not in SAFE_METHODS and not from_this_site():  # unknown is not enough here
        abort(403, description="Dashboard actions must come from the dashboard's own page.")
    return check_dashboard_url(request.endpoint, request.view_args or {})


def check_dashboard_url(endpoint: str, args: dict):
    """Answer 404 for a URL naming a Redis instance, queue, registry or job bookapp does not have, and
    400 for paging that is not a page; send the bare job list to bookapp's import queue."""
    own = queue_names()
    if args.get("instance_number", 0) != 0:
        abort(404, description="The dashboard shows one Redis server, number 0.")
    if endpoint == "rq_dashboard.jobs_overview" and args.get("queue_name") is None:
        return redirect(url_for(endpoint, instance_number=0, queue_name=own[0], registry_name="queued", per_page=8,
                                order="asc", page=1))  # fmt: skip
    queue_name = args.get("queue_name")
    if queue_name is not None and queue_name not in own:
        abort(404, description="bookapp has no queue of that name.")
    if args.get("registry_name", "queued") not in REGISTRIES:
        abort(404, description=f"There is no job registry of that name; there are: {', '.join(sorted(REGISTRIES))}.")
    for name, most in (("per_page", MAX_PER_PAGE), ("page", MAX_PAGE)):
        if name in args and not _whole_number_up_to(args[name], most):
            abort(400, description=f"The {name.replace('_', ' ')} must be a whole number from 1 to {most:,}.")
    if args.get("order", "asc") not in ("asc", "dsc"):
        abort(400, description="The order must be asc or dsc.")
    if "job_id" in args:
        job = _own_job(args["job_id"], own)
        if endpoint == "rq_dashboard.requeue_job_view" and job.id not in FailedJobRegistry(
            job.origin, connection=job.connection
        ):
            abort(400, description=NOT_FAILED)
    if endpoint == "rq_dashboard.compact_queue" and Queue(queue_name, connection=_redis()).count == 0:
        abort(404, description="The queue is empty: there is nothing to compact.")
    return None


def _whole_number_up_to(value, most: int) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and 1 <= int(text) <= most


def _redis():
    """The dashboard's Redis connection (instance 0, the only one the guard lets through)."""
    return current_app.redis_conn


def _own_job(job_id: str, own: tuple[str, ...]) -> Job:
    try:
        job = Job.fetch(job_id, connection=_redis(), serializer=rq_dashboard.web.config.serializer)
    except (NoSuchJobError, ValueError, TypeError):
        abort(404, description=NO_SUCH_JOB)
    if job.origin not in own:
        abort(404, description=NO_SUCH_JOB)
    return job


def csp_nonce() -> str:
    """Return this response's script nonce (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def _style_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


_STYLE_SOURCES = " ".join(_style_hash(s) for s in DASHBOARD_STYLE_ATTRIBUTES)


def dashboard_policy() -> str:
    """Return the dashboard's Content-Security-Policy: script from this site's files and the page's own
    nonced script only (no eval, no event-handler attributes), style from files and the few style
    attributes of the dashboard's markup."""
    nonce = f" 'nonce-{g.csp_nonce}'" if "csp_nonce" in g else ""
    return (
        f"default-src 'self'; script-src 'self'{nonce}; style-src 'self' 'unsafe-hashes' {_STYLE_SOURCES}; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


def dashboard_headers(response):
    """Send the dashboard's policy on its responses (bookapp's own pages get the site's)."""
    if request.blueprint == DASHBOARD:
        response.headers["Content-Security-Policy"] = dashboard_policy()
        response.headers["X-Frame-Options"] = "DENY"
    return response


_TEMPLATE_SCRIPT = re.compile(r'<script name="([\w-]+)" type="text/template">(.*?)</script>', re.DOTALL)
_UNDERSCORE_TAG = re.compile(r"<%-([\s\S]+?)%>|<%=([\s\S]+?)%>|<%([\s\S]+?)%>|\Z")
_LITERAL_ESCAPES = {"'": "\\'", "\\": "\\\\", "\r": "\\r", "\n": "\\n", "\u2028": "\\u2028", "\u2029": "\\u2029",
                    "<": "\\x3c"}  # fmt: skip


def underscore_source(text: str) -> str:
    """Return the JavaScript function Underscore's `_.template(text)` would build with `new Function`
    (the same translation as Underscore 1.13's, so the dashboard's templates render as they always did)."""
    source, index = "__p+='", 0
    for match in _UNDERSCORE_TAG.finditer(text):
        source += "".join(_LITERAL_ESCAPES.get(c, c) for c in text[index : match.start()])
        index = match.end()
        escape, interpolate, evaluate = match.groups()
        if escape:
            source += f"'+\n((__t=({escape}))==null?'':_.escape(__t))+\n'"
        elif interpolate:
            source += f"'+\n((__t=({interpolate}))==null?'':__t)+\n'"
        elif evaluate:
            source += f"';\n{evaluate}\n__p+='"
    return ("function(obj,_){\nvar __t,__p='',__j=Array.prototype.join,print=function(){__p+=__j.call(arguments,'');};\n"
            f"with(obj||{{}}){{\n{source}';\n}}\nreturn __p;\n}}")  # fmt: skip


def underscore_templates(page_html: str) -> str:
    """Return a JavaScript object mapping each row template of *page_html* (its text, as the page's
    script reads it) to its compiled function, for the dashboard's nonced script (written with |safe:
    the keys are JSON with <, > and & escaped, the functions the page's own templates)."""
    entries = []
    for _, text in _TEMPLATE_SCRIPT.findall(str(page_html)):
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # as the browser's parser hands it over
        key = json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        entries.append(f"{key}: {underscore_source(text)}")
    return "{\n" + ",\n".join(entries) + "\n}"
