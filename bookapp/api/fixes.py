"""Check one row against an import's rules in the API, as a fixed row would be imported."""

from flask import abort, jsonify, request

from ..extensions import db
from ..importer.reading import MAX_COLUMNS
from ..models import Import
from ..services.row_check import RowChecker, RowCheckProblem, cell_text
from .tokens import bp, token_required


@bp.post("/imports/<int:import_id>/validate-row")
@token_required
def validate_row(import_id: int):
    """Check one row of cells with the import's header map (its mapping, defaults and value maps), through
    the importer's converters: {"cells": {"Title": "…", "ISBN": "…"}} (by header) or {"cells": ["…", …]}
    (in the file's column order) → its problems, by column, in the words an import reports them."""
    imp = db.get_or_404(Import, import_id, description=f"There is no import {import_id}.")
    body = request.get_json(silent=True)
    given = body.get("cells") if isinstance(body, dict) else None
    row = body.get("row", 2) if isinstance(body, dict) else 2
    if not isinstance(given, (dict, list)):
        abort(
            400, description='Send {"cells": {"<header>": "<text>", …}}, or the cells as a list in the file\'s order.'
        )
    if not isinstance(row, int) or isinstance(row, bool) or not 2 <= row < 2**31:
        abort(400, description="row must be a whole number from 2 (the row after the header).")
    values = given.values() if isinstance(given, dict) else given
    if len(values) > MAX_COLUMNS or not all(v is None or isinstance(v, (str, int, float)) for v in values):
        abort(400, description=f"Each cell must be text, a number or null; at most {MAX_COLUMNS} cells.")
    try:
        checker = RowChecker(imp)
    except RowCheckProblem as problem:
        abort(409, description=str(problem))
    if isinstance(given, dict):
        try:
            cells = checker.cells_by_header(given)
        except ValueError as exc:
            abort(422, description=str(exc))
    else:
        cells = [cell_text(v) for v in given]
        cells += [""] * (checker.width - len(cells))
    result = checker.check(row, cells)
    columns: dict[str, list[str]] = {}
    for problem in result.problems:
        if problem.column is not None:
            columns.setdefault(problem.column, []).append(problem.message)
    book = result.book.values() if result.book else None
    if book:
        book["price"] = str(book["price"])
    return jsonify(
        {
            "valid": result.book is not None,
            "blank": result.blank,
            "problems": [p.as_json() for p in result.problems],
            "columns": columns,
            "row_problems": [p.message for p in result.problems if p.column is None],
            "book": book,
        }
    )
