"""What a person sees of a /books view: links that keep it, word search, the pager, exports that are
spreadsheets, the book page's way back."""

import csv
import datetime as dt
import html
import io
import re

from openpyxl import load_workbook
from sqlalchemy import event, select

from bookapp.extensions import db
from bookapp.models import Book, Import, ImportRowError
from bookapp.services.books import SORTABLE, BookQuery
from tests.conftest import run_worker
from tests.helpers import book_row, csv_bytes, isbn13
from tests.test_books import seed, titles
from tests.test_imports import import_state, upload

TODAY = f"{dt.datetime.now(dt.UTC):%Y-%m-%d}"


def link(page: str, text: str) -> str | None:
    """The href of the link whose text is *text* (None when there is none)."""
    found = re.search(r'<a [^>]*href="([^"]+)"[^>]*>\s*' + re.escape(text) + r"\s*</a>", page)
    return html.unescape(found.group(1)) if found else None


def expected_titles(app, sort: str, direction: str) -> list[str]:
    """Every book's title in the order one plain ORDER BY gives."""
    with app.app_context():
        statement = BookQuery(sort=sort, direction=direction).select().with_only_columns(Book.title)
        return list(db.session.scalars(statement))


def test_every_link_built_from_a_view_keeps_its_order(app, staff_client):
    """Three pages of every sort in both directions through the pager's Next link, an export of each
    view from its page, and the book page's way back: the order never breaks."""
    seed(app, staff_client, 80)
    for sort in SORTABLE:
        for direction in ("asc", "desc"):
            view = f"sort={sort}&direction={direction}"
            expected = expected_titles(app, sort, direction)
            url, walked = f"/books?{view}&per_page=25", []
            for page_number in (1, 2, 3):
                page = staff_client.get(url).get_data(as_text=True)
                assert f"Page {page_number} of 4" in page, (view, url)
                walked += titles(page)
                if page_number == 1:
                    first_page = page
                if page_number < 3:
                    url = link(page, "Next ›")
            assert walked == expected[:75], view

            # The book page's way back leads to the page the book was opened from.
            book = re.search(r'<td><a href="([^"]+)">', page).group(1)
            back = link(staff_client.get(html.unescape(book)).get_data(as_text=True), "← Back to the list")
            assert titles(staff_client.get(back).get_data(as_text=True)) == expected[50:75], view

            exported = staff_client.get(link(first_page, "Export CSV")).get_data(as_text=True)
            assert [row[0] for row in csv.reader(io.StringIO(exported.lstrip("\ufeff")))][1:] == expected, view
            if sort in ("price", "title"):
                with staff_client.get(link(first_page, "Export XLSX")) as response:
                    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
                    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == expected, view

    # Changing the page size keeps the sort and its direction.
    page = staff_client.get("/books?sort=price&direction=desc&per_page=25").get_data(as_text=True)
    assert '<input type="hidden" name="direction" value="desc">' in page


def queries_seen(app) -> list[str]:
    seen: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_search_matches_every_word_in_any_order_through_the_index(app, staff_client):
    rows = [
        book_row(1, Title="The Storm", Author="Anna Kowalski"),
        book_row(2, Title="Storm Front", Author="Jim Butcher"),
        book_row(3, Title="Kowalski's Garden", Author="Ed Storm"),
        book_row(4, Title="Calm Water", Author="Anna Kowalski"),
        book_row(5, Title="100% Wool", Author="Ann Knit"),
    ]
    upload(staff_client, csv_bytes(rows))
    run_worker(app)
    statements = queries_seen(app)

    def found(text: str) -> set[str]:
        return {
            html.unescape(t)
            for t in titles(staff_client.get("/books", query_string={"q": text}).get_data(as_text=True))
        }

    assert found("kowalski storm") == found("STORM  Kowalski") == {"The Storm", "Kowalski's Garden"}
    index = "books_search MATCH" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else "book_search"
    assert any(index in s for s in statements), "the search index served the words"
    assert found("an storm") == {"The Storm"}, "a word too short for the index still counts, exactly"
    assert found('"the storm"') == {"The Storm"}, "a quoted phrase stays whole"
    assert found(f"storm {isbn13(1)}") == {"The Storm"}, "a word may be the ISBN"
    assert found(f"kowalski {isbn13(4)[-5:]}") == {"Calm Water"}, "or digits of the ISBN"
    assert found("100% wool") == {"100% Wool"} and found("% kowalski") == set()
    assert found("kowalski storm garden") == {"Kowalski's Garden"}
    assert found("storm nowhere") == set()

    # A book the index has not caught up with yet is found by the same words.
    with app.app_context():
        from bookapp.services.books import save_book

        save_book(None, {**dict(zip(["title", "author", "book_type", "isbn", "year_published", "price",
                                     "no_of_pages", "quantity", "description"],
                                    book_row(6, Title="Storm Warning", Author="Kim Kowalski"), strict=True))})  # fmt: skip
    assert found("kowalski storm") == {"The Storm", "Kowalski's Garden", "Storm Warning"}


