"""Issue 18's targets, each beside this run's figure: every ratio is of two measurements of the same run.

`make bench` fills *measured* with its cases' outcomes (each target's case the median of --runs) and
prints ``table(measured)``. A target whose measurement is missing (no PostgreSQL, a size skipped) says
so instead of a figure.
"""

import math
from dataclasses import dataclass

#: A MB of peak memory: issue 4's memory targets, which issue 18 keeps.
CSV_MEMORY_MB, CSV_MEMORY_GROWTH_MB, XLSX_MEMORY_MB = 300, 50, 1024
#: How long the next import may wait for the worker once the books are saved: at once, give or take polling.
NEXT_WAIT_SECONDS = 1.0


@dataclass
class Row:
    case: str
    target: str
    figure: str
    met: bool | None  # None: not measured


def rate(outcome: dict) -> float:
    return outcome["rows"] / outcome["seconds"]


def at_least(ratio: float) -> str:
    """A ratio for a "≥" target, rounded down: 0.698 shows as 0.69, not as a 0.70 that is not met."""
    return f"{math.floor(ratio * 100) / 100:.2f}"


def at_most(ratio: float) -> str:
    """A ratio for a "≤" target, rounded up."""
    return f"{math.ceil(ratio * 100) / 100:.2f}"


def _ratio_row(case: str, minimum: float, part: dict | None, whole: dict | None, of: str, missing: str) -> Row:
    """A "≥ minimum × the limit" row: rows/s of *part* against rows/s of *whole*."""
    if not (part and whole):
        return Row(case, f"≥ {minimum:.2f} × {of}", f"not measured: {missing}", None)
    ratio = rate(part) / rate(whole)
    figure = f"{at_least(ratio)} × ({rate(part):,.0f} against {rate(whole):,.0f} rows/s)"
    return Row(case, f"≥ {minimum:.2f} × {of}", figure, ratio >= minimum)


def _searchable_row(database: str, rows: int, outcome: dict | None, missing: str, limit: dict | None = None) -> Row:
    case = f"time from upload to every book searchable, {rows:,} rows, {database}"
    target = f"≤ 1.3 × the import's own time, and the next import waits ≤ {NEXT_WAIT_SECONDS:g} s for the worker"
    if not outcome:
        return Row(case, target, f"not measured: {missing}", None)
    ratio = outcome["searchable_seconds"] / outcome["seconds"]
    sorted_ = outcome.get("sorted_seconds", outcome["searchable_seconds"])
    figure = (f"{at_most(ratio)} × (import {outcome['seconds']:.1f} s, every book searchable after "
              f"{outcome['searchable_seconds']:.1f} s, and in the sort index after {sorted_:.1f} s, "
              f"{sorted_ / outcome['seconds']:.2f} ×); the next import waited {outcome['next_wait_seconds']:.1f} s for a "
              f"worker (its upload's write {outcome.get('next_queue_seconds', 0):.1f} s for the database)")  # fmt: skip
    if limit:  # the database's own cost of the index, after an import that keeps the cores busy
        best = (outcome["seconds"] + limit["seconds"]) / outcome["seconds"]
        figure += (f"; the index's own limit on these books is {limit['seconds']:.1f} s, so after this import "
                   f"no catch-up can do better than {best:.2f} ×")  # fmt: skip
    return Row(case, target, figure, ratio <= 1.3 and outcome["next_wait_seconds"] <= NEXT_WAIT_SECONDS)


def _growth_row(database: str, rows: tuple[int, int], small: dict | None, big: dict | None, missing: str) -> Row:
    case = f"{rows[1]:,} rows against {rows[0]:,}, {database}"
    target = f"rows/s at most 20 % lower; peak memory within {CSV_MEMORY_GROWTH_MB} MB"
    if not (small and big):
        return Row(case, target, f"not measured: {missing}", None)
    ratio = rate(big) / rate(small)
    growth = big["peak_pss_mb"] - small["peak_pss_mb"]
    figure = (f"{at_least(ratio)} × the rows/s ({rate(big):,.0f} against {rate(small):,.0f}); peak PSS "
              f"{big['peak_pss_mb']:,.0f} MB against {small['peak_pss_mb']:,.0f} MB ({growth:+,.0f} MB)")  # fmt: skip
    if len(big.get("pair_ratios", [])) > 1:
        figure += f"; the median of {len(big['pair_ratios'])} pairs run in turn: " + ", ".join(
            f"{r:.2f} ×" for r in big["pair_ratios"]
        )
    return Row(case, target, figure, ratio >= 0.8 and growth <= CSV_MEMORY_GROWTH_MB)


