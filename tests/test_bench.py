"""A small run of the benchmark and the load script, so they keep working (no timing is asserted)."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_the_benchmark_runs_every_case_at_a_small_size(postgres_url):
    postgres = {"TEST_DATABASE_URL": postgres_url} if postgres_url else {}
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--rows", "3000", "--small-rows", "1000", "--xlsx-rows", "500",
         "--xlsx-max-rows", "600", "--naive-rows", "200", "--upload-mb", "1", "--runs", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={"PATH": "/usr/bin:/bin", **postgres},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    if postgres:
        assert "CSV -> PostgreSQL, all new, reading in the worker's own process" in result.stdout
        assert "same file again (PostgreSQL), all unchanged" in result.stdout
        assert "books on PostgreSQL, search and sort indexes on" in result.stdout
        assert "Export of 3,000 books on PostgreSQL" in result.stdout
    for case in (
        "raw limit",
        "naive",
        "CSV -> SQLite, all new",
        "CSV -> SQLite, all new (median of 2)",
        "CSV -> SQLite, all new, reading in the worker's own process",
        "same file again, all unchanged",
        "deep pages through the sort index / without it, ids sorted first",
        "Search and sort indexes' catch-up",
        "XLSX -> SQLite",
        "/books server time",
        "two workers at once",
        "Progress reporting",
        "a two-word search",
        "Export of 3,000 books on SQLite",
        "Column profile of the 3,000-row CSV for Match columns",
        "XLSX",
    ):
        assert case in result.stdout


def test_the_load_script_runs_briefly_without_errors():
    result = subprocess.run(
        [sys.executable, "-m", "bench.load", "--uploads", "3", "--pollers", "4", "--seconds", "3", "--rows", "200"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "5xx: 0" in result.stdout and "imports succeeded: 3/3" in result.stdout
