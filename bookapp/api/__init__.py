"""The JSON API, for scripts: bearer-token auth, JSON errors."""

from flask import abort, g, jsonify, request, url_for
from sqlalchemy import select

from ..downloads import reconciliation_download, rejected_download
from ..extensions import db
from ..importer import FileProblem
from ..models import Book, Import, ImportMode, ImportRowError, ImportStatus
from ..services.books import (
    MAX_PER_PAGE,
    MAX_URL_NUMBER,
    BookProblems,
    BookQuery,
    book_values,
    books_page,
    delete_book,
    printable,
    save_book,
)
from ..services.import_jobs import ImportStateError, cancel_import, retry_import
from ..services.import_view import import_json
from ..services.imports import (
    AlreadyConfirmed,
    ImportOptions,
    NeedsMapping,
    confirm_dry_run,
    create_import,
)
from ..services.problems import of_kind, rows_as_read
from ..services.rematch import rematch_import
from ..services.repeats import RepeatedFile
from ..services.undo import undo_import
from .fixes import validate_row
from .profiles import mapping_from_request
from .tokens import bp, issue_token, reader_token_required, token_required

__all__ = ["bp", "issue_token", "validate_row"]


def book_json(book: Book) -> dict:
    """Return a book as the API shows it."""
    return {
        "id": book.id,
        "isbn": book.isbn,
        "title": book.title,
        "author": book.author,
        "book_type": book.book_type,
        "year_published": book.year_published,
        "price": str(book.price),
        "no_of_pages": book.no_of_pages,
        "quantity": book.quantity,
        "description": book.description,
        "import_id": book.import_id,
        "created_at": book.created_at.isoformat(),
        "updated_at": book.updated_at.isoformat(),
    }


