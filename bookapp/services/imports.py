"""Take imports in: create one (upload, CLI), match its columns, confirm a dry run (import_jobs queues,
cancels and retries them; rematch imports an ended one's file again, its columns matched anew).

The SQL row is the record; Redis only carries the job."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from flask import current_app
from sqlalchemy import update
from werkzeug.datastructures import FileStorage

from ..extensions import db
from ..importer import FileProblem, Mapping
from ..importer.fields import LABELS
from ..importer.mapping import header_row_words, header_text
from ..importer.peek import peek_file
from ..importer.reading import detect_kind, header_row_in
from ..models import (
    Import,
    ImportMode,
    ImportProfile,
    ImportStatus,
    User,
)
from .columns_read import refuse_one_column, values_want_matching
from .import_jobs import ImportStateError, enqueue_import, kept_if_recorded
from .kept_uploads import keep_upload, take_kept_upload
from .profiles import ProfileError, profile_for, profile_named, save_profile
from .repeats import RepeatedFile, imports_of, previous_import

log = logging.getLogger(__name__)


_COPY_BLOCK = 1 << 20
#: Characters an upload's name may not keep: control characters (NUL, which PostgreSQL refuses in text,
#: line breaks, escapes) and the code points that reorder the text around them.
_UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def upload_name(filename: str | None) -> str:
    """Return the name an upload is recorded and shown under: its last path part (a browser on Windows
    may send the whole path), without control characters, at most 255 characters ("upload" if nothing is left)."""
    name = re.split(r"[/\\]", filename or "")[-1]
    name = _UNSHOWABLE.sub("", name).strip()
    return name[:255] or "upload"


@dataclass(frozen=True)
class ImportOptions:
    """What the uploader chose on the form, the API or the command line."""

    mode: ImportMode = ImportMode.CREATE_UPDATE
    dry_run: bool = False
    all_or_nothing: bool = False
    allow_repeat: bool = False
    #: How the file's columns fill the fields, when its header does not say (API, CLI).
    mapping: Mapping | None = None
    #: The name of a saved profile to read the file with.
    profile: str | None = None
    #: Save the mapping the file is read with as a profile of this name.
    save_as: str | None = None
    #: Refuse a file whose columns are not all matched (API, CLI) instead of keeping it for matching (the form).
    refuse_unmatched: bool = False


class NeedsMapping(FileProblem):
    """Some required field has no column: the file's columns must be matched first."""

    def __init__(
        self, missing: list[str], headers: list[object], message: str | None = None, header_row: int | None = None
    ):
        names = ", ".join(LABELS[f] for f in missing)
        shown = ", ".join(repr(header_text(h)) for h in headers if header_text(h)) or "none"
        super().__init__(
            message
            or f"The file has no column for: {names}. Its columns are: {shown}. Match them to the book fields "
            f"(a mapping or a saved profile), or name them in {header_row_words(header_row)}, as the template does."
        )
        self.missing = missing
        self.headers = [header_text(h) for h in headers]


class AlreadyConfirmed(Exception):
    """The dry run was confirmed before: a dry run is imported once."""

    def __init__(self, dry_run: Import, confirmed_as: Import):
        super().__init__(f"Dry run #{dry_run.id} was already confirmed as import #{confirmed_as.id}.")
        self.confirmed_as = confirmed_as


