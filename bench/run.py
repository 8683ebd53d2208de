"""`make bench`: bookapp's import speed and memory next to the naive pattern and the raw limits, in one
run, on realistic data; issue 18's targets beside this run's figures; then the book list's pages,
searches and exports at that many books.

    python -m bench.run [--rows 1000000] [--xlsx-rows 100000] [--xlsx-max-rows 1048575] [--naive-rows 10000]
                        [--big-rows 5000000] [--big-cache-mb 128] [--runs 3] [--write] [--books-only] [--profile-only]
                        [--sizes-only]

Every file is realistic (bench/data.py: ISBNs in random order, authors and titles repeating as in a
catalogue, blank and long cells), generated once into bench/data; one extra line imports the tidy
file of earlier runs (sorted ISBNs, tidy values) as the best case. Every case runs in its own process
(so its peak memory is its own; the table's memory column is peak RSS, the targets' is the peak PSS
of the case's processes together, which counts shared pages once) through bookapp's real job code.
PostgreSQL cases run when TEST_DATABASE_URL is set. The cases the targets name run --runs times and
each shows its median run; the --big-rows import runs in turn with the --rows import --runs times on
SQLite and PostgreSQL, the pair of the median ratio kept (the one with --big-cache-mb once); the largest
XLSX runs once. --write saves the output to bench/RESULTS.md.
"""

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
from pathlib import Path

from .running import (
    ROOT,
    case,
    export_cases,
    exports_line,
    median_case,
    pages_line,
    postgres_url,
    realistic_csv,
    searches,
)


def books_only(options) -> int:
    """The book list's own figures: searches, pages and exports at --rows books, on each database."""
    big, small = realistic_csv(options.rows), realistic_csv(options.small_rows)
    probe, terms = searches(options.rows)
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
            lines.append(pages_line(options.rows, database, case("books_pages", url, work, *terms), probe))
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


def options_from(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, default=100_000, help="the size memory is compared with")
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--xlsx-max-rows", type=int, default=1_048_575,
                        help="rows of the largest XLSX (Excel's limit: 1,048,576 with the header); 0 skips it")  # fmt: skip
    parser.add_argument("--big-rows", type=int, default=5_000_000,
                        help="rows of the import whose rows/s and memory are compared with --rows; 0 skips it")  # fmt: skip
    parser.add_argument("--big-cache-mb", type=int, default=128,
                        help="the SQLite import cache (BOOKAPP_SQLITE_IMPORT_CACHE_MB) of a second pair of --big-rows "
                        "and --rows imports; 0 skips them")  # fmt: skip
    parser.add_argument("--naive-rows", type=int, default=10_000)
    parser.add_argument("--upload-mb", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3, help="runs of each targeted case; the table shows the median")
    parser.add_argument("--write", action="store_true", help="save the output in bench/RESULTS.md")
    parser.add_argument("--books-only", action="store_true",
                        help="only the book list's searches, pages and exports (no import cases)")  # fmt: skip
    parser.add_argument("--profile-only", action="store_true", help="only the column profile of Match columns")
    parser.add_argument("--sizes-only", action="store_true",
                        help="only the CLI import of --small-rows, --rows and --big-rows rows on each database")  # fmt: skip
    return parser.parse_args(argv)


def main(argv=None) -> int:
    options = options_from(argv)
    if options.books_only:
        return books_only(options)
    if options.sizes_only:
        from .sizes import sizes

        print(sizes(options))
        return 0
    profile = profile_line(options, realistic_csv(options.rows), realistic_csv(options.small_rows))
    if options.profile_only:
        print(profile)
        return 0
    from .imports import measure

    output = measure(options) + "\n" + profile
    print(output)
    if options.write:
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        (ROOT / "bench" / "RESULTS.md").write_text(
            f"# Benchmark results\n\n`make bench` on {dt.date.today():%Y-%m-%d}, {machine}"
            f"{', with PostgreSQL' if postgres_url() else ''}.\n\n{output}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
