"""Import an import's rejected rows again, fixed in the browser: a follow-up import, linked both ways.

The follow-up's file is a CSV written here and stored like an upload: the original header row, then
each fixed row at the row number it had in the original file, with blank lines between (a blank
line is a row no import reads, but it keeps the count). So the follow-up's report, its rejected
rows and its per-row outcomes name every row by the number the original gave it, and the original
learns row by row which of its rejected rows were fixed later: the rows its follow-ups (and theirs,
when a follow-up's own rejected rows are fixed in turn) saved, from their per-chunk outcome records.

A follow-up is never refused as a repeated file (its rows were rejected, so never saved); instead a
second one is refused while another follow-up of the same import is queued or running, and rows a
finished follow-up took are fixed from that follow-up's page, not twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import uuid
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from ..extensions import db
from ..importer.reading import READ_CELL_CHARS
from ..models import Import, ImportChunk, ImportStatus, RejectedRow, User
from .import_jobs import enqueue_import, kept_if_recorded
from .import_words import plural
from .outcomes import Outcome
from .reports import header_cell
from .row_check import RowChecker, RowCheckProblem, reads_decimal_comma

log = logging.getLogger(__name__)

#: Imports followed down a chain of fixes (a follow-up's rejected rows fixed in a follow-up, and so on).
MAX_FOLLOW_UPS = 200
_REJECTED = Outcome.REJECTED.value[0]


class FixRefused(Exception):
    """The rows cannot be fixed or imported now; the message says why and what to do instead."""


def why_not_fixable(imp: Import) -> str | None:
    """Return why the import's rejected rows cannot be fixed in the browser, or None when they can."""
    if imp.dry_run:
        return (
            "A dry run saves nothing, so its rows are fixed on the import that confirms it: confirm this dry run, "
            "then fix the rows that import rejects (or download the rejected rows, fix them and upload them)."
        )
    if imp.undone_at is not None:
        return "This import was undone, so none of its rows is kept: fix the file and upload all of it again."
    if not imp.is_terminal:
        return "This import has not finished yet: its rejected rows can be fixed when it has."
    if imp.status != ImportStatus.SUCCEEDED.value:
        if imp.all_or_nothing:
            return (
                "This import was all or nothing, so none of its rows was saved: download the rejected rows, "
                "fix them in the file and upload the whole file again."
            )
        return (
            f"This import has {imp.status}, so it did not read all of its file: retry it or upload the file again, "
            "then fix the rows that import rejects."
        )
    if not imp.rejected:
        return "No row of this import was rejected: there is nothing to fix."
    if not imp.headers:
        return "The header row of this import is not known, so its rows cannot be shown."
    return None


@dataclass
class FollowUp:
    """An import of fixed rows, and what it did with them, row by row (by the original's numbers)."""

    imp: Import
    saved: set[int] = field(default_factory=set)
    rejected: set[int] = field(default_factory=set)

    @property
    def stands(self) -> bool:
        """Whether what it did stands: it has ended and was not undone."""
        return self.imp.is_terminal and self.imp.undone_at is None

    @property
    def taken(self) -> set[int]:
        """The rows that are its own now: every row it read when it succeeded (the rows it rejected are
        fixed from its page), only the rows it saved otherwise (the rest go back to be fixed)."""
        if not self.stands:
            return set()
        return self.saved | self.rejected if self.imp.status == ImportStatus.SUCCEEDED.value else self.saved