def create_import(
    upload: FileStorage, user: User | None, options: ImportOptions | None = None, *, keep_repeated: bool = False
) -> Import:
    """Store the uploaded file, record the import and enqueue its job.

    Only the header row and the first rows under it are read here (importer.peek, at a cost that does
    not grow with the file), to decide how the columns are read: a file whose columns leave a required
    field unfilled, or whose Book type column holds other values (holds_other_than_book_types), is recorded as needs_mapping with
    no job (or refused with NeedsMapping when options.refuse_unmatched, for a missing field).

    Raises FileProblem, before anything is recorded, when the bytes are not a file bookapp reads (CSV or other
    delimited text, XLSX, XLSB, ODS or XLS) or its header cannot be read, and RepeatedFile when the same bytes were imported before (unless options.allow_repeat).
    With *keep_repeated* (the upload form), a file refused as imported before is kept for a while, and
    the RepeatedFile carries the token that imports it without a second upload (import_kept).
    """
    options = options or ImportOptions()
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = folder / f".{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    size = 0
    try:  # readable by this user alone: uploads are the shop's data, not every local user's
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            while block := upload.stream.read(_COPY_BLOCK):
                digest.update(block)
                out.write(block)
                size += len(block)
    except BaseException:  # a full disk, a timeout: nothing half-written stays behind
        temporary.unlink(missing_ok=True)
        raise
    received = Received(temporary, upload_name(upload.filename), digest.hexdigest(), size)
    return _take_in(received, user, options, keep_repeated=keep_repeated)


@dataclass(frozen=True)
class Received:
    """A file received in the upload folder under a temporary name, not yet an import's."""

    temporary: Path
    filename: str
    sha256: str
    size: int


def import_kept(token: str, user: User | None, options: ImportOptions) -> Import:
    """Import the upload the form refused as imported before and kept under *token*, with *options* (those
    ticked when the button is pressed, which may not be the ones it was sent with) and allow_repeat: once,
    and only by the user who sent it.

    Raises KeptUploadGone when the token takes nothing (forged, used, replaced or expired), and
    FileProblem as an upload does."""
    kept = take_kept_upload(token, user.id if user else None)
    about = kept.about
    log.info("event=repeat-kept-taken bytes=%s", about["size"])
    received = Received(kept.path, about["filename"], about["sha256"], about["size"])
    return _take_in(received, user, replace(options, allow_repeat=True))


def _take_in(received: Received, user: User | None, options: ImportOptions, *, keep_repeated: bool = False) -> Import:
    """Check the received file, store it under its import's name, record the import and queue it (see create_import)."""
    temporary, folder = received.temporary, received.temporary.parent
    try:
        kind = detect_kind(temporary)
        peeked = peek_file(temporary)
        checked = _Checked(kind, peeked.headers, *columns_for(peeked.headers, options, peeked.header_row, peeked.rows))
        if not options.allow_repeat and not options.dry_run and (imports := imports_of(received.sha256)):
            raise RepeatedFile(imports)
    except RepeatedFile as repeated:
        if not keep_repeated:
            temporary.unlink(missing_ok=True)
            raise
        about = {"filename": received.filename, "sha256": received.sha256, "size": received.size}
        try:
            repeated.kept_token = keep_upload(temporary, user.id if user else None, about)
        except BaseException:  # not kept: the warning's button could not import it, and the file goes
            temporary.unlink(missing_ok=True)
            raise
        raise
    except BaseException:  # the file's fault (FileProblem), or anything unforeseen: the file goes
        temporary.unlink(missing_ok=True)
        raise
    stored_name = f"{uuid.uuid4().hex}.{kind}"
    stored = folder / stored_name
    try:
        temporary.rename(stored)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    with kept_if_recorded(stored):  # not recorded (a profile refused, the database gone): the file goes
        imp = _recorded(received, user, options, stored_name, checked)
    if checked.status is ImportStatus.NEEDS_MAPPING:
        log.info("import=%s event=needs-mapping kind=%s bytes=%s", imp.id, imp.file_kind, imp.file_size)
        return imp
    return _enqueued(imp)


class _Checked(NamedTuple):
    """What the checks of a received file found: its kind, header and how its columns are read."""

    kind: str
    headers: list[object] | None
    mapping: Mapping | None
    profile: ImportProfile | None
    status: ImportStatus


