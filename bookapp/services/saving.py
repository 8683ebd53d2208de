"""Save a chunk of validated rows: one lookup of the stored ISBNs, then bulk inserts and updates.

Rows are compared and written in the database's own storage form (for example integer cents for
prices on SQLite), through the driver's executemany / COPY: the ORM is far too slow for a million
rows, and SQLAlchemy's column types still define the storage form (their bind processors).
"""

import enum
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..importer import FIELDS, BookRow
from ..models import Book, ImportChange, ImportMode, utcnow

books = Book.__table__
_COLUMNS = ", ".join(FIELDS)
_ISBN = FIELDS.index("isbn")
_QUANTITY = FIELDS.index("quantity")
_FILLABLE = [FIELDS.index(f) for f in ("no_of_pages", "description")]


class Outcome(bytes, enum.Enum):
    """What an import did with one row (one byte each in the per-chunk record)."""

    CREATED = b"c"
    UPDATED = b"u"
    UNCHANGED = b"="
    SKIPPED = b"s"
    REJECTED = b"x"


_CREATED, _UPDATED, _UNCHANGED, _SKIPPED = (
    Outcome.CREATED.value, Outcome.UPDATED.value, Outcome.UNCHANGED.value, Outcome.SKIPPED.value,
)  # fmt: skip
OUTCOME_NAMES = {o.value: o.name.lower() for o in Outcome}


