"""bookapp: import spreadsheets of books through an RQ worker and browse them."""

import contextlib
import logging
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from markupsafe import Markup, escape
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .config import DEFAULT_INSTANCE_PATH, load_config, secret_key_problem
from .extensions import csrf, db, limiter, login_manager, migrate
from .services import folding, short_writes  # noqa: F401 (short_writes: its listeners)


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: defaults, then the environment, then *test_config*."""
    app = Flask(
        __name__,
        instance_path=str(instance_path or DEFAULT_INSTANCE_PATH),
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(load_config(app.instance_path))
    if test_config:
        app.config.update(test_config)
    app.url_map.converters["int"] = DatabaseInteger
    make_instance_folder(app)
    configure_secret_key(app)
    configure_proxies(app)
    if app.config["ENV_NAME"] == "production":
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_metrics(app)
    register_dashboard(app)
    register_error_handlers(app)
    register_commands(app)
    register_template_helpers(app)
    register_security_headers(app)
    return app


class DatabaseInteger(IntegerConverter):
    """`<int:…>` in URLs; a number too large for a database integer becomes 0, an id nothing has (a 404,
    where the database driver would fail with a 500)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number < 2**63 else 0


def make_instance_folder(app: Flask) -> None:
    """Create the instance folder readable by this user alone (it holds the secret key, the SQLite
    database and the uploads), and the SQLite database file likewise, before SQLite makes it readable
    by every local user (its journal files take the database file's permissions)."""
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        if database.parent.is_dir():
            with contextlib.suppress(FileExistsError):  # made before: its permissions are the owner's choice
                os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def configure_secret_key(app: Flask) -> None:
    """Use SECRET_KEY; outside production make and keep one in the instance folder.

    Production refuses a missing key and one that is short or obviously not random: whoever knows or
    guesses it can sign a session cookie as anyone."""
    key = app.config.get("SECRET_KEY")
    if app.config["ENV_NAME"] == "production":
        if not key:
            raise RuntimeError("SECRET_KEY must be set in production (BOOKAPP_ENV=production).")
        problem = secret_key_problem(key)
        if problem:
            raise RuntimeError(
                f"SECRET_KEY is too weak for production ({problem}). Use 32 or more random bytes, e.g. the "
                'output of: python -c "import secrets; print(secrets.token_hex(32))"'
            )
    if key:
        return
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.exists():
        # Written whole under another name, then linked into place: processes starting at once all read
        # the one key that got there first.
        draft = key_file.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):
            os.link(draft, key_file)
        draft.unlink()
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def configure_proxies(app: Flask) -> None:
    """Behind BOOKAPP_TRUSTED_PROXIES proxies, take the client's address and scheme from the
    X-Forwarded-For and X-Forwarded-Proto they set (sign-in limits count addresses; cookies and HSTS
    need to know the request came over HTTPS). With none, those headers are ignored: anyone can send them."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def configure_logging(app: Flask) -> None:
    """Log bookapp's events as one key=value line each, at INFO."""
    logger = logging.getLogger("bookapp")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


