"""Upload a spreadsheet and follow its import: progress, report, downloads, confirm, cancel, retry."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import and_, select

from ..auth import staff_required
from ..downloads import reconciliation_download, rejected_download
from ..extensions import db
from ..importer import FileProblem
from ..importer.left_out import left_out_count
from ..models import Import, ImportRowError, ImportStatus
from ..queue import queue_available
from ..services.books import page_number, printable
from ..services.columns_read import field_columns
from ..services.dry_runs import changes_listed
from ..services.fixes import fix_state
from ..services.import_jobs import ImportStateError, cancel_import, retry_import
from ..services.import_view import MATCHED_KEY, import_json, took
from ..services.import_words import SEVERAL_ISBNS, plural
from ..services.imports import (
    AlreadyConfirmed,
    confirm_dry_run,
    create_import,
    import_kept,
    upload_name,
)
from ..services.kept_uploads import KeptUploadGone
from ..services.problems import of_kind, problems_summary, rows_as_read
from ..services.rematch import rematch_import, rematches_of, why_not_rematched
from ..services.repeats import RepeatedFile
from ..services.reports import (
    XLSX_MIMETYPE,
    template_csv,
    template_xlsx,
)
from ..services.undo import undo_import
from .fixes import register as register_fixes
from .forms import UPLOAD_ACCEPT, ActionForm, ImportAgainForm, UploadForm, options_from

bp = Blueprint("imports", __name__)

ERRORS_PER_PAGE = 100
QUEUE_DOWN = (
    "The queue (Redis) is unavailable right now. The upload is saved and recorded as queued; "
    "it will be imported as soon as the queue is back."
)
register_fixes(bp, queue_down=QUEUE_DOWN)


@bp.route("/imports/new", methods=["GET", "POST"])
@staff_required
def new():
    """Show the upload form; store the file, record the import and queue it. A file imported before is
    kept a while, and the page offers to import it again without a second upload."""
    form = UploadForm()
    repeated = None
    if form.validate_on_submit():
        try:
            imp = create_import(form.file.data, current_user, options_from(form), keep_repeated=True)
        except FileProblem as problem:
            form.file.errors.append(problem.message)
        except RepeatedFile as exc:
            repeated = exc
        else:
            return after_upload(imp)
    status = 409 if repeated else 400 if form.errors else 200
    form.file.errors = refusal_naming(form.file.errors, form.file.data)
    return render_template("imports/new.html", form=form, repeated=repeated, accept=UPLOAD_ACCEPT), status


@bp.post("/imports/new/again")
@staff_required
def import_again():
    """Import the file the upload form kept when it refused it as imported before, with the options ticked
    on the form now: once, by the user who sent it. A token that takes nothing says so on the upload page."""
    form = ImportAgainForm()
    if not form.validate_on_submit():
        flash("The form expired, so nothing was imported: choose the file again to import it.", "error")
        return redirect(url_for("imports.new"))
    if (chosen := request.files.get("file")) and chosen.filename:  # a browser without its script
        flash(f"Nothing was imported: you chose {chosen.filename}, which Import it again does not read (it "
              "imports the file kept before). Choose it again and press Upload and import.", "error")  # fmt: skip
        return redirect(url_for("imports.new"))
    try:
        imp = import_kept(form.token.data or "", current_user, options_from(form))
    except KeptUploadGone as gone:
        flash(str(gone), "error")
        return redirect(url_for("imports.new"))
    except FileProblem as problem:
        flash(problem.message, "error")
        return redirect(url_for("imports.new"))
    return after_upload(imp)


def after_upload(imp: Import):
    """Go where an upload leads: Match columns when some required field has no column yet, else the import's page."""
    if imp.status == ImportStatus.NEEDS_MAPPING.value:
        return redirect(url_for("matching.columns", import_id=imp.id))
    if imp.enqueued_at is None:
        flash(QUEUE_DOWN, "warning")
    return redirect(url_for("imports.show", import_id=imp.id))


def refusal_naming(problems, sent) -> list[str]:
    """Return a refused file's *problems* led by its name ("“cover.pdf” cannot be imported. …"): the page
    comes back with the file box empty, so the message is all that tells which file it was."""
    name = upload_name(getattr(sent, "filename", None))  # as the import would be shown under, had it been taken
    if not problems or name == upload_name(None):  # no file, or a name with nothing showable
        return list(problems)
    return [f"“{name}” cannot be imported.", *problems]


