"""Searching and sorting as a bookshop with French, Spanish, German or Portuguese titles expects: accents
and case aside ("creme" finds "Crème brûlée", "crème" finds "Creme Caramel", "Émile" sorts among the
E's), alike through the search and sort indexes and without them, on SQLite and PostgreSQL."""

import json

import pytest
from sqlalchemy import select

from bookapp.extensions import db
from bookapp.models import Book
from bookapp.services import search_catch_up, sort_catch_up, sort_index
from bookapp.services.books import BookQuery
from bookapp.services.folding import fold
from tests import layouts
from tests.conftest import flask_cli, sign_in
from tests.test_access import bearer
from tests.test_books import titles
from tests.test_mapping import finished, post_file
from tests.test_migrations import empty_database, env_for, run_sql

#: Title and author of each book, as a bookshop's Goodreads library export lists them.
BOOKS = [
    ("Crème brûlée pour tous", "Gabriel García Márquez"),
    ("Übersetzung und Sprache", "Jürgen Groß"),
    ("Creme Caramel", "Ana Lopez"),
    ("Émile et les livres", "Zoë Brontë"),
    ("Zola en Provence", "Ève Durand"),
    ("Eve of Saint Agnes", "John Keats"),
    ("ação e reação", "José Saramago"),
    ("Arbre", "Ángel González"),
]
#: A search, and the titles it finds (in any order).
SEARCHES = {
    "creme": {"Crème brûlée pour tous", "Creme Caramel"},
    "crème": {"Crème brûlée pour tous", "Creme Caramel"},  # accents typed find the text without them too
    "CRÈME BRÛLÉE": {"Crème brûlée pour tous"},
    "garcia marquez": {"Crème brûlée pour tous"},
    "García Márquez": {"Crème brûlée pour tous"},
    "Ubersetzung": {"Übersetzung und Sprache"},
    "übersetzung": {"Übersetzung und Sprache"},
    "GROSS": {"Übersetzung und Sprache"},
    "acao": {"ação e reação"},
    "AÇÃO": {"ação e reação"},
    "eve": {"Zola en Provence", "Eve of Saint Agnes"},
    "Ève": {"Zola en Provence", "Eve of Saint Agnes"},
    "zo": {"Émile et les livres", "Zola en Provence"},  # too short for the index: a scan
    "angel gonzalez": {"Arbre"},
    '"emile et"': {"Émile et les livres"},
    "cafe": set(),
}
#: The titles sorted by title, and by author (ascending), as a reader expects them.
BY_TITLE = ["ação e reação", "Arbre", "Crème brûlée pour tous", "Creme Caramel", "Émile et les livres",
            "Eve of Saint Agnes", "Übersetzung und Sprache", "Zola en Provence"]  # fmt: skip
BY_AUTHOR = ["Creme Caramel", "Arbre", "Zola en Provence", "Crème brûlée pour tous", "Eve of Saint Agnes",
             "ação e reação", "Übersetzung und Sprache", "Émile et les livres"]  # fmt: skip


def goodreads_export(books: list[tuple[str, str]], first: int = 1) -> tuple[str, bytes]:
    """A Goodreads library export (its public column list) of *books*, numbered from *first*."""
    rows = []
    for n, (title, author) in enumerate(books, first):
        row = dict.fromkeys(layouts.GOODREADS_HEADER, "")
        surname, _, given = author.rpartition(" ")[::-1]
        row.update({"Book Id": str(5000 + n), "Title": title, "Author": author, "Author l-f": f"{surname}, {given}",
                    "ISBN": f'="{layouts.isbn10(n)}"', "ISBN13": f'="{layouts.isbn13_of(n)}"', "My Rating": "5",
                    "Publisher": "Éditions du Seuil", "Binding": "Paperback", "Number of Pages": str(200 + n),
                    "Year Published": "2001", "Exclusive Shelf": "read", "Owned Copies": "2"})  # fmt: skip
        rows.append([row[h] for h in layouts.GOODREADS_HEADER])
    return "goodreads_library_export.csv", layouts._csv(layouts.GOODREADS_HEADER, rows)


def import_books(app, books=BOOKS) -> dict:
    """Import *books* through the API as a Goodreads export (the import's job catches the indexes up);
    return the API's headers."""
    headers = bearer(app)
    name, content = goodreads_export(books)
    state = finished(app, headers, post_file(app, headers, name, content,
                                             mapping=json.dumps(layouts.GOODREADS_MAPPING)))  # fmt: skip
    assert (state["status"], state["created"]) == ("succeeded", len(books)), state
    return headers


