"""An import as JSON: what the polling page and the API answer."""

from __future__ import annotations

from ..models import (
    Import,
    ImportPhase,
    ImportStatus,
    utcnow,
)
from .fixes import fixed_by_ids
from .problems import outcome, problems_summary


def import_json(imp: Import, *, with_problems: bool = False) -> dict:
    """Return the import as the API and the progress poller show it; with_problems adds the summary of
    its rejected rows (one GROUP BY: for one import's page, not for lists)."""

    def iso(value):
        return value.isoformat() if value else None

    elapsed = rate = eta = None
    if imp.started_at:
        elapsed = ((imp.finished_at or utcnow()) - imp.started_at).total_seconds()
        if elapsed > 0 and imp.processed_rows:
            rate = round(imp.processed_rows / elapsed)
            if not imp.is_terminal and imp.total_rows and rate:
                eta = max(0, round((imp.total_rows - imp.processed_rows) / rate))
    return {
        "id": imp.id,
        "status": imp.status,
        "phase": imp.phase,
        "phase_label": phase_label(imp.phase),
        "mode": imp.mode,
        "dry_run": imp.dry_run,
        "all_or_nothing": imp.all_or_nothing,
        "filename": imp.filename,
        "total_rows": imp.total_rows,
        "processed_rows": imp.processed_rows,
        "percent": percent(imp),
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
        "rows_per_second": rate,
        "eta_seconds": eta,
        "error": imp.error,
        "source_import_id": imp.source_import_id,
        "confirmed_as_id": imp.confirmed_as_id,
        "fixes_import_id": imp.fixes_import_id,
        "fixed_by": fixed_by_ids(imp),
        "file_problem": imp.file_problem,
        "headers": imp.headers,
        "mapping": imp.mapping,
        "profile": {"id": imp.profile.id, "name": imp.profile.name} if imp.profile else None,
        "repairs": imp.repairs or {},
        "undone_at": iso(imp.undone_at),
        "undone_by": imp.undone_by.email if imp.undone_by else None,
        "outcome": outcome(imp),
        "terminal": imp.is_terminal,
    } | (
        {"problems_summary": [kind.as_json() for kind in problems_summary(imp.id)] if imp.rejected else []}
        if with_problems
        else {}
    )


#: How a phase reads where its value alone would not say it (the import's page and the API).
PHASE_LABELS = {ImportPhase.WAITING.value: "waiting for the database"}


def phase_label(phase: str) -> str:
    """Return the phase as the import's page shows it."""
    return PHASE_LABELS.get(phase, phase)


def percent(imp: Import) -> int:
    """Return how far the import has got, 0–100."""
    if imp.status == ImportStatus.SUCCEEDED.value:
        return 100
    if not imp.total_rows:
        return 0
    return min(99, imp.processed_rows * 100 // imp.total_rows)
