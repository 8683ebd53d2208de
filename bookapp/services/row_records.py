"""What an import records about its rows beside the books: each row's problems, the cells of the rows
it rejected (as the file had them, for the report and the fixes), and the rows whose cells it repaired."""

from collections.abc import Callable
from operator import attrgetter

from sqlalchemy import insert

from ..extensions import db
from ..importer import RowProblem
from ..importer.errors import UnsavedFormula
from ..models import Import, ImportRowError, RejectedRow
from .import_words import NOTES_OF_VALID_ROWS, SHOWN_ROUNDED
from .problems import capped_cells, problem_kind, wording
from .row_reading import ValidatedChunk

#: Rows named per kind of repair; the count covers them all.
REPAIRED_ROWS_KEPT = 100


def note_repairs(imp: Import, kind: str, rows: list[int]) -> None:
    """Count the rows whose cells were repaired on the way in, keeping the first row numbers."""
    repairs = dict(imp.repairs or {})
    entry = repairs.get(kind) or {"count": 0, "rows": []}
    kept = entry["rows"] + rows[: max(REPAIRED_ROWS_KEPT - len(entry["rows"]), 0)]
    repairs[kind] = {"count": entry["count"] + len(rows), "rows": kept}
    imp.repairs = repairs


#: The repairs a saved chunk notes: each note, and where the chunk names its rows (the valid rows' lists,
#: then the rows read as their format shows them, noted with the rows they name, as a resumed run reads on).
CHUNK_REPAIRS = (
    *((kind, attrgetter(f"valid.{noted}")) for noted, kind in NOTES_OF_VALID_ROWS.items()),
    (SHOWN_ROUNDED, attrgetter("shown")),
)


def note_chunk_repairs(imp: Import, chunk: ValidatedChunk) -> None:
    """Note the rows of a saved chunk whose cells were repaired on the way in, by kind: walk CHUNK_REPAIRS."""
    for kind, rows_of in CHUNK_REPAIRS:
        if rows := rows_of(chunk):
            note_repairs(imp, kind, rows)


def save_problems(
    import_id: int,
    problems: list[RowProblem],
    cells_of: dict[int, list],
    line_of: Callable[[int], int | None],
    filled: dict[int, dict] | None = None,
) -> None:
    """Record each problem of a piece, and the cells of its rejected rows (row number → cells as read), with
    the cells a row took from its item's first row (*filled*: row number → {"from_row", "cells"})."""
    if problems:
        db.session.execute(
            insert(ImportRowError.__table__),
            [
                {
                    "import_id": import_id,
                    "row_number": p.row_number,
                    "line": line_of(p.row_number),
                    "column": p.column and storable(p.column[:255]),
                    "value": p.value and storable(p.value[:255]),
                    "message": storable(p.message),
                    "kind": problem_kind(p),
                    "wording": wording(p.message),
                }
                for p in problems
            ],
        )
    if cells_of:
        messages: dict[int, list[str]] = {}
        for p in problems:
            messages.setdefault(p.row_number, []).append(p.message)
        capped = {number: capped_cells(cells) for number, cells in cells_of.items()}  # a huge row keeps a part
        filled = filled or {}
        db.session.execute(
            insert(RejectedRow.__table__),
            [
                {
                    "import_id": import_id,
                    "row_number": number,
                    "line": line_of(number),
                    "cells": [jsonable_cell(c) for c in capped[number][0]],
                    "errors": storable("; ".join([*messages.get(number, []), *filter(None, [capped[number][1]])])),
                    "filled": filled.get(number),
                }
                for number in cells_of
            ],
        )


def storable(text: str) -> str:
    """Return *text* without NUL bytes, which PostgreSQL refuses in text (the cells, stored as JSON,
    keep theirs: JSON writes it as an escape)."""
    return text.replace("\x00", "\N{SYMBOL FOR NULL}") if "\x00" in text else text


def jsonable_cell(cell):
    """Return a cell as JSON can hold it (dates and times as ISO text, anything else odd as its text); a
    formula whose result was never saved holds no value (its problem names its cell)."""
    if isinstance(cell, UnsavedFormula):
        return None
    if cell is None or isinstance(cell, (str, int, float, bool)):
        return cell
    return cell.isoformat() if hasattr(cell, "isoformat") else str(cell)