def set_marks(app, search: int | None = None, sort: int | None = None) -> None:
    with app.app_context(), db.engine.begin() as connection:
        if search is not None:
            connection.exec_driver_sql(f"UPDATE search_state SET indexed_upto = {search} WHERE id = 1")
        if sort is not None:
            connection.exec_driver_sql(f"UPDATE search_state SET indexed_upto = {sort} WHERE id = 2")


def highest_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(db.func.max(Book.id)))


def found(client, query: str, headers=None) -> tuple[set[str], set[str]]:
    """The titles a search finds on the /books page, and through the JSON API."""
    page = set(titles(client.get("/books", query_string={"q": query, "per_page": 200}).get_data(as_text=True)))
    api = client.get("/api/v1/books", query_string={"q": query, "per_page": 200}, headers=headers).get_json()
    return page, {item["title"] for item in api["items"]}


def test_searches_set_accents_aside_through_the_index_and_past_its_mark_alike(app):
    """Every search finds the same books whether the index answers (caught up) or every book is scanned
    (the mark at 0, as right after an import, before its catch-up), on the page and in the API."""
    headers = import_books(app)
    staff = sign_in(app.test_client(), "staff@example.com")
    assert titles(staff.get("/books").get_data(as_text=True)), "the page lists the books"
    with app.app_context():
        assert db.session.scalar(select(Book.title).where(Book.author == "Jürgen Groß")) == "Übersetzung und Sprache"
    indexed = {q: found(staff, q, headers) for q in SEARCHES}
    set_marks(app, search=0)
    scanned = {q: found(staff, q, headers) for q in SEARCHES}
    for query, expected in SEARCHES.items():
        assert indexed[query] == (expected, expected), f"through the index: {query}"
        assert scanned[query] == (expected, expected), f"scanned: {query}"


def test_the_index_and_a_scan_agree_on_every_search(app, monkeypatch):
    """The search index's answer is exactly a plain scan's for accented and unaccented searches in any
    case, with LIKE's wildcards as plain characters: the books are compared through the index, then
    with every book past its mark, and the index was asked."""
    from bookapp.services import search_index

    import_books(app, [*BOOKS, ("100% Crème_Fraîche", "Zoé Ñúñez"), ("Straße der Ölmühle", "Åsa Æbeltoft")])
    queries = [*SEARCHES, "fraiche", "FRAÎCHE", "100%", "e_f", "creme_fraiche", "nunez", "ÑÚÑEZ", "strasse",
               "straße", "olmuhle", "asa", "aebeltoft", "é", "ë", "ç", "ñ", "rê", "Provence zola", "zzz"]  # fmt: skip
    asked = []
    real = search_index.candidates
    monkeypatch.setattr(search_index, "candidates", lambda *a: asked.append(a) or real(*a))
    monkeypatch.setattr("bookapp.services.books.candidates", search_index.candidates)

    def ids(query: str) -> list[int]:
        with app.app_context():
            return list(db.session.scalars(BookQuery(q=query).select().with_only_columns(Book.id)))

    upto = highest_id(app)
    through_index = {q: ids(q) for q in queries}
    assert asked, "the index was asked"
    set_marks(app, search=0)
    assert {q: ids(q) for q in queries} == through_index
    set_marks(app, search=upto)
    with app.app_context():
        every = {b.id: fold(f"{b.title}\n{b.author}") for b in db.session.scalars(select(Book))}
    for query in ("fraiche", "strasse", "nunez", "100%", "e_f"):  # what a reader means by them
        assert set(through_index[query]) == {i for i, text in every.items() if query in text}, query


def page_titles(client, sort: str, headers=None) -> tuple[list[str], list[str]]:
    """The titles on /books sorted by *sort*, ascending, and in the API's list."""
    args = {"sort": sort, "direction": "asc", "per_page": 200}
    page = titles(client.get("/books", query_string=args).get_data(as_text=True))
    api = client.get("/api/v1/books", query_string=args, headers=headers).get_json()
    return page, [item["title"] for item in api["items"]]


