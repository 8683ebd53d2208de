"""What an import's rejected rows have in common, and how they are kept and read back (the words for how an
import ended are in import_words)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..importer import RowProblem
from ..importer.cells import as_read, cell_text
from ..importer.columns import is_blank_cell
from ..importer.text_values import BLANK_WORDS, PASSED_OVER
from ..models import Import, ImportRowError, RejectedRow
from .columns_read import field_positions
from .import_words import plural

#: Row numbers listed beside each kind of problem.
SUMMARY_ROWS = 5
#: Kinds of older problems (saved before kinds existed, grouped by their exact words) listed at most.
OLDER_KINDS = 50
#: What stands in for a cell value or a number in a kind of problem's words.
PLACEHOLDER = "…"

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


#: Shorter cell values are not looked for in a message (a value "a" would match the word "a").
MIN_QUOTED_VALUE = 3


def _without_values(message: str, value: str | None) -> str:
    """Return *message* with the cell value (where it stands as a whole) and every number replaced."""
    if value and len(value) >= MIN_QUOTED_VALUE and value in message:
        message = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", PLACEHOLDER, message)
    return _NUMBER.sub(PLACEHOLDER, message)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def problem_kind(problem: RowProblem) -> str:
    """Return the kind of *problem*: the same for every problem of one column and one message,
    whatever cell value or row number the message quotes."""
    return _digest(f"{problem.column or ''}\x1f{_without_values(problem.message, problem.value)}")


def wording(message: str) -> str:
    """Return a digest of a message's exact words."""
    return _digest(message)


@dataclass(frozen=True)
class ProblemKind:
    """One kind of problem in an import: its column, its words, how many rows and the first of them."""

    kind: str
    column: str | None
    message: str
    count: int
    rows: list[int]

    def as_json(self) -> dict:
        return {"kind": self.kind, "column": self.column, "message": self.message, "count": self.count,
                "rows": self.rows}  # fmt: skip


def problems_summary(import_id: int) -> list[ProblemKind]:
    """Return the import's kinds of problem, the commonest first, each with its first rows.

    One GROUP BY that reads the (import, kind, column, row, wording) index alone, then per kind one
    short read of that index and one message: fast however many rows were rejected.
    """
    mine = ImportRowError.import_id == import_id
    groups = db.session.execute(
        select(
            ImportRowError.kind,
            ImportRowError.column,
            func.count(),
            func.min(ImportRowError.wording),
            func.max(ImportRowError.wording),
        )
        .where(mine, ImportRowError.kind.is_not(None))
        .group_by(ImportRowError.kind, ImportRowError.column)
    ).all()
    summary = []
    for kind, column, count, first_wording, last_wording in groups:
        first_rows = db.session.execute(
            select(ImportRowError.row_number, ImportRowError.message)
            .where(mine, ImportRowError.kind == kind, _same_column(column))
            .order_by(ImportRowError.row_number)
            .limit(SUMMARY_ROWS)
        ).all()
        message = first_rows[0].message
        # One wording for every row: show it as it is; else the words they share, values left out.
        if first_wording != last_wording:
            message = _without_values(message, None)
        summary.append(ProblemKind(kind, column, message, count, [row.row_number for row in first_rows]))
    summary.extend(_older_problems(import_id))
    summary.sort(key=lambda k: (-k.count, k.rows[0]))
    return summary


def _older_problems(import_id: int) -> list[ProblemKind]:
    """Group problems saved before kinds existed by their exact words (their kind is those words)."""
    mine = ImportRowError.import_id == import_id
    if db.session.scalar(select(ImportRowError.id).where(mine, ImportRowError.kind.is_(None)).limit(1)) is None:
        return []
    groups = db.session.execute(
        select(ImportRowError.message, ImportRowError.column, func.count())
        .where(mine, ImportRowError.kind.is_(None))
        .group_by(ImportRowError.message, ImportRowError.column)
        .order_by(func.count().desc())
        .limit(OLDER_KINDS)
    ).all()
    older = []
    for message, column, count in groups:
        rows = db.session.scalars(
            select(ImportRowError.row_number)
            .where(mine, ImportRowError.kind.is_(None), ImportRowError.message == message, _same_column(column))
            .order_by(ImportRowError.row_number)
            .limit(SUMMARY_ROWS)
        ).all()
        older.append(ProblemKind(message, column, message, count, list(rows)))
    return older


def _same_column(column: str | None):
    return ImportRowError.column.is_(None) if column is None else ImportRowError.column == column


_DIGEST = re.compile(r"[0-9a-f]{16}")


def of_kind(query, kind: str):
    """Narrow a query of ImportRowError to one kind of problem (a digest, or an older problem's words)."""
    if _DIGEST.fullmatch(kind):
        return query.where(ImportRowError.kind == kind)
    return query.where(ImportRowError.kind.is_(None), ImportRowError.message == kind)


