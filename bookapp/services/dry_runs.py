"""What a dry run keeps while it goes through its file, which it saves nothing of: the stock its earlier
pieces would have added (Add to stock), and a bounded record of the changes it would make; and how a
finished one says what its import would do.

A real import reads back the books it wrote in earlier pieces; a dry run wrote none, so it carries
what it would have written itself. Its change records serve only its row-by-row report, which needs
the stored file: they are capped here and deleted with the file (reconcile.delete_expired_uploads).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..importer import FIELDS
from ..models import Import, ImportChange

#: The changes a dry run records for its row-by-row report: those of its first updated books, in the
#: file's order. Recording one per row made a dry run of a million-row update write a million rows
#: that nothing would ever read once its file was deleted; the report says where the list stops.
DRY_RUN_CHANGES_KEPT = 10_000

_ISBN = FIELDS.index("isbn")
_QUANTITY = FIELDS.index("quantity")


class CarriedStock:
    """An Add to stock dry run's running totals across the pieces of its file: ISBN → the quantity its
    rows so far would have added to the stored book's stock (or given the book they would create).

    Only the quantity is carried (an int per ISBN, about 100 bytes with its key, not the whole book): a
    book an earlier piece would create is shown, when its ISBN comes again, with the later row's other
    values. A dry run that stopped checks its file again from the start (pipeline.ImportRun._start_again).
    """

    def __init__(self) -> None:
        self._added: dict[str, int] = {}

    def carry_in(self, stored_rows: list[tuple[int, tuple]], existing: dict, import_id: int) -> dict[str, int]:
        """Give *existing* (isbn → ((book id, import id), stored values)) the stock earlier pieces would have
        added, and the books they would have created; return the stored quantity of each book looked up."""
        in_store = {isbn: values[_QUANTITY] for isbn, (_, values) in existing.items()}
        added = self._added
        if not added:
            return in_store
        firsts: dict[str, tuple] = {}
        for _, values in stored_rows:
            if values[_ISBN] in added:
                firsts.setdefault(values[_ISBN], values)
        for isbn, first in firsts.items():
            if isbn in existing:
                key, values = existing[isbn]
                existing[isbn] = (key, _with_quantity(values, values[_QUANTITY] + added[isbn]))
            else:  # a book an earlier piece's row would have created: no id, made by this import
                existing[isbn] = ((None, import_id), _with_quantity(first, added[isbn]))
        return in_store

    def carry_out(self, in_store: dict[str, int], existing: dict, new: list[tuple[int, tuple]]) -> None:
        """Remember what this piece's rows would have added (*existing* as the piece left it) and created."""
        added = self._added
        for isbn, (_, values) in existing.items():
            if values[_QUANTITY] != in_store.get(isbn, 0) or isbn in added:
                added[isbn] = values[_QUANTITY] - in_store.get(isbn, 0)
        for _, values in new:
            added[values[_ISBN]] = values[_QUANTITY]  # even 0: a later row of its ISBN finds the book made


def _with_quantity(values: tuple, quantity: int) -> tuple:
    changed = list(values)
    changed[_QUANTITY] = quantity
    return tuple(changed)


class KeptChanges:
    """Which of a dry run's changes it records for its report: those of stored books (a book it would
    create has no id to name), the first DRY_RUN_CHANGES_KEPT in the file's order."""

    def __init__(self, session: Session, import_id: int) -> None:
        self.session = session
        self.import_id = import_id
        self._left: int | None = None

    def take(self, changed: list[tuple]) -> list[tuple]:
        """Return the changes of *changed* (row number, book id, ...) to record, in order."""
        if not changed:
            return changed
        if self._left is None:  # a resumed run recorded some already
            recorded = self.session.scalar(
                select(func.count()).select_from(ImportChange).where(ImportChange.import_id == self.import_id)
            )
            self._left = max(0, DRY_RUN_CHANGES_KEPT - recorded)
        kept = [change for change in changed if change[1] is not None][: self._left]
        self._left -= len(kept)
        return kept


@dataclass(frozen=True)
class ChangesListed:
    """How far a dry run's row-by-row report lists the changes it would make."""

    listed: int
    #: The row of the last change listed: an updated row after it has no change listed.
    last_row: int
    #: The rows the dry run would update (its count).
    updated: int

    def sentence(self) -> str:
        """What the import's page says of the report."""
        return (
            f"The row-by-row report shows the changes of the first {self.listed:,} of the {self.updated:,} "
            "updated rows: a dry run keeps no more than that."
        )

    def not_listed(self) -> str:
        """What the report says of an updated row past the list."""
        return f"Not listed: the report shows the changes of the first {self.listed:,} of the {self.updated:,} updated rows"


def changes_listed(imp: Import) -> ChangesListed | None:
    """Return how far a dry run's report lists its changes, or None when it lists every one."""
    if not imp.dry_run or imp.updated <= DRY_RUN_CHANGES_KEPT:
        return None
    listed, last_row = db.session.execute(
        select(func.count(), func.max(ImportChange.row_number)).where(ImportChange.import_id == imp.id)
    ).one()
    if listed < DRY_RUN_CHANGES_KEPT or listed >= imp.updated:  # not cut (or recorded before the cap)
        return None
    return ChangesListed(listed, last_row, imp.updated)


def would_do(imp: Import) -> str:
    """Return what a dry run that went through its file says its import would do, as its outcome: "would
    create 4 books and reject 2 rows". It saved nothing and rejected nothing: "succeeded with 2 rejected
    rows" said otherwise."""
    if imp.rejected and imp.all_or_nothing:
        return f"would save nothing: it would reject {_count(imp.rejected, 'row')} (all or nothing)"
    kept = imp.created + imp.updated + imp.unchanged + imp.skipped
    if imp.rejected and not kept:
        return "would reject its only row" if imp.rejected == 1 else f"would reject all {imp.rejected:,} rows"
    said = [
        f"{verb} {_count(count, noun)}{after}"
        for verb, count, noun, after in (
            ("create", imp.created, "book", ""),
            ("update", imp.updated, "book", ""),
            ("leave", imp.unchanged, "book", " unchanged"),
            ("skip", imp.skipped, "row", ""),
            ("reject", imp.rejected, "row", ""),
        )
        if count
    ]
    if not said:
        return "would change no book"
    return "would " + (", ".join(said[:-1]) + " and " if len(said) > 1 else "") + said[-1]


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun if count == 1 else noun + 's'}"
