"""Defaults, limits and the environment variables that override them."""

import os
from pathlib import Path

#: Where the app keeps its SQLite database, uploads and embedded Redis unless told otherwise.
DEFAULT_INSTANCE_PATH = Path(__file__).resolve().parent.parent / "instance"

#: Rows saved per transaction, by database, unless BOOKAPP_IMPORT_CHUNK_SIZE says (each commit is a
#: checkpoint a resumed import starts after). Measured on 1M-row imports: PostgreSQL took 4.8-5.1 s in
#: chunks of 5,000 and 5.8-6.5 s in chunks of 2,000. SQLite: a file in random ISBN order dirties nearly
#: every page of the unique ISBN index in each transaction, and each commit writes those pages to the
#: log again: 500 commits of 2,000 rows took about 3 times as long as 20 commits of 50,000, and 10 of
#: 100,000 were about 5 % faster again (200,000 no faster still); a commit of 100,000 rows holds the
#: write lock for under a second, and readers are never held in WAL mode.
IMPORT_CHUNK_SIZES = {"sqlite": 100_000, "postgresql": 5_000}
#: SQLite's page cache for an import's connection, in MB (SQLite's default is 2 MB). A file in random
#: ISBN order inserts into every leaf of the unique ISBN index in each chunk: with the default cache
#: each chunk read most of the index from the file again, and spilled dirty pages into the log
#: before its commit. The cache is filled only as far as pages are used (the index of a million
#: books is about 25 MB); 32 MB imported a million realistic rows as fast as 64 MB did, in 50 MB less.
#: Past a few million books the index outgrows it, and each insert reads its leaf back from the file:
#: new books are then staged and inserted in ISBN order at each commit (services.staged_inserts), and
#: BOOKAPP_SQLITE_IMPORT_CACHE_MB trades memory for more of that speed (see the README's Speed).
SQLITE_IMPORT_CACHE_MB = 32
#: RQ job timeout for an import: a base plus a share per megabyte of upload.
IMPORT_TIMEOUT_BASE_SECONDS = 600
IMPORT_TIMEOUT_SECONDS_PER_MB = 10
#: The most rows one import takes (Excel's own limit is 1,048,576).
IMPORT_MAX_ROWS = 5_000_000
#: Days an uploaded file is kept after its import ends (for reports, retries and undo checks).
UPLOAD_RETENTION_DAYS = 30
#: Minutes an upload the form refused as imported before is kept for its "Import it again" button.
REPEAT_KEEP_MINUTES = 60
#: Upload size limit (a million-row book CSV with descriptions is about 180 MB).
MAX_UPLOAD_BYTES = 256 * 1024 * 1024
#: Failed jobs stay in RQ's failed registry for a week, so operators can see them in /rq.
JOB_FAILURE_TTL_SECONDS = 7 * 24 * 3600
#: Books per page on /books unless the visitor picks another size.
BOOKS_PER_PAGE = 50
#: A running import whose heartbeat is older than this is taken to have lost its worker.
STALE_HEARTBEAT_SECONDS = 60
#: A running import whose heartbeat is older than this shows "worker lost: resuming", and the reconciler
#: resumes it at once if RQ confirms its worker is gone (its worker's key expired; see queue.BUSY_WORKER_TTL).
LOST_HEARTBEAT_SECONDS = 15
#: A queued import whose job is not in Redis after this long is enqueued again.
QUEUED_GRACE_SECONDS = 30
#: A job marked queued but in no queue counts as lost only when seen so twice, this long apart (a
#: worker takes a job from its queue a moment before its horse marks it started).
LOST_JOB_CONFIRM_SECONDS = 5
#: Attempts (first run, resumes and retries by the reconciler) before an import is failed for good.
MAX_ATTEMPTS = 5
#: How often a running import writes its heartbeat, and how often workers reconcile.
HEARTBEAT_SECONDS = 5
RECONCILE_SECONDS = 10
#: The name of the RQ queue imports go through.
IMPORT_QUEUE = "imports"
#: A signed-in session unused this long ends (8 hours: a working day, not the 31 days of a signed cookie).
SESSION_IDLE_MINUTES = 8 * 60
#: How long browsers remember to use HTTPS only, from a production answer (a year; 0: not sent).
HSTS_SECONDS = 365 * 24 * 3600


