"""An import as JSON: what the polling page and the API answer."""

from __future__ import annotations

from flask import current_app

from ..importer.left_out import left_out_count
from ..models import (
    Import,
    ImportMode,
    ImportPhase,
    ImportStatus,
    utcnow,
)
from .fixes import fixed_by_ids
from .import_words import outcome, outcome_class, plural
from .problems import problems_summary
from .rematch import rematches_of


def import_json(imp: Import, *, with_problems: bool = False) -> dict:
    """Return the import as the API and the progress poller show it; with_problems adds the summary of
    its rejected rows (one GROUP BY: for one import's page, not for lists)."""

    def iso(value):
        return value.isoformat() if value else None

    now = utcnow()
    left_out = left_out_count(imp.repairs)
    elapsed = working = rate = eta = None
    if imp.started_at:
        elapsed = ((imp.finished_at or now) - imp.started_at).total_seconds()
        working = working_seconds(imp, now)
        # Rows per second of work: a minute lost with a dead worker is in elapsed time, not in the speed.
        spent = elapsed if working is None else working
        if spent > 0 and imp.processed_rows:
            rate = round(imp.processed_rows / spent)
            if not imp.is_terminal and imp.total_rows and rate:
                # The rest of the file (rows to be left out among them), at the pace it has gone so far.
                done = imp.processed_rows + left_out
                eta = max(0, round((imp.total_rows - done) * spent / done))
    # Only a running import has a worker to be alive: an ended one's last heartbeat only ages.
    running = imp.status == ImportStatus.RUNNING.value
    heartbeat_age = (now - imp.heartbeat_at).total_seconds() if imp.heartbeat_at and running else None
    phase = shown_phase(imp, heartbeat_age)
    # All or nothing saves in one transaction, and an Add to stock dry run's totals lived in the run that
    # stopped: each starts again from the first row (pipeline.ImportRun).
    resumes = not (imp.all_or_nothing or (imp.dry_run and imp.mode == ImportMode.ADD_STOCK.value))
    saves = not (imp.dry_run or imp.all_or_nothing)
    return {
        "id": imp.id,
        "status": imp.status,
        "phase": phase,
        "phase_label": phase_label(phase, resumes=resumes, saves=saves),
        "mode": imp.mode,
        "dry_run": imp.dry_run,
        "all_or_nothing": imp.all_or_nothing,
        "filename": imp.filename,
        "total_rows": imp.total_rows,
        "processed_rows": imp.processed_rows,
        "left_out_rows": left_out,
        "rows_label": rows_label(imp, left_out),
        "percent": percent(imp, left_out),
        "created": imp.created,
        "updated": imp.updated,
        "unchanged": imp.unchanged,
        "skipped": imp.skipped,
        "rejected": imp.rejected,
        "ignored_columns": imp.ignored_columns or [],
        "read_as": imp.read_as,
        "created_at": iso(imp.created_at),
        "started_at": iso(imp.started_at),
        "finished_at": iso(imp.finished_at),
        "elapsed_seconds": None if elapsed is None else round(elapsed, 3),
        "working_seconds": None if working is None else round(working, 3),
        "heartbeat_at": iso(imp.heartbeat_at),
        "heartbeat_age_seconds": None if heartbeat_age is None else round(heartbeat_age, 1),
        "attempts": imp.attempts + 1 if imp.started_at else imp.attempts,
        "liveness": liveness_words(
            phase, heartbeat_age, imp.attempts + 1 if imp.started_at else imp.attempts, resumes=resumes, saves=saves
        ),
        "rows_per_second": rate,
        "eta_seconds": eta,
        "error": imp.error,
        "source_import_id": imp.source_import_id,
        "rematched_as": rematches_of(imp),
        "confirmed_as_id": imp.confirmed_as_id,
        "fixes_import_id": imp.fixes_import_id,
        "fixed_by": fixed_by_ids(imp),
        "file_problem": imp.file_problem,
        "headers": imp.headers,
        "mapping": imp.mapping,
        "columns_read": imp.columns_read,
        "profile": {"id": imp.profile.id, "name": imp.profile.name} if imp.profile else None,
        "repairs": imp.repairs or {},
        "undone_at": iso(imp.undone_at),
        "undone_by": imp.undone_by.email if imp.undone_by else None,
        "outcome": outcome(imp),
        "outcome_class": outcome_class(imp),
        "terminal": imp.is_terminal,
    } | (
        {"problems_summary": [kind.as_json() for kind in problems_summary(imp.id)] if imp.rejected else []}
        if with_problems
        else {}
    )


#: The session's note of the import whose columns were just matched, and whether the queue took it:
#: [import id, "queued" or "queue-down"]. Its page says so once, and only while the import is queued.
MATCHED_KEY = "columns_matched"


#: The time an import spent not working that its page leaves unsaid: under a second, or a twentieth of the whole.
UNSAID_WAIT_SECONDS, UNSAID_WAIT_SHARE = 1.0, 0.05


def took(data: dict) -> str:
    """Say how long an ended import (as import_json shows it) took: "Took 0.4 s." when it worked all along,
    else what the rest of the time was: waiting for a worker after the one before was lost, or after a stop."""
    elapsed, working, attempts = data["elapsed_seconds"], data["working_seconds"], data["attempts"]
    over = f" over {attempts} attempts" if attempts > 1 else ""
    waited = elapsed - working
    if waited < max(UNSAID_WAIT_SECONDS, UNSAID_WAIT_SHARE * elapsed):
        return f"Took {elapsed:,.1f} s{over}."
    if attempts > 1:
        return (
            f"Took {elapsed:,.1f} s: {working:,.1f} s of work{over}, and {waited:,.1f} s between them, waiting to be "
            "taken up again after its worker was lost or it stopped."
        )
    return f"Took {elapsed:,.1f} s: {working:,.1f} s of work, and {waited:,.1f} s waiting after its worker was lost."