@dataclass
class FixState:
    """What became of an import's rejected rows: the follow-ups that fixed them, and what is left."""

    imp: Import
    follow_ups: list[FollowUp]
    #: The row numbers taken by follow-ups below each import of the chain (the import's own id included).
    taken_below: dict[int, set[int]]
    refused: str | None

    @property
    def pending(self) -> list[Import]:
        """Follow-ups still queued or running."""
        return [f.imp for f in self.follow_ups if not f.imp.is_terminal]

    @property
    def taken(self) -> set[int]:
        return self.taken_below.get(self.imp.id, set())

    @property
    def fixed_rows(self) -> set[int]:
        """The import's rejected rows that a follow-up saved."""
        return set().union(*(f.saved for f in self.follow_ups if f.stands))

    @property
    def fixed_by_row(self) -> dict[int, Import]:
        """The follow-up that saved each of the import's rejected rows fixed later, by row number."""
        return {number: f.imp for f in self.follow_ups if f.stands for number in f.saved}

    @property
    def fixed_in(self) -> list[tuple[Import, int]]:
        """The follow-ups that saved some of the rows, with how many."""
        return [(f.imp, len(f.saved)) for f in self.follow_ups if f.stands and f.saved]

    @property
    def still_rejected_in(self) -> list[tuple[Import, int]]:
        """Succeeded follow-ups whose rejected rows wait to be fixed on their pages, with how many."""
        waiting = []
        for f in self.follow_ups:
            if f.stands and f.imp.status == ImportStatus.SUCCEEDED.value and f.rejected:
                left = len(f.rejected - self.taken_below.get(f.imp.id, set()))
                if left:
                    waiting.append((f.imp, left))
        return waiting

    @property
    def left(self) -> int:
        """How many of the import's rejected rows are still to be fixed on its own page."""
        return max(self.imp.rejected - len(self.taken), 0) if self.refused is None else 0

    def fixed_sentence(self) -> str | None:
        """Return "3 of its 5 rejected rows were fixed later in import #12." (None when none was)."""
        fixed = len(self.fixed_rows)
        if not fixed:
            return None
        where = " and ".join(f"import #{imp.id}" for imp, _ in self.fixed_in)
        return f"{fixed:,} of its {plural(self.imp.rejected, 'rejected row')} were fixed later in {where}."

    def stays_sentence(self) -> str | None:
        """Return what undoing the import leaves, "What import #12 saved of the 3 rows fixed later stays: undo
        that import to take it back." (None when no follow-up that stands saved a row): an undo deletes the
        import's own books only, and what the fixed rows saved (created, updated, or nothing where a row was
        unchanged or skipped) is their follow-up's."""
        fixed_in = self.fixed_in
        if not fixed_in:
            return None
        rows = sum(count for _, count in fixed_in)
        where = " and ".join(f"import #{imp.id}" for imp, _ in fixed_in)
        that = "that import" if len(fixed_in) == 1 else "those imports"
        return f"What {where} saved of the {plural(rows, 'row')} fixed later stays: undo {that} to take it back."


def fix_state(imp: Import) -> FixState:
    """Return what became of *imp*'s rejected rows: its follow-ups (and theirs), row by row."""
    follow_ups: list[FollowUp] = []
    parent: dict[int, int] = {}
    frontier = [imp.id]
    while frontier and len(follow_ups) < MAX_FOLLOW_UPS:
        children = db.session.scalars(
            select(Import).where(Import.fixes_import_id.in_(frontier)).order_by(Import.id).limit(MAX_FOLLOW_UPS)
        ).all()
        for child in children:
            follow_up = FollowUp(child)
            if follow_up.stands:
                _read_outcomes(follow_up)
            follow_ups.append(follow_up)
            parent[child.id] = child.fixes_import_id
        frontier = [c.id for c in children]
    taken_below: dict[int, set[int]] = {}
    for follow_up in follow_ups:
        ancestor = parent[follow_up.imp.id]
        while ancestor is not None:
            taken_below.setdefault(ancestor, set()).update(follow_up.taken)
            ancestor = parent.get(ancestor)
    return FixState(imp, follow_ups, taken_below, why_not_fixable(imp))


def _read_outcomes(follow_up: FollowUp) -> None:
    """Sort the follow-up's rows into saved and rejected, from its per-chunk outcome records."""
    for row_numbers, outcomes in db.session.execute(
        select(ImportChunk.row_numbers, ImportChunk.outcomes).where(ImportChunk.import_id == follow_up.imp.id)
    ):
        numbers = array("I")
        numbers.frombytes(row_numbers)
        for number, code in zip(numbers, outcomes, strict=True):
            (follow_up.rejected if code == _REJECTED else follow_up.saved).add(number)
    follow_up.rejected -= follow_up.saved  # a row met twice (a resumed run) counts once, as it ended


def fixed_by_ids(imp: Import) -> list[int]:
    """Return the ids of the imports that import this one's rejected rows, fixed (oldest first)."""
    return list(db.session.scalars(select(Import.id).where(Import.fixes_import_id == imp.id).order_by(Import.id)))


@dataclass(frozen=True)
class FixQueued:
    """A follow-up import, queued: how many rows it has and how many of them still have problems."""

    imp: Import
    rows: int
    still_invalid: int
    enqueued: bool


