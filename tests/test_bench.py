"""The bench's realistic data is realistic and importable, its targets table judges each figure against
its target, and a small run of the benchmark and the load script keeps working (no timing is asserted)."""

import csv
import itertools
import re
import subprocess
import sys

import pytest

from bench import data, targets
from bench.realism import check
from tests.conftest import ROOT


def realistic(path, rows: int, first: int = 1, seed: int = data.SEED) -> list[list[str]]:
    data.write_realistic_csv(path, rows, first=first, seed=seed)
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))[1:]


def test_the_same_seed_writes_the_same_bytes_and_another_seed_other_rows(tmp_path):
    data.write_realistic_csv(tmp_path / "a.csv", 3000)
    data.write_realistic_csv(tmp_path / "b.csv", 3000)
    data.write_realistic_csv(tmp_path / "c.csv", 3000, seed=data.SEED + 1)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()


def test_the_two_halves_of_a_file_are_its_first_and_second_half(tmp_path):
    whole = realistic(tmp_path / "whole.csv", 10_000)
    first, second = realistic(tmp_path / "1.csv", 5_000), realistic(tmp_path / "2.csv", 5_000, first=5_001)
    assert first + second == whole


def test_the_workbook_holds_the_same_books_and_is_the_same_bytes_each_time(tmp_path):
    data.write_realistic_xlsx(tmp_path / "a.xlsx", 2_000)
    data.write_realistic_xlsx(tmp_path / "b.xlsx", 2_000)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert check(tmp_path / "a.xlsx") == (2_000, 0, 0)


def test_every_realistic_row_imports_and_no_isbn_repeats(tmp_path):
    data.write_realistic_csv(tmp_path / "books.csv", 20_000)
    assert check(tmp_path / "books.csv") == (20_000, 0, 0)