def _flag(name: str) -> bool:
    value = (request.form.get(name) or request.args.get(name) or "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    abort(400, description=f"{name} must be true or false.")


@bp.post("/imports")
@token_required
def create():
    """Accept a spreadsheet (multipart field `file`) and queue its import: 202 and a Location.

    Options (form fields): mode, dry_run, all_or_nothing, allow_repeat; how the file's columns fill
    the fields: mapping (a JSON text), profile (a saved profile's name), save_as (save the mapping used
    as a profile). A file imported before is answered 409 with the earlier import, unless allow_repeat
    is true. A file whose columns leave a required field unfilled is answered 422 with
    `missing_fields` and `columns` (nothing is kept).
    """
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        abort(400, description="Send the spreadsheet as the multipart form field 'file'.")
    try:
        mode = ImportMode(request.form.get("mode", ImportMode.CREATE_UPDATE.value))
    except ValueError:
        abort(400, description="mode must be one of: " + ", ".join(m.value for m in ImportMode))
    options = ImportOptions(
        mode=mode,
        dry_run=_flag("dry_run"),
        all_or_nothing=_flag("all_or_nothing"),
        allow_repeat=_flag("allow_repeat"),
        mapping=mapping_from_request(),
        profile=(request.form.get("profile") or "").strip() or None,
        save_as=(request.form.get("save_as") or "").strip() or None,
        refuse_unmatched=True,
    )
    try:
        imp = create_import(upload, g.api_user, options)
    except NeedsMapping as unmatched:
        return _unmatched(unmatched)
    except FileProblem as problem:
        abort(422, description=problem.message)
    except RepeatedFile as repeated:
        body = {"error": {"status": 409, "title": "Conflict", "message": f"{repeated} Send allow_repeat=true to import it anyway."},
                "previous_import": import_json(repeated.previous)}  # fmt: skip
        return jsonify(body), 409
    response = jsonify(import_json(imp))
    response.status_code = 202
    response.headers["Location"] = url_for("api.get_import", import_id=imp.id)
    return response


@bp.get("/imports/<int:import_id>")
@token_required
def get_import(import_id: int):
    """Return an import's status and counts, and the summary of its problems (`problems_summary`)."""
    return jsonify(import_json(_import_or_404(import_id), with_problems=True))


def _import_or_404(import_id: int) -> Import:
    return db.get_or_404(Import, import_id, description=f"There is no import {import_id}.")


def _page_args() -> tuple[int, int]:
    page = request.args.get("page", 1, type=int)
    per_page = request.args.get("per_page", 50, type=int)
    if not 1 <= page <= MAX_URL_NUMBER or not 1 <= per_page <= MAX_PER_PAGE:
        abort(400, description=f"page must be from 1 to {MAX_URL_NUMBER:,} and per_page from 1 to {MAX_PER_PAGE}.")
    return page, per_page


def _paged(pagination, items: list) -> dict:
    return {"total": pagination.total, "page": pagination.page, "per_page": pagination.per_page, "items": items}


@bp.get("/imports")
@token_required
def list_imports():
    """Return the imports, newest first, optionally of one status."""
    page, per_page = _page_args()
    query = select(Import).order_by(Import.id.desc())
    status = request.args.get("status")
    if status:
        if status not in {s.value for s in ImportStatus}:
            abort(400, description="status must be one of: " + ", ".join(s.value for s in ImportStatus))
        query = query.where(Import.status == status)
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return jsonify(_paged(pagination, [import_json(i) for i in pagination.items]))


def _import_action(import_id: int, action, status: int = 200):
    imp = _import_or_404(import_id)
    try:
        result = action(imp)
    except ImportStateError as exc:
        abort(409, description=str(exc))
    target = result if isinstance(result, Import) else imp
    db.session.refresh(target)
    response = jsonify(import_json(target))
    response.status_code = status
    if target is not imp:
        response.headers["Location"] = url_for("api.get_import", import_id=target.id)
    return response


@bp.post("/imports/<int:import_id>/cancel")
@token_required
def cancel(import_id: int):
    """Cancel a queued import, or stop a running one at its next chunk boundary."""
    return _import_action(import_id, cancel_import, 202)


@bp.post("/imports/<int:import_id>/retry")
@token_required
def retry(import_id: int):
    """Queue a failed or cancelled import again (it resumes after its last saved chunk)."""
    return _import_action(import_id, retry_import, 202)


@bp.post("/imports/<int:import_id>/confirm")
@token_required
def confirm(import_id: int):
    """Run the real import of a finished dry run, once: 202 with the new import and its Location.

    A dry run confirmed before answers 409 with `confirmed_import`; a file imported before answers 409
    with `previous_import`, unless allow_repeat is true; a dry run previewed by a release that did not
    record its columns (columns_read null) answers 409: preview it again (rematch it).
    """
    allow_repeat = _flag("allow_repeat")
    try:
        return _import_action(import_id, lambda imp: confirm_dry_run(imp, g.api_user, allow_repeat=allow_repeat), 202)
    except AlreadyConfirmed as exc:
        body = {"error": {"status": 409, "title": "Conflict", "message": str(exc)},
                "confirmed_import": import_json(exc.confirmed_as)}  # fmt: skip
        return jsonify(body), 409
    except RepeatedFile as repeated:
        body = {"error": {"status": 409, "title": "Conflict", "message": f"{repeated} Send allow_repeat=true to import it anyway."},
                "previous_import": import_json(repeated.previous)}  # fmt: skip
        return jsonify(body), 409


@bp.post("/imports/<int:import_id>/rematch")
@token_required
def rematch(import_id: int):
    """Import an ended import's stored file again, read with another mapping: 202 with the new import (its
    source_import_id the original's) and its Location. Form fields: mapping (a JSON text) or profile (a
    saved profile's name), and save_as; fields the mapping does not name are matched by their headers.

    A mapping that leaves a required field without a column answers 422 with `missing_fields` and
    `columns` (nothing is kept); an import not ended, or whose file is no longer kept, 409. The same
    file is never refused as imported before: importing it again is the point.
    """
    original = _import_or_404(import_id)
    mapping = mapping_from_request()
    profile = (request.form.get("profile") or "").strip() or None
    if mapping is None and profile is None:
        abort(400, description="Send mapping (a JSON text) or profile (a saved profile's name) to read the file with.")
    try:
        imp = rematch_import(
            original,
            g.api_user,
            mapping=mapping,
            profile=profile,
            save_as=(request.form.get("save_as") or "").strip() or None,
        )
    except ImportStateError as exc:
        abort(409, description=str(exc))
    except NeedsMapping as unmatched:
        return _unmatched(unmatched)
    except FileProblem as problem:
        abort(422, description=problem.message)
    response = jsonify(import_json(imp))
    response.status_code = 202
    response.headers["Location"] = url_for("api.get_import", import_id=imp.id)
    return response


def _unmatched(unmatched: NeedsMapping):
    body = {"error": {"status": 422, "title": "Unprocessable Content", "message": unmatched.message},
            "missing_fields": unmatched.missing, "columns": unmatched.headers}  # fmt: skip
    return jsonify(body), 422


@bp.post("/imports/<int:import_id>/undo")
@token_required
def undo(import_id: int):
    """Undo a finished import; the answer's undo_report says what was deleted, restored and left alone."""
    imp = _import_or_404(import_id)
    try:
        report = undo_import(imp, g.api_user)
    except ImportStateError as exc:
        abort(409, description=str(exc))
    return jsonify({**import_json(imp), "undo_report": report})


@bp.get("/imports/<int:import_id>/rejected")
@token_required
def rejected_rows(import_id: int):
    """Return the rejected rows: each problem with its row, column, value and message."""
    imp = _import_or_404(import_id)
    page, per_page = _page_args()
    query = select(ImportRowError).where(ImportRowError.import_id == imp.id)
    # Filters from the URL: a control character there would make PostgreSQL refuse the query.
    if column := printable(request.args.get("column") or ""):
        query = query.where(ImportRowError.column == column)
    if kind := printable(request.args.get("kind") or ""):
        query = of_kind(query, kind)
    pagination = db.paginate(query.order_by(ImportRowError.row_number, ImportRowError.id), page=page,
                             per_page=per_page, error_out=False)  # fmt: skip
    read = rows_as_read(imp, {e.row_number for e in pagination.items})
    # "row" is the row a spreadsheet program shows; "line" the file line it starts on, where that differs.
    items = [
        {"row": e.row_number, "line": e.line, "column": e.column, "value": e.value, "message": e.message,
         **{key: read.get(e.row_number, {}).get(key) for key in ("title", "title_from_row", "isbn")}}
        for e in pagination.items
    ]  # fmt: skip
    return jsonify(_paged(pagination, items))


@bp.get("/imports/<int:import_id>/rejected.<fmt>")
@token_required
def rejected_file(import_id: int, fmt: str):
    """Download the rejected rows as CSV or XLSX (the file's columns plus an error column)."""
    return rejected_download(_import_or_404(import_id), fmt)


@bp.get("/imports/<int:import_id>/report.<fmt>")
@token_required
def report_file(import_id: int, fmt: str):
    """Download the row-by-row reconciliation report as CSV or XLSX."""
    return reconciliation_download(_import_or_404(import_id), fmt)


@bp.get("/books")
@reader_token_required
def list_books():
    """Return a page of books with the same search, filters and sort as /books: {"total": N, "items": [...]}."""
    page, per_page = _page_args()
    pagination = books_page(page, per_page, BookQuery.from_args(request.args))
    return jsonify(_paged(pagination, [book_json(b) for b in pagination.items]))


def _book_or_404(book_id: int) -> Book:
    return db.get_or_404(Book, book_id, description=f"There is no book {book_id}.")


def _book_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="Send the book as a JSON object.")
    return body


