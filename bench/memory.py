"""Peak memory of an import's worker and reading process together: python -m bench.memory FILE [DATABASE_URL].

Peak RSS counts the pages the reading process shares with the worker after the fork twice; this
samples the proportional set size (PSS, shared pages split between the processes that map them) of
the whole process tree five times a second and prints the largest sum. Linux only (/proc).
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path


def pss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass  # the process has just ended
    return 0.0


def process_tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(p for child in children for p in process_tree(int(child)))]


def main(argv=None) -> int:
    path, *rest = argv if argv is not None else sys.argv[1:]
    with tempfile.TemporaryDirectory() as work:
        database = rest[0] if rest else f"sqlite:///{work}/memory.sqlite3"
        command = [sys.executable, "-m", "bench.cases", "bookapp", path, database, work, "fresh"]
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        peak, most_processes = 0.0, 1
        while run.poll() is None:
            sizes = [pss_mb(pid) for pid in process_tree(run.pid)]
            peak = max(peak, sum(sizes))
            most_processes = max(most_processes, sum(1 for s in sizes if s))
            time.sleep(0.2)
        outcome = run.stdout.read().strip().splitlines()[-1]
    print(f"{Path(path).name}: peak PSS of the worker and its reading process together {peak:,.0f} MB "
          f"(up to {most_processes} processes at once); the case printed {outcome}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
