"""Imports and what each did: their status and mode, profiles, rejected rows and errors, chunk checkpoints
and the changes undo restores."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..column_types import UTCDateTime, utcnow
from ..extensions import db
from ..importer.mapping import Mapping

if TYPE_CHECKING:
    from .users import User


class ImportStatus(enum.StrEnum):
    """Where an import is in its life."""

    #: Stored, but some required field has no column yet: waits for its columns to be matched.
    NEEDS_MAPPING = "needs_mapping"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_STATUSES = frozenset({ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.CANCELLED})


class ImportMode(enum.StrEnum):
    """What an import does to books whose ISBN is already stored."""

    CREATE_UPDATE = "create_update"
    CREATE_ONLY = "create_only"
    UPDATE_ONLY = "update_only"
    ADD_STOCK = "add_stock"


MODE_LABELS = {
    ImportMode.CREATE_UPDATE: (
        "Create and update: add new books, overwrite existing ones that differ (a field the file has no "
        "column for keeps its value)."
    ),
    ImportMode.CREATE_ONLY: "Create only: add new books, skip ISBNs that are already stored.",
    ImportMode.UPDATE_ONLY: "Update only: change existing books, skip ISBNs that are not stored.",
    ImportMode.ADD_STOCK: "Add to stock: add each row's quantity to the stored book; create new ISBNs.",
}


class ImportPhase(enum.StrEnum):
    """What a running import is doing now."""

    QUEUED = "queued"
    READING = "reading"
    VALIDATING = "validating"
    #: Another import is writing to the (SQLite) database: this one starts when it ends.
    WAITING = "waiting"
    SAVING = "saving"
    DONE = "done"


class Import(db.Model):
    """One uploaded file and everything its import did: the record, whatever Redis forgets."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=ImportStatus.QUEUED.value, index=True)
    mode: Mapped[str] = mapped_column(String(16), default=ImportMode.CREATE_UPDATE.value)
    dry_run: Mapped[bool] = mapped_column(default=False)
    all_or_nothing: Mapped[bool] = mapped_column(default=False)
    phase: Mapped[str] = mapped_column(String(16), default=ImportPhase.QUEUED.value)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    #: The import this one repeats: the dry run it confirms (sharing its stored file; this one is no dry run),
    #: or the import whose file it reads again with its columns matched anew (its own copy of the file; a
    #: dry run exactly when that one was).
    #: Indexed, as fixes_import_id is: each import's JSON looks up the imports that name it (rematches_of,
    #: fixed_by_ids), and a list of imports does so for every one of them.
    source_import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id", ondelete="SET NULL"), index=True)
    #: For a dry run: the import it was confirmed as (set once, by compare-and-set: a dry run is confirmed once).
    confirmed_as_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64))
    file_kind: Mapped[str] = mapped_column(String(8))
    file_size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When the current attempt claimed the import (None between attempts).
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Seconds its ended attempts worked: each to its end, or a lost one to its last heartbeat (the time
    #: a dead worker cost is in elapsed time only). None for imports made before it was kept.
    working_seconds: Mapped[float | None] = mapped_column(Float, default=0.0)
    total_rows: Mapped[int | None] = mapped_column(Integer)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    #: The spreadsheet row number of the last row whose outcome is committed (resume point).
    checkpoint_row: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    #: The file's header row, as written (for the rejected-rows download).
    headers: Mapped[list | None] = mapped_column(JSON)
    ignored_columns: Mapped[list] = mapped_column(JSON, default=list)
    #: How the file was read (encoding, delimiter or sheet), and other file-level notes.
    read_as: Mapped[str | None] = mapped_column(String(255))
    #: For a dry run: the first rows as they would be stored, with their outcome.
    preview: Mapped[list | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    #: Whether it failed because of the file itself (its header, format or rows): a retry cannot help.
    file_problem: Mapped[bool] = mapped_column(default=False)
    #: When the uploaded file was deleted after the retention period (reports need it until then).
    file_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    undo_report: Mapped[dict | None] = mapped_column(JSON)
    #: How the file's columns fill the book fields when its header alone does not say (importer.mapping).
    mapping: Mapped[dict | None] = mapped_column(JSON)
    #: Whether its upload asked that a file wanting Match columns be imported as it is rather than wait (the API
    #: and the command line): its job, which reads a large workbook's first rows, does not send it there either.
    matching_refused: Mapped[bool] = mapped_column(default=False)
    #: The columns its rows are read from, recorded at the first read of its rows (Mapping.as_read: every field
    #: named, with the mapping's defaults, value maps and group_by) and used by every later read: a resume,
    #: the confirm of a dry run, the fix grid, the reports, a rematch's starting point. None until its rows
    #: are first read, and for imports whose rows a release before it was kept read (see reads_with).
    columns_read: Mapped[dict | None] = mapped_column(JSON)
    #: The saved profile the mapping came from, if any.
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("import_profiles.id", ondelete="SET NULL"))
    #: Cells repaired on the way in, by kind: {"isbn_leading_zero": {"count": n, "rows": [first rows]}}.
    repairs: Mapped[dict | None] = mapped_column(JSON)
    #: The import whose rejected rows this one imports, fixed.
    fixes_import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id", ondelete="SET NULL"), index=True)
    #: While it waits for its columns to be matched: each column's samples, blank share, distinct values and
    #: value counts, and the first rows (importer.profiling), or {"state": "pending"|"error", …}. Loaded only
    #: when read (it can be large, and an import's row is read at every step of its run); None in SQL when unset.
    column_profile: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), deferred=True)
    #: The headers of the columns that Match columns' profile found blank in every row (the report tells them
    #: from the ignored columns that held values); None where the columns were not profiled.
    blank_columns: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    #: Whether its columns were matched for it and saved as its profile (else a profile saved before matched them).
    profile_saved_here: Mapped[bool] = mapped_column(default=False)

    created_by: Mapped[User | None] = db.relationship(foreign_keys=[created_by_id])
    undone_by: Mapped[User | None] = db.relationship(foreign_keys=[undone_by_id])
    #: Read only: confirm_dry_run sets confirmed_as_id by compare-and-set.
    confirmed_as: Mapped[Import | None] = db.relationship(
        foreign_keys=[confirmed_as_id], remote_side=[id], viewonly=True
    )
    source_import: Mapped[Import | None] = db.relationship(
        foreign_keys=[source_import_id], remote_side=[id], viewonly=True
    )
    profile: Mapped[ImportProfile | None] = db.relationship(foreign_keys=[profile_id])
    fixes_import: Mapped[Import | None] = db.relationship(foreign_keys=[fixes_import_id], remote_side=[id])

    # Every flush of a run's progress checks that no later attempt took the import over
    # (the reconciler or a retry bumps `attempts`): a superseded run stops instead of double counting.
    __mapper_args__ = {"version_id_col": attempts, "version_id_generator": False}  # noqa: RUF012

    @property
    def is_terminal(self) -> bool:
        return ImportStatus(self.status) in TERMINAL_STATUSES

    @property
    def saved_nothing(self) -> bool:
        """Whether the import ended having saved none of its rows for certain: an all-or-nothing import that
        did not succeed (its rows were only checked, or their one transaction rolled back)."""
        return self.all_or_nothing and not self.dry_run and self.is_terminal and self.status != "succeeded"

    @property
    def valid_rows(self) -> int:
        """The rows gone through that were not rejected (all or nothing: those that would have been saved)."""
        return max(0, self.processed_rows - self.rejected)

    @property
    def rematch_of(self) -> Import | None:
        """The import whose file this one reads again with its columns matched anew (None for a new upload,
        and for the import a dry run was confirmed as)."""
        source = self.source_import
        return source if source is not None and source.dry_run == self.dry_run else None

    def reads_with(self) -> Mapping:
        """Return the mapping its file's columns are read with: the columns its first read recorded; else
        (its rows not read yet, or read by a release that did not record them: such an import's reports
        match the header as this release does) its mapping, fields it leaves out matched by their headers."""
        return Mapping.from_json(self.mapping if self.columns_read is None else self.columns_read)

    @property
    def rq_job_id(self) -> str:
        """The RQ job id of this import's current attempt."""
        return f"import-{self.id}-{self.attempts}"