def normalise_database_url(url: str) -> str:
    """Return *url* with the psycopg 3 driver named, so plain ``postgresql://`` URLs work."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def default_redis_url(instance_path: str) -> str:
    """Return the URL of the embedded Redis that ``make run`` starts in the instance folder."""
    return f"unix://{Path(instance_path) / 'redis' / 'redis.sock'}"


def load_config(instance_path: str, environ=os.environ) -> dict:
    """Build the configuration from safe defaults, then the environment."""
    database_url = environ.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'bookapp.sqlite3'}"
    return {
        "ENV_NAME": environ.get("BOOKAPP_ENV", "development"),
        "SECRET_KEY": environ.get("SECRET_KEY") or environ.get("BOOKAPP_SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "REDIS_URL": environ.get("REDIS_URL") or default_redis_url(instance_path),
        "UPLOAD_FOLDER": environ.get("UPLOAD_FOLDER") or str(Path(instance_path) / "uploads"),
        "MAX_CONTENT_LENGTH": int(environ.get("BOOKAPP_MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES)),
        "IMPORT_CHUNK_SIZE": int(environ["BOOKAPP_IMPORT_CHUNK_SIZE"])
        if environ.get("BOOKAPP_IMPORT_CHUNK_SIZE")
        else None,
        "UPLOAD_RETENTION_DAYS": float(environ.get("BOOKAPP_UPLOAD_RETENTION_DAYS", UPLOAD_RETENTION_DAYS)),
        "REPEAT_KEEP_MINUTES": float(environ.get("BOOKAPP_REPEAT_KEEP_MINUTES", REPEAT_KEEP_MINUTES)),
        "IMPORT_MAX_ROWS": int(environ.get("BOOKAPP_IMPORT_MAX_ROWS", IMPORT_MAX_ROWS)),
        "IMPORT_QUEUE": environ.get("BOOKAPP_IMPORT_QUEUE", IMPORT_QUEUE),
        "ADMIN_EMAIL": environ.get("BOOKAPP_ADMIN_EMAIL"),
        "ADMIN_PASSWORD": environ.get("BOOKAPP_ADMIN_PASSWORD"),
        "IMPORT_TIMEOUT_BASE_SECONDS": float(
            environ.get("BOOKAPP_IMPORT_TIMEOUT_BASE_SECONDS", IMPORT_TIMEOUT_BASE_SECONDS)
        ),
        "IMPORT_TIMEOUT_SECONDS_PER_MB": float(
            environ.get("BOOKAPP_IMPORT_TIMEOUT_SECONDS_PER_MB", IMPORT_TIMEOUT_SECONDS_PER_MB)
        ),
        "STALE_HEARTBEAT_SECONDS": float(environ.get("BOOKAPP_STALE_HEARTBEAT_SECONDS", STALE_HEARTBEAT_SECONDS)),
        "LOST_HEARTBEAT_SECONDS": float(environ.get("BOOKAPP_LOST_HEARTBEAT_SECONDS", LOST_HEARTBEAT_SECONDS)),
        # Addresses (or networks, "10.0.0.0/8") that may read /metrics without a token: Prometheus's own.
        "METRICS_ALLOWED_ADDRESSES": [
            a.strip() for a in environ.get("BOOKAPP_METRICS_ALLOW", "").split(",") if a.strip()
        ],
        "QUEUED_GRACE_SECONDS": float(environ.get("BOOKAPP_QUEUED_GRACE_SECONDS", QUEUED_GRACE_SECONDS)),
        "LOST_JOB_CONFIRM_SECONDS": float(environ.get("BOOKAPP_LOST_JOB_CONFIRM_SECONDS", LOST_JOB_CONFIRM_SECONDS)),
        "HEARTBEAT_SECONDS": float(environ.get("BOOKAPP_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)),
        "RECONCILE_SECONDS": int(environ.get("BOOKAPP_RECONCILE_SECONDS", RECONCILE_SECONDS)),
        "MAX_ATTEMPTS": int(environ.get("BOOKAPP_MAX_ATTEMPTS", MAX_ATTEMPTS)),
        "PUBLIC_BOOKS": environ.get("BOOKAPP_PUBLIC_BOOKS", "0") == "1",
        # Proxies in front of the app that set X-Forwarded-For and -Proto (0: the client connects directly,
        # and those headers, which anyone can send, are ignored).
        "TRUSTED_PROXIES": int(environ.get("BOOKAPP_TRUSTED_PROXIES", 0)),
        "SESSION_IDLE_MINUTES": float(environ.get("BOOKAPP_SESSION_IDLE_MINUTES", SESSION_IDLE_MINUTES)),
        "HSTS_SECONDS": int(environ.get("BOOKAPP_HSTS_SECONDS", HSTS_SECONDS)),
        "SEARCH_INDEX": environ.get("BOOKAPP_SEARCH_INDEX", "1") == "1",
        "IMPORT_READ_AHEAD": environ.get("BOOKAPP_IMPORT_READ_AHEAD", "1") == "1",
        "SQLITE_IMPORT_CACHE_MB": int(environ.get("BOOKAPP_SQLITE_IMPORT_CACHE_MB", SQLITE_IMPORT_CACHE_MB)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
    }


#: The fewest bytes a production SECRET_KEY may have, and the fewest different characters (a random
#: key of 32 bytes or more, written in hex or base64, has far more).
SECRET_KEY_MIN_BYTES = 32
SECRET_KEY_MIN_CHARACTERS = 10
#: Words that give away a key written by hand or copied from an example.
_PLACEHOLDER_WORDS = ("change", "secret", "example", "password", "default", "replace", "insecure")


def secret_key_problem(key: str) -> str | None:
    """Return why *key* cannot be a production SECRET_KEY (too short, or obviously not random), or None.

    Whoever knows the key can sign a session cookie as anyone, so it must be long and unguessable."""
    size = len(key.encode())
    if size < SECRET_KEY_MIN_BYTES:
        return f"it has {size} bytes; it needs at least {SECRET_KEY_MIN_BYTES}"
    if len(set(key)) < SECRET_KEY_MIN_CHARACTERS:
        return f"it uses only {len(set(key))} different characters"
    if (key + key).find(key, 1) < len(key):  # a shorter text written again and again
        return "it repeats itself"
    lowered = key.lower()
    if any(word in lowered for word in _PLACEHOLDER_WORDS):
        return "it looks like a placeholder, not a random key"
    return None
