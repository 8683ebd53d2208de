"""gunicorn's settings for bookapp (gunicorn reads this file from the folder it starts in).

Several web processes each count their own requests: prometheus_client's multiprocess mode has them
write their counts to files in one folder, and /metrics adds them up, whichever process answers.
"""

import os
import shutil
import tempfile
from pathlib import Path

# Set before any web process imports prometheus_client (it picks its mode at import).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bookapp-metrics-")


def on_starting(server):
    """Start from zero: counts a previous run left in the folder would be added to this run's."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if folder.exists():
        for leftover in folder.glob("*.db"):
            leftover.unlink()
    folder.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    """Let a web process that ended stop counting in live gauges (its counters and histograms stay)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the folder this file made (one given in the environment is the operator's)."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    if Path(folder).name.startswith("bookapp-metrics-") and Path(folder).parent == Path(tempfile.gettempdir()):
        shutil.rmtree(folder, ignore_errors=True)
