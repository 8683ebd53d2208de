"""Save a chunk of validated rows: one lookup of the stored ISBNs, then bulk inserts and updates.

Rows are compared and written in the database's own storage form (for example integer cents for
prices on SQLite), through the driver's executemany / COPY: the ORM is far too slow for a million
rows, and SQLAlchemy's column types still define the storage form (their bind processors).
"""

import sqlite3
from collections.abc import Iterable
from operator import itemgetter

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..config import SQLITE_IMPORT_CACHE_MB
from ..importer import FIELDS
from ..importer.fields import LABELS, MAX_INT
from ..importer.validation import ValidRows
from ..models import Book, ImportChange, ImportMode, utcnow
from .copy_writing import copy_insert, copy_update
from .dry_runs import CarriedStock, KeptChanges
from .outcomes import ChunkOutcome, Outcome
from .short_writes import begin_immediate
from .staged_inserts import StagedInserts, sql_time

_CREATED, _UPDATED, _UNCHANGED, _SKIPPED, _REJECTED = (
    Outcome.CREATED.value, Outcome.UPDATED.value, Outcome.UNCHANGED.value, Outcome.SKIPPED.value,
    Outcome.REJECTED.value,
)  # fmt: skip

books = Book.__table__
_COLUMNS = ", ".join(FIELDS)
_ISBN = FIELDS.index("isbn")
#: The columns an insert fills: the fields, then when and by which import.
_INSERTED = f"{_COLUMNS}, created_at, updated_at, import_id, created_by_import_id"
_PLACES = ",".join("?" * (len(FIELDS) + 4))
_QUANTITY = FIELDS.index("quantity")
#: The log pages after which an import's commit copies the log into the database (the app's own
#: connections: 10,000). A transaction of 100,000 random-order books rewrites most leaves of the ISBN
#: index, so at 5,000,000 books each commit logged about 140 MB and each was copied back, with its
#: sync, at once; letting the log reach 400 MB first copies a page rewritten by several commits once.
#: Realistic CLI imports, quiet machine: 1M in 7.3 s instead of 7.8 s, 5M in 53.6 s instead of 59.8 s.
SQLITE_IMPORT_CHECKPOINT_PAGES = 100_000
_FILLABLE = [FIELDS.index(f) for f in ("no_of_pages", "description")]