class ImportProfile(db.Model):
    """A saved way to read files with one header row: which column fills which field, defaults, value maps."""

    __tablename__ = "import_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: sha256 of the header row as importer.mapping.header_key writes it: files with this header get the profile.
    header_key: Mapped[str] = mapped_column(String(64), index=True)
    headers: Mapped[list] = mapped_column(JSON)
    mapping: Mapped[dict] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    created_by: Mapped[User | None] = db.relationship(foreign_keys=[created_by_id])


class ImportRowError(db.Model):
    """One problem with one row of an import's file, as the user sees that row."""

    __tablename__ = "import_row_errors"
    __table_args__ = (
        Index("ix_import_row_errors_import_row", "import_id", "row_number"),
        # The problems summary groups an import's problems by kind and lists each kind's first rows:
        # both read this index alone, in its order. Reading the messages themselves instead took 0.9 s
        # for 500,000 rejected rows on SQLite; this index, 0.1 s.
        Index("ix_import_row_errors_import_kind", "import_id", "kind", "column", "row_number", "wording"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    #: The file line a CSV row starts on, where it is not the row number (after a multi-line cell).
    line: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    #: The kind of problem: a digest of the column and the message without its cell value and numbers
    #: (problems of one kind share it, whatever the value). None on rows saved by an older release.
    kind: Mapped[str | None] = mapped_column(String(16))
    #: A digest of the exact message: whether every problem of a kind has the same words.
    wording: Mapped[str | None] = mapped_column(String(16))


class RejectedRow(db.Model):
    """A rejected row's original cells and its problems, for the download to fix and re-upload."""

    __tablename__ = "rejected_rows"
    __table_args__ = (Index("ix_rejected_rows_import_row", "import_id", "row_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    #: The file line a CSV row starts on, where it is not the row number (after a multi-line cell).
    line: Mapped[int | None] = mapped_column(Integer)
    cells: Mapped[list] = mapped_column(JSON)
    errors: Mapped[str] = mapped_column(Text)
    #: The blank cells a shop's variant row took from its product's first row: {"from_row": 2, "cells": [1, 3]}.
    filled: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))


class ImportChunk(db.Model):
    """One committed chunk: its rows' numbers and outcomes (one byte each), for the reconciliation report."""

    __tablename__ = "import_chunks"
    __table_args__ = (Index("ix_import_chunks_import_first", "import_id", "first_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    first_row: Mapped[int] = mapped_column(Integer)
    last_row: Mapped[int] = mapped_column(Integer)
    row_numbers: Mapped[bytes] = mapped_column(LargeBinary)
    outcomes: Mapped[bytes] = mapped_column(LargeBinary)


class ImportChange(db.Model):
    """The stored values an import overwrote on one book (only the fields it changed); for a dry run, those
    it would overwrite, for its report only: of its first updated books, until its file is deleted."""

    __tablename__ = "import_changes"
    __table_args__ = (Index("ix_import_changes_import_book", "import_id", "book_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    book_id: Mapped[int] = mapped_column(Integer)
    row_number: Mapped[int] = mapped_column(Integer)
    before: Mapped[dict] = mapped_column(JSON)
    #: The import that had last written the book before this one (restored by undo).
    previous_import_id: Mapped[int | None] = mapped_column(Integer)
