"""Redis, the import queue, and workers whose jobs run inside a fresh app context."""

import contextlib
import logging
import os
import time
from collections.abc import Callable

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, SimpleWorker, Worker, worker_registration
from rq.exceptions import InvalidJobOperation, NoSuchJobError, StopRequested
from rq.job import Job, JobStatus
from rq.worker import WorkerStatus

from .extensions import db

#: The longest wait between tries to reach Redis while it is down. RQ doubles its wait up to 60 s: a
#: worker noticed Redis was back 31 s late.
REDIS_RETRY_MAX_SECONDS = 3
#: What a worker takes for Redis being away: refused (stopped, restarting) or not answering within the
#: client's timeouts (a machine or network gone; RQ itself ends the worker on a timeout).
REDIS_OUTAGE = (RedisConnectionError, RedisTimeoutError)
#: A busy worker's key outlives its last heartbeat (every job_monitoring_interval) by this much. RQ's
#: own margin, 60 s, kept a worker that was lost mid-import looking alive for over a minute; the
#: reconciler takes an expired key as the proof that an import's worker is gone.
BUSY_WORKER_TTL_MARGIN = 10


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


def live_worker_count(connection: Redis) -> int:
    """Return how many registered workers are alive: their key, renewed by each heartbeat, still exists."""
    keys = list(connection.smembers(Worker.redis_workers_keys))
    if not keys:
        return 0
    with connection.pipeline() as pipeline:
        for key in keys:
            pipeline.exists(key)
        return sum(pipeline.execute())


class _OneOutageLine(logging.Filter):
    """Drop RQ's line per failed try to reach Redis: ResilientMixin reports an outage once at its start
    and once at its end. And its line each time it cleans its queues' registries: it does so at every
    maintenance, which bookapp runs every RECONCILE_SECONDS (RQ's own, every 10 minutes), and those lines
    pushed a first start's sign-in, shown once, off the screen within a minute."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return "could not connect to Redis instance" not in message and "cleaning registries" not in message


_ONE_OUTAGE_LINE = _OneOutageLine()


#: Why a job that ran while Redis went away shows as failed in the queue.
UNRECORDED_END = (
    "Redis was unavailable when this job ended, so its end was not recorded here. What the job did is in "
    "the database (an import's page says how the import ended)."
)


class ResilientMixin:
    """Ride out Redis outages and restarts: wait for Redis with a short capped backoff, say once when it
    went away and once when it came back, register again when a restart emptied it, and let a busy
    worker's key expire soon after it stops beating."""

    max_connection_wait_time = REDIS_RETRY_MAX_SECONDS
    _redis_down_since: float | None = None
    #: The last work horse's (pid, wait status, resource usage).
    _horse_exit: tuple | None = None

    def redis_down(self, exc: Exception) -> None:
        if self._redis_down_since is None:
            self._redis_down_since = time.monotonic()
            self.log.warning("Worker %s: event=redis-unavailable error=%r: waiting for it (a try every %s s at most)",
                             self.name, str(exc), REDIS_RETRY_MAX_SECONDS)  # fmt: skip

    def redis_up(self) -> None:
        if self._redis_down_since is not None:
            self.log.warning("Worker %s: event=redis-back after_seconds=%.1f", self.name,
                             time.monotonic() - self._redis_down_since)  # fmt: skip
            self._redis_down_since = None

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        if pipeline is not None:  # a busy worker's beat, in a pipeline its caller runs
            return super().heartbeat(timeout, pipeline=pipeline)
        wait = 0.25
        while True:
            try:
                super().heartbeat(timeout)
                self.ensure_registered()
                break
            except REDIS_OUTAGE as exc:
                self.redis_down(exc)
                if self._stop_requested:  # asked to stop: nothing left to wait for
                    if self.horse_pid:  # RQ's beat before it kills a horse past its time: let it kill it
                        return
                    raise StopRequested() from None
                time.sleep(wait)  # a stop signal interrupts it (StopRequested)
                wait = min(wait * 2, REDIS_RETRY_MAX_SECONDS)
        self.redis_up()

    def wait_for_redis(self, exc: Exception) -> None:
        """Note the outage, then return once Redis answers again (a heartbeat that waits for it)."""
        self.redis_down(exc)
        self.heartbeat()

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        # RQ retries only its blocking pop: a Redis call around it (the worker's state) would end the worker.
        while True:
            try:
                return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
            except REDIS_OUTAGE as exc:
                self.wait_for_redis(exc)

    def check_for_suspension(self, burst: bool):
        while True:
            try:
                return super().check_for_suspension(burst)
            except REDIS_OUTAGE as exc:
                self.wait_for_redis(exc)

    def maintain_heartbeats(self, job: Job):
        try:
            super().maintain_heartbeats(job)
            self.ensure_registered()
        except REDIS_OUTAGE as exc:  # the job goes on; its next beat tries again
            self.redis_down(exc)
            return
        self.redis_up()

    def set_current_job_working_time(self, *args, **kwargs):
        try:
            return super().set_current_job_working_time(*args, **kwargs)
        except REDIS_OUTAGE as exc:
            self.redis_down(exc)

    def execute_job(self, job: Job, queue: Queue):
        # What the job does is the database's; RQ's record of its end (the job's status and registries,
        # this worker's state) needs Redis, and an error there would end the worker. Only the job's
        # end reaches Redis unguarded (its horse has ended then; or, before it starts, it never runs).
        self._horse_exit = None
        try:
            return super().execute_job(job, queue)
        except REDIS_OUTAGE as exc:
            self.redis_down(exc)
        if self.horse_pid:  # not expected (every Redis call while it works is guarded): let it end first
            self.wait_for_horse()
            self._horse_pid = 0
        self.heartbeat()  # returns once Redis answers (raises StopRequested if asked to stop meanwhile)
        self._record_unrecorded_end(job, queue)

    def wait_for_horse(self):
        self._horse_exit = super().wait_for_horse()
        return self._horse_exit

    def _record_unrecorded_end(self, job: Job, queue: Queue) -> None:
        """Once Redis is back: a job left started is failed, saying why (and, if its horse was killed,
        its failure callback told, as when a horse dies: a running import resumes at once); this
        worker is idle again. A job that never started has no record to set right (the reconciler
        queues its import again), nor one Redis forgot (a restart)."""
        try:
            with contextlib.suppress(InvalidJobOperation, NoSuchJobError):  # its record went with a restart
                if job.get_status(refresh=True) == JobStatus.STARTED:
                    self.log.warning("Worker %s: event=job-end-unrecorded job=%s", self.name, job.id)
                    retpid, ret_val, rusage = self._horse_exit or (None, None, None)
                    if ret_val and os.WIFSIGNALED(ret_val):  # killed, not a horse that exited unable to record
                        self.handle_work_horse_killed(job, retpid, ret_val, rusage)
                    self.handle_job_failure(job, queue=queue, exc_string=UNRECORDED_END)
            self.set_current_job_id(None)
            self.set_state(WorkerStatus.IDLE)
        except REDIS_OUTAGE as exc:  # away again: the next heartbeat waits for it
            self.redis_down(exc)

    def set_shutdown_requested_date(self):
        # Called from the stop signal's handler while a job runs: an error there would come out of the
        # wait for the horse, which goes on working.
        try:
            super().set_shutdown_requested_date()
        except REDIS_OUTAGE as exc:
            self.redis_down(exc)

    def teardown(self):
        try:
            super().teardown()
        except REDIS_OUTAGE as exc:  # stopping while Redis is away: this worker's key expires by itself
            self.log.warning("Worker %s: event=stopped-while-redis-unavailable error=%r", self.name, str(exc))

    def ensure_registered(self) -> None:
        """Register again if Redis forgot this worker (a restart without persistence): RQ registers a
        worker only when it starts, and health checks and dashboards count registered workers."""
        if self.connection.sismember(self.redis_workers_keys, self.key):
            return
        with self.connection.pipeline() as pipeline:
            state = self.get_state()
            pipeline.hset(self.key, mapping={**self.serialize(), "state": getattr(state, "value", state)})
            worker_registration.register(self, pipeline)
            pipeline.expire(self.key, self.worker_ttl + 60)
            pipeline.execute()
        self.log.warning("Worker %s: event=registered-again (Redis had forgotten this worker)", self.name)

    def _pubsub_exception_handler(self, exc, pubsub, pubsub_thread):
        if isinstance(exc, REDIS_OUTAGE):  # the main loop reports the outage
            time.sleep(REDIS_RETRY_MAX_SECONDS)
            return
        return super()._pubsub_exception_handler(exc, pubsub, pubsub_thread)


