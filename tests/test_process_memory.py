"""An import's reading process gives the memory of its duplicate check's merged arrays back as it goes."""

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

#: A process that feeds the duplicate check ROWS random ISBNs as an import does (pieces of 5,000) and
#: prints how much it grew beyond the check's own arrays, in MB.
_FEED = textwrap.dedent("""
    import json, random, sys
    from bookapp.importer.duplicates import FirstRows
    from bookapp.services.process_memory import give_back_large_blocks

    def resident_mb():
        return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

    taken = give_back_large_blocks() if sys.argv[1] == "give-back" else None
    rows = int(sys.argv[2])
    order = list(range(rows))
    random.Random(7).shuffle(order)
    isbns = [f"978{n:09d}0" for n in order]  # the check digit plays no part in the check
    before = resident_mb()
    seen = FirstRows()
    for start in range(0, rows, 5000):
        seen.earlier_rows(isbns[start:start + 5000], list(range(start + 2, start + 5002)))
    held = sum(bucket.nbytes for bucket in seen._buckets) / 2**20
    print(json.dumps({"taken": taken, "beyond_mb": resident_mb() - before - held}))
""")


def _beyond_mb(how: str, rows: int = 3_000_000) -> dict:
    done = subprocess.run([sys.executable, "-c", _FEED, how, str(rows)], cwd=ROOT, capture_output=True, text=True,
                          check=True)  # fmt: skip
    return json.loads(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc setting, on Linux")
def test_the_duplicate_checks_merged_arrays_do_not_leave_holes_in_the_process():
    given_back = _beyond_mb("give-back")
    kept = _beyond_mb("as-it-was")
    assert given_back["taken"] is True
    # Without the setting the freed arrays stay in the heap as holes; with it the process holds little
    # more than the check's arrays (and the last batch of ISBNs not yet merged into them).
    assert given_back["beyond_mb"] < 10, given_back
    assert kept["beyond_mb"] > given_back["beyond_mb"] + 8, (kept, given_back)
