"""A small run of the benchmark and the load script, so they keep working (no timing is asserted)."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_the_benchmark_runs_every_case_at_a_small_size():
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--rows", "3000", "--small-rows", "1000", "--xlsx-rows", "500",
         "--xlsx-max-rows", "600", "--naive-rows", "200", "--upload-mb", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    for case in (
        "raw limit",
        "naive",
        "CSV -> SQLite, all new",
        "all unchanged",
        "XLSX -> SQLite",
        "/books server time",
        "two workers at once",
        "Progress reporting",
    ):
        assert case in result.stdout


def test_the_load_script_runs_briefly_without_errors():
    result = subprocess.run(
        [sys.executable, "-m", "bench.load", "--uploads", "3", "--pollers", "4", "--seconds", "3", "--rows", "200"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "5xx: 0" in result.stdout and "imports succeeded: 3/3" in result.stdout