def test_the_realistic_values_are_spread_as_in_a_catalogue(tmp_path):
    rows = realistic(tmp_path / "books.csv", 20_000)
    titles, authors, _, isbns, years, prices, pages, quantities, descriptions = zip(*rows, strict=True)
    plain = [int(i) for i in isbns if len(i) == 13 and i.isdigit()]
    ascending = sum(a < b for a, b in itertools.pairwise(plain)) / len(plain)
    assert 0.4 < ascending < 0.6, "ISBNs in random order"
    assert 0.7 < len(plain) / len(isbns) < 0.95
    assert any("-" in i for i in isbns) and any(len(i) == 10 for i in isbns)
    assert 0.03 < sum(i.replace("-", "").startswith("979") for i in isbns) / len(isbns) < 0.15
    assert 0.08 < pages.count("") / len(pages) < 0.12
    assert 0.15 < descriptions.count("") / len(descriptions) < 0.3
    assert any(len(d) > 2000 and "\n" in d and '"' in d and "," in d for d in descriptions)
    assert len(set(authors)) < 0.6 * len(authors), "authors repeat"
    assert max(authors.count(a) for a in set(authors[:100])) < 0.01 * len(authors), "no author in most rows"
    assert len(set(titles)) < len(titles), "some titles repeat"
    assert min(len(t.split()) for t in titles) >= 2 and max(len(t.split()) for t in titles) >= 7
    middle = sorted(float(p) for p in prices)[len(prices) // 2]
    assert 8 <= middle <= 20 and sum(p.endswith(".99") for p in prices) > len(prices) / 3
    assert min(map(int, years)) < 1700 and sorted(map(int, years))[len(years) // 2] > 1990
    assert quantities.count("0") > 0 and max(map(int, quantities)) > 100


def test_the_searches_are_made_from_a_book_near_the_middle_of_the_file():
    probe = data.Catalogue().probe(20_000)
    book = (probe["title"] + " " + probe["author"]).lower()
    assert all(word in book for word in probe["search"].split()), probe
    assert probe["common"].startswith("the ") and probe["common"].split()[1] in book, probe
    assert re.fullmatch(r"\w+ \w+", probe["search"]), probe


def measured(**changes) -> dict:
    """Outcomes as `make bench` gathers them (keys of bench/imports.py), every target met unless changed."""
    run = lambda rows, seconds, pss=100.0, **more: {"rows": rows, "seconds": seconds, "peak_pss_mb": pss, **more}  # noqa: E731
    found = {
        "rows": 1_000_000, "big_rows": 5_000_000, "xlsx_max_rows": 1_048_575, "pg": "postgresql://", "sqlite_raw": run(1_000_000, 4.0),
        "sqlite_new": run(1_000_000, 5.0, 140), "sqlite_again": run(1_000_000, 5.0),
        "pg_raw": run(1_000_000, 2.0), "pg_new": run(1_000_000, 3.0, 150),
        "sqlite_searchable": run(1_000_000, 5.0, searchable_seconds=6.0, next_wait_seconds=0.1),
        "pg_searchable": run(1_000_000, 5.0, searchable_seconds=6.0, next_wait_seconds=0.1),
        "sqlite_one_worker": run(1_000_000, 6.0), "sqlite_two_workers": run(1_000_000, 5.0),
        "sqlite_big": run(5_000_000, 26.0, 160), "pg_big": run(5_000_000, 16.0, 170),
        "xlsx": run(100_000, 0.7), "calamine": run(100_000, 0.4), "sqlite_small": run(100_000, 0.5, 110),
        "xlsx_max": run(1_048_575, 12.0, 700),
    }  # fmt: skip
    return {**found, **changes}


def verdicts(m: dict) -> dict[str, bool | None]:
    return {row.case: row.met for row in targets.rows(m)}


def test_the_targets_table_says_met_only_for_figures_that_meet_their_target():
    assert set(verdicts(measured()).values()) == {True}
    assert "NOT met" not in targets.table(measured())
    slow = verdicts(measured(sqlite_new={"rows": 1_000_000, "seconds": 20.0, "peak_pss_mb": 140}))
    assert slow["1,000,000-row CSV → SQLite, all new"] is False
    just_under = measured(sqlite_new={"rows": 1_000_000, "seconds": 1_000_000 / 174_500, "peak_pss_mb": 140})
    row = next(r for r in targets.rows(just_under) if r.case == "1,000,000-row CSV → SQLite, all new")
    assert row.met is False and row.figure.startswith("0.69 ×"), row  # 0.698 × is not shown as a 0.70 not met
    busy = measured(sqlite_searchable={"rows": 1_000_000, "seconds": 5.0, "searchable_seconds": 6.0,
                                       "next_wait_seconds": 12.0})  # fmt: skip
    assert verdicts(busy)["time from upload to every book searchable, 1,000,000 rows, SQLite"] is False
    bounded = measured(sqlite_search_limit={"rows": 1_000_000, "seconds": 2.5})
    row = next(r for r in targets.rows(bounded) if r.case.endswith("searchable, 1,000,000 rows, SQLite"))
    assert "own limit on these books is 2.5 s" in row.figure and "better than 1.50 ×" in row.figure, row
    fighting = verdicts(measured(sqlite_two_workers={"rows": 1_000_000, "seconds": 9.0}))
    assert fighting["two workers, 2 files of 500,000, SQLite"] is False
    growing = verdicts(measured(sqlite_big={"rows": 5_000_000, "seconds": 26.0, "peak_pss_mb": 260}))
    assert growing["5,000,000 rows against 1,000,000, SQLite"] is False
    assert "**NOT met**" in targets.table(measured(xlsx={"rows": 100_000, "seconds": 3.0}))


def test_a_target_without_its_measurement_says_so_instead_of_a_figure():
    m = measured(pg=None, big_rows=0, xlsx_max_rows=0)
    for key in ("pg_raw", "pg_new", "pg_searchable", "pg_big", "sqlite_big", "xlsx_max"):
        del m[key]
    found = {row.case: row for row in targets.rows(m)}
    assert found["1,000,000-row CSV → PostgreSQL, all new"].met is None
    assert "TEST_DATABASE_URL is not set" in found["1,000,000-row CSV → PostgreSQL, all new"].figure
    assert "--big-rows 0" in found["5,000,000 rows against 1,000,000, SQLite"].figure
    assert "not measured" in targets.table(m)


@pytest.mark.slow
def test_the_benchmark_runs_every_case_at_a_small_size(postgres_url):
    postgres = {"TEST_DATABASE_URL": postgres_url} if postgres_url else {}
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--rows", "3000", "--small-rows", "1000", "--xlsx-rows", "500",
         "--xlsx-max-rows", "600", "--big-rows", "4000", "--naive-rows", "200", "--upload-mb", "1", "--runs", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, env={"PATH": "/usr/bin:/bin", **postgres},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    if postgres:
        assert "CSV -> PostgreSQL, all new, reading in the worker's own process" in result.stdout
        assert "same file again (PostgreSQL), all unchanged" in result.stdout
        assert "books on PostgreSQL, search and sort indexes on" in result.stdout
        assert "Export of 3,000 books on PostgreSQL" in result.stdout
        assert "raw PostgreSQL limit: csv + psycopg COPY" in result.stdout
        assert "search index limit (PostgreSQL): a copy of titles and authors" in result.stdout
        assert "TEST_DATABASE_URL is not set" not in result.stdout
    for case in (
        "raw limit",
        "naive",
        "CSV -> SQLite, all new",
        "CSV -> SQLite, all new (median of 2)",
        "CSV -> SQLite, all new, reading in the worker's own process",
        "same file again, all unchanged",
        "best case: sorted ISBNs, tidy values",
        "deep pages through the sort index / without it, ids sorted first",
        "Search and sort indexes' catch-up",
        "XLSX -> SQLite",
        "python-calamine reading the 500-row XLSX",
        "/books server time",
        "two workers at once",
        "Progress reporting",
        "a two-word search from a title near the middle of the file",
        "Export of 3,000 books on SQLite",
        "Column profile of the 3,000-row CSV for Match columns",
        "XLSX",
        "CSV -> SQLite, 4,000 rows, all new (the median pair of 2 run in turn)",
        "CSV -> SQLite, 3,000 rows, all new (the median pair of 2 run in turn)",
        "## Targets (issue 18)",
        "time from upload to every book searchable, 3,000 rows, SQLite",
        "search index limit: the file's titles and authors into a new FTS5 trigram table",
        "so after this import no catch-up can do better than",
        "4,000 rows against 3,000, SQLite",
        "; the median of 2 pairs run in turn: ",
        "4,000 rows against 3,000, SQLite, with BOOKAPP_SQLITE_IMPORT_CACHE_MB=128",
        "CSV -> SQLite, 128 MB import cache, 4,000 rows, all new",
        "memory, XLSX → SQLite at 600 rows",
    ):
        assert case in result.stdout
    targets_table = result.stdout.split("## Targets")[1].split("\n\n")[1]
    assert len(targets_table.splitlines()) == 2 + 12  # its header and one row per target
    assert all(
        line.endswith(("| met |", "| **NOT met** |", "| not measured |")) for line in targets_table.splitlines()[2:]
    )


@pytest.mark.slow
def test_the_sizes_table_puts_the_raw_limit_beside_each_cli_import(postgres_url, redis_url):
    postgres = {"TEST_DATABASE_URL": postgres_url} if postgres_url else {}
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--sizes-only", "--small-rows", "300", "--rows", "600", "--big-rows", "900"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={"PATH": "/usr/bin:/bin", "REDIS_URL": redis_url, **postgres},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {
        line.split("|")[1].strip(): line.split("|")[2:-1] for line in result.stdout.splitlines() if "rows |" in line
    }
    for database in ("SQLite", "PostgreSQL") if postgres else ("SQLite",):
        for n in (300, 600, 900):
            cells = [cell.strip() for cell in rows[f"{database}, {n:,} rows"]]
            assert cells[0] == f"{n:,}"  # every row imported
            bookapp_rate, raw_rate = (float(cell.replace(",", "")) for cell in (cells[2], cells[4]))
            assert abs(float(cells[5].removesuffix(" ×")) - bookapp_rate / raw_rate) <= 0.01  # the rates are rounded
            searchable, against = cells[6].removesuffix(" ×)").split(" s (")  # "1.52 s (1.31 ×)"
            assert float(searchable) >= float(cells[1]) and float(against) >= 1.0  # after the import's own time


@pytest.mark.slow
def test_the_load_script_runs_briefly_without_errors():
    result = subprocess.run(
        [sys.executable, "-m", "bench.load", "--uploads", "3", "--pollers", "4", "--seconds", "3", "--rows", "200"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "5xx: 0" in result.stdout and "imports succeeded: 3/3" in result.stdout
