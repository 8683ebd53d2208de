"""Import an ended import's stored file again, its columns matched anew: for a file whose header named every
field, but not as it meant (a column of "Book" taken as Book type), or matched the wrong column."""

from __future__ import annotations

import logging
import os
import shutil
import uuid

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..importer import FileProblem, Mapping
from ..importer.groups import suggested_group
from ..importer.reading import header_row_in
from ..models import Import, ImportMode, ImportStatus, User
from .import_jobs import ImportStateError, enqueue_import, kept_if_recorded, upload_path
from .imports import ImportOptions, columns_for
from .profiles import ProfileError, save_profile

log = logging.getLogger(__name__)

_COPY_BLOCK = 1 << 20


def why_not_rematched(imp: Import) -> str | None:
    """Return why *imp*'s file cannot be imported again with its columns matched anew, or None when it can."""
    if imp.status == ImportStatus.NEEDS_MAPPING.value:
        return (
            f"Import #{imp.id} is itself waiting for its columns to be matched: match them on its Match columns "
            "page (or cancel it)."
        )
    if imp.fixes_import_id:
        return (
            f"Import #{imp.id} imported rows fixed on the fix page of import #{imp.fixes_import_id}, read with "
            f"that import's columns: to match the columns again, do it from import #{imp.fixes_import_id}."
        )
    if (
        imp.mode == ImportMode.ADD_STOCK.value
        and not imp.dry_run
        and imp.undone_at is None
        and (imp.created or imp.updated or _has_fixes(imp))
    ):
        return (
            f"Import #{imp.id} added its rows' copies to the stock: reading its file again would add them a "
            "second time. Undo it first, then match its columns again."
        )
    if not imp.is_terminal:
        return (
            f"Import #{imp.id} has not ended yet: its columns can be matched again once it has "
            "(cancel it to stop it sooner)."
        )
    if imp.file_deleted_at is not None or not upload_path(imp).is_file():
        days = current_app.config["UPLOAD_RETENTION_DAYS"]
        return (
            f"The file of import #{imp.id} is no longer kept on the server (uploads are deleted {days:g} days "
            "after their import ends): upload it again."
        )
    if not imp.headers:
        return f"The header row of import #{imp.id}'s file is not known, so its columns cannot be matched: upload it again."
    return None


def _has_fixes(imp: Import) -> bool:
    """Whether some import imported *imp*'s rejected rows, fixed."""
    return db.session.scalar(select(Import.id).where(Import.fixes_import_id == imp.id).limit(1)) is not None


def rematches_of(imp: Import) -> list[int]:
    """Return the ids of the imports that read *imp*'s file again with its columns matched anew (oldest first)."""
    return list(
        db.session.scalars(
            # Not the import a dry run was confirmed as: that one is no dry run (Import.rematch_of says the same).
            select(Import.id)
            .where(Import.source_import_id == imp.id, Import.dry_run.is_(bool(imp.dry_run)))
            .order_by(Import.id)
        )
    )


def rematch_import(
    original: Import,
    user: User | None,
    *,
    mapping: Mapping | None = None,
    profile: str | None = None,
    save_as: str | None = None,
) -> Import:
    """Import *original*'s stored file again as a new import with its mode and options, linked to it
    (source_import_id), its columns matched anew: for a file whose header matched every field, but not
    as it meant (a column of "Book" taken as Book type). Never refused as a repeated file; the original is
    left as it is.

    Without *mapping* or *profile* (the import page's button) the new import waits for its columns, its
    Match columns page filled in with the choices the original read the file with (its mapping, else its
    header's names); a rematch of *original* already waiting for them is returned instead of a second one.
    With one (the API) the file is read with it (fields it does not name, by their headers) and queued.

    Raises ImportStateError when the original has not ended, waits for its columns or its file is no
    longer kept; NeedsMapping when the mapping leaves a required field without a column; FileProblem for
    an unknown profile or a profile name that cannot be saved."""
    if reason := why_not_rematched(original):
        raise ImportStateError(reason)
    if mapping is None and not profile:
        waiting = db.session.scalar(
            select(Import)
            .where(
                Import.source_import_id == original.id,
                Import.dry_run.is_(bool(original.dry_run)),
                Import.status == ImportStatus.NEEDS_MAPPING.value,
            )
            .order_by(Import.id.desc())
            .limit(1)
        )
        if waiting is not None:
            return waiting
        # The columns the original read, as its first read recorded them (not as this release's synonyms
        # would match its header); for one read before they were recorded, its mapping, or an empty one,
        # not None: the page then opens with the header's names, not with the guesses from values a new
        # file's page adds.
        chosen = dict(original.columns_read or original.mapping or Mapping().to_json())
        chosen_profile, status = None, ImportStatus.NEEDS_MAPPING
        if not original.mapping and (group := suggested_group(original.headers or [])):
            chosen["group_by"] = group  # read by its header's names alone: a shop export's rows stood alone
        read_with = None
    else:
        options = ImportOptions(mapping=mapping, profile=profile, refuse_unmatched=True)
        read_with, chosen_profile, status = columns_for(original.headers, options, header_row_in(original.read_as))
        chosen = read_with.to_json() if read_with else None
    stored_name = _own_copy(original)
    with kept_if_recorded(upload_path(original).parent / stored_name):
        imp = Import(
            filename=original.filename,
            stored_name=stored_name,
            file_kind=original.file_kind,
            file_size=original.file_size,
            sha256=original.sha256,
            mode=original.mode,
            dry_run=original.dry_run,
            all_or_nothing=original.all_or_nothing,
            created_by=user,
            status=status.value,
            headers=original.headers,
            mapping=chosen,
            profile=chosen_profile,
            source_import_id=original.id,
        )
        if save_as and status is ImportStatus.QUEUED:
            try:
                imp.profile = save_profile(save_as, original.headers, read_with or Mapping(), user)
                imp.profile_saved_here = True
            except ProfileError as exc:
                raise FileProblem(str(exc)) from None
        db.session.add(imp)
    log.info("import=%s event=rematch source_import=%s status=%s", imp.id, original.id, imp.status)
    if status is ImportStatus.QUEUED:
        enqueue_import(imp)
    return imp


def _own_copy(imp: Import) -> str:
    """Store *imp*'s upload again under a name of its own and return that name.

    Not the same stored name, as a confirmed dry run shares: the retention deletes a shared file once its
    imports have all ended, for all of them at once, so a file matched again on the day the original's time
    is up would be gone with it. A hard link costs no space; where the file system has none, a copy."""
    source = upload_path(imp)
    stored_name = f"{uuid.uuid4().hex}.{imp.file_kind}"
    target = source.parent / stored_name
    try:
        os.link(source, target)
    except FileNotFoundError:
        raise ImportStateError(
            f"The file of import #{imp.id} is no longer kept on the server: upload it again."
        ) from None
    except OSError:
        with (
            source.open("rb") as original,
            os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out,
        ):
            shutil.copyfileobj(original, out, _COPY_BLOCK)
    return stored_name
