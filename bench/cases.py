"""One benchmark case per process, so each peak RSS is its own: python -m bench.cases CASE ARGS… → JSON."""

import csv
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from .app import make_app, new_import
from .limits import calamine_read, raw_limit, raw_postgres, search_limit, search_limit_postgres


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    """The largest peak among this process's finished children (an import's reading process)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _time_import_row_updates(engine) -> dict:
    """Add up the time of the UPDATEs of the import row (its progress counters and checkpoint)."""
    import threading

    from sqlalchemy import event

    spent = {"seconds": 0.0}
    main = threading.main_thread()

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread() is main and statement.startswith("UPDATE imports"):
            spent["seconds"] += time.perf_counter() - conn.info.pop("bench_started")

    return spent


def bookapp_import(
    path: str,
    database_url: str,
    work: str,
    fresh: str,
    search_index: str = "on",
    reading: str = "ahead",
    mapping: str = "",
) -> dict:
    """The real job code (services.runner.run_import) on an Import row, from job start to terminal status.

    reading="ahead" reads and validates in a second process (the default), "here" in the worker's own;
    mapping, a JSON text, is how the file's columns fill the fields (as a matched upload has it).
    """
    from bookapp.extensions import db
    from bookapp.models import Import
    from bookapp.services.runner import catch_up_indexes, run_import
    from bookapp.services.setup import reset_database

    work_dir = Path(work)
    app = make_app(database_url, work_dir, search_index=search_index == "on", read_ahead=reading == "ahead")
    with app.app_context():
        if fresh == "fresh":
            reset_database()
        import_id = new_import(path, work_dir, f"bench{Path(path).suffix}", json.loads(mapping) if mapping else None)
        progress = _time_import_row_updates(db.engine)
        result = run_import(import_id)
        imp = db.session.get(Import, import_id)
        seconds = (imp.finished_at - imp.started_at).total_seconds()  # job start to terminal status
        started = time.perf_counter()  # the catch-up job that follows an import (bench runs it here)
        catch_up_indexes(import_id)
        index_seconds = time.perf_counter() - started
    assert result["status"] == "succeeded", result
    return {"rows": result["created"] + result["updated"] + result["unchanged"] + result["rejected"],
            "seconds": seconds, "created": result["created"], "unchanged": result["unchanged"],
            "progress_seconds": progress["seconds"], "index_seconds": index_seconds}  # fmt: skip


def workers(database_url: str, work: str, how: str, reading: str, *paths: str) -> dict:
    """Import *paths* with one worker (one after the other) or with one worker each, at once.

    Each worker is its own process running the real job code; reading="ahead" reads each file in a
    second process (the default), "here" in the worker's own. The time is the imports' own, from start
    to terminal status: for one worker the sum of both, for two from the first start to the last end.
    """
    from bookapp.services.setup import reset_database

    work_dir = Path(work)
    app = make_app(database_url, work_dir)
    with app.app_context():
        reset_database()
        ids = [new_import(path, work_dir, f"bench-{n}{Path(path).suffix}") for n, path in enumerate(paths)]
    groups = [ids] if how == "one" else [[i] for i in ids]
    command = [sys.executable, "-m", "bench.cases", "run_jobs", database_url, work, reading]
    with _CpuSampler() as cpu:
        runs = [subprocess.Popen([*command, *map(str, group)], stdout=subprocess.PIPE, text=True) for group in groups]
        outcomes = [json.loads(run.communicate()[0].strip().splitlines()[-1]) for run in runs]
    spans = [span for outcome in outcomes for span in outcome["spans"]]
    if how == "one":  # the imports' own time, without the search index catch-up between them
        seconds = sum(end - start for start, end in spans)
    else:
        seconds = max(end for _, end in spans) - min(start for start, _ in spans)
    return {"rows": sum(outcome["rows"] for outcome in outcomes), "seconds": seconds, "cpu_busy": cpu.busy(spans),
            "peak_rss_mb": max(o["peak_rss_mb"] for o in outcomes),
            "children_rss_mb": max(o["children_rss_mb"] for o in outcomes)}  # fmt: skip


class _CpuSampler:
    """Sample the whole machine's busy and total CPU time (every core and process, Linux) ten times a second."""

    def __init__(self):
        import threading

        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            try:
                fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
            except OSError:
                return
            idle = fields[3] + fields[4]  # idle and waiting for I/O
            self.samples.append((time.time(), sum(fields) - idle, sum(fields)))
            if self._stop.wait(0.1):
                return

    def busy(self, spans: list[tuple[float, float]]) -> float | None:
        """The share of the machine's CPU time that was busy within *spans* (start, end timestamps)."""
        busy = total = 0
        for (t0, busy0, all0), (t1, busy1, all1) in zip(self.samples, self.samples[1:], strict=False):
            if any(start <= t0 and t1 <= end for start, end in spans):
                busy, total = busy + busy1 - busy0, total + all1 - all0
        return busy / total if total else None

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