def _recorded(
    received: Received, user: User | None, options: ImportOptions, stored_name: str, checked: _Checked
) -> Import:
    """Add the import row of a file stored as *stored_name* (the record, once committed)."""
    kind, headers, mapping, profile, status = checked
    imp = Import(
        filename=received.filename,
        stored_name=stored_name,
        file_kind=kind,
        file_size=received.size,
        sha256=received.sha256,
        mode=ImportMode(options.mode).value,
        dry_run=options.dry_run,
        all_or_nothing=options.all_or_nothing,
        created_by=user,
        status=status.value,
        headers=None if headers is None else [header_text(h) or None for h in headers],
        mapping=mapping.to_json() if mapping else None,
        matching_refused=options.refuse_unmatched,
        profile=profile,
    )
    if options.save_as and headers is not None and status is ImportStatus.QUEUED:
        try:
            imp.profile = save_profile(options.save_as, headers, mapping or Mapping(), user)
            imp.profile_saved_here = True
        except ProfileError as exc:
            raise FileProblem(str(exc)) from None
    db.session.add(imp)
    return imp


def columns_for(
    headers: list[object] | None,
    options: ImportOptions,
    header_row: int | None = None,
    rows: list[list[object]] | None = None,
) -> tuple[Mapping | None, ImportProfile | None, ImportStatus]:
    """Decide how the file's columns are read: the mapping given, a named profile, the profile saved
    for this header row (the file's row *header_row*), or the header's own names. Return (mapping,
    profile, status): needs_mapping when some required field has no column (refused instead when
    options.refuse_unmatched), or, read by the header's names, when the file's first *rows* show its
    Book type column holds other values (holds_other_than_book_types)."""
    profile = None
    mapping = options.mapping
    if options.profile:
        profile = profile_named(options.profile)
        if profile is None:
            raise FileProblem(f"There is no import profile called {options.profile!r}.")
        mapping = Mapping.from_json(profile.mapping)
    if headers is None:  # a large workbook of a kind read whole: its job checks the header
        return mapping, profile, ImportStatus.QUEUED
    refuse_one_column(headers)
    if mapping is None:
        profile = profile_for(headers)
        mapping = Mapping.from_json(profile.mapping) if profile else None
    header_map, absent = (mapping or Mapping()).resolve(headers)
    if absent:
        try:
            mapping.header_map(headers, header_row)
        except FileProblem as problem:
            raise NeedsMapping(header_map.missing, headers, problem.message, header_row) from None
    if not header_map.missing:
        if mapping is None and not options.refuse_unmatched and values_want_matching(headers, header_map, rows or []):
            return mapping, profile, ImportStatus.NEEDS_MAPPING
        return mapping, profile, ImportStatus.QUEUED
    if options.refuse_unmatched or options.mapping is not None or options.profile:
        raise NeedsMapping(header_map.missing, headers, header_row=header_row)
    return mapping, profile, ImportStatus.NEEDS_MAPPING


