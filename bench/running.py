"""Running bench cases: the realistic files (made once into bench/data), one case in a process of its
own with its memory sampled, PostgreSQL's URL, and the lines that report the book list's figures."""

import functools
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from . import data
from .memory import process_tree, pss_mb

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"


def _generated(path: Path, *args: object) -> Path:
    """Write a data file once, in a process of its own: a case's peak RSS starts at its parent's."""
    if not path.exists():
        subprocess.run([sys.executable, "-m", "bench.data", *map(str, args)], cwd=ROOT, check=True)
    return path


def realistic_csv(rows: int, first: int = 1) -> Path:
    start = f"-from-{first}" if first != 1 else ""
    path = DATA / f"realistic-v{data.VERSION}-{rows}{start}.csv"
    return _generated(path, "realistic", path, rows, first)


def realistic_xlsx(rows: int) -> Path:
    path = DATA / f"realistic-v{data.VERSION}-{rows}.xlsx"
    return _generated(path, "xlsx", path, rows)


def tidy_csv(rows: int) -> Path:
    path = DATA / f"books-{rows}.csv"
    return _generated(path, "tidy", path, rows)


def case(name: str, *args: str) -> dict:
    """Run one case in its own process; add the peak PSS of its processes together (sampled 5 times a second)
    and count the CPU seconds they used (on a busy machine a steadier measure of work than the wall clock)."""
    os.sync()  # what earlier cases left for the disk is written now, not during this one
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen([sys.executable, "-m", "bench.cases", name, *args], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    peak = 0.0
    while True:
        try:
            stdout, stderr = process.communicate(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            peak = max(peak, sum(pss_mb(pid) for pid in process_tree(process.pid)))
    if process.returncode != 0:
        raise SystemExit(f"case {name} failed:\n{stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {**json.loads(stdout.strip().splitlines()[-1]), "peak_pss_mb": peak, "cpu_seconds": cpu}


def median_case(runs: int, name: str, *args: str) -> dict:
    """Run a case *runs* times; return the median run's outcome (by seconds), with every run's seconds."""
    outcomes = sorted((case(name, *args) for _ in range(runs)), key=lambda outcome: outcome["seconds"])
    return {**outcomes[len(outcomes) // 2], "runs": [outcome["seconds"] for outcome in outcomes]}


@functools.cache
def postgres_url() -> str | None:
    """TEST_DATABASE_URL as bookapp spells it, worked out in a child process: importing bookapp here
    would make this process 45 MB larger, and a case's peak RSS starts at its parent's."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    code = "import sys; from bookapp.config import normalise_database_url as n; print(n(sys.argv[1]))"
    found = subprocess.run([sys.executable, "-c", code, url], cwd=ROOT, capture_output=True, text=True, check=True)
    return found.stdout.strip()


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


def searches(rows: int) -> tuple[dict, list[str]]:
    """The book near the middle of the big file, and the two searches made from its title and author."""
    found = subprocess.run([sys.executable, "-m", "bench.data", "probe", str(rows)], cwd=ROOT, check=True,
                           capture_output=True, text=True)  # fmt: skip
    probe = json.loads(found.stdout)
    return probe, [probe["search"], probe["common"]]


def pages_line(rows: int, database: str, pages: dict, probe: dict) -> str:
    return (
        f"/books server time with {rows:,} books on {database}, search and sort indexes on (median "
        f"of 7): page 1 {pages['page_1_ms']:.1f} ms, page 10,000 {pages['page_10000_ms']:.1f} ms, a two-word "
        f"search from a title near the middle of the file (q={probe['search']}) {pages['search_ms']:.1f} ms, "
        f"the same with a word most titles hold (q={probe['common']}) {pages['search_common_word_ms']:.1f} ms, "
        f"page 1 sorted by title {pages['title_sort_ms']:.1f} ms; "
        f"deep pages through the sort index / without it, ids sorted first (median of 3) / one query with "
        f"OFFSET (median of 3): by title page 10,000 {pages['title_deep_ms']:,.1f} / "
        f"{pages['title_deep_ids_first_ms']:,.0f} / {pages['title_deep_plain_ms']:,.0f} ms, by author page "
        f"5,000 {pages['author_deep_ms']:,.1f} / {pages['author_deep_ids_first_ms']:,.0f} / "
        f"{pages['author_deep_plain_ms']:,.0f} ms.\n"
    )
