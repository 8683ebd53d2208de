"""What an import's rejected rows have in common, and the words for how an import ended."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..importer import RowProblem
from ..importer.headers import field_of
from ..models import Import, ImportRowError, ImportStatus, RejectedRow

#: Row numbers listed beside each kind of problem.
SUMMARY_ROWS = 5
#: Kinds of problem listed in a summary (the commonest first); the rest are still counted in `rejected`.
SUMMARY_KINDS = 50
#: What stands in for a cell value or a number in a kind of problem's words.
PLACEHOLDER = "…"

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


#: Shorter cell values are not looked for in a message (a value "a" would match the word "a").
MIN_QUOTED_VALUE = 3


def _without_values(message: str, value: str | None) -> str:
    """Return *message* with the cell value (where it stands as a whole) and every number replaced."""
    if value and len(value) >= MIN_QUOTED_VALUE and value in message:
        message = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", PLACEHOLDER, message)
    return _NUMBER.sub(PLACEHOLDER, message)


def problem_kind(problem: RowProblem) -> str:
    """Return the kind of *problem*: the same for every problem of one column and one message,
    whatever cell value or row number the message quotes."""
    key = f"{problem.column or ''}\x1f{_without_values(problem.message, problem.value)}"
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class ProblemKind:
    """One kind of problem in an import: its column, its words, how many rows and the first of them."""

    kind: str
    column: str | None
    message: str
    count: int
    rows: list[int]

    def as_json(self) -> dict:
        return {"kind": self.kind, "column": self.column, "message": self.message, "count": self.count,
                "rows": self.rows}  # fmt: skip


def _group_key():
    # Problems saved before kinds existed group by their exact words.
    return func.coalesce(ImportRowError.kind, ImportRowError.message)


def problems_summary(import_id: int) -> list[ProblemKind]:
    """Return the import's kinds of problem, the commonest first, each with its first rows.

    One GROUP BY over the (import, kind, column, row) index, then one short read of that index per kind:
    fast however many rows were rejected.
    """
    key = _group_key()
    groups = db.session.execute(
        select(
            key,
            ImportRowError.column,
            func.count(),
            func.min(ImportRowError.message),
            func.max(ImportRowError.message),
        )
        .where(ImportRowError.import_id == import_id)
        .group_by(key, ImportRowError.column)
        .order_by(func.count().desc(), func.min(ImportRowError.row_number))
        .limit(SUMMARY_KINDS)
    ).all()
    summary = []
    for kind, column, count, first_message, last_message in groups:
        rows = db.session.scalars(
            select(ImportRowError.row_number)
            .where(ImportRowError.import_id == import_id, key == kind, _same_column(column))
            .order_by(ImportRowError.row_number)
            .limit(SUMMARY_ROWS)
        ).all()
        # One wording for every row: show it as it is; else the shared words, values left out.
        message = first_message if first_message == last_message else _without_values(first_message, None)
        summary.append(ProblemKind(kind, column, message, count, list(rows)))
    return summary


def _same_column(column: str | None):
    return ImportRowError.column.is_(None) if column is None else ImportRowError.column == column


def of_kind(query, kind: str):
    """Narrow a query of ImportRowError to one kind of problem."""
    return query.where(_group_key() == kind)


def rows_as_read(imp: Import, numbers: set[int]) -> dict[int, dict]:
    """Return the title and ISBN of some rejected rows as the file held them, by row number: the
    stored cells, read through the import's header mapping."""
    if not numbers or not imp.headers:
        return {}
    positions = {field_of(h): i for i, h in reversed(list(enumerate(imp.headers))) if field_of(h)}
    found = db.session.execute(
        select(RejectedRow.row_number, RejectedRow.cells).where(
            RejectedRow.import_id == imp.id, RejectedRow.row_number.in_(numbers)
        )
    )

    def cell(cells: list, name: str) -> str:
        position = positions.get(name)
        value = cells[position] if position is not None and position < len(cells) else None
        return "" if value is None else str(value)

    return {number: {"title": cell(cells, "title"), "isbn": cell(cells, "isbn")} for number, cells in found}


def plural(count: int, one: str, many: str | None = None) -> str:
    """Return "1 row", "2 rows", "1,000 rows"."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def outcome(imp: Import) -> str:
    """Return how the import ended (or where it is), in words: "succeeded with 3 rejected rows", "undone"."""
    if imp.undone_at is not None:
        return "undone"
    if imp.status != ImportStatus.SUCCEEDED.value:
        return imp.status
    kept = imp.created + imp.updated + imp.unchanged + imp.skipped
    if imp.rejected and not kept:
        return "every row rejected"
    if imp.rejected:
        return f"succeeded with {plural(imp.rejected, 'rejected row')}"
    return imp.status


def outcome_class(imp: Import) -> str:
    """Return the CSS class that colours the outcome: a partial success is a warning, not a success."""
    if imp.undone_at is not None:
        return "status-undone"
    if imp.status == ImportStatus.SUCCEEDED.value and imp.rejected:
        return "status-partial"
    return f"status-{imp.status}"


def summary_line(imp: Import) -> str:
    """Return one sentence for a terminal import: its outcome and its counts (for the command line)."""
    what = "Dry run" if imp.dry_run else "Import"
    counts = ", ".join(
        f"{getattr(imp, name):,} {name}" for name in ("created", "updated", "unchanged", "skipped", "rejected")
    )
    line = f"{what} #{imp.id} {outcome(imp)}: {counts}."
    if imp.undone_at is not None:
        who = f" by {imp.undone_by.email}" if imp.undone_by else ""
        line += f" Undone on {imp.undone_at:%Y-%m-%d %H:%M} UTC{who}."
    if imp.error:
        line += f" {imp.error}"
    return line


def problem_lines(import_id: int) -> list[str]:
    """Return one line per kind of problem: "Price is not a number: 140 rows (277, 442, …)"."""
    return [describe(kind) for kind in problems_summary(import_id)]


def describe(kind: ProblemKind) -> str:
    """Return a kind of problem as one line of text."""
    rows = ", ".join(f"{n:,}" for n in kind.rows) + (", …" if kind.count > len(kind.rows) else "")
    return f"{kind.message}: {plural(kind.count, 'row')} ({rows})"