def rows(m: dict) -> list[Row]:
    """The targets' rows from the measured outcomes *m* (see run.py for the keys)."""
    no_pg = "TEST_DATABASE_URL is not set"
    n = m["rows"]
    found = [
        _ratio_row(f"{n:,}-row CSV → SQLite, all new", 0.7, m["sqlite_new"], m["sqlite_raw"],
                   "the raw limit on the same file", ""),
        _ratio_row("same file again, all unchanged", 0.7, m["sqlite_again"], m["sqlite_raw"],
                   "the raw limit on the same file", ""),
        _ratio_row(f"{n:,}-row CSV → PostgreSQL, all new", 0.5, m.get("pg_new"), m.get("pg_raw"),
                   "a raw PostgreSQL limit (csv + psycopg COPY, unique ISBN index)", no_pg),
        _searchable_row("SQLite", n, m["sqlite_searchable"], "", m.get("sqlite_search_limit")),
        _searchable_row("PostgreSQL", n, m.get("pg_searchable"), no_pg, m.get("pg_search_limit")),
    ]  # fmt: skip
    one, two = m["sqlite_one_worker"], m["sqlite_two_workers"]
    speed_up = one["seconds"] / two["seconds"]
    found.append(Row(f"two workers, 2 files of {n // 2:,}, SQLite", "≥ 1.00 × one worker",
                     f"{at_least(speed_up)} × ({two['seconds']:.2f} s against {one['seconds']:.2f} s)", speed_up >= 1.0))  # fmt: skip
    skipped = "--big-rows 0"
    sizes = (n, m["big_rows"] or 5_000_000)
    found.append(_growth_row("SQLite", sizes, m.get("sqlite_big_base", m["sqlite_new"]), m.get("sqlite_big"), skipped))
    if m.get("big_cache_mb"):
        found.append(_growth_row(f"SQLite, with BOOKAPP_SQLITE_IMPORT_CACHE_MB={m['big_cache_mb']}", sizes,
                                 m.get("sqlite_cache_big_base"), m.get("sqlite_cache_big"), skipped))  # fmt: skip
    found.append(
        _growth_row(
            "PostgreSQL",
            sizes,
            m.get("pg_big_base", m.get("pg_new")),
            m.get("pg_big"),
            no_pg if not m.get("pg") else skipped,
        )
    )
    found.append(_ratio_row(f"{m['xlsx']['rows']:,}-row XLSX → SQLite", 0.5, m["xlsx"], m["calamine"],
                            "python-calamine's own read speed of that file", ""))  # fmt: skip
    small, big = m["sqlite_small"], m["sqlite_new"]
    found.append(Row(
        f"memory, CSV → SQLite, {n:,} rows (worker and reading process, peak PSS)",
        f"≤ {CSV_MEMORY_MB} MB and within {CSV_MEMORY_GROWTH_MB} MB of {small['rows']:,} rows",
        f"{big['peak_pss_mb']:,.0f} MB; {small['peak_pss_mb']:,.0f} MB at {small['rows']:,} rows",
        big["peak_pss_mb"] <= CSV_MEMORY_MB and big["peak_pss_mb"] - small["peak_pss_mb"] <= CSV_MEMORY_GROWTH_MB,
    ))  # fmt: skip
    xlsx_max = m.get("xlsx_max")
    found.append(Row(
        f"memory, XLSX → SQLite at {m['xlsx_max_rows'] or 1_048_575:,} rows (Excel's limit: 1,048,575)",
        f"≤ {XLSX_MEMORY_MB:,} MB",
        f"{xlsx_max['peak_pss_mb']:,.0f} MB" if xlsx_max else "not measured: --xlsx-max-rows 0",
        xlsx_max["peak_pss_mb"] <= XLSX_MEMORY_MB if xlsx_max else None,
    ))  # fmt: skip
    return found


def table(m: dict) -> str:
    """The targets as a Markdown table."""
    lines = ["| case | target | this run | |", "|---|---|---|---|"]
    for row in rows(m):
        verdict = "not measured" if row.met is None else "met" if row.met else "**NOT met**"
        lines.append(f"| {row.case} | {row.target} | {row.figure} | {verdict} |")
    return "\n".join(lines)
