"""Save a chunk of validated rows: one query to find stored ISBNs, bulk inserts and updates."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..importer import FIELDS, BookRow
from ..models import Book, ImportChange, ImportMode, utcnow

books = Book.__table__
_FIELD_COLUMNS = [books.c[f] for f in FIELDS]


@dataclass
class ChunkOutcome:
    """How many rows of a chunk were created, updated, unchanged or skipped."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


def _jsonable(value):
    return None if value is None else value if isinstance(value, (int, str)) else str(value)


class BookWriter:
    """Write validated rows for one import, in one mode, within the caller's transaction."""

    def __init__(self, session: Session, import_id: int, mode: ImportMode):
        self.session = session
        self.import_id = import_id
        self.mode = ImportMode(mode)
        dialect = session.get_bind().dialect.name
        self._insert = {"postgresql": pg_insert, "sqlite": sqlite_insert}.get(dialect)

    def write(self, rows: list[BookRow]) -> ChunkOutcome:
        """Create, update or skip each row (ISBNs are unique within *rows*)."""
        outcome = ChunkOutcome()
        pending = rows
        for _attempt in range(3):
            if not pending:
                break
            pending = self._write_once(pending, outcome)
        if pending:  # pragma: no cover - needs three concurrent writers racing on the same ISBNs
            raise RuntimeError("rows kept conflicting with concurrent imports")
        return outcome

    def _write_once(self, rows: list[BookRow], outcome: ChunkOutcome) -> list[BookRow]:
        """Write *rows*; return the ones another import created meanwhile (to classify again)."""
        now = utcnow()
        stored = {
            r.isbn: r
            for r in self.session.execute(
                select(books.c.id, *_FIELD_COLUMNS).where(books.c.isbn.in_([row.isbn for row in rows]))
            )
        }
        new: list[BookRow] = []
        changed: list[tuple[BookRow, object, dict]] = []
        for row in rows:
            old = stored.get(row.isbn)
            if old is None:
                if self.mode is ImportMode.UPDATE_ONLY:
                    outcome.skipped += 1
                else:
                    new.append(row)
                continue
            if self.mode is ImportMode.CREATE_ONLY:
                outcome.skipped += 1
                continue
            before = {f: _jsonable(getattr(old, f)) for f in FIELDS if getattr(old, f) != getattr(row, f)}
            if before:
                changed.append((row, old, before))
            else:
                outcome.unchanged += 1
        conflicted = self._insert_new(new, now, outcome)
        self._update_changed(changed, now, outcome)
        return conflicted

    def _insert_new(self, new: list[BookRow], now: datetime, outcome: ChunkOutcome) -> list[BookRow]:
        if not new:
            return []
        params = [
            {
                **row.values(),
                "created_at": now,
                "updated_at": now,
                "import_id": self.import_id,
                "created_by_import_id": self.import_id,
            }
            for row in new
        ]
        if self._insert is None:  # pragma: no cover - other databases: no concurrent-safe upsert
            self.session.execute(insert(books), params)
            outcome.created += len(new)
            return []
        stmt = self._insert(books).on_conflict_do_nothing(index_elements=["isbn"]).returning(books.c.isbn)
        inserted = set(self.session.execute(stmt, params).scalars())
        outcome.created += len(inserted)
        return [row for row in new if row.isbn not in inserted]

    def _update_changed(self, changed: list, now: datetime, outcome: ChunkOutcome) -> None:
        if not changed:
            return
        # Bind names must differ from column names in an UPDATE's SET clause, hence the prefix.
        stmt = (
            update(books)
            .where(books.c.id == bindparam("b_id"))
            .values({f: bindparam("b_" + f) for f in (*FIELDS, "updated_at", "import_id")})
        )
        self.session.execute(
            stmt,
            [
                {"b_" + f: getattr(row, f) for f in FIELDS}
                | {"b_id": old.id, "b_updated_at": now, "b_import_id": self.import_id}
                for row, old, _ in changed
            ],
        )
        self.session.execute(
            insert(ImportChange.__table__),
            [
                {"import_id": self.import_id, "book_id": old.id, "row_number": row.row_number, "before": before}
                for row, old, before in changed
            ],
        )
        outcome.updated += len(changed)