def run_jobs(database_url: str, work: str, reading: str, *import_ids: str) -> dict:
    """One worker: run the given imports' jobs in turn; return each import's start and terminal
    status (the import rows' own times, like every other case)."""
    from bookapp.extensions import db
    from bookapp.models import Import
    from bookapp.services.runner import run_import

    app = make_app(database_url, Path(work), read_ahead=reading == "ahead")
    with app.app_context():
        results = [run_import(int(i)) for i in import_ids]
        imports = [db.session.get(Import, int(i)) for i in import_ids]
        spans = [(imp.started_at.timestamp(), imp.finished_at.timestamp()) for imp in imports]
    assert all(r["status"] == "succeeded" for r in results), results
    return {"spans": spans, "rows": sum(r["created"] for r in results),
            "peak_rss_mb": peak_rss_mb(), "children_rss_mb": children_peak_rss_mb()}  # fmt: skip


def naive(path: str, database_url: str, work: str, rows: str) -> dict:
    """The pattern bookapp replaces: pandas → to_dict → validate and save one row at a time (a commit each)."""
    import pandas as pd

    from bookapp.extensions import db
    from bookapp.importer.validation import validate_values
    from bookapp.models import Book
    from bookapp.services.setup import reset_database

    app = make_app(database_url, Path(work))
    limit = int(rows)
    with app.app_context():
        reset_database()
        started = time.perf_counter()
        frame = pd.read_csv(path, nrows=limit)
        saved = 0
        for record in frame.to_dict("records"):
            record = {k: None if pd.isna(v) else v for k, v in record.items()}  # a blank cell is NaN
            raw = {
                "title": record["Title"], "author": record["Author"], "book_type": record["Book type"],
                "isbn": str(record["ISBN"]), "year_published": record["Year published"], "price": str(record["Price"]),
                "no_of_pages": record["No. of pages"], "quantity": record["Quantity"],
                "description": record["Description"],
            }  # fmt: skip
            values, problems = validate_values(raw)
            if problems:
                continue
            db.session.add(Book(**values))
            db.session.commit()
            saved += 1
        seconds = time.perf_counter() - started
    return {"rows": saved, "seconds": seconds}


