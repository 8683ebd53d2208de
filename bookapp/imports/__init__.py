"""Upload a spreadsheet and follow its import."""

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from wtforms import RadioField, SelectChoice

from ..auth import staff_required
from ..extensions import db
from ..importer import FileProblem
from ..models import MODE_LABELS, Import, ImportMode, ImportRowError
from ..services.imports import create_import, import_json

bp = Blueprint("imports", __name__)

ERRORS_PER_PAGE = 100


class UploadForm(FlaskForm):
    file = FileField(
        "Spreadsheet",
        validators=[
            FileRequired("Choose a CSV or XLSX file to upload."),
            FileAllowed(["csv", "xlsx"], "Upload a .csv or .xlsx file."),
        ],
    )
    mode = RadioField(
        "When an ISBN is already stored",
        choices=[SelectChoice(m.value, label) for m, label in MODE_LABELS.items()],
        default=ImportMode.CREATE_UPDATE.value,
    )


@bp.route("/imports/new", methods=["GET", "POST"])
@staff_required
def new():
    """Show the upload form; store the file, record the import and queue it."""
    form = UploadForm()
    if form.validate_on_submit():
        try:
            imp = create_import(form.file.data, current_user, ImportMode(form.mode.data))
        except FileProblem as problem:
            form.file.errors.append(problem.message)
        else:
            return redirect(url_for("imports.show", import_id=imp.id))
    status = 400 if form.errors else 200
    return render_template("imports/new.html", form=form), status


def _get_import(import_id: int) -> Import:
    imp = db.session.get(Import, import_id)
    if imp is None:
        abort(404)
    return imp


@bp.get("/imports/<int:import_id>")
@staff_required
def show(import_id: int):
    """Show an import's progress, counts and rejected rows."""
    imp = _get_import(import_id)
    page = request.args.get("page", 1, type=int)
    errors = None
    if imp.is_terminal:
        errors = db.paginate(
            select(ImportRowError)
            .where(ImportRowError.import_id == imp.id)
            .order_by(ImportRowError.row_number, ImportRowError.id),
            page=page,
            per_page=ERRORS_PER_PAGE,
            error_out=False,
        )
    return render_template("imports/show.html", imp=imp, data=import_json(imp), errors=errors)


@bp.get("/imports/<int:import_id>.json")
@staff_required
def show_json(import_id: int):
    """Return the import's progress for the poller."""
    return jsonify(import_json(_get_import(import_id)))


@bp.get("/imports")
@staff_required
def index():
    """List the imports, newest first."""
    page = request.args.get("page", 1, type=int)
    pagination = db.paginate(select(Import).order_by(Import.id.desc()), page=page, per_page=50, error_out=False)
    return render_template("imports/index.html", pagination=pagination)