#: The phase a running import shows once its heartbeat is late: the reconciler resumes it from its last
#: committed chunk as soon as its worker is confirmed gone (or its heartbeat is STALE_HEARTBEAT_SECONDS old).
#: The API's code for it, kept as it is for the scripts that read it; the page says it in words (phase_label).
LOST_PHASE = "worker lost: resuming"


def shown_phase(imp: Import, heartbeat_age: float | None) -> str:
    """Return the import's phase, or LOST_PHASE for a running import whose heartbeat is late."""
    lost_after = current_app.config["LOST_HEARTBEAT_SECONDS"]
    if imp.status == ImportStatus.RUNNING.value and heartbeat_age is not None and heartbeat_age > lost_after:
        return LOST_PHASE
    return imp.phase


def liveness_words(
    phase: str, heartbeat_age: float | None, attempts: int, *, resumes: bool = True, saves: bool = True
) -> str:
    """Return what the import's page says of its worker ("": nothing, while all is well): in a shop worker's
    words when it has stopped answering (LOST_PHASE) or was started again, then the operator's figures.
    *resumes*: it starts again after its last saved rows (else from the file's first row); *saves*: it has
    saved rows as it went (not a dry run, nor all or nothing, which saves at its end)."""
    if heartbeat_age is None or (phase != LOST_PHASE and attempts <= 1):
        return ""
    seconds = round(heartbeat_age)
    where = "from where it stopped" if resumes else "from the file's first row"
    if phase == LOST_PHASE:
        said = f"The import has not moved on for {seconds} s. It starts again by itself {where}"
    else:
        said = f"The import was interrupted and started again by itself {where}"
    kept = "; nothing it saved is lost" if saves else ""
    return f"{said}{kept}. (For the operator: attempt {attempts}, last heartbeat {seconds} s ago.)"


def working_seconds(imp: Import, now) -> float | None:
    """Return the seconds the import's attempts have worked (None for one from before they were counted)."""
    if imp.working_seconds is None:
        return None
    current = (now - imp.attempt_started_at).total_seconds() if imp.attempt_started_at else 0.0
    return imp.working_seconds + max(0.0, current)


#: How a phase reads where its value alone would not say it (the import's page and the API).
PHASE_LABELS = {ImportPhase.WAITING.value: "waiting for the database"}


def phase_label(phase: str, *, resumes: bool = True, saves: bool = True) -> str:
    """Return the phase as the import's page shows it. LOST_PHASE in the words of the staff who watch it:
    what happened and what happens next, not a worker's state. *resumes*, *saves*: as for liveness_words."""
    if phase == LOST_PHASE:
        if not resumes:
            where = "start again from the file's first row"
        elif saves:
            where = "carry on from the last rows it saved"
        else:
            where = "carry on from where it stopped"
        return f"paused: the worker running it stopped, and it will {where} as soon as a worker is free"
    return PHASE_LABELS.get(phase, phase)


def percent(imp: Import, left_out: int) -> int:
    """Return how far the import has got through its file, 0–100 (the *left_out* rows, as left_out_count
    counts them, are behind it too): 100 once it has succeeded, or ended having been through every row (an
    all-or-nothing import that rejected some), 99 at most before."""
    if imp.status == ImportStatus.SUCCEEDED.value:
        return 100
    if not imp.total_rows:
        return 0
    done = imp.processed_rows + left_out
    if imp.is_terminal and done >= imp.total_rows:
        return 100
    return min(99, done * 100 // imp.total_rows)


def outcome_counts(imp: Import, left_out: int) -> str:
    """Return what became of the rows an import has been through, as its page says it: "2 created, 3 rejected",
    "6 created, 2 left out"; an all-or-nothing import that saved nothing "2 valid, 3 rejected; nothing was
    saved"; a dry run, which saves nothing either, "2 valid, 3 rejected"."""
    if imp.saved_nothing or imp.dry_run:
        counts = [(imp.valid_rows, "valid"), (imp.rejected, "rejected")]
    else:
        counts = [(getattr(imp, name), name) for name in ("created", "updated", "unchanged", "skipped", "rejected")]
    said = ", ".join(f"{count:,} {name}" for count, name in [*counts, (left_out, "left out")] if count)
    return f"{said}; nothing was saved" if imp.saved_nothing else said


def rows_label(imp: Import, left_out: int) -> str:
    """Return how many of the file's rows the import has been through, as its page says it: "400 of 1,000
    rows", "1,200 rows so far" (not counted yet), and with rows left out (a totals row, a product's own
    row: importer.left_out) "600 of 900 rows (200 left out)". Once it has ended, what became of each: "5 rows:
    2 created, 3 rejected", "8 rows: 6 created, 2 left out" (after all of them), "400 of 1,000 rows: 400
    created" (stopped on the way). While it runs, total_rows is the file's estimated rows, those to be left
    out among them; once it has succeeded, the rows it read."""
    done = imp.processed_rows + left_out
    whole = imp.status == ImportStatus.SUCCEEDED.value or (imp.total_rows is not None and done >= imp.total_rows)
    if imp.is_terminal and done:
        said = outcome_counts(imp, left_out)
        if whole or imp.total_rows is None:
            return f"{plural(done, 'row')}: {said}"
        return f"{done:,} of {plural(imp.total_rows, 'row')}: {said}"
    if imp.total_rows is None:
        label = f"{plural(done, 'row')} so far"
    else:
        label = f"{done:,} of {plural(max(imp.total_rows, done), 'row')}"
    return f"{label} ({left_out:,} left out)" if left_out else label
