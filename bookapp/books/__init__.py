"""Browse the books."""

from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import select

from ..config import BOOKS_PER_PAGE
from ..extensions import db
from ..models import Book

bp = Blueprint("books", __name__)

MAX_PER_PAGE = 200


def books_page(page: int, per_page: int):
    """Return one page of books, newest first."""
    return db.paginate(
        select(Book).order_by(Book.id.desc()),
        page=page,
        per_page=per_page,
        max_per_page=MAX_PER_PAGE,
        error_out=False,
    )


@bp.get("/books")
@login_required
def index():
    """List the books, newest first, a page at a time."""
    page = request.args.get("page", 1, type=int)
    per_page = request.args.get("per_page", BOOKS_PER_PAGE, type=int)
    return render_template("books/index.html", pagination=books_page(page, per_page))