def test_an_empty_result_says_what_was_searched_and_offers_to_clear_the_filters(app, staff_client):
    seed(app, staff_client, 10)
    page = staff_client.get("/books?q=kowalski+storm&book_type=Horror&sort=price&direction=desc").get_data(as_text=True)
    assert "No book matches every word of “<strong>kowalski storm</strong>” in its title, author or ISBN" in page
    assert "among the Horror books" in page
    assert link(page, "Clear the filters") == "/books?sort=price&direction=desc"
    assert "Export CSV" not in page and "Export XLSX" not in page, "nothing to export"


def test_no_export_links_without_books(app, staff_client):
    page = staff_client.get("/books").get_data(as_text=True)
    assert "No books yet." in page and "Export CSV" not in page and "Export XLSX" not in page


def test_the_pager_has_first_previous_next_last_and_a_jump_to_any_page(app, staff_client):
    seed(app, staff_client, 80)
    page = staff_client.get("/books?sort=price&direction=desc&per_page=25&page=2").get_data(as_text=True)
    assert "Page 2 of 4" in page
    assert link(page, "« First") == "/books?sort=price&direction=desc&per_page=25"
    assert link(page, "‹ Previous") == "/books?sort=price&direction=desc&per_page=25"
    assert link(page, "Next ›") == "/books?sort=price&direction=desc&per_page=25&page=3"
    assert link(page, "Last »") == "/books?sort=price&direction=desc&per_page=25&page=4"
    assert "Older" not in page and "Newer" not in page
    jump = re.search(r'<form class="pager-jump" method="get" action="([^"]+)">(.*?)</form>', page, re.S)
    assert jump.group(1) == "/books"
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', jump.group(2)))
    assert hidden == {"sort": "price", "direction": "desc", "per_page": "25"}
    assert 'name="page" min="1" max="4" value="2"' in jump.group(2)
    # Past the last page: the last page.
    response = staff_client.get("/books?sort=price&direction=desc&per_page=25&page=99")
    assert response.status_code == 302 and response.location.endswith("&page=4")
    last = staff_client.get("/books?sort=price&direction=desc&per_page=25&page=4").get_data(as_text=True)
    assert link(last, "Next ›") is None and link(last, "Last »") is None and "Page 4 of 4" in last


def test_the_same_pager_serves_the_rejected_rows_and_the_imports_history(app, staff_client):
    rows = [book_row(n, **({"Year published": "19"} if n > 10 else {})) for n in range(1, 131)]
    location = upload(staff_client, csv_bytes(rows)).location
    run_worker(app)
    page = staff_client.get(location).get_data(as_text=True)
    assert "Page 1 of 2" in page and link(page, "Next ›") == f"{location}?page=2"
    assert re.search(rf'<form class="pager-jump" method="get" action="{location}">', page)
    with app.app_context():
        db.session.add_all(Import(filename=f"{n}.csv", stored_name=f"{n}.csv", file_kind="csv", file_size=1,
                                  sha256=str(n)) for n in range(60))  # fmt: skip
        db.session.commit()
    history = staff_client.get("/imports?status=queued").get_data(as_text=True)
    assert "Page 1 of 2" in history and link(history, "Last »") == "/imports?status=queued&page=2"


def test_an_xlsx_export_is_a_spreadsheet_named_by_what_it_holds(app, staff_client):
    seed(app, staff_client, 12)
    response = staff_client.get("/books/export.xlsx?book_type=Horror&sort=price")
    assert response.is_streamed, "the download starts at once"
    assert f'filename="books-horror-{TODAY}.xlsx"' in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "Books"
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Title", "Author", "Book type", "ISBN"]
    assert all(c.font.b for c in sheet[1]), "a bold header"
    assert sheet.freeze_panes == "A2", "a frozen header row"
    assert sheet.auto_filter.ref == f"A1:I{sheet.max_row}", "filter arrows over every row"
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert isinstance(row["ISBN"].value, str) and row["ISBN"].number_format == "@"
    assert isinstance(row["Price"].value, float) and row["Price"].number_format == "0.00"
    for number in ("Year published", "No. of pages", "Quantity"):
        assert isinstance(row[number].value, int), number
    widths = {c.column_letter: sheet.column_dimensions[c.column_letter].width for c in sheet[1]}
    assert widths["A"] >= len("Title") and widths["I"] > widths["C"], "columns as wide as what they hold"
    csv_response = staff_client.get("/books/export.csv?q=Book+1&import_id=1")
    assert f'filename="books-import-1-book-1-{TODAY}.csv"' in csv_response.headers["Content-Disposition"]
    assert staff_client.get("/books/export.csv").headers["Content-Disposition"].endswith(f'"books-{TODAY}.csv"')


