"""What an import's rejected rows have in common, and the words for how an import ended."""

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
from ..importer.validation import NOTED_ROWS
from ..models import Import, ImportRowError, ImportStatus, RejectedRow
from .columns_read import field_columns, field_positions
from .dry_runs import would_do

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


#: The note (kept with the repairs) of the rows left out because no column a field reads holds anything.
LEFT_OUT = "rows_without_book_cells"
#: The note of a workbook's rows with a number read as its cell's format shows it (9.996 as 10.00).
SHOWN_ROUNDED = "numbers_read_as_shown"
#: The note of the rows whose ISBN was an ISBN-10 that lost its leading 0 (a number cell's), read with it.
LEADING_ZERO = NOTED_ROWS["repaired"]
#: The note of the rows whose ISBN cell held several ISBNs of the book (read as the first).
SEVERAL_ISBNS = NOTED_ROWS["first_of_several"]
#: The note of the rows whose ISBN cell held a library catalogue's qualifier after the ISBN ("(pbk.)").
PAST_QUALIFIER = NOTED_ROWS["past_qualifier"]
#: The note of the rows whose title or author had a library catalogue's closing punctuation taken off
#: ("Dune /", "Herbert, Frank,": see importer.catalogue_values).
CATALOGUE_PUNCTUATION = NOTED_ROWS["punctuation_taken_off"]
#: The notes of the rows whose year or number of pages was written as a library catalogue writes it
#: ("c1965.", "©1965", "[1965]"; "xii, 412 p. :") and read as the year or the pages (catalogue_values).
CATALOGUE_YEAR = NOTED_ROWS["catalogue_year"]
CATALOGUE_PAGES = NOTED_ROWS["catalogue_pages"]
#: How the report says them: the field read, the catalogue's form of it, and an example.
_CATALOGUE_FORMS_SAID = (
    (CATALOGUE_YEAR, "the year", "date", "c1965., ©1965 or [1965] (read as 1965)"),
    (CATALOGUE_PAGES, "the number of pages", "extent", "xii, 402 p. : (read as 402)"),
)
#: The note of the rows whose author had the dates (or the fuller form) a library catalogue adds to a name
#: taken off ("Herbert, Frank, 1920-1986": see importer.catalogue_values).
CATALOGUE_DATES = NOTED_ROWS["dates_taken_off"]
#: The note of the rows whose quantity or number of pages was written with points grouping thousands (1.200),
#: read so as the file's prices are (a comma-separated file whose prices have a decimal comma).
THOUSANDS_POINTS = NOTED_ROWS["thousands_points"]
#: The note of the row under the header left out as a second header of field names (item_sku, …).
SECOND_HEADER = "second_header_row"
#: The note of the rows left out as a note under the books: one cell of text, nothing else.
NOTE_ROWS = "note_rows"
#: The note of the rows left out as a sheet's totals ("Total", no ISBN: see importer.left_out).
TOTALS = "totals_rows"
#: The note of a product export's rows of variable or grouped products left out (importer.left_out).
PRODUCTS = "product_rows"
#: The note of the rows whose description was written in HTML and stored as its text (importer.markup).
FROM_HTML = NOTED_ROWS["from_markup"]
#: The note of each list of rows ValidRows keeps of the rows read with a repair: the importer's own, so
#: a new kind of repair it notes is counted (and its rows kept in step by ValidRows.where) without a copy here.
NOTES_OF_VALID_ROWS = NOTED_ROWS


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


def plural(count: int, one: str, many: str | None = None) -> str:
    """Return "1 row", "2 rows", "1,000 rows"."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def outcome(imp: Import) -> str:
    """Return how the import ended (or where it is), in words: "succeeded with 3 rejected rows", "undone";
    a dry run's, what its import would do: "would create 4 books and reject 2 rows"."""
    if imp.undone_at is not None:
        return "undone"
    if imp.status == ImportStatus.NEEDS_MAPPING.value:
        return "waiting for its columns to be matched"
    if imp.status != ImportStatus.SUCCEEDED.value:
        return imp.status
    if imp.dry_run:  # saved nothing, rejected nothing: what its import would do
        return would_do(imp)
    kept = imp.created + imp.updated + imp.unchanged + imp.skipped
    if imp.rejected and not kept:
        return "every row rejected"
    if imp.rejected:
        return f"succeeded with {plural(imp.rejected, 'rejected row')}"
    return imp.status


def outcome_class(imp: Import) -> str:
    """Return the CSS class that colours the outcome: a partial success is a warning, not a success."""
    if imp.undone_at is not None:
        return "status-undone"
    if imp.status == ImportStatus.SUCCEEDED.value and imp.rejected:
        return "status-partial"
    return f"status-{imp.status}"