def books_pages(database_url: str, work: str, search: str = "Volume 123456", common: str = "4217 volume") -> dict:
    """Median server time of /books pages (50 per page) over the imported books: page 1, page 10,000,
    a two-word search, one whose first word is in most titles, page 1 sorted by title, and deep pages
    sorted by title and by author three ways: through the sort index, without it (ids sorted first)
    and as one query with OFFSET."""
    from urllib.parse import quote_plus

    from bookapp.extensions import db
    from bookapp.models import User
    from bookapp.services import books, sort_index
    from bookapp.services.setup import create_user

    app = make_app(database_url, Path(work))
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        if db.session.query(User).count() == 0:
            create_user("bench@example.com", "bench-password")
        engine = db.engine
    client = app.test_client()
    client.post("/login", data={"email": "bench@example.com", "password": "bench-password"})

    timings = {}
    deep = {"title_deep": "sort=title&page=10000", "author_deep": "sort=author&page=5000"}
    views = {"page_1": "page=1", "page_10000": "page=10000", "search": f"q={quote_plus(search)}",
             "title_sort": "sort=title", "search_common_word": f"q={quote_plus(common)}",
             **deep, **{f"{name}_ids_first": query for name, query in deep.items()},
             **{f"{name}_plain": query for name, query in deep.items()}}  # fmt: skip
    ids_first = books.IDS_FIRST_FROM_OFFSET
    for name, query in views.items():
        # "_ids_first": without the sort index; "_plain": without it, one query with OFFSET
        sort_index.remember(engine, not name.endswith(("_ids_first", "_plain")))
        books.IDS_FIRST_FROM_OFFSET = 10**12 if name.endswith("_plain") else ids_first
        samples = []
        for _ in range(3 if name.endswith(("_ids_first", "_plain")) else 7):
            started = time.perf_counter()
            response = client.get(f"/books?{query}")
            samples.append(time.perf_counter() - started)
            # A page past the last (a small run's page 10,000) leads to the last page.
            assert response.status_code in (200, 302), response.status_code
        samples.sort()
        timings[f"{name}_ms"] = samples[len(samples) // 2] * 1000
    return timings


def exports(database_url: str, work: str, fmt: str) -> dict:
    """Download every book through /books/export.FMT (the web view's code, streamed) and read it to the
    end: rows/s, the time to the first byte, and this process's peak RSS before and after."""
    from bookapp.extensions import db
    from bookapp.models import Book, User
    from bookapp.services.setup import create_user

    app = make_app(database_url, Path(work))
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        if db.session.query(User).count() == 0:
            create_user("bench@example.com", "bench-password")
        books = db.session.query(Book).count()
    client = app.test_client()
    client.post("/login", data={"email": "bench@example.com", "password": "bench-password"})
    client.get("/books")  # the app's first request (templates, connections) is not the export's
    before = peak_rss_mb()
    started = time.perf_counter()
    response = client.get(f"/books/export.{fmt}", buffered=False)
    assert response.status_code == 200, response.status_code
    first_byte = size = 0
    for chunk in response.iter_encoded():
        if not size:
            first_byte = time.perf_counter() - started
        size += len(chunk)
    response.close()
    seconds = time.perf_counter() - started
    return {"rows": books, "seconds": seconds, "first_byte_ms": first_byte * 1000, "bytes": size,
            "rss_before_mb": before, "raw_seconds": raw_csv_export(database_url) if fmt == "csv" else None}  # fmt: skip


def raw_csv_export(database_url: str) -> float:
    """The raw limit of a CSV export on this machine now: the driver's rows straight into csv.writer."""
    import io

    columns = ("title, author, book_type, isbn, year_published, {price}, no_of_pages, quantity, description "
               "FROM books ORDER BY id DESC")  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    started = time.perf_counter()
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        cursor = connection.execute("SELECT " + columns.format(price="printf('%d.%02d', price / 100, price % 100)"))
    else:
        import psycopg

        connection = psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql"))
        cursor = connection.cursor(name="export")  # server-side, as bookapp streams
        cursor.execute("SELECT " + columns.format(price="price::text"))
    while rows := cursor.fetchmany(2000):
        writer.writerows(rows)
        buffer.seek(0)
        buffer.truncate()
    connection.close()
    return time.perf_counter() - started


def searchable(*args: str) -> dict:
    from .searchable import searchable

    return searchable(*args)


def rq_worker(*args: str) -> dict:
    from .searchable import rq_worker

    return rq_worker(*args)


CASES = {
    "raw": raw_limit, "raw_postgres": raw_postgres, "calamine": calamine_read, "exports": exports,
    "bookapp": bookapp_import, "naive": naive, "books_pages": books_pages, "workers": workers, "run_jobs": run_jobs,
    "searchable": searchable, "rq_worker": rq_worker, "search_limit": search_limit,
    "search_limit_postgres": search_limit_postgres,
}  # fmt: skip


def upload(path: str, database_url: str, work: str) -> dict:
    """Time one real HTTP upload of *path* to /imports/new on loopback (nothing is parsed in the request)."""
    import http.client
    import threading
    import uuid

    from werkzeug.serving import make_server

    from bookapp.services.setup import create_user, upgrade_schema

    app = make_app(database_url, Path(work))
    app.config["WTF_CSRF_ENABLED"] = False

    with app.app_context():
        upgrade_schema()  # the schema comes from the migrations, here as everywhere
        create_user("bench@example.com", "bench-password")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=120)
        connection.request("POST", "/login", "email=bench%40example.com&password=bench-password",
                           {"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        response = connection.getresponse()
        cookie = response.getheader("Set-Cookie").split(";")[0]
        response.read()
        boundary = uuid.uuid4().hex
        data = Path(path).read_bytes()
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="books.csv"\r\n'
                f"Content-Type: text/csv\r\n\r\n"
            ).encode()
            + data
            + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="allow_repeat"\r\n\r\n1\r\n--{boundary}--\r\n'.encode()
        )
        started = time.perf_counter()
        connection.request("POST", "/imports/new", body, {"Content-Type": f"multipart/form-data; boundary={boundary}",
                                                          "Cookie": cookie})  # fmt: skip
        response = connection.getresponse()
        response.read()
        seconds = time.perf_counter() - started
        assert response.status == 302, response.status
    finally:
        server.shutdown()
    return {"bytes": len(data), "seconds": seconds}


