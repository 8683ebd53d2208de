"""bookapp: import spreadsheets of books through an RQ worker and browse them."""

import logging
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from .config import DEFAULT_INSTANCE_PATH, load_config
from .extensions import csrf, db, limiter, login_manager, migrate


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
    configure_secret_key(app)
    if app.config["ENV_NAME"] == "production":
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
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


def configure_secret_key(app: Flask) -> None:
    """Use SECRET_KEY; outside production make and keep one in the instance folder."""
    if app.config.get("SECRET_KEY"):
        return
    if app.config["ENV_NAME"] == "production":
        raise RuntimeError("SECRET_KEY must be set in production (BOOKAPP_ENV=production).")
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def configure_logging(app: Flask) -> None:
    """Log bookapp's events as one key=value line each, at INFO."""
    logger = logging.getLogger("bookapp")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Let SQLite readers and one writer work at once, and wait for the lock instead of failing."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def register_extensions(app: Flask) -> None:
    """Bind the database, CSRF protection and sign-in to the app."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", limiter_storage_uri(app.config["REDIS_URL"]))
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)  # Redis down: limit per process
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # A fixed window lets twice the limit through around its boundary (and made the limit depend on
    # when in the minute the attempts came); a moving window counts the last minute, always.
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    limiter.init_app(app)

    from .models import User

    @login_manager.user_loader
    def load_user(user_id: str):
        return db.session.get(User, int(user_id))


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
    from .models import MODE_LABELS, ImportStatus
    from .pager import page_links
    from .services.problems import outcome, outcome_class

    app.jinja_env.globals.update(FIELD_LABELS=LABELS, MODE_LABELS=MODE_LABELS, ImportStatus=ImportStatus,
                                 import_outcome=outcome, outcome_class=outcome_class, page_links=page_links)  # fmt: skip


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def register_security_headers(app: Flask) -> None:
    """Send a strict Content-Security-Policy (no inline scripts) and related headers."""
    from flask import request

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # rq-dashboard's own pages rely on inline scripts; they are only served to signed-in staff.
        if request.blueprint != "rq_dashboard":
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