@dataclass
class ChunkOutcome:
    """Each row's outcome code (row number → one byte)."""

    rows: dict[int, bytes] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Return how many rows were created, updated, unchanged and skipped."""
        tally = Counter(self.rows.values())
        return {OUTCOME_NAMES[code]: tally[code] for code in (_CREATED, _UPDATED, _UNCHANGED, _SKIPPED)}


class BookWriter:
    """Write validated rows for one import, in one mode, inside the caller's transaction."""

    def __init__(self, session: Session, import_id: int, mode: ImportMode, *, dry_run: bool = False):
        self.session = session
        self.import_id = import_id
        self.mode = ImportMode(mode)
        self.dry_run = dry_run
        self.dialect = session.get_bind().dialect
        self.postgres = self.dialect.name == "postgresql"
        self._to_db = [books.c[f].type.dialect_impl(self.dialect).bind_processor(self.dialect) for f in FIELDS]
        self._time_to_db = books.c.created_at.type.dialect_impl(self.dialect).bind_processor(self.dialect)
        self._price_from_db = (
            None
            if self.postgres
            else books.c.price.type.dialect_impl(self.dialect).result_processor(self.dialect, None)
        )
        # Only columns whose type converts values (prices to cents on SQLite); distinct values are few.
        self._processors = [(i, p) for i, p in enumerate(self._to_db) if p is not None]
        self._memos: dict[int, dict] = {i: {} for i, _ in self._processors}

    # -- storage form ------------------------------------------------------------------------
    def _stored_rows(self, rows: list[BookRow]) -> list[tuple]:
        """Return each row's field values in the database's storage form, converting column by column."""
        columns = list(zip(*rows, strict=True))[1:]
        for index, process in self._processors:
            memo = self._memos[index]
            column = columns[index]
            if len(memo) > 100_000:
                memo.clear()
            for value in set(column).difference(memo):
                memo[value] = None if value is None else process(value)
            columns[index] = list(map(memo.__getitem__, column))
        return list(zip(*columns, strict=True))

    def _shown(self, index: int, value):
        """Return a stored value as JSON for the change record (prices as text, like "12.99")."""
        if FIELDS[index] == "price" and value is not None:
            return str(self._price_from_db(value) if self._price_from_db else value)
        return value

    # -- writing -----------------------------------------------------------------------------
    def write(self, rows: list[BookRow]) -> ChunkOutcome:
        """Create, update or skip each row (in add-to-stock mode, rows of one ISBN are summed)."""
        outcome = ChunkOutcome()
        if not rows:
            return outcome
        connection = self.session.connection()
        if not self.postgres and not self.dry_run:
            # Take SQLite's write lock before reading, so no other import can insert between the
            # lookup and the insert (the lock wait is bounded by busy_timeout).
            driver = connection.connection.driver_connection
            if not driver.in_transaction:
                driver.execute("BEGIN IMMEDIATE")
        numbers = [row[0] for row in rows]
        stored_rows = list(zip(numbers, self._stored_rows(rows), strict=True))
        existing = self._lookup([values[_ISBN] for _, values in stored_rows])
        now = self._time_to_db(utcnow()) if self._time_to_db else utcnow()
        codes = outcome.rows
        if not existing and self.mode in (ImportMode.CREATE_UPDATE, ImportMode.CREATE_ONLY):
            # The common case of a new list: every row is a new book.
            new = stored_rows
            codes.update(dict.fromkeys(numbers, _CREATED))
            changed: list[tuple[int, int, tuple, dict, int | None]] = []
        else:
            new, changed = self._classify(stored_rows, existing, codes)
        if not self.dry_run:
            self._insert(connection, new, now)
            self._update(connection, changed, now)
        return outcome

    def _classify(self, stored_rows, existing, codes) -> tuple[list, list]:
        new: list[tuple[int, tuple]] = []
        changed: list[tuple[int, int, tuple, dict, int | None]] = []
        pending_new: dict[str, int] = {}
        mode = self.mode
        for row_number, values in stored_rows:
            isbn = values[_ISBN]
            old = existing.get(isbn)
            if old is None:
                if mode is ImportMode.UPDATE_ONLY:
                    codes[row_number] = _SKIPPED
                elif mode is ImportMode.ADD_STOCK and isbn in pending_new:
                    # A repeated ISBN in a delivery note: add its quantity to the first row's book.
                    index = pending_new[isbn]
                    first_number, first_values = new[index]
                    summed = list(first_values)
                    summed[_QUANTITY] += values[_QUANTITY]
                    new[index] = (first_number, tuple(summed))
                    codes[row_number] = _UPDATED
                else:
                    pending_new[isbn] = len(new)
                    new.append((row_number, values))
                    codes[row_number] = _CREATED
                continue
            (book_id, previous_import_id), old_values = old
            if mode is ImportMode.CREATE_ONLY:
                codes[row_number] = _SKIPPED
                continue
            if mode is ImportMode.ADD_STOCK:
                values = self._added_to_stock(old_values, values)
            if values == old_values:
                codes[row_number] = _UNCHANGED
                continue
            before = {
                FIELDS[i]: self._shown(i, old_values[i]) for i in range(len(FIELDS)) if old_values[i] != values[i]
            }
            changed.append((row_number, book_id, values, before, previous_import_id))
            # A later row of the same ISBN (add to stock) builds on this row's values.
            existing[isbn] = ((book_id, self.import_id), values)
            codes[row_number] = _UPDATED
        return new, changed

    def _added_to_stock(self, old: tuple, values: tuple) -> tuple:
        merged = list(old)
        merged[_QUANTITY] = old[_QUANTITY] + values[_QUANTITY]
        for index in _FILLABLE:
            if merged[index] is None:
                merged[index] = values[index]
        return tuple(merged)

    def _lookup(self, isbns: list[str]) -> dict[str, tuple[tuple[int, int | None], tuple]]:
        """Return the stored books among *isbns*: isbn → ((id, last import id), field values as stored)."""
        driver = self.session.connection().connection.driver_connection
        if self.postgres:
            with driver.cursor() as cursor:
                cursor.execute(f"SELECT id, import_id, {_COLUMNS} FROM books WHERE isbn = ANY(%s)", (isbns,))
                found = cursor.fetchall()
        else:
            marks = ",".join("?" * len(isbns))
            sql = f"SELECT id, import_id, {_COLUMNS} FROM books WHERE isbn IN ({marks})"
            found = driver.execute(sql, isbns).fetchall()
        return {row[2 + _ISBN]: ((row[0], row[1]), tuple(row[2:])) for row in found}

    def _insert(self, connection, new: list[tuple[int, tuple]], now) -> None:
        if not new:
            return
        extra = (now, now, self.import_id, self.import_id)
        columns = f"{_COLUMNS}, created_at, updated_at, import_id, created_by_import_id"
        if self.postgres:
            self._copy_insert(connection, [values + extra for _, values in new], columns)
            return
        marks = ",".join("?" * (len(FIELDS) + 4))
        connection.exec_driver_sql(f"INSERT INTO books ({columns}) VALUES ({marks})", [v + extra for _, v in new])

    def _copy_insert(self, connection, records: list[tuple], columns: str) -> None:
        """PostgreSQL: COPY into a temporary table, then insert what no concurrent import inserted first."""
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS book_stage ON COMMIT DELETE ROWS AS SELECT {columns} FROM books "
            "WITH NO DATA"
        )
        with cursor.copy(f"COPY book_stage ({columns}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(record)
        cursor.execute(
            f"INSERT INTO books ({columns}) SELECT {columns} FROM book_stage ORDER BY isbn "
            "ON CONFLICT (isbn) DO NOTHING RETURNING isbn"
        )
        inserted = {row[0] for row in cursor.fetchall()}
        cursor.execute("DELETE FROM book_stage")
        if len(inserted) != len(records):
            raise ConcurrentInsert([r[_ISBN] for r in records if r[_ISBN] not in inserted])

    def _update(self, connection, changed: list[tuple[int, int, tuple, dict, int | None]], now) -> None:
        if not changed:
            return
        mark = "%s" if self.postgres else "?"
        assignments = ", ".join(f"{f} = {mark}" for f in (*FIELDS, "updated_at", "import_id"))
        connection.exec_driver_sql(
            f"UPDATE books SET {assignments} WHERE id = {mark}",
            [(*values, now, self.import_id, book_id) for _, book_id, values, _, _ in changed],
        )
        self.session.execute(
            insert(ImportChange.__table__),
            [
                {
                    "import_id": self.import_id,
                    "book_id": book_id,
                    "row_number": row_number,
                    "before": before,
                    "previous_import_id": previous_import_id,
                }
                for row_number, book_id, _, before, previous_import_id in changed
            ],
        )


class ConcurrentInsert(Exception):
    """Another import inserted some of these ISBNs between our lookup and our insert: redo the chunk."""

    def __init__(self, isbns: list[str]):
        super().__init__(f"{len(isbns)} ISBNs were inserted concurrently")
        self.isbns = isbns
