"""What /metrics tells Prometheus: imports, rows, durations, queues and workers, request latency.

Import figures come from the database and queue figures from Redis at each scrape, so every web
process (and every machine) answers the same. Request latency is counted in each process; under
gunicorn, PROMETHEUS_MULTIPROC_DIR (set by gunicorn.conf.py) makes the processes share it through
files, and a scrape adds up all of them.
"""

from __future__ import annotations

import time
from datetime import timedelta

from flask import Flask, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest, values
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from redis.exceptions import RedisError
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import case, func, select

from ..extensions import db
from ..models import TERMINAL_STATUSES, Import, ImportStatus, utcnow
from ..queue import live_worker_count, queue_names, redis_connection

#: Import duration buckets, in seconds of working time: from a small file to a multi-million-row one.
IMPORT_DURATION_BUCKETS = (1, 5, 15, 60, 300, 900, 3600)
#: Rows' outcomes counted in bookapp_import_rows_total.
ROW_OUTCOMES = ("created", "updated", "unchanged", "skipped", "rejected")

#: Request latency by endpoint (the route's name, not its path: ids would make a series per book).
#: Not in prometheus_client's global registry: each scrape builds its registry (tests make many apps).
REQUEST_SECONDS = Histogram(
    "bookapp_request_duration_seconds",
    "Time to answer a request, by endpoint and method.",
    ["endpoint", "method"],
    registry=None,
)


def shared_by_processes() -> bool:
    """Return whether this process counts into the folder gunicorn's processes share (prometheus_client
    chose its mode from PROMETHEUS_MULTIPROC_DIR when it was imported)."""
    return values.ValueClass is not values.MutexValue


def observe_requests(app: Flask) -> None:
    """Time every request of *app* into REQUEST_SECONDS."""

    @app.before_request
    def start_clock():
        g.request_started = time.perf_counter()

    @app.teardown_request
    def stop_clock(exc):
        started = g.pop("request_started", None)
        if started is not None:
            endpoint = request.endpoint or "unmatched"  # a 404: one series, whatever path was asked for
            REQUEST_SECONDS.labels(endpoint, request.method).observe(time.perf_counter() - started)


def render() -> tuple[bytes, str]:
    """Return the metrics page and its content type."""
    registry = CollectorRegistry()
    if shared_by_processes():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
    registry.register(StateCollector(current_app._get_current_object()))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class StateCollector:
    """Import and queue figures, read from the database and Redis when Prometheus scrapes."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        try:
            yield from self._imports()
        finally:
            db.session.rollback()  # end the reads' transaction
        yield from self._queues()

    def _imports(self):
        by_status = GaugeMetricFamily("bookapp_imports", "Imports by status.", labels=["status"])
        counted = dict(db.session.execute(select(Import.status, func.count()).group_by(Import.status)).all())
        for status in ImportStatus:
            by_status.add_metric([status.value], counted.get(status.value, 0))
        yield by_status

        rows = CounterMetricFamily("bookapp_import_rows", "Rows imports have read, by outcome (dry runs left out).",
                                   labels=["outcome"])  # fmt: skip
        sums = db.session.execute(
            select(*(func.coalesce(func.sum(getattr(Import, name)), 0) for name in ROW_OUTCOMES)).where(
                Import.dry_run.is_(False)
            )
        ).one()
        for name, total in zip(ROW_OUTCOMES, sums, strict=True):
            rows.add_metric([name], total)
        yield rows

        timed = (Import.status.in_([s.value for s in TERMINAL_STATUSES]), Import.working_seconds.is_not(None))
        under = [func.coalesce(func.sum(case((Import.working_seconds <= bound, 1), else_=0)), 0)
                 for bound in IMPORT_DURATION_BUCKETS]  # fmt: skip
        *cumulative, count, total = db.session.execute(
            select(*under, func.count(), func.coalesce(func.sum(Import.working_seconds), 0.0)).where(*timed)
        ).one()
        buckets = [(str(float(b)), n) for b, n in zip(IMPORT_DURATION_BUCKETS, cumulative, strict=True)]
        yield HistogramMetricFamily(
            "bookapp_import_duration_seconds",
            "Working time of ended imports (a lost worker's wait left out).",
            buckets=[*buckets, ("+Inf", count)],
            sum_value=float(total),
        )

        oldest = db.session.scalar(
            select(func.min(func.coalesce(Import.enqueued_at, Import.created_at))).where(
                Import.status == ImportStatus.QUEUED.value
            )
        )
        age = GaugeMetricFamily("bookapp_oldest_queued_import_age_seconds",
                                "Age of the import that has waited longest in the queue (0: none waits).")  # fmt: skip
        age.add_metric([], _age(oldest))
        yield age

    def _queues(self):
        up = GaugeMetricFamily("bookapp_redis_up", "Whether Redis answered this scrape (1) or not (0).")
        depth = GaugeMetricFamily("bookapp_queue_depth", "Jobs waiting, by queue.", labels=["queue"])
        failed = GaugeMetricFamily("bookapp_queue_failed_jobs", "Jobs in RQ's failed registry, by queue.",
                                   labels=["queue"])  # fmt: skip
        workers = GaugeMetricFamily("bookapp_workers_live", "Workers alive (their heartbeat key is current).")
        try:
            connection = redis_connection(self.app)
            for name in queue_names(self.app):
                depth.add_metric([name], Queue(name, connection=connection).count)
                failed.add_metric([name], FailedJobRegistry(name, connection=connection).count)
            workers.add_metric([], live_worker_count(connection))
        except RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from (up, depth, failed, workers)


def _age(moment) -> float:
    return max(0.0, (utcnow() - moment) / timedelta(seconds=1)) if moment else 0.0
