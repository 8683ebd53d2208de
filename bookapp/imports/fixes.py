"""Fix an import's rejected rows in the browser: the grid and its tools, checking rows as they are
edited, and importing the fixed rows as a follow-up import.

The grid is one form: without JavaScript its buttons post it and the page comes back with the tool
applied or the rows checked; with static/js/fix-rows.js the tools and the checks happen in place
(each row checked through fix/check.json when a cell of it is left), and only the import posts.
"""

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth import staff_required
from ..extensions import db
from ..importer.reading import MAX_CELL_CHARS, MAX_COLUMNS
from ..models import Import
from ..services.books import page_number
from ..services.fix_grid import FIX_ROWS_PER_PAGE, Grid, edits_from_form, fix_grid
from ..services.fixes import FixRefused, FixState, fix_state, import_fixed_rows
from ..services.import_words import plural
from ..services.row_check import RowCheckProblem


def register(bp, *, queue_down: str) -> None:
    """Add the fix pages to the imports blueprint (*queue_down*: what to say when the queue is down)."""

    @bp.route("/imports/<int:import_id>/fix", methods=["GET", "POST"])
    @staff_required
    def fix(import_id: int):
        """Show a page of the rejected rows to fix; apply a tool, check the rows or import the changed ones."""
        imp = _import(import_id)
        state = fix_state(imp)
        if (reason := not_now(state)) is not None:
            flash(reason, "warning")
            return redirect(url_for("imports.show", import_id=imp.id))
        try:
            grid = fix_grid(imp, state, page_number(request.values))
        except RowCheckProblem as problem:
            flash(str(problem), "error")
            return redirect(url_for("imports.show", import_id=imp.id))
        if not grid.rows:  # an import from before rejected rows were kept with their cells
            flash(
                "The cells of this import's rejected rows were not kept: download them and fix them there.", "warning"
            )
            return redirect(url_for("imports.show", import_id=imp.id))
        notice = error = None
        status = 200
        if request.method == "POST":
            try:
                grid.edit(edits_from_form(request.form))
            except ValueError as exc:
                abort(400, description=str(exc))
            action = request.form.get("action") or "check"
            if action == "import":
                rows = {row.number: row.values() for row in grid.changed_rows}
                try:
                    queued = import_fixed_rows(imp, rows, current_user)
                except FixRefused as refused:
                    error, status = str(refused), 409 if rows else 400
                else:
                    flash(queued_message(queued.imp.id, queued.rows, queued.still_invalid), "info")
                    if not queued.enqueued:
                        flash(queue_down, "warning")
                    return redirect(url_for("imports.show", import_id=queued.imp.id))
            elif action in ("replace", "set"):
                notice = apply_tool(grid, action, request.form)
            grid.check()
        return render_template("imports/fix.html", imp=imp, grid=grid, state=state, notice=notice, error=error,
                               per_page=FIX_ROWS_PER_PAGE, max_cell=MAX_CELL_CHARS), status  # fmt: skip

    @bp.post("/imports/<int:import_id>/fix/check.json")
    @staff_required
    def fix_check(import_id: int):
        """Check rows of the grid as edited: {"rows": [{"row": 12, "cells": ["…", …]}]} → each row's problems
        (the import's own for a row as read, the row checked again once changed)."""
        imp = _import(import_id)
        edits = rows_from_json(request.get_json(silent=True))
        state = fix_state(imp)
        if state.refused:
            abort(409, description=state.refused)
        try:
            grid = fix_grid(imp, state, 1, numbers=set(edits))
        except RowCheckProblem as problem:
            abort(409, description=str(problem))
        grid.edit(edits)
        grid.check()
        return jsonify({"rows": [row.as_json() for row in grid.rows]})


def _import(import_id: int) -> Import:
    return db.get_or_404(Import, import_id, description=f"There is no import {import_id}.")


def not_now(state: FixState) -> str | None:
    """Return why the grid is not shown now (the import cannot be fixed, a follow-up is running, every
    row went to a follow-up), or None."""
    if state.refused:
        return state.refused
    if state.pending:
        return (
            f"Import #{state.pending[0].id} is importing fixed rows of this import now: "
            "wait until it has finished, then fix what is left."
        )
    if not state.left:
        waiting = ", ".join(f"import #{imp.id}" for imp, _ in state.still_rejected_in)
        where = f" The rows still rejected are fixed from {waiting}." if waiting else ""
        return f"Every rejected row of this import went to a later import already.{where}"
    return None


def queued_message(import_id: int, rows: int, still_invalid: int) -> str:
    message = f"Import #{import_id} is importing the {plural(rows, 'row')} you fixed."
    if still_invalid:
        one = still_invalid == 1
        message += (
            f" {still_invalid:,} of them still {'has' if one else 'have'} problems: {'it is' if one else 'they are'} "
            "rejected again, and can be fixed from this import's page."
        )
    return message


def apply_tool(grid: Grid, action: str, form) -> str:
    """Apply *replace in a column* or *set a column for the selected rows*; return what it did, in words."""
    prefix = "replace" if action == "replace" else "set"
    column = form.get(f"{prefix}_column", type=int)
    if column is None or not 0 <= column < grid.width:
        return "Choose a column first."
    name = grid.headers[column]
    if action == "replace":
        find = form.get("replace_find") or ""
        if not find:
            return "Type the text to replace first."
        count = grid.replace(column, find, form.get("replace_with") or "", whole_cell=bool(form.get("replace_whole")))
        return f"Replaced in {plural(count, 'cell')} of {name}." if count else f"No cell of {name} holds {find!r}."
    selected = {int(n) for n in form.getlist("selected") if n.isdigit() and len(n) < 10}
    if not selected:
        return "Select the rows to change first (the boxes in the first column)."
    value = form.get("set_value") or ""
    count = grid.set_column(column, value, selected)
    return f"Set {name} to {value!r} in {plural(count, 'row')}."


def rows_from_json(body) -> dict[int, dict[int, str]]:
    """Read {"rows": [{"row": 12, "cells": [text, …]}]} or answer 400 saying what is wrong."""
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not 0 < len(rows) <= FIX_ROWS_PER_PAGE:
        abort(400, description=f'Send {{"rows": [{{"row": 12, "cells": [...]}}]}}, 1 to {FIX_ROWS_PER_PAGE} rows.')
    edits: dict[int, dict[int, str]] = {}
    for item in rows:
        number = item.get("row") if isinstance(item, dict) else None
        cells = item.get("cells") if isinstance(item, dict) else None
        if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 2**31:
            abort(400, description="Each row needs its row number, a whole number.")
        if not isinstance(cells, list) or len(cells) > MAX_COLUMNS + 100:
            abort(400, description=f"Row {number}: cells must be a list of texts, in the file's column order.")
        if not all(c is None or isinstance(c, str) for c in cells):
            abort(400, description=f"Row {number}: every cell must be text (or null for a cell left as it is).")
        edits[number] = {i: c for i, c in enumerate(cells) if c is not None}
    return edits