def get_import(import_id: int) -> Import:
    """Return the import or answer 404."""
    return db.get_or_404(Import, import_id, description=f"There is no import {import_id}.")


@bp.get("/imports/<int:import_id>")
@staff_required
def show(import_id: int):
    """Show an import's progress, counts, a summary of its problems and its rejected rows (filterable
    by column and by kind of problem)."""
    imp = get_import(import_id)
    if imp.status == ImportStatus.QUEUED.value and not queue_available():
        flash(QUEUE_DOWN, "warning")
    # Just after Match columns: "the import is queued", if it still is (a worker may have ended it already).
    just_matched = session.pop(MATCHED_KEY, None)
    matched = just_matched[1] if just_matched and just_matched[0] == imp.id and imp.status == "queued" else None
    return render_template("imports/show.html", **show_context(imp), matched=matched)


def show_context(imp: Import) -> dict:
    """Return what the import page shows: the report of a finished import, one page of its rejected rows."""
    # Filters from the URL: a control character there would make PostgreSQL refuse the query.
    column = printable(request.args.get("column") or "") or None
    kind = printable(request.args.get("kind") or "") or None
    errors = columns = summary = context = None
    if imp.is_terminal:
        query = select(ImportRowError).where(ImportRowError.import_id == imp.id)
        if column:
            query = query.where(ImportRowError.column == column)
        if kind:
            query = of_kind(query, kind)
        errors = db.paginate(
            query.order_by(ImportRowError.row_number, ImportRowError.id),
            page=page_number(request.args),
            per_page=ERRORS_PER_PAGE,
            error_out=False,
        )
        summary = problems_summary(imp.id) if imp.rejected else []
        # The summary has every column with a problem: no second pass over the problems for the filter.
        columns = sorted({k.column for k in summary if k.column})
        context = rows_as_read(imp, {e.row_number for e in errors.items})
    return {
        "imp": imp,
        "data": import_json(imp),
        "errors": errors,
        "columns": columns,
        "column": column,
        "kind": kind,
        "summary": summary,
        "context": context,
        # The columns a note of ISBN cells holding several ISBNs names (read only when there is one).
        "isbn_columns": field_columns(imp, "isbn") if (imp.repairs or {}).get(SEVERAL_ISBNS) else [],
        "fixes": fix_state(imp) if imp.is_terminal else None,
        "changes_listed": changes_listed(imp) if imp.is_terminal else None,
        "can_rematch": imp.is_terminal and why_not_rematched(imp) is None,
        "rematched_as": rematches_of(imp),
        "undo_summary": undo_summary,
        "took": took,
        "action_form": ActionForm(),
    }


@bp.get("/imports/<int:import_id>.json")
@staff_required
def show_json(import_id: int):
    """Return the import's progress for the poller; once it has ended, with the summary of its problems
    (the poller's last call: its page can show them without a reload)."""
    imp = get_import(import_id)
    return jsonify(import_json(imp, with_problems=imp.is_terminal))


@bp.get("/imports")
@staff_required
def index():
    """List the imports, newest first, optionally of one status."""
    status = request.args.get("status") or None
    query = select(Import).order_by(Import.id.desc())
    if status in {s.value for s in ImportStatus}:
        query = query.where(Import.status == status)
    elif status in OUTCOME_FILTERS:
        query = query.where(OUTCOME_FILTERS[status][1]())
    pagination = db.paginate(query, page=page_number(request.args), per_page=50, error_out=False)
    return render_template("imports/index.html", pagination=pagination, status=status, left_out_count=left_out_count,
                           outcome_filters={k: label for k, (label, _) in OUTCOME_FILTERS.items()})  # fmt: skip


def _kept():
    return Import.created + Import.updated + Import.unchanged + Import.skipped


#: How an import ended, beyond its job's status ("succeeded" covers an import whose every row was
#: rejected): the list's filter offers each, as the import's page words it.
OUTCOME_FILTERS = {
    "clean": ("succeeded, no row rejected", lambda: and_(Import.status == ImportStatus.SUCCEEDED.value,
                                                           Import.rejected == 0, Import.undone_at.is_(None))),
    "partial": ("succeeded with rejected rows", lambda: and_(Import.status == ImportStatus.SUCCEEDED.value,
                                                             Import.rejected > 0, _kept() > 0,
                                                             Import.undone_at.is_(None))),
    "every_row_rejected": ("every row rejected", lambda: and_(Import.status == ImportStatus.SUCCEEDED.value,
                                                              Import.rejected > 0, _kept() == 0)),
    "undone": ("undone", lambda: Import.undone_at.is_not(None)),
}  # fmt: skip


