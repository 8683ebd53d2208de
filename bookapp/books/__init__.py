"""Browse, search, edit, delete and export the books."""

import re
from functools import wraps

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import String, cast, literal_column
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from ..auth import staff_required
from ..config import BOOKS_PER_PAGE
from ..downloads import table_download
from ..extensions import db
from ..importer.fields import BOOK_TYPES, FIELDS, LABELS
from ..models import Book
from ..services.books import (
    PAGE_SIZES,
    SORTABLE,
    BookProblems,
    BookQuery,
    books_page,
    delete_book,
    driver_batches,
    page_number,
    save_book,
)

bp = Blueprint("books", __name__)


def readers_only(view):
    """Let signed-in users through, and anonymous visitors too when BOOKAPP_PUBLIC_BOOKS=1 (read-only)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_app.config["PUBLIC_BOOKS"] or current_user.is_authenticated:
            return view(*args, **kwargs)
        return current_app.login_manager.unauthorized()

    return wrapped


#: Phones show a number keypad for these fields (text fields still, so the importer's rules judge the value).
WHOLE_NUMBER = {"inputmode": "numeric"}
DECIMAL_NUMBER = {"inputmode": "decimal"}


class BookForm(FlaskForm):
    title = StringField(LABELS["title"])
    author = StringField(LABELS["author"])
    book_type = SelectField(LABELS["book_type"], choices=[SelectChoice(t) for t in BOOK_TYPES])
    isbn = StringField(LABELS["isbn"])
    year_published = StringField(LABELS["year_published"], render_kw=WHOLE_NUMBER)
    price = StringField(LABELS["price"], render_kw=DECIMAL_NUMBER)
    no_of_pages = StringField(LABELS["no_of_pages"], validators=[Optional()], render_kw=WHOLE_NUMBER)
    quantity = StringField(LABELS["quantity"], render_kw=WHOLE_NUMBER)
    description = TextAreaField(LABELS["description"], validators=[Optional()])


class DeleteForm(FlaskForm):
    """Confirm a deletion (CSRF-protected POST)."""


def page_size(args) -> int:
    """Return the page size asked for in *args*, or the default one."""
    per_page = args.get("per_page", BOOKS_PER_PAGE, type=int)
    return per_page if per_page in PAGE_SIZES else BOOKS_PER_PAGE


def view_args(args) -> dict:
    """Return the URL arguments of the list view described by *args*: search, filters, sort, page size
    and page, each only when it is not the default (so every link built from a view keeps it)."""
    shown = BookQuery.from_args(args).args()
    if page_size(args) != BOOKS_PER_PAGE:
        shown["per_page"] = page_size(args)
    if page_number(args) > 1:
        shown["page"] = page_number(args)
    return shown


@bp.get("/books")
@readers_only
def index():
    """List the books: search, filter, sort and page, all in the URL."""
    query = BookQuery.from_args(request.args)
    per_page = page_size(request.args)
    pagination = books_page(page_number(request.args), per_page, query)
    if not pagination.items and pagination.page > 1 and pagination.total:  # past the last page
        return redirect(url_for("books.index", **dict(view_args(request.args), page=pagination.pages)))
    return render_template(
        "books/index.html",
        pagination=pagination,
        query=query,
        per_page=per_page,
        view=view_args(request.args),
        sortable=SORTABLE,
        page_sizes=PAGE_SIZES,
        book_types=BOOK_TYPES,
    )


def _get_book(book_id: int) -> Book:
    return db.get_or_404(Book, book_id, description=f"There is no book {book_id}.")


@bp.get("/books/<int:book_id>")
@readers_only
def show(book_id: int):
    """Show one book and the import that last wrote it."""
    return render_template("books/show.html", book=_get_book(book_id), fields=FIELDS, delete_form=DeleteForm(),
                           view=view_args(request.args))  # fmt: skip


@bp.route("/books/<int:book_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(book_id: int):
    """Change a book, with the importer's rules."""
    book = _get_book(book_id)
    form = BookForm(obj=book)
    if form.validate_on_submit():
        try:
            save_book(book, {f: getattr(form, f).data for f in FIELDS})
        except BookProblems as exc:
            for name, message in exc.problems.items():
                getattr(form, name).errors.append(message)
        else:
            flash("The book is saved.", "info")
            return redirect(url_for("books.show", book_id=book.id, **view_args(request.args)))
    page = render_template("books/edit.html", book=book, form=form, fields=FIELDS, view=view_args(request.args))
    return page, 400 if form.errors else 200


@bp.route("/books/<int:book_id>/delete", methods=["GET", "POST"])
@staff_required
def delete(book_id: int):
    """Ask, then delete a book."""
    book = _get_book(book_id)
    form = DeleteForm()
    if form.validate_on_submit():
        title = book.title
        delete_book(book)
        flash(f"Deleted “{title}”.", "info")
        return redirect(url_for("books.index", **view_args(request.args)))
    return render_template("books/delete.html", book=book, form=form, view=view_args(request.args))


EXPORT_HEADER = [LABELS[f] for f in FIELDS]
#: In an XLSX export the ISBN stays text (every digit kept), the price shows its two decimals, the year
#: (stored as text) is a number.
EXPORT_TEXT_COLUMNS = {FIELDS.index("isbn")}
EXPORT_NUMBER_FORMATS = {FIELDS.index("price"): "0.00", FIELDS.index("year_published"): "0"}
#: The most characters of a search that go into an export's file name.
NAME_SEARCH_CHARS = 40


def export_rows(query: BookQuery, batch: int = 2000):
    """Yield each matching book as a row of the import layout (so an export re-imports cleanly).

    Rows come as the driver gives them, the price as text with its two decimals: building a Book,
    or a Decimal, for each of a million books made the export several times slower.
    """
    columns = [getattr(Book, f) for f in FIELDS]
    columns[FIELDS.index("price")] = _price_text(db.engine.dialect.name).label("price")
    for rows in driver_batches(query.select().with_only_columns(*columns), batch):
        yield from rows


def _price_text(dialect: str):
    if dialect == "sqlite":  # integer cents there (column_types.Money); prices are never negative
        return literal_column("printf('%d.%02d', books.price / 100, books.price % 100)", String)
    return cast(Book.price, String)


def export_name(query: BookQuery) -> str:
    """Name an export by what it holds: ``books``, then the type, import and search that chose them."""
    parts = ["books"]
    if query.book_type:
        parts.append(query.book_type)
    if query.import_id:
        parts.append(f"import-{query.import_id}")
    if query.q:
        parts.append(query.q[:NAME_SEARCH_CHARS])
    return "-".join(filter(None, (re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") for p in parts)))


def export_response(query: BookQuery, fmt: str):
    """Answer with the matching books as a streamed CSV or XLSX, named by what they are."""
    return table_download(export_name(query), EXPORT_HEADER, export_rows(query), fmt, text_columns=EXPORT_TEXT_COLUMNS,
                          number_formats=EXPORT_NUMBER_FORMATS, sheet_title="Books")  # fmt: skip


@bp.get("/books/export.<fmt>")
@readers_only
def export(fmt: str):
    """Download the current view (search, filters, sort) as CSV or XLSX."""
    return export_response(BookQuery.from_args(request.args), fmt)
