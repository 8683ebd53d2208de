"""Find, change and export books: the queries behind /books, the API and `export-books`."""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, and_, func, or_, select

from ..extensions import db
from ..importer.errors import ValueProblem
from ..importer.fields import FIELDS, LABELS
from ..importer.validation import validate_values
from ..importer.values import parse_isbn
from ..models import Book, utcnow
from . import sort_index
from .folding import fold_words
from .search_index import candidates, contains

SORTABLE = ("title", "author", "book_type", "isbn", "year_published", "price", "no_of_pages", "quantity",
            "created_at", "updated_at", "id")  # fmt: skip
PAGE_SIZES = (25, 50, 100, 200)
#: The largest page a visitor may ask for.
MAX_PER_PAGE = max(PAGE_SIZES)
#: The largest page number or id taken from a URL (past it a database integer would overflow).
MAX_URL_NUMBER = 10**9


def _url_id(value: int | None) -> int | None:
    return value if value is not None and 0 < value <= MAX_URL_NUMBER else None


def page_number(args) -> int:
    """Return the page asked for in *args*, between 1 and MAX_URL_NUMBER."""
    return min(max(args.get("page", 1, type=int) or 1, 1), MAX_URL_NUMBER)


#: The longest search taken from a URL.
MAX_SEARCH_CHARS = 200


def default_direction(sort: str) -> str:
    """Newest first by default; any other column from its smallest value."""
    return "desc" if sort == "id" else "asc"


def printable(text: str) -> str:
    """*text* without control characters (a NUL in a URL would make PostgreSQL refuse the query)."""
    return "".join(c if c.isprintable() else " " for c in text)


@dataclass
class BookQuery:
    """What a visitor asked to see: search text, filters, sort. Shared by pages, API and exports."""

    q: str = ""
    book_type: str = ""
    import_id: int | None = None
    sort: str = "id"
    direction: str = "desc"

    @classmethod
    def from_args(cls, args) -> "BookQuery":
        sort = args.get("sort", "id")
        sort = sort if sort in SORTABLE else "id"
        direction = args.get("direction", default_direction(sort))
        return cls(
            q=printable(args.get("q") or "").strip()[:MAX_SEARCH_CHARS],
            book_type=args.get("book_type") or "",
            import_id=_url_id(args.get("import_id", type=int)),
            sort=sort,
            direction="asc" if direction == "asc" else "desc",
        )

    def args(self) -> dict:
        """Return the query as URL arguments: every one that from_args would not take as its default
        (the default direction depends on the sort, so a view sorted by price, descending, keeps both)."""
        shown = {"q": self.q, "book_type": self.book_type, "import_id": self.import_id}
        if self.sort != "id":
            shown["sort"] = self.sort
        if self.direction != default_direction(self.sort):
            shown["direction"] = self.direction
        return {k: v for k, v in shown.items() if v not in ("", None)}

    def filtered(self) -> bool:
        """Whether the query is searched or filtered (not only sorted)."""
        return not self.everything()

    def everything(self) -> bool:
        """Whether the query asks for every book (sorted, but neither searched nor filtered)."""
        return not (self.q or self.book_type or self.import_id)

    def select(self) -> Select:
        """Return the SELECT of books matching this query, in its order."""
        query = select(Book)
        if self.q:
            query = query.where(_search(self.q))
        if self.book_type:
            query = query.where(Book.book_type == self.book_type)
        if self.import_id:
            query = query.where(Book.import_id == self.import_id)
        column = sort_index.sort_key(Book.__table__, self.sort, db.engine.dialect.name)
        tiebreak = Book.id.asc() if self.direction == "asc" else Book.id.desc()
        return query.order_by(column.asc() if self.direction == "asc" else column.desc(), tiebreak)


