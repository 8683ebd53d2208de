"""Files imported before: the imports of the same bytes an upload, a CLI import or a confirm is warned
about, and the warning itself (RepeatedFile), which names the latest of them."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Import, ImportStatus

#: The most imports of the same bytes a repeated file's warning looks at, of each kind (the newest).
IMPORTS_NAMED = 5


class RepeatedFile(Exception):
    """The same bytes were imported before; the uploader must say to import them anyway.

    The imports whose books are still stored are named first (previous is the latest of them): an
    undone import of the same bytes, or one that saved nothing, named alone would read as safe to import
    again; then one still running, then those that saved no book, then the undone ones."""

    def __init__(self, imports: list[Import]):
        not_undone = [imp for imp in imports if imp.undone_at is None]
        kept = [imp for imp in not_undone if imp.is_terminal and (imp.created or imp.updated)]
        running = [imp for imp in not_undone if not imp.is_terminal]
        nothing = [imp for imp in not_undone if imp.is_terminal and not (imp.created or imp.updated)]
        undone = [imp for imp in imports if imp.undone_at is not None]
        sentences = []
        if len(kept) > 2:  # one sentence each would fill a phone's screen: the latest says enough
            sentences.append(
                f"This file was imported {len(kept)}{' or more' if len(kept) >= IMPORTS_NAMED else ''} times, "
                f"most recently {_imported(kept[-1])}, and their books are still stored."
            )
        elif kept:
            which = " and ".join(_imported(imp) for imp in kept)
            sentences.append(
                f"This file was imported {which}, and {'its' if len(kept) == 1 else 'their'} books are still stored."
            )
        for imp in running:  # one waiting on Match columns is not being imported yet
            waiting = imp.status == ImportStatus.NEEDS_MAPPING
            doing = "waiting for its columns to be matched" if waiting else "being imported"
            opening = f"It is also {doing}" if sentences else f"This file is {doing}"
            sentences.append(f"{opening}: it was uploaded {_imported(imp)}.")
        for imp in nothing:
            opening = "It was also imported" if sentences else "This file was imported"
            sentences.append(f"{opening} {_imported(imp)}, which created and changed no book.")
        for imp in undone:
            undone_by = f" by {imp.undone_by.email}" if imp.undone_by else ""
            opening = "It was also imported" if sentences else "This file was imported"
            sentences.append(
                f"{opening} {_imported(imp)}. That import was undone on {imp.undone_at:%Y-%m-%d %H:%M} UTC{undone_by}."
            )
        super().__init__(" ".join(sentences))
        self.previous = max(kept or running or nothing or undone, key=lambda imp: imp.id)
        self.kept = kept
        #: The token that imports the refused file without a second upload, when it was kept (the form).
        self.kept_token: str | None = None


def _imported(imp: Import) -> str:
    who = f" by {imp.created_by.email}" if imp.created_by else ""
    return f"on {imp.created_at:%Y-%m-%d %H:%M} UTC{who} (import #{imp.id})"


def previous_import(sha256: str) -> Import | None:
    """Return the latest real import of the same bytes that was not cancelled, if any."""
    return db.session.scalar(
        select(Import)
        .where(
            Import.sha256 == sha256,
            Import.dry_run.is_(False),
            Import.status != ImportStatus.CANCELLED.value,
        )
        .order_by(Import.id.desc())
        .limit(1)
    )


def imports_of(sha256: str, *, shown: int = IMPORTS_NAMED) -> list[Import]:
    """Return the real imports of the same bytes that were not cancelled: those whose books are still
    stored first, oldest first, then the undone ones, newest first (the newest few of each: the warning
    links the latest)."""
    same = select(Import).where(
        Import.sha256 == sha256, Import.dry_run.is_(False), Import.status != ImportStatus.CANCELLED.value
    )
    newest = same.where(Import.undone_at.is_(None)).order_by(Import.id.desc()).limit(shown)
    kept = reversed(db.session.scalars(newest).all())
    undone = db.session.scalars(same.where(Import.undone_at.is_not(None)).order_by(Import.id.desc()).limit(shown))
    return [*kept, *undone]