@bp.get("/imports/<int:import_id>/rejected.<fmt>")
@staff_required
def rejected(import_id: int, fmt: str):
    """Download the rejected rows, ready to fix and upload again."""
    return rejected_download(get_import(import_id), fmt)


def _act(import_id: int, action) -> Import | None:
    imp = get_import(import_id)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    try:
        return action(imp)
    except ImportStateError as exc:
        flash(str(exc), "error")
        return None


@bp.post("/imports/<int:import_id>/confirm")
@staff_required
def confirm(import_id: int):
    """Run the real import of a dry run's file, once; a file imported before asks to confirm anyway."""
    allow_repeat = request.form.get("allow_repeat") == "1"
    try:
        imp = _act(import_id, lambda dry: confirm_dry_run(dry, current_user, allow_repeat=allow_repeat))
    except AlreadyConfirmed as exc:
        flash(f"Not imported again: {exc}", "warning")
        return redirect(url_for("imports.show", import_id=import_id))
    except RepeatedFile as exc:
        dry_run = get_import(import_id)
        return render_template("imports/show.html", **show_context(dry_run), repeated=exc), 409
    return redirect(url_for("imports.show", import_id=imp.id if imp else import_id))


@bp.post("/imports/<int:import_id>/cancel")
@staff_required
def cancel(import_id: int):
    """Cancel a queued or running import."""
    imp = _act(import_id, lambda imp: cancel_import(imp) or imp)
    if imp is not None:
        flash(
            "Cancelled." if imp.is_terminal else "Stopping: it stops once the rows it is saving now are saved…", "info"
        )
    return redirect(url_for("imports.show", import_id=import_id))


@bp.post("/imports/<int:import_id>/retry")
@staff_required
def retry(import_id: int):
    """Queue a failed or cancelled import again from its stored file."""
    if _act(import_id, lambda imp: retry_import(imp) or imp) is not None:
        flash("Queued again: it carries on after the last rows it saved.", "info")
    return redirect(url_for("imports.show", import_id=import_id))


@bp.post("/imports/<int:import_id>/rematch")
@staff_required
def rematch(import_id: int):
    """Import an ended import's file again as a new import, whose columns are matched first (the page
    filled in as this one read them)."""
    imp = _act(import_id, lambda original: rematch_import(original, current_user))
    if imp is None:
        return redirect(url_for("imports.show", import_id=import_id))
    flash(f"Import #{imp.id} reads the file of import #{import_id} again: match its columns, then Continue.", "info")
    return redirect(url_for("matching.columns", import_id=imp.id))


@bp.post("/imports/<int:import_id>/undo")
@staff_required
def undo(import_id: int):
    """Undo a finished import (books it created deleted, fields it overwrote restored)."""
    imp = _act(import_id, lambda imp: undo_import(imp, current_user) and imp)
    if imp is not None:
        report = imp.undo_report
        stays = fix_state(imp).stays_sentence()
        flash(f"Undone: {undo_summary(report)}" + (f" {stays}" if stays else ""), "info")
    return redirect(url_for("imports.show", import_id=import_id))


def undo_summary(report: dict) -> str:
    """Return what an undo did in words: "3 books deleted, 1 restored; 1 book was left alone because it
    changed after this import."."""
    done = f"{plural(report['deleted'], 'book')} deleted, {report['restored']:,} restored"
    conflicts = report["conflicts"]
    if not conflicts:
        return done + "."
    left = "book was left alone because it" if conflicts == 1 else "books were left alone because they"
    return f"{done}; {conflicts:,} {left} changed after this import."


@bp.get("/imports/<int:import_id>/report.<fmt>")
@staff_required
def report(import_id: int, fmt: str):
    """Download the reconciliation report: every row of the file and what the import did with it."""
    return reconciliation_download(get_import(import_id), fmt)


@bp.get("/imports/template.<fmt>")
@staff_required
def template(fmt: str):
    """Download a template to fill in: CSV, or XLSX with a drop-down for book type and a how-to sheet."""
    if fmt == "csv":
        response = Response(template_csv(), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="bookapp-template.csv"'
        return response
    if fmt == "xlsx":
        return send_file(
            template_xlsx(), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name="bookapp-template.xlsx"
        )
    abort(404)