def _saved(book: Book | None, raw: dict, status: int):
    try:
        book = save_book(book, raw)
    except BookProblems as exc:
        return jsonify({"error": {"status": 422, "title": "Unprocessable Entity", "message": str(exc),
                                  "fields": exc.problems}}), 422  # fmt: skip
    response = jsonify(book_json(book))
    response.status_code = status
    response.headers["Location"] = url_for("api.get_book", book_id=book.id)
    return response


@bp.post("/books")
@token_required
def create_book():
    """Create a book from JSON, with the importer's rules."""
    return _saved(None, _book_body(), 201)


@bp.get("/books/<int:book_id>")
@reader_token_required
def get_book(book_id: int):
    """Return one book."""
    return jsonify(book_json(_book_or_404(book_id)))


@bp.route("/books/<int:book_id>", methods=["PUT", "PATCH"])
@token_required
def update_book(book_id: int):
    """Change a book (PATCH: only the fields sent), with the importer's rules."""
    book = _book_or_404(book_id)
    body = _book_body()
    raw = {**book_values(book), **body} if request.method == "PATCH" else body
    return _saved(book, raw, 200)


@bp.delete("/books/<int:book_id>")
@token_required
def remove_book(book_id: int):
    """Delete a book."""
    delete_book(_book_or_404(book_id))
    return "", 204


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of this API (no token needed to read it)."""
    from .openapi import openapi_document

    return jsonify(openapi_document())