def import_fixed_rows(original: Import, rows: dict[int, list[str]], user: User | None) -> FixQueued:
    """Write *rows* (row number → cells, in the file's column order) as a CSV, store it like an upload and
    queue its import, fixing *original*: same mode, mapping and profile.

    The rows are checked again here (a browser's word is not taken for it): the answer says how many
    still have problems, and the follow-up rejects those as any import does. Raises FixRefused when
    the original cannot be fixed, when a follow-up of it is still queued or running, when no row is
    given (or every one is blank), or when a cell is too long for any file."""
    if reason := why_not_fixable(original):
        raise FixRefused(reason)
    try:
        checker = RowChecker(original)
    except RowCheckProblem as problem:
        raise FixRefused(str(problem)) from None
    results = {n: checker.check(n, cells) for n, cells in rows.items()}
    if not rows or all(r.blank for r in results.values()):
        raise FixRefused("There is nothing to import: change the rows to fix first (a row left empty is left out).")
    rejected = set(
        db.session.scalars(
            select(RejectedRow.row_number).where(
                RejectedRow.import_id == original.id, RejectedRow.row_number.in_(list(rows))
            )
        )
    )
    if strays := sorted(set(rows) - rejected):
        raise FixRefused(f"Row {strays[0]} is not one of the rows import #{original.id} rejected.")
    for number, cells in rows.items():
        for position, cell in enumerate(cells):
            if len(cell) > READ_CELL_CHARS:
                header = checker.headers[position] if position < checker.width else f"cell {position + 1}"
                raise FixRefused(
                    f"Row {number}, {header}: {len(cell):,} characters is more than any file may hold in a cell "
                    f"({READ_CELL_CHARS:,}). Shorten it."
                )
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    # A semicolon-separated file's prices have a decimal comma (12,50): the follow-up's file is read the same way.
    content = fixed_rows_csv(checker.headers, rows, delimiter=";" if reads_decimal_comma(original) else ",")
    stored_name = f"{uuid.uuid4().hex}.csv"
    (folder / stored_name).write_bytes(content)
    # End the transaction that read, then start the next with a write on the original's row: two
    # requests at once (a double click, two tabs) take turns, and the second sees the first's follow-up.
    db.session.commit()
    with kept_if_recorded(folder / stored_name):
        db.session.execute(
            update(Import)
            .where(Import.id == original.id)
            .values(fixes_import_id=Import.fixes_import_id)
            .execution_options(synchronize_session=False)
        )
        state = fix_state(original)
        if state.pending:
            raise FixRefused(
                f"Import #{state.pending[0].id} is importing fixed rows of this import now: "
                "wait until it has finished, then fix what is left."
            )
        taken = sorted(set(rows) & state.taken)
        if taken:
            raise FixRefused(
                f"Row {taken[0]} was imported by a later import meanwhile: reload the page to fix what is left."
            )
        follow_up = Import(
            filename=f"import-{original.id}-fixed-rows.csv",
            stored_name=stored_name,
            file_kind="csv",
            file_size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            mode=original.mode,
            dry_run=False,
            all_or_nothing=False,
            created_by=user,
            status=ImportStatus.QUEUED.value,
            headers=[h or None for h in checker.headers],
            mapping=original.mapping,
            # The fixed rows were checked with the columns the original read (RowChecker): read them so.
            columns_read=original.columns_read,
            profile_id=original.profile_id,
            fixes_import_id=original.id,
        )
        db.session.add(follow_up)
    still_invalid = sum(1 for r in results.values() if r.problems)
    log.info(
        "import=%s event=queued kind=csv bytes=%s fixes_import=%s rows=%s still_invalid=%s",
        follow_up.id, follow_up.file_size, original.id, len(rows), still_invalid,
    )  # fmt: skip
    enqueued = enqueue_import(follow_up)
    return FixQueued(follow_up, sum(1 for r in results.values() if not r.blank), still_invalid, enqueued)


def fixed_rows_csv(headers: list[str], rows: dict[int, list[str]], *, delimiter: str = ",") -> bytes:
    """Return the follow-up's file: the header row, then each row at its own row number (blank lines
    between), UTF-8. Header cells holding a delimiter of any kind are quoted, so the reader finds
    the file's delimiter in the header line as it did in the original's."""
    buffer = io.StringIO(newline="")
    buffer.write(delimiter.join(header_cell(h) for h in headers) + "\r\n")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    last = 1
    for number in sorted(rows):
        buffer.write("\r\n" * (number - last - 1))
        writer.writerow(rows[number])
        last = number
    return buffer.getvalue().encode("utf-8", "replace")
