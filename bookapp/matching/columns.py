"""Match columns: the page an upload goes to when its header leaves a required field without a column.

Without JavaScript the page works by its buttons: Preview shows the page again with the choices made (one
more fallback select, Book type's values, the preview, the intro's why); Continue queues the import. With
JavaScript the preview, the values, the intro and the state of Continue follow the controls as they change
(static/js/columns.js).
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from ..auth import staff_required
from ..extensions import db
from ..importer import FileProblem, Mapping, MappingError
from ..importer.fields import LABELS
from ..importer.matching import Choices, from_form, from_mapping, suggest
from ..models import Import, ImportStatus
from ..services.column_profiles import forget_profile, profile_state, start_profile
from ..services.import_jobs import ImportStateError
from ..services.import_view import MATCHED_KEY
from ..services.imports import submit_mapping
from .blueprint import bp
from .context import blank_columns, matching_context


def waiting_import(import_id: int) -> Import:
    """Return the import, or 404."""
    return db.get_or_404(Import, import_id, description=f"There is no import {import_id}.")


def headers_of(imp: Import, profile: dict | None) -> list[object]:
    return list(imp.headers or (profile or {}).get("headers") or [])


def first_choices(imp: Import, headers: list[object], profile: dict | None) -> Choices:
    """The choices the page opens with: the mapping the import has (a saved profile that no longer covers
    every required field), else the header's synonyms and what the columns' values suggest."""
    if imp.mapping:
        try:
            return from_mapping(Mapping.from_json(imp.mapping), headers)
        except MappingError:
            pass
    return suggest(headers, profile)


#: The values of Book type the intro names, at most (then "…").
NAMED_VALUES = 4


def why_here(choices: Choices, context: dict) -> dict:
    """Say why the upload came to Match columns, for the page's choices (so the page's script can put it
    in place as they change, as it does the preview): the required fields left without a column or a
    value (matching_context's *missing*, the same that holds Continue back); Book type's columns by name
    and their values that are no book type and are not matched yet, or only offered (Genre: Roman, BD);
    the column chosen as naming each row's product in a shop's export."""
    section = context["values"]
    values = [row.text for row in section.rows if not row.choice or row.offered] if section.from_file else []
    columns = section.columns if values else []
    return {
        "missing": missing_sentence(context["missing"]),
        "any_missing": bool(context["missing"]),
        "values_column": " and ".join(columns),
        "several_columns": len(columns) > 1,
        "value_list": named_values(values),
        "group": choices.group_by,
    }


def missing_sentence(missing: list[str]) -> str:
    """Say which required fields have neither a column nor a value for every row yet (the fields Continue
    waits for), or that every one has."""
    if not missing:
        return "Every required book field has a column or a value."
    labels = [LABELS[f] for f in missing]
    named = ", ".join(labels[:-1]) + " and " + labels[-1] if len(labels) > 1 else labels[0]
    return f"No column is matched to {named} yet: choose the column that fills {'it' if len(labels) == 1 else 'each'}."


def named_values(values: list[str]) -> str:
    """Name a column's first values, each in quotes, so that one holding a comma reads as one value."""
    quoted = [f"“{value}”" for value in values[:NAMED_VALUES]]
    return ", ".join(quoted) + (", …" if len(values) > NAMED_VALUES else "")


def started_profile(imp: Import) -> tuple[str | None, object]:
    """Return the state of the file's column profile, starting it when none was asked for yet."""
    state, data = profile_state(imp)
    if state is None:
        start_profile(imp)
        state, data = profile_state(imp)
    return state, data


@bp.route("/imports/<int:import_id>/columns", methods=["GET", "POST"])
@staff_required
def columns(import_id: int):
    """Show the file's columns and the book fields to match them to; Preview, or Continue to import."""
    imp = waiting_import(import_id)
    if imp.status != ImportStatus.NEEDS_MAPPING.value:
        flash(f"Import #{imp.id} is not waiting for its columns to be matched.", "info")
        return redirect(url_for("imports.show", import_id=imp.id))
    state, data = started_profile(imp)
    profile = data if state == "ready" else None
    without_profile = (request.values.get("without_profile") == "1") or state == "error"
    if state == "pending" and not without_profile and request.method == "GET":
        return render_template("imports/columns_waiting.html", imp=imp)
    headers = headers_of(imp, profile)
    status = 200
    error = None
    if request.method == "POST":
        choices = from_form(request.form, headers)
        if request.form.get("action") == "continue":
            context = matching_context(headers, choices, profile, with_preview=False)
            if context["can_continue"]:
                try:
                    submit_mapping(imp, choices.mapping(), current_user, save_as=_save_as(),
                                   blank_columns=blank_columns(imp.headers, profile))  # fmt: skip
                except FileProblem as problem:
                    error = problem.message
                except ImportStateError as exc:
                    flash(str(exc), "error")
                    return redirect(url_for("imports.show", import_id=imp.id))
                else:
                    forget_profile(imp)
                    # Said on the import's page if it is still queued there (not once it runs or has ended).
                    session[MATCHED_KEY] = [imp.id, "queue-down" if imp.enqueued_at is None else "queued"]
                    return redirect(url_for("imports.show", import_id=imp.id))
            else:
                error = context["reason"]
            status = 400
    else:
        choices = first_choices(imp, headers, profile)
    context = matching_context(headers, choices, profile, with_preview=True)
    return render_template(
        "imports/columns.html",
        imp=imp,
        state=state,
        state_message=data if state == "error" else None,
        without_profile=without_profile,
        why=why_here(choices, context),
        save_as=_save_as(),
        error=error,
        **context,
    ), status


def _save_as() -> str:
    return " ".join(request.form.get("save_as", "").split()) if request.method == "POST" else ""


@bp.post("/imports/<int:import_id>/columns/preview")
@staff_required
def columns_preview(import_id: int):
    """Answer the page's script: the preview, Book type's values and the intro's why for the choices in
    the form, and whether Continue can be pressed (and why not)."""
    imp = waiting_import(import_id)
    if imp.status != ImportStatus.NEEDS_MAPPING.value:
        abort(409, description=f"Import #{imp.id} is not waiting for its columns to be matched.")
    state, data = started_profile(imp)
    profile = data if state == "ready" else None
    headers = headers_of(imp, profile)
    choices = from_form(request.form, headers)
    context = matching_context(headers, choices, profile, with_preview=True)
    why_html = render_template("imports/_why.html", why=why_here(choices, context))
    return jsonify({**live_parts(context), "why_html": why_html})


def live_parts(context: dict) -> dict:
    """The parts of a matching page its script puts in place when the controls change."""
    return {
        "preview_html": render_template("imports/_preview.html", **context),
        "values_html": render_template("imports/_values.html", **context),
        "values_key": context["values"].key,
        "can_continue": context["can_continue"],
        "reason": context["reason"],
        "missing": context["missing"],
        "why_missing": missing_sentence(context["missing"]),
        "summary": context["summary"],
        "used_for": {str(c["index"]): ", ".join(c["used_for"]) for c in context["file_columns"]},
    }


@bp.get("/imports/<int:import_id>/columns/profile.json")
@staff_required
def profile_status(import_id: int):
    """Say whether the file's columns are profiled yet (polled by the waiting page)."""
    state, _ = profile_state(waiting_import(import_id))
    return jsonify({"state": state})


@bp.post("/imports/<int:import_id>/columns/profile")
@staff_required
def profile_again(import_id: int):
    """Read the file's columns again (after profiling failed or stopped)."""
    imp = waiting_import(import_id)
    if imp.status == ImportStatus.NEEDS_MAPPING.value:
        forget_profile(imp)
        start_profile(imp)
    return redirect(url_for("matching.columns", import_id=imp.id))