class MaintainingMixin:
    """Run the app's own maintenance with RQ's: at start and every few seconds between jobs.

    Both run in a fresh app context, whose end returns the database session's connection: RQ's registry
    cleanup calls failure callbacks (which read the database) through its plain Job class.
    """

    app: Flask
    maintenance: Callable[[], None] | None = None

    def run_maintenance_tasks(self):
        with self.app.app_context():
            try:
                super().run_maintenance_tasks()
            except REDIS_OUTAGE as exc:  # the next heartbeat waits for Redis
                self.redis_down(exc)
        if self.maintenance is None:
            return
        try:
            with self.app.app_context():
                self.maintenance()
        except Exception:  # never let a database or Redis hiccup stop the worker
            self.log.warning("bookapp maintenance failed", exc_info=True)


class WorkHorseKilled(Exception):
    """The work horse running a job died of a signal (the OOM killer, a kill): what its failure callback hears."""


class ImportWorker(MaintainingMixin, ResilientMixin, Worker):
    """A forking worker: each import runs in a work horse, so a crash cannot take the worker down.

    While its horse works it beats every job_monitoring_interval; its key and its job's entry in the
    started registry expire BUSY_WORKER_TTL_MARGIN seconds after a missed beat (RQ's margin is 60 s), so
    a worker lost with its machine is seen as gone within seconds, by the reconciler and by RQ's cleanup.
    """

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        if pipeline is not None:
            timeout = self.job_monitoring_interval + BUSY_WORKER_TTL_MARGIN
        return super().heartbeat(timeout, pipeline=pipeline)

    def get_heartbeat_ttl(self, job: Job) -> int:
        return min(super().get_heartbeat_ttl(job), self.job_monitoring_interval + BUSY_WORKER_TTL_MARGIN)

    def handle_work_horse_killed(self, job: Job, retpid, ret_val, rusage):
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        # RQ calls a job's failure callback only for an exception raised in its horse: tell it of the
        # horse's death too, at once (its import resumes now, not when its heartbeat goes stale).
        with contextlib.suppress(Exception):  # RQ has logged it; the reconciler resumes the import later
            job.execute_failure_callback(self.death_penalty_class, WorkHorseKilled,
                                         WorkHorseKilled(f"waitpid returned {ret_val}"), None)  # fmt: skip


class SimpleImportWorker(MaintainingMixin, ResilientMixin, SimpleWorker):
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
    # The idle wait for a job is worker_ttl - 15 s: make it the interval, so maintenance runs on time.
    kwargs.setdefault("worker_ttl", interval + 15)
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
    logging.getLogger("rq.worker").addFilter(_ONE_OUTAGE_LINE)  # once: a logger keeps one copy of a filter
    return worker