CASES["upload"] = upload


def column_profile(path: str) -> dict:
    """Profile every column of *path* as Match columns does (pandas, in chunks): its time and rows, and
    beside it the time pandas takes only to read the file the same way (the floor of this design)."""
    import pandas as pd

    from bookapp.importer.profiling import CHUNK_ROWS, profile_file

    started = time.perf_counter()
    profile = profile_file(path)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    for _ in pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, chunksize=CHUNK_ROWS):
        pass
    return {"rows": profile["rows"], "seconds": seconds, "read_seconds": time.perf_counter() - started}


CASES["profile"] = column_profile


def cli_import(path: str, database_url: str, work: str) -> dict:
    """The operators' way for a file past the upload cap: `flask import-books PATH` queues it, then
    `flask worker --burst` runs its job (a forked work horse and its reading process), each a real
    command in a process of its own, on an emptied database and a Redis queue of its own
    (REDIS_URL). The time is the import row's own, from job start to terminal status."""
    from bookapp.extensions import db
    from bookapp.models import Import
    from bookapp.services.setup import reset_database

    work_dir = Path(work)
    app = make_app(database_url, work_dir)
    with app.app_context():
        reset_database()
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        raise SystemExit("the CLI import needs REDIS_URL (a Redis database of its own: its queue is emptied)")
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "bench",
           "UPLOAD_FOLDER": str(work_dir / "uploads"), "BOOKAPP_IMPORT_TIMEOUT_BASE_SECONDS": "7200"}  # fmt: skip
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    root = Path(__file__).resolve().parent.parent
    quiet = {"cwd": root, "env": env, "check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([*flask, "import-books", path, "--allow-repeat"], **quiet)
    # The worker (role "all") runs the import, then the indexes' catch-up it queues: its log says when each ended.
    log = subprocess.run([*flask, "worker", "--burst"], **{**quiet, "stderr": subprocess.PIPE}, text=True).stderr
    with app.app_context():
        imp = db.session.scalars(db.select(Import).order_by(Import.id.desc())).first()
        assert imp.status == "succeeded", (imp.status, imp.error)
        seconds = (imp.finished_at - imp.started_at).total_seconds()
        outcome = {"rows": imp.processed_rows, "seconds": seconds, "created": imp.created,
                   "searchable_seconds": _searchable_after(log, imp.id, seconds)}  # fmt: skip
    outcome["children_rss_mb"] = children_peak_rss_mb()  # the worker, its work horse and reading process
    return outcome


CASES["cli_import"] = cli_import


def _searchable_after(log: str, import_id: int, seconds: float) -> float | None:
    """From the start of import *import_id* to its books in the search index, by its worker's log: the import's
    own *seconds*, then from its end ("event=finished") to the first search catch-up after it ("event=search-
    indexed": the catch-up job it queued, or the worker's maintenance between jobs, which may get there first).
    None when the log has no such catch-up (the search index off)."""
    import datetime as dt

    finished = indexed = None
    for line in log.splitlines():
        if finished is None and f"import={import_id} event=finished" in line:
            finished = dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
        elif finished is not None and "event=search-indexed" in line:
            indexed = dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
            break
    return None if finished is None or indexed is None else seconds + (indexed - finished).total_seconds()


if __name__ == "__main__":
    name, *args = sys.argv[1:]
    outcome = CASES[name](*args)
    outcome.setdefault("peak_rss_mb", peak_rss_mb())
    outcome.setdefault("children_rss_mb", children_peak_rss_mb())
    print(json.dumps(outcome))