class BookWriter:
    """Write validated rows for one import, in one mode, inside the caller's transaction."""

    def __init__(self, session: Session, import_id: int, mode: ImportMode, *, dry_run: bool = False,
                 absent: Iterable[str] = (), records_changes: bool = True,
                 sqlite_cache_mb: int = SQLITE_IMPORT_CACHE_MB, stage_past_books: int | None = None):  # fmt: skip
        """*absent*: the fields the file has no column for (nor a value for every row): a book it updates
        keeps what it has there, where a blank cell in a column the file has clears it. A dry run records
        the changes it would make (for its report) unless *records_changes* is false (a check only).
        *sqlite_cache_mb*: the page cache of the import's connection on SQLite; *stage_past_books*: the
        stored books past which new books are staged until the commit (staged_inserts; by default where
        the ISBN index outgrows that cache)."""
        self.session = session
        self.import_id = import_id
        self.mode = ImportMode(mode)
        self.dry_run = dry_run
        self.records_changes = records_changes
        self.sqlite_cache_kb = max(1, int(sqlite_cache_mb)) * 1024  # a setting of 0 or less: 1 MB, not bad SQL
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
        self._integrity_errors = (IntegrityError, self.dialect.dbapi.IntegrityError)
        #: Whether a row with an ISBN not stored yet becomes a new book (update-only and add-to-stock differ).
        self._plain_creates = self.mode in (ImportMode.CREATE_UPDATE, ImportMode.CREATE_ONLY)
        # Insert before looking, while rows keep being new.
        self._expect_new = not dry_run and self._plain_creates
        self._staged = (
            StagedInserts(import_id, self.sqlite_cache_kb, stage_past_books)
            if self._expect_new and not self.postgres
            else None
        )
        self._memos: dict[int, dict] = {i: {} for i, _ in self._processors}
        self._kept = [FIELDS.index(f) for f in absent]
        #: An Add to stock dry run's totals across pieces (a real import reads back the books it wrote).
        self._carried = CarriedStock() if dry_run and self.mode is ImportMode.ADD_STOCK else None
        self._kept_changes = KeptChanges(session, import_id)

    # -- storage form ------------------------------------------------------------------------
    def _stored_rows(self, rows: ValidRows) -> list[tuple]:
        """Return each row's field values in the database's storage form, converting column by column."""
        columns = list(rows.columns)
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
    def write(self, rows: ValidRows) -> ChunkOutcome:
        """Create, update or skip each row (in add-to-stock mode, rows of one ISBN are summed)."""
        outcome = ChunkOutcome()
        if not rows:
            return outcome
        connection = self.session.connection()
        if self.postgres and not self.dry_run:
            # A chunk's books and the import's checkpoint commit together, so a server crash can
            # only lose both: the import then resumes from the checkpoint that was kept. The
            # import's last commit (its status) is synchronous and makes every earlier one durable.
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        if not self.postgres and not self.dry_run:
            # Take SQLite's write lock before reading, so no other import can insert between the
            # lookup and the insert, nor between an insert and the look at what it made (the lock
            # wait is bounded by busy_timeout).
            driver = connection.connection.driver_connection
            if not driver.in_transaction:
                begin_immediate(connection)  # after the uploads, edits and catch-ups waiting
            driver.execute(f"PRAGMA cache_size = -{self.sqlite_cache_kb}")
            driver.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_IMPORT_CHECKPOINT_PAGES}")
        numbers = rows.numbers
        stored = self._stored_rows(rows)
        now = self._time_to_db(utcnow()) if self._time_to_db else utcnow()
        codes = outcome.rows
        # While rows keep being new, insert before looking: the unique ISBN index does the lookup as
        # part of the insert (PostgreSQL undoes the attempt if one book exists; SQLite keeps what it
        # inserted and looks up only the rows it did not).
        if self._expect_new and self.postgres and self._insert_all_new(connection, stored, now):
            codes.update(dict.fromkeys(numbers, _CREATED))
            return outcome
        if self._expect_new and not self.postgres:
            inserted = self._sqlite_insert_new(connection, numbers, stored, now)
            codes.update(dict.fromkeys(inserted, _CREATED))
            if len(inserted) == len(numbers):
                return outcome
            # The rows left out are stored books: looked up and classified below like any others.
            kept = set(inserted)
            numbers = [n for n in numbers if n not in kept]
            stored = [values for n, values in zip(rows.numbers, stored, strict=True) if n not in kept]
        stored_rows = list(zip(numbers, stored, strict=True))
        existing = self._lookup([values[_ISBN] for values in stored])
        in_store = self._carried.carry_in(stored_rows, existing, self.import_id) if self._carried is not None else {}
        if not existing and self._plain_creates:
            # A new list: every row is a new book.
            new = stored_rows
            codes.update(dict.fromkeys(numbers, _CREATED))
            changed: list[tuple[int, int, tuple, dict, int | None]] = []
        else:
            new, changed = self._classify(stored_rows, existing, outcome)
        if self._carried is not None:
            self._carried.carry_out(in_store, existing, new)
        if not self.dry_run:
            self._insert(connection, new, now)
            self._update(connection, changed, now)
        elif self.records_changes:
            self._record_changes(self._kept_changes.take(changed))
        self._expect_new = not existing and not self.dry_run and self._plain_creates
        return outcome

    def _insert_all_new(self, connection, stored: list[tuple], now) -> bool:
        """PostgreSQL: insert every row as a new book without looking first; return False, with nothing
        kept, if one exists.

        Used while the file's rows keep being new (a new list, the common case): the unique ISBN index
        does the lookup as part of the insert. One stored ISBN rolls the attempt back to its savepoint;
        the chunk then takes the lookup path, and so do later ones until one finds only new books.
        """
        records = sorted(stored, key=itemgetter(_ISBN))  # one order for every import: no deadlocks
        connection.exec_driver_sql("SAVEPOINT new_books")
        try:
            self._insert_records(connection, records, now, direct=True)
        except self._integrity_errors:
            connection.exec_driver_sql("ROLLBACK TO SAVEPOINT new_books")
            connection.exec_driver_sql("RELEASE SAVEPOINT new_books")
            self._expect_new = False
            return False
        connection.exec_driver_sql("RELEASE SAVEPOINT new_books")
        return True

    def _sqlite_insert_new(self, connection, numbers: list[int], stored: list[tuple], now) -> list[int]:
        """SQLite: insert every row whose ISBN is not stored yet; return the row numbers inserted.

        An insert that leaves out a stored ISBN (ON CONFLICT DO NOTHING) needs no savepoint, which
        would copy every page the insert changes into a journal first. Ids only grow (AUTOINCREMENT)
        and the write lock keeps other imports out, so the books with an id past the largest before the
        insert are the ones it made. The time and the import's id are written into the statement, so
        no row needs a tuple of its own built to carry them.
        """
        driver = connection.connection.driver_connection
        before = driver.total_changes
        (largest,) = driver.execute("SELECT coalesce(max(id), 0) FROM books").fetchone()
        if self._staged is not None and self._staged.wanted(driver, largest):
            self._staged.stage(driver, numbers, stored)
            return numbers
        stamp = sql_time(now)
        driver.executemany(
            f"INSERT INTO books ({_INSERTED}) VALUES ({','.join('?' * len(FIELDS))}, {stamp}, {stamp}, "
            f"{int(self.import_id)}, {int(self.import_id)}) ON CONFLICT (isbn) DO NOTHING",
            sorted(stored, key=itemgetter(_ISBN)),  # in ISBN order: see _sqlite_insert
        )
        if driver.total_changes - before == len(stored):
            return numbers
        made = {isbn for (isbn,) in driver.execute("SELECT isbn FROM books WHERE id > ?", (largest,))}
        return [number for number, values in zip(numbers, stored, strict=True) if values[_ISBN] in made]

    def merge_staged(self) -> dict[int, bytes]:
        """Insert the books staged in the open transaction (SQLite, staged_inserts); return the outcomes
        of the rows among them that were stored books, which were counted as created (row number → code)."""
        if self._staged is None or not self._staged.pending:
            return {}
        connection = self.session.connection()
        now = self._time_to_db(utcnow())
        left = self._staged.merge(connection.connection.driver_connection, sql_time(now))
        if not left:
            return {}
        self._expect_new = False
        outcome = ChunkOutcome()
        new, changed = self._classify(left, self._lookup([values[_ISBN] for _, values in left]), outcome)
        self._insert(connection, new, now)  # none: each was stored, or the insert would have taken it
        self._update(connection, changed, now)
        return outcome.rows

    def _classify(self, stored_rows, existing, outcome: ChunkOutcome) -> tuple[list, list]:
        codes = outcome.rows
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
                    if self._refuse_past_limit(outcome, row_number, first_values[_QUANTITY], values[_QUANTITY]):
                        continue
                    summed = list(first_values)
                    summed[_QUANTITY] += values[_QUANTITY]
                    new[index] = (first_number, tuple(summed))
                    if self.dry_run:
                        outcome.stored[row_number] = new[index][1]
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
                if self._refuse_past_limit(outcome, row_number, old_values[_QUANTITY], values[_QUANTITY]):
                    continue
                values = self._added_to_stock(old_values, values)
            elif self._kept:
                values = self._keeping(old_values, values)
            if self.dry_run:
                outcome.stored[row_number] = values
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

    @staticmethod
    def _refuse_past_limit(outcome: ChunkOutcome, row_number: int, in_stock: int, added: int) -> bool:
        """Refuse a row whose quantity would take the stock past the largest storable number."""
        if in_stock + added <= MAX_INT:
            return False
        outcome.rows[row_number] = _REJECTED
        outcome.refused[row_number] = (
            f"{LABELS['quantity']}: adding {added:,} to the {in_stock:,} in stock would make {in_stock + added:,}; "
            f"the largest stock allowed is {MAX_INT:,}"
        )
        return True

    def _added_to_stock(self, old: tuple, values: tuple) -> tuple:
        merged = list(old)
        merged[_QUANTITY] = old[_QUANTITY] + values[_QUANTITY]
        for index in _FILLABLE:
            if merged[index] is None:
                merged[index] = values[index]
        return tuple(merged)

    def shown_values(self, values: tuple) -> dict:
        """Return a row's values in storage form as a dry run's preview shows them (prices as text)."""
        return {name: self._shown(i, value) for i, (name, value) in enumerate(zip(FIELDS, values, strict=True))}

    def _keeping(self, old: tuple, values: tuple) -> tuple:
        """The row's values with the stored ones in the fields the file has no column for."""
        merged = list(values)
        for index in self._kept:
            merged[index] = old[index]
        return tuple(merged)

    def _lookup(self, isbns: list[str]) -> dict[str, tuple[tuple[int, int | None], tuple]]:
        """Return the stored books among *isbns*: isbn → ((id, last import id), field values as stored)."""
        driver = self.session.connection().connection.driver_connection
        if self.postgres:
            sql = f"SELECT id, import_id, {_COLUMNS} FROM books WHERE isbn = ANY(%s)"
            if self.mode is ImportMode.ADD_STOCK and not self.dry_run:
                # A quantity is added to what is read here: lock the books until this chunk commits,
                # or two imports adding to one book at once would both add to the same old stock and
                # one addition would be lost. In id order, so two imports' locks cannot deadlock.
                # (SQLite: BEGIN IMMEDIATE has taken the whole database's write lock already.)
                sql += " ORDER BY id FOR UPDATE"
            with driver.cursor() as cursor:
                cursor.execute(sql, (isbns,))
                found = cursor.fetchall()
        else:
            # In ISBN order, as many as one statement may take (SQLite's limit on its variables).
            isbns = sorted(isbns)
            per = max(1, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
            found = []
            for start in range(0, len(isbns), per):
                some = isbns[start : start + per]
                sql = f"SELECT id, import_id, {_COLUMNS} FROM books WHERE isbn IN ({','.join('?' * len(some))})"
                found += driver.execute(sql, some).fetchall()
        return {row[2 + _ISBN]: ((row[0], row[1]), tuple(row[2:])) for row in found}

    def _insert(self, connection, new: list[tuple[int, tuple]], now) -> None:
        # In ISBN order: on SQLite each insert goes to the ISBN index's page the one before it left in
        # the cache, or the next one.
        if new:
            self._insert_records(connection, sorted([values for _, values in new], key=itemgetter(_ISBN)), now)

    def _insert_records(self, connection, records: list[tuple], now, *, direct: bool = False) -> None:
        extra = (now, now, self.import_id, self.import_id)
        if self.postgres:
            copy_insert(connection, [values + extra for values in records], _INSERTED, direct=direct)
            return
        self._sqlite_insert(connection, [v + extra for v in records])

    def _sqlite_insert(self, connection, records: list[tuple]) -> None:
        """SQLite: one INSERT statement per row, run by executemany.

        A statement that inserts several rows may fail half-way (a repeated ISBN), so SQLite first
        copies every page it will change into a statement journal. On a file in random ISBN order each
        row changes a different page of the ISBN index: 400,000 rows took 24.3 s in statements of 500
        rows and 13.5 s one row per statement (on sorted ISBNs, where a statement changes few pages,
        the 500-row statements were the faster).
        """
        driver = connection.connection.driver_connection
        driver.executemany(f"INSERT INTO books ({_INSERTED}) VALUES ({_PLACES})", records)

    def _update(self, connection, changed: list[tuple[int, int, tuple, dict, int | None]], now) -> None:
        if not changed:
            return
        if self.postgres:
            copy_update(connection, [(book_id, *values, now, self.import_id) for _, book_id, values, _, _ in changed])
        else:
            assignments = ", ".join(f"{f} = ?" for f in (*FIELDS, "updated_at", "import_id"))
            connection.exec_driver_sql(
                f"UPDATE books SET {assignments} WHERE id = ?",
                [(*values, now, self.import_id, book_id) for _, book_id, values, _, _ in changed],
            )
        self._record_changes(changed)

    def _record_changes(self, changed: list[tuple[int, int, tuple, dict, int | None]]) -> None:
        """Record what each changed book held before (for undo and the row-by-row report)."""
        if not changed:
            return
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