def submit_mapping(
    imp: Import,
    mapping: Mapping,
    user: User | None,
    *,
    save_as: str | None = None,
    blank_columns: list[str] | None = None,
) -> Import:
    """Read a stored file that waits for its columns with *mapping*, and queue its import (once);
    *blank_columns*: the headers of its columns blank in every row, as its column profile found them.

    Raises FileProblem when the mapping leaves a required field without a column or default, or
    names a column the file does not have, and ImportStateError when it is not waiting."""
    if imp.status != ImportStatus.NEEDS_MAPPING.value:
        raise ImportStateError(f"Import #{imp.id} is not waiting for its columns to be matched.")
    mapping.header_map(imp.headers or [], header_row_in(imp.read_as))  # raises FileProblem
    if save_as:
        try:
            imp.profile = save_profile(save_as, imp.headers or [], mapping, user)
        except ProfileError as exc:
            raise FileProblem(str(exc)) from None
    claimed = db.session.execute(
        update(Import)
        .where(Import.id == imp.id, Import.status == ImportStatus.NEEDS_MAPPING.value)
        # The profile just saved has its id, but imp.profile_id is set only when imp itself is flushed.
        .values(
            status=ImportStatus.QUEUED.value,
            mapping=mapping.to_json(),
            profile_id=imp.profile.id if imp.profile is not None else None,
            blank_columns=blank_columns,
            profile_saved_here=bool(save_as),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise ImportStateError(f"Import #{imp.id} was already queued with its columns matched.")
    db.session.commit()
    db.session.refresh(imp)
    log.info("import=%s event=mapped profile=%s", imp.id, imp.profile_id)
    enqueue_import(imp)
    return imp


def _enqueued(imp: Import) -> Import:
    """Put a recorded import's job on the queue."""
    log.info(
        "import=%s event=queued kind=%s bytes=%s dry_run=%s source_import=%s",
        imp.id, imp.file_kind, imp.file_size, imp.dry_run, imp.source_import_id,
    )  # fmt: skip
    enqueue_import(imp)
    return imp


def confirm_dry_run(dry_run: Import, user: User | None, *, allow_repeat: bool = False) -> Import:
    """Queue the real import of a finished dry run's stored file (no re-upload), once.

    Raises AlreadyConfirmed when it was confirmed before (two clicks, two tabs, two clients at once:
    only one wins the compare-and-set), and RepeatedFile when the same bytes were imported before
    (unless allow_repeat), as an upload does.
    """
    if not dry_run.dry_run or dry_run.status != ImportStatus.SUCCEEDED.value:
        raise ImportStateError("Only a dry run that has finished can be confirmed.")
    if dry_run.confirmed_as is not None:
        raise AlreadyConfirmed(dry_run, dry_run.confirmed_as)
    if dry_run.columns_read is None:
        # Previewed by a release that did not record its columns: this one may read them otherwise (its
        # synonyms changed), and importing what the preview did not show is what a confirm must never do.
        raise ImportStateError(
            f"Dry run #{dry_run.id} was previewed by an earlier release of bookapp, which did not record which "
            "column fills which field, and this release may read its columns differently. Preview it again: "
            "press Match columns and check again on its page (it opens with the columns as they are read now), "
            "then confirm that dry run."
        )
    if dry_run.rejected and not (dry_run.created + dry_run.updated + dry_run.unchanged + dry_run.skipped):
        raise ImportStateError(
            "Every row of this dry run was rejected, so there is nothing to import. "
            "Fix the file (download the rejected rows) and upload it again."
        )
    if not allow_repeat:
        previous = previous_import(dry_run.sha256)
        if previous is not None and previous.source_import_id == dry_run.id:
            raise AlreadyConfirmed(dry_run, previous)
        if previous is not None:
            raise RepeatedFile(imports_of(dry_run.sha256))
    values = {
        "filename": dry_run.filename,
        "stored_name": dry_run.stored_name,
        "file_kind": dry_run.file_kind,
        "file_size": dry_run.file_size,
        "sha256": dry_run.sha256,
        "mode": dry_run.mode,
        "all_or_nothing": dry_run.all_or_nothing,
        "mapping": dry_run.mapping,
        "columns_read": dry_run.columns_read,
        "profile_id": dry_run.profile_id,
        "headers": dry_run.headers,
        "blank_columns": dry_run.blank_columns,
        "profile_saved_here": dry_run.profile_saved_here,
        "source_import_id": dry_run.id,
        "created_by_id": user.id if user else None,
        "status": ImportStatus.QUEUED.value,
    }
    # End the transaction that read the dry run, so the next one starts with a write: on SQLite it then
    # waits for the write lock (and sees the other confirm's commit) instead of failing on a stale snapshot.
    db.session.commit()
    imp = Import(**values)
    db.session.add(imp)
    db.session.flush()
    # Compare-and-set on the dry run's row: of two confirms at once, the second waits for the first's
    # commit (the row lock on PostgreSQL, the write lock on SQLite), then finds it set and changes nothing.
    claimed = db.session.execute(
        update(Import)
        .where(Import.id == values["source_import_id"], Import.confirmed_as_id.is_(None))
        .values(confirmed_as_id=imp.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        db.session.refresh(dry_run)
        raise AlreadyConfirmed(dry_run, dry_run.confirmed_as)
    db.session.expire(dry_run)
    db.session.commit()  # the new import's row: the record, from now on
    return _enqueued(imp)