def test_titles_and_authors_sort_among_their_letters_through_the_sort_index_and_without_it(app, monkeypatch):
    headers = import_books(app)
    staff = sign_in(app.test_client(), "staff@example.com")
    served = []
    real = sort_index.page_ids
    monkeypatch.setattr(sort_index, "page_ids", lambda *a: served.append(real(*a)) or served[-1])
    assert page_titles(staff, "title", headers) == (BY_TITLE, BY_TITLE)
    assert page_titles(staff, "author", headers) == (BY_AUTHOR, BY_AUTHOR)
    assert served and None not in served, "the sort index answered"
    assert page_titles(staff, "title", headers)[0][::-1] == titles(
        staff.get("/books?sort=title&direction=desc&per_page=200").get_data(as_text=True)
    )
    # A book made by hand (past the index's mark), and two changed since they were copied (stale): merged in
    # their places.
    made = staff.post("/api/v1/books", headers=headers, json={
        "title": "Été indien", "author": "Édouard Glissant", "book_type": "Classic", "isbn": layouts.isbn13_of(40),
        "year_published": 1990, "price": "12.00", "quantity": 1})  # fmt: skip
    assert made.status_code == 201, made.get_json()
    with app.app_context():
        db.session.scalar(select(Book).where(Book.title == "Arbre")).title = "Ça ira"
        db.session.scalar(select(Book).where(Book.title == "Zola en Provence")).author = "Élise Durand"
        db.session.commit()
    with_new = sorted([*(t for t in BY_TITLE if t != "Arbre"), "Ça ira", "Été indien"], key=fold)
    assert with_new[:3] == ["ação e reação", "Ça ira", "Crème brûlée pour tous"]
    served.clear()
    assert page_titles(staff, "title", headers) == (with_new, with_new)
    by_author = page_titles(staff, "author", headers)[0]
    assert (
        by_author.index("Été indien") < by_author.index("Zola en Provence") < by_author.index("Crème brûlée pour tous")
    )
    assert served and None not in served
    # Too many books to merge: a plain sort of the books, the same order.
    monkeypatch.setattr(sort_index, "MAX_PENDING", 0)
    set_marks(app, sort=0)
    assert page_titles(staff, "title", headers) == (with_new, with_new)
    assert page_titles(staff, "author", headers)[0] == by_author


@pytest.mark.slow
def test_a_database_at_0009_with_indexed_books_upgrades_and_finds_them_without_accents(database_url, redis_url,
                                                                                       redis_client, tmp_path):  # fmt: skip
    """A database whose indexes hold titles and authors as they are (0009) upgrades in place: its indexes
    start again and catch up folded; searches find the books meanwhile and after."""
    empty_database(database_url)
    env = env_for(database_url, redis_url, tmp_path)
    result = flask_cli(["db", "upgrade", "0009"], env)
    assert result.returncode == 0, result.stderr
    postgres = not database_url.startswith("sqlite")
    values = ", ".join(
        f"('{layouts.isbn13_of(n)}', '{title}', '{author}', 'Classic', '2001', 10, 100, 1, "
        "'2026-12-01 10:00:00+00:00', '2026-12-01 10:00:00+00:00')"
        for n, (title, author) in enumerate(BOOKS, 1)
    )
    copy = (
        "INSERT INTO book_search (book_id, title, author)"
        if postgres
        else "INSERT INTO books_search (rowid, title, author)"
    )
    columns = ", ".join(sort_index.COLUMNS)
    run_sql(database_url, f"""
        INSERT INTO books (isbn, title, author, book_type, year_published, price, no_of_pages, quantity, created_at,
                           updated_at) VALUES {values};
        {copy} SELECT id, title, author FROM books;
        UPDATE search_state SET indexed_upto = (SELECT max(id) FROM books) WHERE id = 1;
        INSERT INTO book_order (id, {columns}) SELECT id, {columns} FROM books;
        UPDATE search_state SET indexed_upto = (SELECT max(id) FROM books), books = 8 WHERE id = 2;
    """)  # fmt: skip

    result = flask_cli(["db", "upgrade"], env)
    assert result.returncode == 0, result.stderr
    assert "0009 -> 0010" in result.stderr
    app = _app_on(database_url, redis_url, tmp_path)
    with app.app_context():
        marks = dict(db.session.execute(db.text("SELECT id, indexed_upto FROM search_state")).all())
        assert marks == {1: 0, 2: 0}, "both indexes start again"
    headers = bearer(app)
    staff = sign_in(app.test_client(), "staff@example.com")
    for query in ("creme", "garcia marquez", "Ubersetzung", "acao"):  # scanned
        assert found(staff, query, headers) == (SEARCHES[query], SEARCHES[query]), query
    assert page_titles(staff, "title", headers) == (BY_TITLE, BY_TITLE)
    with app.app_context():
        assert search_catch_up.catch_up(db.engine) == 8
        assert sort_catch_up.catch_up(db.engine) == 8
    for query, expected in SEARCHES.items():  # through the index
        assert found(staff, query, headers) == (expected, expected), query
    assert page_titles(staff, "title", headers) == (BY_TITLE, BY_TITLE)
    assert page_titles(staff, "author", headers) == (BY_AUTHOR, BY_AUTHOR)
    with app.app_context():
        db.engine.dispose()


def _app_on(database_url: str, redis_url: str, tmp_path):
    """An app on the database as it is (no tables made afresh)."""
    from bookapp import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "x",
                       "TESTING": True, "WTF_CSRF_ENABLED": False, "UPLOAD_FOLDER": str(tmp_path / "uploads")},
                      instance_path=str(tmp_path / "instance"))  # fmt: skip
