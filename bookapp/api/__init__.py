"""The JSON API, for scripts: bearer-token auth, JSON errors."""

import secrets
from functools import wraps

from flask import Blueprint, abort, g, jsonify, request, url_for
from sqlalchemy import select

from ..books import MAX_PER_PAGE, books_page
from ..extensions import db
from ..importer import FileProblem
from ..models import ApiToken, Book, Import, ImportMode, User
from ..services.imports import ImportOptions, RepeatedFile, create_import, import_json

bp = Blueprint("api", __name__)


def issue_token(user: User) -> str:
    """Create an API token for *user* and return it (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=ApiToken.hash(token)))
    db.session.commit()
    return token


def token_required(view):
    """Let through requests with a valid `Authorization: Bearer <token>` of a staff user."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            abort(401, description="Send an API token: 'Authorization: Bearer <token>'.")
        api_token = db.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(token.strip()), ApiToken.revoked_at.is_(None))
        )
        if api_token is None:
            abort(401, description="The API token is not valid or has been revoked.")
        if not api_token.user.is_staff:
            abort(403, description="This token's user may not use the API.")
        g.api_user = api_token.user
        return view(*args, **kwargs)

    return wrapped


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

    Options (form fields): mode, dry_run, all_or_nothing, allow_repeat. A file imported before is
    answered 409 with the earlier import, unless allow_repeat is true.
    """
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        abort(400, description="Send the spreadsheet as the multipart form field 'file'.")
    try:
        mode = ImportMode(request.form.get("mode", ImportMode.CREATE_UPDATE.value))
    except ValueError:
        abort(400, description="mode must be one of: " + ", ".join(m.value for m in ImportMode))
    options = ImportOptions(
        mode=mode, dry_run=_flag("dry_run"), all_or_nothing=_flag("all_or_nothing"), allow_repeat=_flag("allow_repeat")
    )
    try:
        imp = create_import(upload, g.api_user, options)
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
    """Return an import's status and counts."""
    imp = db.session.get(Import, import_id)
    if imp is None:
        abort(404, description=f"There is no import {import_id}.")
    return jsonify(import_json(imp))


@bp.get("/books")
@token_required
def list_books():
    """Return a page of books, newest first: {"total": N, "items": [...]}."""
    page = request.args.get("page", 1, type=int)
    per_page = min(request.args.get("per_page", 50, type=int), MAX_PER_PAGE)
    if page < 1 or per_page < 1:
        abort(400, description="page and per_page must be 1 or more.")
    pagination = books_page(page, per_page)
    return jsonify(
        {
            "total": pagination.total,
            "page": page,
            "per_page": per_page,
            "items": [book_json(b) for b in pagination.items],
        }
    )