@dataclass(frozen=True)
class BookPage:
    """One page of books: what the list, the pager and the API show."""

    items: list[Book]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the books fill (0 when there is none)."""
        return -(-self.total // self.per_page)


def books_page(page: int, per_page: int, query: BookQuery | None = None) -> BookPage:
    """Return one page of books matching *query* (newest first by default), fast in any order however deep.

    Every book (neither searched nor filtered): the page's ids come from the sort index
    (services.sort_index), sorted by id only past the first pages, where its narrow rows are quicker
    to skip, and the total is the sort index's own count. Otherwise OFFSET makes the database sort
    every matching book to find where a page starts; past the first pages this sorts only (sort key,
    id) pairs, then fetches the page's books by id.
    """
    query = query or BookQuery()
    per_page = min(per_page, MAX_PER_PAGE)
    session = db.session()
    return BookPage(_page_items(session, query, per_page, (page - 1) * per_page), _count(session, query), page,
                    per_page)  # fmt: skip


def _count(session, query: BookQuery) -> int:
    if query.everything():
        counted = sort_index.count_books(session)
        if counted is not None:
            return counted
    return session.scalar(query.select().order_by(None).with_only_columns(func.count(Book.id)))


def _page_items(session, query: BookQuery, limit: int, offset: int) -> list[Book]:
    deep, ids = offset >= IDS_FIRST_FROM_OFFSET, None
    if query.everything() and (query.sort != "id" or deep):
        ids = sort_index.page_ids(session, query.sort, query.direction == "desc", limit, offset)
    if ids is None:
        if not deep or query.sort == "id":
            return list(session.scalars(query.select().limit(limit).offset(offset)))
        ids = session.scalars(query.select().with_only_columns(Book.id).limit(limit).offset(offset)).all()
    books = {book.id: book for book in session.scalars(select(Book).where(Book.id.in_(ids)))}
    return [books[i] for i in ids if i in books]


#: From which offset a page's books are found by sorting ids first (nearer the start, both are quick).
IDS_FIRST_FROM_OFFSET = 1_000


#: A word of a search: a "quoted phrase" or a run of characters without spaces.
_WORD = re.compile(r'"([^"]+)"|(\S+)')


def search_words(text: str) -> list[str]:
    """Split a search into its words ("quoted phrases" stay whole), each once."""
    text = unicodedata.normalize("NFC", text)  # as the books' titles and authors are stored
    words = (quoted.strip() or plain for quoted, plain in _WORD.findall(text))
    return list(dict.fromkeys(w for w in words if w))


def _isbn_of(text: str) -> str | None:
    try:
        return parse_isbn(text) or None
    except ValueProblem:
        return None


def _isbn_digits(word: str) -> str | None:
    """Return the digits of a word that can be part of an ISBN (4 or more digits, hyphens aside)."""
    digits = word.replace("-", "")
    return digits if len(digits) >= 4 and digits.isascii() and digits.isdigit() else None


def _search(text: str):
    """Match books holding every word of *text*, in any order, in the title, the author or the ISBN.

    Titles and authors are compared folded, accents and case aside ("creme" finds "Crème", "crème"
    finds "Creme"). The index narrows the books by the words it can look up (exactly every word is
    checked on what it returns, short ones too). A word that reads as an ISBN matches that ISBN as
    well, and a word of digits any ISBN holding them; so does the whole search ("978 0 441 17271 9").
    """
    words = search_words(text)
    by_isbn = {}
    for w in words:
        if isbn := _isbn_of(w):
            by_isbn[w] = Book.isbn == isbn
        elif digits := _isbn_digits(w):
            by_isbn[w] = Book.isbn.like(f"%{digits}%")
    dialect = db.engine.dialect.name
    folds = dict(zip(words, fold_words(db.session.connection(), words), strict=True))
    every_word = and_(*(or_(contains(Book.__table__, folds[w], dialect), by_isbn[w]) if w in by_isbn
                        else contains(Book.__table__, folds[w], dialect) for w in words))  # fmt: skip
    # Words that may match by the ISBN alone narrow nothing through the index, unless they are all there is.
    plain = [w for w in words if w not in by_isbn]
    narrowing = candidates(db.engine, [folds[w] for w in plain or words])
    if narrowing is not None:
        narrowed = Book.id.in_(narrowing)
        if not plain:
            narrowed = or_(narrowed, *by_isbn.values())
        every_word = and_(narrowed, every_word)
    clauses = [every_word]
    whole = _isbn_of(text)
    if whole and len(words) > 1:
        clauses.append(Book.isbn == whole)
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) >= 4 and len(digits) == len(text.replace("-", "").replace(" ", "")):
        clauses.append(Book.isbn.like(f"%{digits}%"))
    return or_(*clauses)


def book_values(book: Book) -> dict:
    """Return the book's fields."""
    return {f: getattr(book, f) for f in FIELDS}


