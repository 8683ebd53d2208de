"""Undo a finished import: delete the books it created, restore the fields it overwrote.

A book that a later import or an edit has changed since is left alone and listed as a conflict.
The undo is recorded on the import (who, when, counts, conflicts) and cannot be applied twice.
"""

import logging
from decimal import Decimal

from sqlalchemy import delete, or_, select, update

from ..extensions import db
from ..models import Book, Import, ImportChange, ImportStatus, User, utcnow
from .import_jobs import ImportStateError

log = logging.getLogger(__name__)

#: Conflicts listed by name in the undo report (all are counted).
LISTED_CONFLICTS = 200


def _restored(field: str, value):
    return Decimal(value) if field == "price" and value is not None else value


def undo_import(imp: Import, user: User | None) -> dict:
    """Undo *imp*; return the report stored on it."""
    if imp.dry_run:
        raise ImportStateError("A dry run saved nothing, so there is nothing to undo.")
    if not imp.is_terminal:
        raise ImportStateError("The import is still running; cancel it or wait for it to end.")
    if imp.undone_at is not None:
        raise ImportStateError(f"Import #{imp.id} was already undone on {imp.undone_at:%Y-%m-%d %H:%M} UTC.")
    if imp.status == ImportStatus.SUCCEEDED.value and imp.created + imp.updated == 0:
        raise ImportStateError("The import created and changed nothing, so there is nothing to undo.")
    conflicts: list[dict] = []
    conflict_count = 0

    def conflict(book_id: int, isbn: str | None, title: str | None, reason: str) -> None:
        nonlocal conflict_count
        conflict_count += 1
        if len(conflicts) < LISTED_CONFLICTS:
            conflicts.append({"book_id": book_id, "isbn": isbn, "title": title, "reason": reason})

    # Books it created: delete those that it is still the last writer of.
    changed_since = or_(Book.import_id.is_(None), Book.import_id != imp.id)
    for book_id, isbn, title in db.session.execute(
        select(Book.id, Book.isbn, Book.title).where(Book.created_by_import_id == imp.id, changed_since)
    ):
        conflict(book_id, isbn, title, "changed since by another import or an edit; kept")
    deleted = db.session.execute(
        delete(Book).where(Book.created_by_import_id == imp.id, Book.import_id == imp.id)
    ).rowcount

    # Books it changed: restore the earliest value it replaced of each field.
    restored = 0
    earliest: dict[int, dict] = {}
    previous_writer: dict[int, int | None] = {}
    for change in db.session.scalars(
        select(ImportChange).where(ImportChange.import_id == imp.id).order_by(ImportChange.id)
    ):
        fields = earliest.setdefault(change.book_id, {})
        for name, value in change.before.items():
            fields.setdefault(name, value)
        previous_writer.setdefault(change.book_id, change.previous_import_id)
    for book_id, before in earliest.items():
        book = db.session.get(Book, book_id)
        if book is None:
            conflict(book_id, None, None, "deleted since")
            continue
        if book.created_by_import_id == imp.id:
            continue  # created and then added to by the same import: handled above
        if book.import_id != imp.id:
            conflict(book.id, book.isbn, book.title, "changed since by another import or an edit; kept")
            continue
        db.session.execute(
            update(Book)
            .where(Book.id == book_id)
            .values(
                {name: _restored(name, value) for name, value in before.items()}
                | {"import_id": previous_writer[book_id], "updated_at": utcnow()}
            )
        )
        restored += 1

    report = {"deleted": deleted, "restored": restored, "conflicts": conflict_count, "conflict_list": conflicts}
    # Compare-and-set: two undos clicked at once cannot both apply.
    applied = db.session.execute(
        update(Import)
        .where(Import.id == imp.id, Import.undone_at.is_(None))
        .values(undone_at=utcnow(), undone_by_id=user.id if user else None, undo_report=report)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not applied:
        db.session.rollback()
        raise ImportStateError(f"Import #{imp.id} was already undone.")
    db.session.commit()
    db.session.expire(imp)
    log.info("import=%s event=undone deleted=%s restored=%s conflicts=%s", imp.id, deleted, restored, conflict_count)
    return report