#: The most cells, and bytes of JSON text, a rejected row keeps for the download (a hostile row of ten
#: million cells was 52 MB of JSON, and its download failed). A header has at most 200 columns and a
#: book's longest field 10,000 characters, so a row that can be fixed and imported again keeps every cell.
STORED_ROW_CELLS = 1_000
STORED_ROW_BYTES = 1_000_000
#: The most bytes of JSON one character takes (an emoji: two \u escapes), and one cell that is not text.
_MAX_CHAR_BYTES, _MAX_OTHER_BYTES = 12, 40


def capped_cells(cells: list) -> tuple[list, str | None]:
    """Return the cells of a rejected row as far as they are kept (STORED_ROW_CELLS, STORED_ROW_BYTES of
    text), and the words saying what was left out, or None when nothing was."""
    cut = []
    kept = cells[:STORED_ROW_CELLS]
    if len(cells) > STORED_ROW_CELLS:
        cut.append(f"only its first {STORED_ROW_CELLS:,} of {len(cells):,} cells are kept")
    bound = sum(_MAX_CHAR_BYTES * len(c) + 3 if type(c) is str else _MAX_OTHER_BYTES for c in kept)
    if bound > STORED_ROW_BYTES:  # the exact size, then, and the text cut where it passes the limit
        budget, shortened = STORED_ROW_BYTES, False
        kept = list(kept)
        for index, cell in enumerate(kept):
            if type(cell) is not str:
                continue
            size = len(json.dumps(cell)) + 1
            if size > budget and cell:
                kept[index] = _json_prefix(cell, budget - 3)
                size, shortened = len(json.dumps(kept[index])) + 1, True
            budget -= size
        if shortened:
            cut.append(f"its text is cut to {STORED_ROW_BYTES // 1000:,} KB")
    if not cut:
        return kept, None
    return kept, f"This row is too large to keep whole: {' and '.join(cut)}"


def _json_prefix(text: str, size: int) -> str:
    """Return the longest start of *text* whose JSON (without its quotes) takes at most *size* bytes."""
    low, high = 0, min(len(text), max(size, 0))
    while low < high:
        middle = (low + high + 1) // 2
        if len(json.dumps(text[:middle])) - 2 <= size:
            low = middle
        else:
            high = middle - 1
    return text[:low]


def rows_as_read(imp: Import, numbers: set[int]) -> dict[int, dict]:
    """Return the title and ISBN of some rejected rows as the import read them, by row number: the stored
    cells, read through the import's column matches (its column for the field, then the ones read where that
    is blank: Variant Barcode for a Shopify file's ISBN, ISBN13 then ISBN for Goodreads). A shop export's
    variant row that left its title blank read its product's first row's: *title_from_row* names that row
    (None where the title is the row's own). An ISBN is always the row's own (groups.SHARED_FIELDS)."""
    if not numbers or not imp.headers:
        return {}
    columns = field_positions(imp)
    found = db.session.execute(
        select(RejectedRow.row_number, RejectedRow.cells, RejectedRow.filled).where(
            RejectedRow.import_id == imp.id, RejectedRow.row_number.in_(numbers)
        )
    )

    def cell(cells: list, name: str) -> tuple[str, int | None]:
        """The field's text (and the column it is in), or "" and None: the cell the import read, past the words
        a numeric tool writes for a blank (nan) where the field passes them over; a title that is only such a
        word, none (the import read it as blank), an ISBN's the word (the import said it is no ISBN)."""
        word = None
        for position in columns.get(name, ()):
            value = cells[position] if isinstance(cells, list) and position < len(cells) else None
            if is_blank_cell(value):
                continue
            if is_blank_cell(value, PASSED_OVER[name]):
                word = word or (value, position)
                continue
            # As the spreadsheet showed it (9780306406157, not …157.0), ="0375704027" as its text.
            return as_read(cell_text(value)), position
        if word is None or word[0].strip() in BLANK_WORDS.get(name, ()):
            return "", None
        return as_read(cell_text(word[0])), word[1]

    read = {}
    for number, cells, filled in found:
        title, title_at = cell(cells, "title")
        taken = isinstance(filled, dict) and title_at is not None and title_at in (filled.get("cells") or ())
        from_row = filled.get("from_row") if taken else None
        read[number] = {"title": title, "isbn": cell(cells, "isbn")[0],
                        "title_from_row": from_row if isinstance(from_row, int) else None}  # fmt: skip
    return read


def problem_lines(import_id: int) -> list[str]:
    """Return one line per kind of problem: "Price is not a number: 140 rows (277, 442, …)"."""
    return [describe(kind) for kind in problems_summary(import_id)]


def describe(kind: ProblemKind) -> str:
    """Return a kind of problem as one line of text."""
    rows = ", ".join(f"{n:,}" for n in kind.rows) + (", …" if kind.count > len(kind.rows) else "")
    return f"{kind.message}: {plural(kind.count, 'row')} ({rows})"
