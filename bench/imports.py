"""The import cases of `make bench` (bench/run.py), in one run: the table of every case, issue 18's
targets beside this run's figures, then the lines about pages, exports, catch-up, workers and upload."""

import os
import tempfile
from pathlib import Path

from . import data, targets
from .running import (
    case,
    export_cases,
    exports_line,
    median_case,
    pages_line,
    postgres_url,
    realistic_csv,
    realistic_xlsx,
    searches,
    tidy_csv,
)

HEADER = (
    "| case | rows | seconds | rows/s | peak RSS MB (worker + reader) | × naive | × raw limit |\n"
    "|---|---:|---:|---:|---:|---:|---:|"
)


def measure(options) -> str:
    rows, runs = options.rows, options.runs
    big, small = realistic_csv(rows), realistic_csv(options.small_rows)
    xlsx = realistic_xlsx(options.xlsx_rows)
    xlsx_max = options.xlsx_max_rows and realistic_xlsx(options.xlsx_max_rows)
    half = rows // 2
    halves = [str(realistic_csv(half, first=first)) for first in (1, half + 1)]
    upload_rows = max(1000, options.upload_mb * 1024 * 1024 // 200)  # about 200 bytes a realistic row
    upload_file = realistic_csv(upload_rows)
    following = realistic_csv(min(1000, rows))  # its rows are the big file's first: all unchanged
    best = tidy_csv(rows)
    huge = options.big_rows and realistic_csv(options.big_rows)
    probe, terms = searches(rows)
    pg = postgres_url()
    m: dict = {
        "rows": rows,
        "big_rows": options.big_rows,
        "big_cache_mb": options.big_rows and options.big_cache_mb,
        "xlsx_max_rows": options.xlsx_max_rows,
        "pg": pg,
    }
    lines: list[tuple] = []
    extra: list[str] = []

    with tempfile.TemporaryDirectory() as work:
        sqlite_url = f"sqlite:///{work}/bench.sqlite3"
        m["sqlite_raw"] = raw = median_case(runs, "raw", str(big), f"{work}/raw.sqlite3")
        if pg:
            m["pg_raw"] = median_case(runs, "raw_postgres", str(big), pg)
        naive = case("naive", str(big), sqlite_url, work, str(options.naive_rows))
        naive_rate, raw_rate = naive["rows"] / naive["seconds"], targets.rate(raw)

        def line(name: str, outcome: dict, limit: float = raw_rate) -> None:
            if len(outcome.get("runs", [])) > 1:
                name += f" (median of {len(outcome['runs'])})"
            rate = targets.rate(outcome)
            rss = f"{outcome['peak_rss_mb']:,.0f}"
            if outcome.get("children_rss_mb"):
                rss += f" + {outcome['children_rss_mb']:,.0f}"
            lines.append((name, outcome["rows"], outcome["seconds"], rate, rss, rate / naive_rate, rate / limit))

        def big_imports(database: str, url: str, again: str) -> tuple[dict, dict]:
            """The big file into an empty database three ways, then again; return the default way's outcomes."""
            line(f"CSV -> {database}, all new, without the search index",
                 case("bookapp", str(big), url, work, "fresh", "off"))  # fmt: skip
            line(f"CSV -> {database}, all new, reading in the worker's own process",
                 case("bookapp", str(big), url, work, "fresh", "on", "here"))  # fmt: skip
            fresh = median_case(runs, "bookapp", str(big), url, work, "fresh")
            line(f"CSV -> {database}, all new", fresh)
            unchanged = median_case(runs, "bookapp", str(big), url, work, "again")
            line(f"{again}, all unchanged", unchanged)
            return fresh, unchanged

        def worker_cases(database: str, url: str) -> None:
            """One worker against two on the two halves of the big file."""
            key = database.lower()
            one = m[f"{key}_one_worker"] = median_case(runs, "workers", url, work, "one", "ahead", *halves)
            two = m[f"{key}_two_workers"] = median_case(runs, "workers", url, work, "two", "ahead", *halves)
            line(f"CSV -> {database}, 2 files of {half:,}, one worker", one)
            line(f"CSV -> {database}, 2 files of {half:,}, two workers at once", two)
            one_here = case("workers", url, work, "one", "here", *halves)
            two_here = case("workers", url, work, "two", "here", *halves)
            line(f"CSV -> {database}, 2 files of {half:,}, one worker, each import in one process", one_here)
            line(f"CSV -> {database}, 2 files of {half:,}, two workers at once, each import in one process", two_here)
            busy = lambda o: f", one worker keeping the cores {o['cpu_busy']:.0%} busy" if o.get("cpu_busy") else ""  # noqa: E731
            extra.append(
                f"Two workers at once against one worker doing both files ({database}): speed-up "
                f"{one['seconds'] / two['seconds']:.2f}×{busy(one)} (its reading process, itself and the database "
                f"server on {os.cpu_count()} cores); with each import in one process (BOOKAPP_IMPORT_READ_AHEAD=0): "
                f"speed-up {one_here['seconds'] / two_here['seconds']:.2f}×{busy(one_here)}.\n"
            )

        line("raw limit: csv + sqlite3.executemany, unique ISBN index, no validation", raw)
        if pg:
            line("raw PostgreSQL limit: csv + psycopg COPY, unique ISBN index, no validation", m["pg_raw"])
        line(f"naive: pandas to_dict, validate + save per row ({options.naive_rows:,})", naive)
        m["sqlite_new"], m["sqlite_again"] = big_imports("SQLite", sqlite_url, "same file again")
        extra.append(pages_line(rows, "SQLite", case("books_pages", sqlite_url, work, *terms), probe))
        sqlite_exports = export_cases(sqlite_url, work)
        m["sqlite_small"] = case("bookapp", str(small), sqlite_url, work, "fresh")
        line(f"CSV -> SQLite, {options.small_rows:,} rows, all new", m["sqlite_small"])
        extra.append(exports_line("SQLite", sqlite_exports, export_cases(sqlite_url, work)))
        best_raw = case("raw", str(best), f"{work}/raw-best.sqlite3")
        line("best case: sorted ISBNs, tidy values (CSV -> SQLite, all new; × raw limit of its own file)",
             case("bookapp", str(best), sqlite_url, work, "fresh"), targets.rate(best_raw))  # fmt: skip
        m["xlsx"] = median_case(runs, "bookapp", str(xlsx), sqlite_url, work, "fresh")
        line(f"XLSX -> SQLite, {options.xlsx_rows:,} rows, all new", m["xlsx"])
        m["calamine"] = median_case(runs, "calamine", str(xlsx))
        line(f"python-calamine reading the {options.xlsx_rows:,}-row XLSX, nothing stored", m["calamine"])
        m["sqlite_searchable"] = median_case(runs, "searchable", str(big), sqlite_url, work, str(following))
        m["sqlite_search_limit"] = median_case(runs, "search_limit", str(big), f"{work}/raw-search.sqlite3")
        line("search index limit: the file's titles and authors into a new FTS5 trigram table, one INSERT",
             m["sqlite_search_limit"])  # fmt: skip
        if pg:
            m["pg_new"], _ = big_imports("PostgreSQL", pg, "same file again (PostgreSQL)")
            extra.append(pages_line(rows, "PostgreSQL", case("books_pages", pg, work, *terms), probe))
            extra.append(exports_line("PostgreSQL", export_cases(pg, work)))
            m["pg_searchable"] = median_case(runs, "searchable", str(big), pg, work, str(following))
            m["pg_search_limit"] = median_case(runs, "search_limit_postgres", str(big), pg)
            line("search index limit (PostgreSQL): a copy of titles and authors and its two trigram GIN "
                 "indexes built at once", m["pg_search_limit"])  # fmt: skip
        worker_cases("SQLite", sqlite_url)
        if pg:
            worker_cases("PostgreSQL", pg)
        if xlsx_max:
            limit = " (Excel's limit with the header)" if options.xlsx_max_rows == 1_048_575 else ""
            m["xlsx_max"] = case("bookapp", str(xlsx_max), sqlite_url, work, "fresh")
            line(f"XLSX -> SQLite, {options.xlsx_max_rows:,} rows{limit}", m["xlsx_max"])
        if huge:
            # Past the upload cap: the CLI import (a queued job run by `flask worker --burst`) when
            # REDIS_URL names a Redis for its queue, else the same job code run here.
            how = ("cli_import", " (CLI import)") if os.environ.get("REDIS_URL") else ("bookapp", "")

            def big_import(path: Path, url: str) -> dict:
                return case(how[0], str(path), url, work, *([] if how[0] == "cli_import" else ["fresh"]))

            def growth(database: str, key: str, url: str, pairs: int = 1) -> None:
                """The big file, and the --rows file the same way (like with like: the CLI import has
                three processes, the job code run here two), for the 5M-against-1M target. With *pairs*
                above one, the two are run in turn that many times and the pair whose ratio of rows/s is
                the median kept: a busy machine's drift slows both of a pair alike."""
                alike = how[0] == "cli_import" or key == "sqlite_cache" or pairs > 1  # else like the --rows import
                found = [(big_import(huge, url), big_import(big, url) if alike else None) for _ in range(pairs)]
                ratio = lambda pair: targets.rate(pair[0]) / targets.rate(pair[1])  # noqa: E731
                if alike:
                    found.sort(key=ratio)
                kept, base = found[(len(found) - 1) // 2]  # of an even number, the lower of the middle two
                median = f" (the median pair of {pairs} run in turn)" if pairs > 1 else ""
                m[f"{key}_big"] = kept
                line(f"CSV -> {database}, {options.big_rows:,} rows, all new{how[1]}{median}", kept)
                if base:
                    m[f"{key}_big_base"] = base
                    line(f"CSV -> {database}, {rows:,} rows, all new{how[1]}{median}", base)
                if pairs > 1:
                    kept["pair_ratios"] = [ratio(pair) for pair in found]

            growth("SQLite", "sqlite", sqlite_url, runs)
            if options.big_cache_mb:
                # The same two imports with the SQLite page cache an operator may give a big catalogue's
                # imports: the ISBN index of 5,000,000 books outgrows the default's.
                os.environ["BOOKAPP_SQLITE_IMPORT_CACHE_MB"] = str(options.big_cache_mb)
                try:
                    growth(f"SQLite, {options.big_cache_mb} MB import cache", "sqlite_cache", sqlite_url)
                finally:
                    del os.environ["BOOKAPP_SQLITE_IMPORT_CACHE_MB"]
            case("bookapp", str(small), sqlite_url, work, "fresh")  # free the disk
            if pg:
                growth("PostgreSQL", "pg", pg, runs)
        if pg:
            case("bookapp", str(small), pg, work, "fresh")  # leave the shared database small
        uploaded = case("upload", str(upload_file), f"sqlite:///{work}/upload.sqlite3", work)

    table = "\n".join(
        f"| {name} | {count:,} | {seconds:.2f} | {rate:,.0f} | {rss} | {x_naive:,.1f} | {x_raw:.2f} |"
        for name, count, seconds, rate, rss, x_naive, x_raw in lines
    )
    fresh = m["sqlite_new"]

    def tail(outcome: dict) -> str:
        return f"{outcome['index_seconds']:.1f} s ({outcome['index_seconds'] / outcome['seconds']:.2f} × the import's)"

    catch_up = (
        f"Search and sort indexes' catch-up after the {rows:,}-row import (run on its own after the import, as "
        f"the indexes' worker runs its catch-up job, beside later imports): SQLite {tail(fresh)}"
        + (f", PostgreSQL {tail(m['pg_new'])}" if pg else "")
        + ".\n"
        f"Progress reporting (the import row's UPDATE in each chunk: counters, phase and checkpoint) in the "
        f"{rows:,}-row SQLite import: {fresh['progress_seconds']:.2f} s of {fresh['seconds']:.2f} s "
        f"({fresh['progress_seconds'] / fresh['seconds']:.1%}).\n"
        f"Upload of a {uploaded['bytes'] / 2**20:.0f} MB CSV over loopback (stored, recorded, queued; not parsed): "
        f"{uploaded['seconds']:.2f} s.\n"
    )
    return (
        f"Realistic data (bench/data.py, seed {data.SEED}): ISBNs in random order, authors and titles repeating as in "
        f"a catalogue, 10 % blank page counts, blank and long descriptions.\n\n{HEADER}\n{table}\n\n"
        f"## Targets (issue 18), on the realistic data, each ratio from this run\n\n{targets.table(m)}\n\n"
        + "".join(extra)
        + catch_up
    )