def test_rejected_rows_and_report_downloads_are_spreadsheets_too(app, staff_client):
    rows = [book_row(1), book_row(2, Title="=HYPERLINK(\"http://x\")", Price="free"),
            book_row(3, Title="Bell\x07 rings")]  # fmt: skip
    location = upload(staff_client, csv_bytes(rows)).location
    run_worker(app)
    import_id = import_state(staff_client, location)["id"]
    for path in (f"/imports/{import_id}/rejected.xlsx", f"/imports/{import_id}/report.xlsx"):
        response = staff_client.get(path)
        assert response.status_code == 200 and response.is_streamed, path
        assert f"-{TODAY}.xlsx" in response.headers["Content-Disposition"], path
        sheet = load_workbook(io.BytesIO(response.data)).active
        assert sheet.freeze_panes == "A2" and sheet[1][0].font.b and sheet.auto_filter.ref, path
        cells = [c for r in sheet.iter_rows(min_row=2) for c in r if c.value is not None]
        assert all(c.data_type != "f" for c in cells), "text is never a formula"
    rejected = load_workbook(io.BytesIO(staff_client.get(f"/imports/{import_id}/rejected.xlsx").data)).active
    values = [c.value for r in rejected.iter_rows(min_row=2) for c in r]
    assert '=HYPERLINK("http://x")' in values
    assert any(isinstance(v, str) and v.startswith("Bell") for v in values), "a control character does not break it"


def test_a_workbooks_rejected_rows_come_back_as_its_cells_showed_them(app, staff_client, tmp_path):
    """A formula never calculated holds no value when its row comes back (not its cell's name, which a
    fix could save as a title), a number cell reads as the sheet showed it, and a value past the header's
    last column has its own message and comes after "row" and "error", which stay under their names."""
    from tests.helpers import HEADER, typed_book_row, write_xlsx

    rows = [typed_book_row(1), typed_book_row(2, Title='="Formula "&"title"'), [*typed_book_row(3), "stray"],
            typed_book_row(4, ISBN=9780306406158)]  # fmt: skip
    content = write_xlsx(tmp_path / "books.xlsx", rows).read_bytes()
    location = upload(staff_client, content, name="books.xlsx").location
    run_worker(app)
    state = import_state(staff_client, location)
    assert (state["created"], state["rejected"]) == (1, 3), state
    import_id = state["id"]
    text = staff_client.get(f"/imports/{import_id}/rejected.csv").get_data(as_text=True).removeprefix("\ufeff")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [*HEADER, "row", "error"]
    by_row = {line[len(HEADER)]: line for line in lines[1:]}
    assert set(by_row) == {"3", "4", "5"}
    assert by_row["3"][0] == "" and "formula (cell A3) whose result was never saved" in by_row["3"][len(HEADER) + 1]
    assert "right of the header's last column" in by_row["4"][len(HEADER) + 1] and by_row["4"][-1] == "stray"
    assert by_row["5"][HEADER.index("ISBN")] == "9780306406158" and by_row["5"][HEADER.index("Year published")] == str(
        typed_book_row(4)[HEADER.index("Year published")]
    )
    fix_page = staff_client.get(f"/imports/{import_id}/fix").get_data(as_text=True)
    assert 'value="A3"' not in fix_page and ">A3<" not in fix_page
    page = staff_client.get(location).get_data(as_text=True)
    assert "9780306406158.0" not in page and "9780306406158" in page


def test_an_xlsx_is_written_as_its_rows_come():
    """The first bytes leave before the last row is read, so a download starts at once."""
    from bookapp.services.spreadsheet import ROWS_PER_CHUNK, xlsx_chunks

    read = []

    def rows():
        for n in range(ROWS_PER_CHUNK * 10):
            read.append(n)
            yield [f"Book {n}", n]

    chunks = xlsx_chunks(["Title", "Number"], rows())
    assert next(chunks) and len(read) < ROWS_PER_CHUNK * 2
    data = next(chunks) + b"".join(chunks)
    assert len(read) == ROWS_PER_CHUNK * 10 and data


def test_the_edit_form_brings_a_number_keypad_for_numbers(app, staff_client):
    seed(app, staff_client, 1)
    with app.app_context():
        book_id = db.session.scalar(select(Book.id))
    page = staff_client.get(f"/books/{book_id}/edit").get_data(as_text=True)
    for field, mode in (("year_published", "numeric"), ("price", "decimal"), ("no_of_pages", "numeric"),
                        ("quantity", "numeric")):  # fmt: skip
        tag = re.search(rf'<input [^>]*id="{field}"[^>]*>', page).group(0)
        assert f'inputmode="{mode}"' in tag, field