class BookProblems(Exception):
    """The submitted values break the import rules; problems maps each field to a message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


#: Fields whose value is text, and those that take a number as well; a value of another type (a list or
#: an object above all) is refused, not written as its Python text ("['a']"). None: the field is empty.
TEXT_FIELDS = ("title", "author", "book_type", "isbn", "description")
NUMBER_FIELDS = ("year_published", "price", "no_of_pages", "quantity")
_JSON_TYPE_NAMES = {bool: "true or false", list: "a list", dict: "an object", int: "a number", float: "a number"}


def _wrong_types(raw: dict[str, object]) -> dict[str, str]:
    """Return a problem for each field sent as a type it cannot take (true and false are not numbers)."""
    problems = {}
    for name in (*TEXT_FIELDS, *NUMBER_FIELDS):
        value = raw.get(name)
        allowed = (str,) if name in TEXT_FIELDS else (str, int, float, Decimal)  # Decimal: a stored price
        if value is not None and (type(value) is bool or not isinstance(value, allowed)):
            wanted = "text" if name in TEXT_FIELDS else "a number or text"
            got = _JSON_TYPE_NAMES.get(type(value), type(value).__name__)
            problems[name] = f"{LABELS[name]} must be {wanted}, not {got}"
    return problems


def save_book(book: Book | None, raw: dict[str, object]) -> Book:
    """Create or change a book by hand with the importer's rules; raise BookProblems if they fail."""
    wrong = _wrong_types(raw)
    if wrong:
        raise BookProblems(wrong)
    values, problems = validate_values(raw)
    if not problems:
        taken = db.session.scalar(select(Book.id).where(Book.isbn == values["isbn"]))
        if taken is not None and (book is None or taken != book.id):
            problems["isbn"] = f"{LABELS['isbn']} {values['isbn']} belongs to another book"
    if problems:
        raise BookProblems(problems)
    if book is None:
        book = Book()
        db.session.add(book)
    for name, value in values.items():
        setattr(book, name, value)
    book.import_id = None  # written by hand: no import owns its current values
    book.updated_at = utcnow()
    db.session.commit()
    return book


def delete_book(book: Book) -> None:
    """Delete a book."""
    db.session.delete(book)
    db.session.commit()


def driver_batches(statement: Select, batch: int) -> Iterator[list[tuple]]:
    """Yield the rows of *statement* as the driver gives them, *batch* at a time, streamed (PostgreSQL: a
    server-side cursor), in the session's transaction.

    For a million rows, SQLAlchemy's own rows cost a sixth of a CSV export; the driver's tuples are
    what the file is written from. Only for a statement whose parameters need no conversion (text and
    numbers as they are) and whose columns are read as stored: one that needs either goes through
    SQLAlchemy, as does any other dialect.
    """
    connection = db.session.connection()
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    raw = dialect.name in ("sqlite", "postgresql") and not any(
        [bind.type.bind_processor(dialect) for bind in compiled.binds.values()]
        + [column.type.result_processor(dialect, None) for column in statement.selected_columns]
    )
    if not raw:
        yield from connection.execute(statement.execution_options(yield_per=batch)).partitions()
        return
    params = compiled.construct_params()
    dbapi = connection.connection
    if dialect.name == "sqlite":
        cursor = dbapi.cursor()
        cursor.execute(compiled.string, [params[name] for name in compiled.positiontup])
    else:
        cursor = dbapi.driver_connection.cursor(name="book_export")
        cursor.execute(compiled.string, params)
    try:
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()