#: The most of SQLite's log file kept on disk once the log starts again after a checkpoint.
SQLITE_LOG_KEPT_BYTES = 64 * 1024 * 1024


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Let SQLite readers and one writer work at once, and wait for the lock instead of failing."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        # An import lets the log grow to 400 MB (services.saving); when it starts again after a checkpoint,
        # its file is cut back to this, not left at its largest on disk.
        cursor.execute(f"PRAGMA journal_size_limit={SQLITE_LOG_KEPT_BYTES}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # Titles and authors without accents or case, as searches and sorts compare them (services.folding).
        dbapi_connection.create_function(folding.FUNCTION, 1, folding.fold, deterministic=True)


#: The pool hands out the connection returned last (its default is the one idle longest). An import's
#: session takes a connection for each transaction: when something else had briefly taken a second
#: one, the import alternated between the two, each with its own page cache (SQLite: 64 MB instead of
#: 32) and each finding its cache stale after the other's commit (every other chunk read the ISBN
#: index from the file again). A connection left idle at the bottom may have been closed by the server
#: meanwhile: each checkout tests it first (a round trip) and replaces it if it is gone.
POOL_OPTIONS = {"pool_use_lifo": True, "pool_pre_ping": True}


def register_extensions(app: Flask) -> None:
    """Bind the database, CSRF protection and sign-in to the app."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")):  # one connection there
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**POOL_OPTIONS, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    from .origin import refuse_cross_site_forms

    app.before_request(refuse_cross_site_forms)  # after the CSRF check: a form from another site, token or not
    login_manager.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", limiter_storage_uri(app.config["REDIS_URL"]))
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)  # Redis down: limit per process
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # A fixed window lets twice the limit through around its boundary (and made the limit depend on
    # when in the minute the attempts came); a moving window counts the last minute, always.
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    limiter.init_app(app)

    from .auth.sessions import init_sessions

    init_sessions(app)


def limiter_storage_uri(redis_url: str) -> str:
    """Return the rate limiter's storage URI for the app's Redis (its scheme for unix sockets differs)."""
    return "redis+unix://" + redis_url.removeprefix("unix://") if redis_url.startswith("unix://") else redis_url


def register_blueprints(app: Flask) -> None:
    """Mount each area of the site."""
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .books import bp as books_bp
    from .imports import bp as imports_bp
    from .main import bp as main_bp
    from .matching import bp as matching_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(books_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(matching_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # bearer tokens, never cookies: nothing for a forged request to ride on


def register_metrics(app: Flask) -> None:
    """Time every request for /metrics (by endpoint)."""
    from .services.metrics import observe_requests

    observe_requests(app)


def register_dashboard(app: Flask) -> None:
    """Mount rq-dashboard at /rq behind staff sign-in."""
    from .dashboard import mount_dashboard

    mount_dashboard(app)


def register_error_handlers(app: Flask) -> None:
    """Answer errors with a friendly page, or JSON under /api."""
    from .errors import register

    register(app)


def register_commands(app: Flask) -> None:
    """Add the flask commands (worker, create-admin, create-token, …)."""
    from .cli import commands

    for command in commands:
        app.cli.add_command(command)


def register_template_helpers(app: Flask) -> None:
    """Make the import statuses and labels known to every template."""
    from .importer.fields import LABELS
    from .importer.reading import ENCODINGS_IN_WORDS
    from .models import MODE_LABELS, ImportStatus
    from .pager import page_links
    from .services.import_words import outcome, outcome_class

    app.jinja_env.globals.update(FIELD_LABELS=LABELS, MODE_LABELS=MODE_LABELS, ImportStatus=ImportStatus,
                                 import_outcome=outcome, outcome_class=outcome_class, page_links=page_links,
                                 ENCODINGS_IN_WORDS=ENCODINGS_IN_WORDS)  # fmt: skip
    app.jinja_env.filters["break_points"] = break_points
    app.jinja_env.filters["letters_marked"] = letters_marked
    app.jinja_env.filters["time_tag"] = time_tag
    app.jinja_env.filters["times_tagged"] = times_tagged


def break_points(name: str) -> Markup:
    """A file name that may wrap after each _, - and . ("variants10_<wbr>products_<wbr>export_<wbr>1.<wbr>csv"),
    where a reader expects it to, not mid-word; the name itself escaped."""
    return Markup(re.sub(r"([_.\-])(?=.)", r"\1<wbr>", str(escape(name))))


def letters_marked(value: object) -> Markup:
    """A cell's value exactly as the file held it, each letter of a word that has digits marked: "20O1"
    shows its O as a letter (in many fonts it looks like the zero it is not), "c1969" its c."""
    text = "" if value is None else str(value)
    parts = re.split(r"([^\W_]*\d[^\W_]*)", text)
    for at in range(1, len(parts), 2):  # the words with digits
        parts[at] = re.sub(
            r"([^\W\d_]+)",
            lambda m: f'<mark class="letter" title="the letter{"s" if len(m[1]) > 1 else ""} {m[1]}">{m[1]}</mark>',
            str(escape(parts[at])),
        )
    return Markup("".join(str(escape(p)) if at % 2 == 0 else p for at, p in enumerate(parts)))


#: The shapes a page shows a time in, as strftime formats, and the parts static/js/local-times.js writes
#: again in the reader's own time zone (the zone's name where the UTC text names its zone).
TIME_SHAPES = {
    "%Y-%m-%d %H:%M UTC": "date time zone",
    "%Y-%m-%d %H:%M": "date time",
    "%H:%M:%S UTC": "time seconds zone",
    "%Y-%m-%d": "date",
    "%H:%M": "time",
}


def time_tag(when: datetime, shape: str = "%Y-%m-%d %H:%M UTC") -> Markup:
    """A timestamp as the page shows it in UTC ("2026-12-05 14:22 UTC"), in a <time> that carries the
    instant (datetime="2026-12-05T14:22:07+00:00") and the UTC time in its title: the page's script writes it
    again in the reader's own time zone ("2026-12-05 19:52 IST"), keeping the UTC one on hover; without
    scripts the UTC text stays."""
    utc = when.astimezone(UTC)
    title = f"{utc:%Y-%m-%d %H:%M:%S} UTC" if ":%S" in shape else f"{utc:%Y-%m-%d %H:%M} UTC"
    return Markup('<time datetime="{}" title="{}" data-shape="{}">{}</time>').format(
        utc.isoformat(timespec="seconds"), title, TIME_SHAPES[shape], utc.strftime(shape)
    )


#: A time as a sentence built in Python says it ("imported on 2026-12-05 14:22 UTC").
_UTC_IN_WORDS = re.compile(r"\b(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}) UTC\b")


def times_tagged(text: object) -> Markup:
    """A message *text*, escaped, with each time it gives in UTC ("2026-12-05 14:22 UTC") in a <time> as
    time_tag makes it, so that the page shows it in the reader's own zone as it does every other time."""
    if hasattr(text, "__html__"):  # already markup: its times are its own
        return Markup(text)
    parts = _UTC_IN_WORDS.split(str(text))
    out = []
    for at in range(0, len(parts), 6):
        out.append(str(escape(parts[at])))
        if at + 1 < len(parts):
            try:
                when = datetime(*map(int, parts[at + 1 : at + 6]), tzinfo=UTC)
            except ValueError:  # no such time (a title's "2026-02-30 10:00 UTC"): the text as it is
                out.append(str(escape("{}-{}-{} {}:{} UTC".format(*parts[at + 1 : at + 6]))))
            else:
                out.append(str(time_tag(when)))
    return Markup("".join(out))


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def register_security_headers(app: Flask) -> None:
    """Send a strict Content-Security-Policy (no inline scripts) and related headers; in production,
    Strict-Transport-Security too (production runs behind a TLS proxy: browsers then never try plain HTTP)."""
    from flask import request

    hsts = app.config["HSTS_SECONDS"] if app.config["ENV_NAME"] == "production" else 0

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if hsts > 0:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        response.headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors, for browsers without CSP 2
        # rq-dashboard's pages need their own inline script: they get a policy with a nonce (dashboard.py).
        if request.blueprint != "rq_dashboard":
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