def test_a_book_page_leads_back_to_its_view_through_edit_and_delete(app, staff_client):
    seed(app, staff_client, 60)
    view = "q=Book&sort=price&direction=desc&per_page=25&page=2"
    page = staff_client.get(f"/books?{view}").get_data(as_text=True)
    book = html.unescape(re.search(r'<td><a href="([^"]+)">', page).group(1))
    assert book.endswith(f"?{view}")
    shown = staff_client.get(book).get_data(as_text=True)
    assert link(shown, "← Back to the list") == f"/books?{view}"
    edit = link(shown, "Edit")
    form = {f: "" for f in ("no_of_pages", "description")}
    with app.app_context():
        stored = db.session.get(Book, int(re.search(r"/books/(\d+)", book).group(1)))
        form |= {"title": stored.title, "author": stored.author, "book_type": stored.book_type, "isbn": stored.isbn,
                 "year_published": stored.year_published, "price": "1.00", "quantity": stored.quantity}  # fmt: skip
    saved = staff_client.post(edit, data=form)
    assert saved.status_code == 302 and saved.location == book
    deleted = staff_client.post(link(shown, "Delete…"))
    assert deleted.location == f"/books?{view}"


def test_a_csv_neutralises_a_formula_in_any_row_of_any_batch():
    """Whole batches are written at once; a cell starting like a formula anywhere in one still gets
    its apostrophe, the first row of a batch too."""
    from bookapp.services.reports import CSV_BATCH_ROWS, csv_lines

    rows = [["plain", n, None] for n in range(CSV_BATCH_ROWS)]
    rows += [["=1+1", -5, None], ["ok", 1, "\ttab"], ["a\r\n@b", 2, "+c"]]
    written = list(csv.reader(io.StringIO(b"".join(csv_lines(["Title", "N", "Note"], rows)).decode().lstrip("\ufeff"))))
    assert written[1 + CSV_BATCH_ROWS] == ["'=1+1", "-5", ""]
    assert written[2 + CSV_BATCH_ROWS] == ["ok", "1", "'\ttab"]
    assert written[3 + CSV_BATCH_ROWS] == ["a\r\n@b", "2", "'+c"]
    assert written[1] == ["plain", "0", ""] and len(written) == 1 + len(rows)


def test_a_word_in_most_books_is_left_to_the_exact_check_when_a_rarer_one_narrows(app, staff_client, monkeypatch):
    """Merging the index's lists for a word every title holds is the slow part of a search; when
    another word is rare, the index is asked for that one only, and every word is still checked."""
    from bookapp.services import search_index

    seed(app, staff_client, 30)
    monkeypatch.setattr(search_index, "COMMON_WORD_BOOKS", 12)  # "book": 30 books, "author 1": 11
    parameters: list = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: parameters.append(args[3]))
    found = titles(staff_client.get("/books", query_string={"q": 'book "author 1"'}).get_data(as_text=True))
    assert sorted(found) == sorted(f"Book {n}" for n in range(1, 31) if f"Author {n % 97}".startswith("Author 1"))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        asked = [p for params in parameters for p in (params if isinstance(params, tuple | list) else ())
                 if isinstance(p, str) and '"' in p]  # fmt: skip
        assert asked and '"boo"' not in asked[-1] and '"aut"' in asked[-1], asked


def test_the_edit_form_says_how_to_write_one_price_written_with_a_decimal_comma(app, staff_client):
    seed(app, staff_client, 1)
    with app.app_context():
        stored = db.session.scalar(select(Book))
        form = {"title": stored.title, "author": stored.author, "book_type": stored.book_type, "isbn": stored.isbn,
                "year_published": stored.year_published, "price": "12,00", "quantity": stored.quantity}  # fmt: skip
        book_id = stored.id
    refused = staff_client.post(f"/books/{book_id}/edit", data=form)
    page = html.unescape(refused.get_data(as_text=True))
    assert "Price uses a decimal comma: write the price with a point: 12.00" in page
    assert "column" not in page[page.index("Price uses") :].split("<", 1)[0], "the form has no column"
    # An import's price column keeps its own words: a file's first prices decide how a column reads.
    upload(staff_client, csv_bytes([book_row(2, Price="12.50"), book_row(3, Price="12,00")]))
    run_worker(app)
    with app.app_context():
        messages = db.session.scalars(select(ImportRowError.message)).all()
        assert any("the column's first prices do not all use one" in m for m in messages), messages