def summary_line(imp: Import) -> str:
    """Return one sentence for a terminal import: its outcome and its counts (for the command line)."""
    what = "Dry run" if imp.dry_run else "Import"
    counts = ", ".join(
        f"{getattr(imp, name):,} {name}" for name in ("created", "updated", "unchanged", "skipped", "rejected")
    )
    if imp.saved_nothing or imp.dry_run:  # its valid rows were checked, not created: none of them is in the books
        counts = f"{imp.valid_rows:,} valid, {imp.rejected:,} rejected; nothing was saved"
    line = f"{what} #{imp.id} {outcome(imp)}: {counts}."
    if imp.undone_at is not None:
        who = f" by {imp.undone_by.email}" if imp.undone_by else ""
        line += f" Undone on {imp.undone_at:%Y-%m-%d %H:%M} UTC{who}."
    if imp.error:
        line += f" {imp.error}"
    zeros = (imp.repairs or {}).get(LEADING_ZERO)
    if zeros:
        rows = ", ".join(f"{n:,}" for n in zeros["rows"][:10]) + (", …" if zeros["count"] > 10 else "")
        line += f" Repaired {plural(zeros['count'], 'ISBN')} that had lost a leading 0 (rows {rows})."
    several = (imp.repairs or {}).get(SEVERAL_ISBNS)
    if several:
        columns = " and ".join(f"'{name}'" for name in field_columns(imp, "isbn")) or "ISBN"
        line += (
            f" Kept the book's ISBN-13 where {plural(several['count'], 'cell')} of {columns} held more than one "
            f"ISBN of the same book: {_rows(several)}."
        )
    qualified = (imp.repairs or {}).get(PAST_QUALIFIER)
    if qualified:
        cells = plural(qualified["count"], "ISBN cell")
        line += (
            f" Read {cells} past a library catalogue's qualifier after the ISBN, such as (pbk.): {_rows(qualified)}."
        )
    punctuated = (imp.repairs or {}).get(CATALOGUE_PUNCTUATION)
    if punctuated:
        line += (
            f" Took a library catalogue's closing punctuation (' /', ' :', ',', '.') off the title or author of "
            f"{plural(punctuated['count'], 'row')}: {_rows(punctuated)}."
        )
    for kind, what, form, example in _CATALOGUE_FORMS_SAID:
        if note := (imp.repairs or {}).get(kind):
            rows = plural(note["count"], "row")
            line += f" Read {what} of {rows} from a library catalogue's {form}, such as {example}: {_rows(note)}."
    dated = (imp.repairs or {}).get(CATALOGUE_DATES)
    if dated:
        line += (
            " Took the dates a library catalogue adds to a name (and the fuller form of its forenames) off the author "
            f"of {plural(dated['count'], 'row')}: {_rows(dated)}."
        )
    grouped = (imp.repairs or {}).get(THOUSANDS_POINTS)
    if grouped:
        line += (
            f" Read the quantity or number of pages of {plural(grouped['count'], 'row')} with points grouping "
            f"thousands, as the file's prices with a decimal comma write them (1.200 as 1200): {_rows(grouped)}."
        )
    left_out = (imp.repairs or {}).get(LEFT_OUT)
    if left_out:
        line += f" Left out {plural(left_out['count'], 'row')} with nothing in the matched columns ({_rows(left_out)})."
    totals = (imp.repairs or {}).get(TOTALS)
    if totals:
        line += f" Left out {plural(totals['count'], 'totals row')} ({_rows(totals)})."
    notes = (imp.repairs or {}).get(NOTE_ROWS)
    if notes:
        line += f" Left out {plural(notes['count'], 'row')} of one note each ({_rows(notes)})."
    if (imp.repairs or {}).get(SECOND_HEADER):
        line += f" Left out row {imp.repairs[SECOND_HEADER]['rows'][0]:,}: a second header of field names."
    shown = (imp.repairs or {}).get(SHOWN_ROUNDED)
    if shown:
        line += f" Read {plural(shown['count'], 'row')} with a number as its cell's format shows it, rounded ({_rows(shown)})."
    products = (imp.repairs or {}).get(PRODUCTS)
    if products:
        line += f" Left out {plural(products['count'], 'row')} of variable or grouped products ({_rows(products)}): their variations are the books."
    from_html = (imp.repairs or {}).get(FROM_HTML)
    if from_html:
        stored = plural(from_html["count"], "description")
        line += f" Stored {stored} written in HTML as plain text ({_rows(from_html)})."
    return line


def _rows(note: dict) -> str:
    """Return a note's first rows in words: "row 12", "rows 4, 7, …"."""
    shown = note["rows"][:10]
    more = ", …" if note["count"] > len(shown) else ""
    return f"row{'' if note['count'] == 1 else 's'} {', '.join(f'{n:,}' for n in shown)}{more}"


def problem_lines(import_id: int) -> list[str]:
    """Return one line per kind of problem: "Price is not a number: 140 rows (277, 442, …)"."""
    return [describe(kind) for kind in problems_summary(import_id)]


def describe(kind: ProblemKind) -> str:
    """Return a kind of problem as one line of text."""
    rows = ", ".join(f"{n:,}" for n in kind.rows) + (", …" if kind.count > len(kind.rows) else "")
    return f"{kind.message}: {plural(kind.count, 'row')} ({rows})"
