"""Cost as the work grows (issue 18, item 5): the CLI import of 100,000, 1,000,000 and 5,000,000
realistic rows into SQLite and PostgreSQL, each in its own process tree, with rows/s and the peak PSS
of the worker, its work horse and the reading process together, and the time to every book searchable (the
worker's catch-up after the import, by its log); beside each, the raw limit on the same
file (csv + sqlite3.executemany in one transaction, or psycopg COPY, no validation), so how the rate
falls as the table grows can be told apart from what bookapp adds.

    python -m bench.run --sizes-only [--small-rows 100000] [--rows 1000000] [--big-rows 5000000]

Needs REDIS_URL (a Redis database of its own: its queue is emptied); PostgreSQL runs when
TEST_DATABASE_URL is set. The 5,000,000-row file is about 1 GB and its import takes minutes.
"""

import tempfile

from . import targets
from .running import case, postgres_url, realistic_csv


def _raw(database: str, path: str, url: str, work: str) -> dict:
    if database == "SQLite":
        return case("raw", path, f"{work}/raw-sizes.sqlite3")
    return case("raw_postgres", path, url)


def _searchable(outcome: dict) -> str:
    """The time from the import's start to every book in the search index, and against the import's own."""
    after = outcome.get("searchable_seconds")
    return "—" if after is None else f"{after:.2f} s ({after / outcome['seconds']:.2f} ×)"


def sizes(options) -> str:
    counts = [n for n in (options.small_rows, options.rows, options.big_rows) if n]
    files = {n: realistic_csv(n) for n in counts}
    lines = [
        "| CLI import (`flask import-books` + `flask worker --burst`), all new | rows | seconds | rows/s | "
        "peak PSS MB (all processes) | raw limit, same file: rows/s | bookapp ÷ raw | every book searchable after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as work:
        urls = {"SQLite": f"sqlite:///{work}/sizes.sqlite3", "PostgreSQL": postgres_url()}
        for database, url in urls.items():
            if not url:
                continue
            for n in counts:
                outcome = case("cli_import", str(files[n]), url, work)
                raw = _raw(database, str(files[n]), url, work)
                lines.append(f"| {database}, {n:,} rows | {outcome['rows']:,} | {outcome['seconds']:.2f} | "
                             f"{targets.rate(outcome):,.0f} | {outcome['peak_pss_mb']:,.0f} | "
                             f"{targets.rate(raw):,.0f} | {targets.rate(outcome) / targets.rate(raw):.2f} × | "
                             f"{_searchable(outcome)} |")  # fmt: skip
            if url.startswith("postgresql"):
                case("cli_import", str(files[counts[0]]), url, work)  # leave the shared database small
    return "\n".join(lines) + "\n"
