"""Redis, the import queue, and workers whose jobs run inside a fresh app context."""

import os
from collections.abc import Callable

from flask import Flask, current_app
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.job import Job

from .extensions import db


def redis_connection(app: Flask | None = None) -> Redis:
    """Return the app's Redis client (one per app, made on first use)."""
    app = app or current_app._get_current_object()
    client = app.extensions.get("bookapp.redis")
    if client is None:
        client = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=10)
        app.extensions["bookapp.redis"] = client
    return client


def queue_available() -> bool:
    """Return whether Redis answers now."""
    from redis.exceptions import RedisError

    try:
        return bool(redis_connection().ping())
    except RedisError:
        return False


def queue_names(app: Flask | None = None) -> tuple[str, str]:
    """Return the names of bookapp's queues: the imports', then the indexes' catch-ups'."""
    app = app or current_app._get_current_object()
    return app.config["IMPORT_QUEUE"], f"{app.config['IMPORT_QUEUE']}.indexes"


def import_queue(app: Flask | None = None) -> Queue:
    """Return the queue import jobs go through."""
    app = app or current_app._get_current_object()
    return Queue(queue_names(app)[0], connection=redis_connection(app))


def index_queue(app: Flask | None = None) -> Queue:
    """Return the queue of the search and sort indexes' catch-ups: the indexes' own worker takes its jobs (a
    worker for both, when no import waits)."""
    app = app or current_app._get_current_object()
    return Queue(queue_names(app)[1], connection=redis_connection(app))


def app_job_class(app: Flask) -> type[Job]:
    """Return a Job class whose jobs run inside an app context of *app*."""
    created_in = os.getpid()

    class AppJob(Job):
        def perform(self):
            with app.app_context():
                if os.getpid() != created_in:
                    # In a forked work horse: never reuse the parent's pooled connections.
                    db.engine.dispose(close=False)
                return super().perform()

        def execute_failure_callback(self, *args, **kwargs):
            with app.app_context():
                return super().execute_failure_callback(*args, **kwargs)

    return AppJob


class MaintainingMixin:
    """Run the app's own maintenance with RQ's: at start and every few seconds between jobs."""

    app: Flask
    maintenance: Callable[[], None] | None = None

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        if self.maintenance is None:
            return
        try:
            with self.app.app_context():
                self.maintenance()
        except Exception:  # never let a database or Redis hiccup stop the worker
            self.log.warning("bookapp maintenance failed", exc_info=True)


class ImportWorker(MaintainingMixin, Worker):
    """A forking worker: each import runs in a work horse, so a crash cannot take the worker down."""


class SimpleImportWorker(MaintainingMixin, SimpleWorker):
    """A worker that runs imports in its own process (tests, or platforms without fork)."""


#: What a worker takes: imports, then catch-ups when no import waits (one worker does everything); imports
#: only; or catch-ups only (a worker of their own, so an import's worker is free as soon as its books are saved).
WORKER_ROLES = ("all", "imports", "indexes")


def make_worker(
    app: Flask,
    *,
    simple: bool = False,
    maintenance: Callable[[], None] | None = None,
    role: str = "all",
    **kwargs,
) -> Worker:
    """Return an RQ worker for bookapp's queues (*role*: see WORKER_ROLES) whose jobs see *app*, running
    *maintenance* (in an app context) at start and every RECONCILE_SECONDS between jobs."""
    worker_class = SimpleImportWorker if simple else ImportWorker
    interval = app.config.get("RECONCILE_SECONDS", 10)
    kwargs.setdefault("maintenance_interval", interval)
    # The idle wait for a job is worker_ttl - 15 s: keep it short so maintenance runs every few seconds.
    kwargs.setdefault("worker_ttl", interval + 20)
    kwargs.setdefault("job_monitoring_interval", 5)
    queues = {"all": [import_queue(app), index_queue(app)], "imports": [import_queue(app)],
              "indexes": [index_queue(app)]}[role]  # fmt: skip
    worker = worker_class(
        queues,  # in this order: an import waiting goes first
        connection=redis_connection(app),
        job_class=app_job_class(app),
        **kwargs,
    )
    worker.app = app
    worker.maintenance = maintenance
    return worker
