"""`make bench`: bookapp's import speed and memory next to the naive pattern and the raw limit, in one run;
then the book list's pages, searches and exports at that many books.

    python -m bench.run [--rows 1000000] [--xlsx-rows 100000] [--xlsx-max-rows 1048575] [--naive-rows 10000]
                        [--runs 3] [--write] [--books-only] [--profile-only]

Every case runs in its own process (so its peak RSS is its own) through bookapp's real job code.
PostgreSQL cases run when TEST_DATABASE_URL is set; one worker against two on two halves of the big
file runs on PostgreSQL then, else on SQLite. Files are generated once into bench/data (the largest
XLSX takes a minute or two). The cases the issue's targets name (the raw limit, the big CSV imports,
the 100,000-row XLSX, one worker against two) run --runs times, and the table shows each one's median
run. --write saves the table to bench/RESULTS.md.
"""

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from . import data

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"


def case(name: str, *args: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "bench.cases", name, *args], cwd=ROOT, capture_output=True,
                            text=True, check=False)  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"case {name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def median_case(runs: int, name: str, *args: str) -> dict:
    """Run a case *runs* times; return the median run's outcome (by seconds), with every run's seconds."""
    outcomes = sorted((case(name, *args) for _ in range(runs)), key=lambda outcome: outcome["seconds"])
    return {**outcomes[len(outcomes) // 2], "runs": [outcome["seconds"] for outcome in outcomes]}


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    from bookapp.config import normalise_database_url

    return normalise_database_url(url)


def export_cases(url: str, work: str) -> dict:
    """Download every book of the database as CSV and as XLSX, each in its own process."""
    return {fmt: case("exports", url, work, fmt) for fmt in ("csv", "xlsx")}


#: The export speeds the issue asks for, in rows/s.
EXPORT_TARGETS = {"csv": 200_000, "xlsx": 50_000}


def exports_line(database: str, exports: dict, smaller: dict | None = None) -> str:
    """One line for the exports of every book: rows/s against the target, first byte, peak memory."""
    parts = []
    for fmt, outcome in exports.items():
        rate = outcome["rows"] / outcome["seconds"]
        part = (
            f"{fmt.upper()} {rate:,.0f} rows/s (target ≥ {EXPORT_TARGETS[fmt]:,}: "
            f"{'met' if rate >= EXPORT_TARGETS[fmt] else 'NOT met'}), {outcome['bytes'] / 2**20:,.0f} MB, first byte "
            f"after {outcome['first_byte_ms']:,.0f} ms, peak RSS {outcome['peak_rss_mb']:,.0f} MB "
            f"({outcome['rss_before_mb']:,.0f} MB before the download"
        )
        if smaller:
            part += f"; {smaller[fmt]['peak_rss_mb']:,.0f} MB for {smaller[fmt]['rows']:,} books"
        part += ")"
        if outcome.get("raw_seconds"):
            raw = outcome["rows"] / outcome["raw_seconds"]
            part += f", against {raw:,.0f} rows/s for the driver's rows straight into csv.writer ({rate / raw:.2f} ×)"
        parts.append(part)
    rows = next(iter(exports.values()))["rows"]
    return f"Export of {rows:,} books on {database} (/books/export, streamed, read to the end): {'; '.join(parts)}.\n"


def books_only(options) -> int:
    """The book list's own figures: searches, pages and exports at --rows books, on each database."""
    big = data.write_csv(DATA / f"books-{options.rows}.csv", options.rows)
    small = data.write_csv(DATA / f"books-{options.small_rows}.csv", options.small_rows)
    urls = {"SQLite": None, "PostgreSQL": postgres_url()}
    lines = []
    with tempfile.TemporaryDirectory() as work:
        urls["SQLite"] = f"sqlite:///{work}/bench.sqlite3"
        for database, url in urls.items():
            if not url:
                continue
            case("bookapp", str(small), url, work, "fresh")
            smaller = export_cases(url, work)
            case("bookapp", str(big), url, work, "fresh")
            pages = case("books_pages", url, work)
            lines.append(
                f"/books with {options.rows:,} books on {database} (median of 7): a two-word search (q=Volume 123456) "
                f"{pages['search_ms']:.1f} ms, a two-word search one of whose words every title holds "
                f"(q=4217 volume) {pages['search_common_word_ms']:.1f} ms, page 1 {pages['page_1_ms']:.1f} ms.\n"
            )
            lines.append(exports_line(database, export_cases(url, work), smaller))
    print("".join(lines))
    return 0


#: The column profile of a 1,000,000-row file (Match columns) should take at most this long, in seconds.
PROFILE_TARGET_SECONDS = 5


def profile_line(options, big: Path, small: Path) -> str:
    """The column profile Match columns shows, made with pandas: the big file's time (median of --runs)
    against the target, and the peak memory for it and for the small file (flat memory: about the same)."""
    outcome = median_case(options.runs, "profile", str(big))
    smaller = case("profile", str(small))
    met = "met" if outcome["seconds"] <= PROFILE_TARGET_SECONDS else "NOT met"
    return (
        f"Column profile of the {outcome['rows']:,}-row CSV for Match columns (pandas in chunks: samples, blank "
        f"shares, distinct values, value counts; median of {len(outcome['runs'])}): {outcome['seconds']:.2f} s "
        f"(target ≤ {PROFILE_TARGET_SECONDS} s: {met}; pd.read_csv alone, same run: {outcome['read_seconds']:.2f} s), "
        f"peak RSS {outcome['peak_rss_mb']:,.0f} MB "
        f"({smaller['peak_rss_mb']:,.0f} MB for {smaller['rows']:,} rows).\n"
    )


def profile_only(options) -> int:
    """Only the column profile's figures."""
    big = data.write_csv(DATA / f"books-{options.rows}.csv", options.rows)
    small = data.write_csv(DATA / f"books-{options.small_rows}.csv", options.small_rows)
    print(profile_line(options, big, small))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, default=100_000, help="the size memory is compared with")
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--xlsx-max-rows", type=int, default=1_048_575,
                        help="rows of the largest XLSX (Excel's limit: 1,048,576 with the header); 0 skips it")  # fmt: skip
    parser.add_argument("--naive-rows", type=int, default=10_000)
    parser.add_argument("--upload-mb", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3, help="runs of each targeted case; the table shows the median")
    parser.add_argument("--write", action="store_true", help="save the table in bench/RESULTS.md")
    parser.add_argument("--books-only", action="store_true",
                        help="only the book list's searches, pages and exports (no import cases)")  # fmt: skip
    parser.add_argument("--profile-only", action="store_true", help="only the column profile of Match columns")
    options = parser.parse_args(argv)
    if options.books_only:
        return books_only(options)
    if options.profile_only:
        return profile_only(options)

    big = data.write_csv(DATA / f"books-{options.rows}.csv", options.rows)
    small = data.write_csv(DATA / f"books-{options.small_rows}.csv", options.small_rows)
    xlsx = data.write_xlsx(DATA / f"books-{options.xlsx_rows}.xlsx", options.xlsx_rows)
    xlsx_max = options.xlsx_max_rows and data.write_xlsx(
        DATA / f"books-{options.xlsx_max_rows}.xlsx", options.xlsx_max_rows
    )
    half = options.rows // 2
    halves = [data.write_csv(DATA / f"books-{half}-from-{first}.csv", half, first=first) for first in (1, half + 1)]
    upload_rows = max(1000, options.upload_mb * 1024 * 1024 // 180)
    upload_file = data.write_csv(DATA / f"upload-{upload_rows}.csv", upload_rows)
    lines = []
    with tempfile.TemporaryDirectory() as work:
        sqlite_url = f"sqlite:///{work}/bench.sqlite3"
        runs = options.runs
        raw = median_case(runs, "raw", str(big), f"{work}/raw.sqlite3")
        naive = case("naive", str(big), sqlite_url, work, str(options.naive_rows))
        naive_rate = naive["rows"] / naive["seconds"]
        raw_rate = raw["rows"] / raw["seconds"]

        def line(name, outcome):
            if len(outcome.get("runs", [])) > 1:
                name += f" (median of {len(outcome['runs'])})"
            rate = outcome["rows"] / outcome["seconds"]
            rss = f"{outcome['peak_rss_mb']:,.0f}"
            if outcome.get("children_rss_mb"):
                rss += f" + {outcome['children_rss_mb']:,.0f}"
            lines.append((name, outcome["rows"], outcome["seconds"], rate, rss, rate / naive_rate, rate / raw_rate))

        def big_imports(database: str, url: str, again: str) -> dict:
            """The big file into an empty database three ways, then again; return the default way's outcome."""
            line(f"CSV -> {database}, all new, without the search index",
                 case("bookapp", str(big), url, work, "fresh", "off"))  # fmt: skip
            line(f"CSV -> {database}, all new, reading in the worker's own process",
                 case("bookapp", str(big), url, work, "fresh", "on", "here"))  # fmt: skip
            outcome = median_case(runs, "bookapp", str(big), url, work, "fresh")
            line(f"CSV -> {database}, all new", outcome)
            line(f"{again}, all unchanged", median_case(runs, "bookapp", str(big), url, work, "again"))
            return outcome

        line("raw limit: csv + sqlite3.executemany, no validation", raw)
        line(f"naive: pandas to_dict, validate + save per row ({options.naive_rows:,})", naive)
        fresh = big_imports("SQLite", sqlite_url, "same file again")
        pages = case("books_pages", sqlite_url, work)
        sqlite_exports = export_cases(sqlite_url, work)
        line(
            f"CSV -> SQLite, {options.small_rows:,} rows, all new",
            case("bookapp", str(small), sqlite_url, work, "fresh"),
        )
        small_exports = export_cases(sqlite_url, work)
        line(
            f"XLSX -> SQLite, {options.xlsx_rows:,} rows, all new",
            median_case(runs, "bookapp", str(xlsx), sqlite_url, work, "fresh"),
        )
        pg = postgres_url()
        if pg:
            pg_fresh = big_imports("PostgreSQL", pg, "same file again (PostgreSQL)")
            pg_pages = case("books_pages", pg, work)
            pg_exports = export_cases(pg, work)
        workers_url = pg or sqlite_url
        database = "PostgreSQL" if pg else "SQLite"
        one = median_case(runs, "workers", workers_url, work, "one", "ahead", *map(str, halves))
        two = median_case(runs, "workers", workers_url, work, "two", "ahead", *map(str, halves))
        line(f"CSV -> {database}, 2 files of {half:,}, one worker", one)
        line(f"CSV -> {database}, 2 files of {half:,}, two workers at once", two)
        one_here = case("workers", workers_url, work, "one", "here", *map(str, halves))
        two_here = case("workers", workers_url, work, "two", "here", *map(str, halves))
        line(f"CSV -> {database}, 2 files of {half:,}, one worker, each import in one process", one_here)
        line(f"CSV -> {database}, 2 files of {half:,}, two workers at once, each import in one process", two_here)
        if xlsx_max:
            limit = " (Excel's limit with the header)" if options.xlsx_max_rows == 1_048_575 else ""
            line(f"XLSX -> SQLite, {options.xlsx_max_rows:,} rows{limit}",
                 case("bookapp", str(xlsx_max), sqlite_url, work, "fresh"))  # fmt: skip
        if pg:
            case("bookapp", str(small), pg, work, "fresh")  # leave the shared database small
        uploaded = case("upload", str(upload_file), f"sqlite:///{work}/upload.sqlite3", work)
    profiled = profile_line(options, big, small)

    header = "| case | rows | seconds | rows/s | peak RSS MB (worker + reader) | × naive | × raw limit |\n|---|---:|---:|---:|---:|---:|---:|"
    table = "\n".join(
        f"| {name} | {rows:,} | {seconds:.2f} | {rate:,.0f} | {rss} | {x_naive:,.1f} | {x_raw:.2f} |"
        for name, rows, seconds, rate, rss, x_naive, x_raw in lines
    )

    def pages_line(database: str, pages: dict) -> str:
        return (
            f"/books server time with {options.rows:,} books on {database}, search and sort indexes on (median "
            f"of 7): page 1 {pages['page_1_ms']:.1f} ms, page 10,000 {pages['page_10000_ms']:.1f} ms, a two-word "
            f"search (q=Volume 123456) {pages['search_ms']:.1f} ms, a two-word search one of whose words every "
            f"title holds (q=4217 volume) {pages['search_common_word_ms']:.1f} ms, page 1 sorted by title "
            f"{pages['title_sort_ms']:.1f} ms; "
            f"deep pages through the sort index / without it, ids sorted first (median of 3) / one query with "
            f"OFFSET (median of 3): by title page 10,000 {pages['title_deep_ms']:,.1f} / "
            f"{pages['title_deep_ids_first_ms']:,.0f} / {pages['title_deep_plain_ms']:,.0f} ms, by author page "
            f"5,000 {pages['author_deep_ms']:,.1f} / {pages['author_deep_ids_first_ms']:,.0f} / "
            f"{pages['author_deep_plain_ms']:,.0f} ms.\n"
        )

    extra = (
        "\n\n"
        + pages_line("SQLite", pages)
        + (pages_line("PostgreSQL", pg_pages) if pg else "")
        + exports_line("SQLite", sqlite_exports, small_exports)
        + (exports_line("PostgreSQL", pg_exports) if pg else "")
        + f"Search and sort indexes' catch-up after the {options.rows:,}-row import (after its terminal status, "
        f"in the same job): SQLite {fresh['index_seconds']:.1f} s"
        + (f", PostgreSQL {pg_fresh['index_seconds']:.1f} s" if pg else "")
        + ".\n"
        f"Progress reporting (the import row's UPDATE in each chunk: counters, phase and checkpoint) in the "
        f"{options.rows:,}-row SQLite import: {fresh['progress_seconds']:.2f} s of {fresh['seconds']:.2f} s "
        f"({fresh['progress_seconds'] / fresh['seconds']:.1%}).\n"
        f"Two workers at once against one worker doing both files ({database}): speed-up "
        f"{one['seconds'] / two['seconds']:.2f}×"
        + (
            f"; while one worker imported, the machine's {os.cpu_count()} cores were {one['cpu_busy']:.0%} busy "
            f"(its reading process, itself and the database server)"
            if one.get("cpu_busy") is not None
            else ""
        )
        + f"; with each import in one process (BOOKAPP_IMPORT_READ_AHEAD=0): speed-up "
        f"{one_here['seconds'] / two_here['seconds']:.2f}×"
        + (
            f", one worker keeping the cores {one_here['cpu_busy']:.0%} busy"
            if one_here.get("cpu_busy") is not None
            else ""
        )
        + ".\n"
        f"Upload of a {uploaded['bytes'] / 2**20:.0f} MB CSV over loopback (stored, recorded, queued; not parsed): "
        f"{uploaded['seconds']:.2f} s.\n" + profiled
    )
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    output = f"{header}\n{table}{extra}"
    print(output)
    if options.write:
        (ROOT / "bench" / "RESULTS.md").write_text(
            f"# Benchmark results\n\n`make bench` on {dt.date.today():%Y-%m-%d}, {machine}"
            f"{', with PostgreSQL' if postgres_url() else ''}.\n\n{output}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
