"""Files the shop programs already read do not cover: a library catalogue's report (ISBNs with their
qualifier, years as "c1965.", pages as "xii, 412 p.", titles and authors closed with its punctuation), stock
lists headed in French, German or Spanish, and a collection program's Purchase Price. Through the API and
Match columns, on SQLite and PostgreSQL."""

import csv
import io
import json
from decimal import Decimal

import pytest

from bookapp.extensions import db
from bookapp.importer import RowValidator, map_headers
from bookapp.importer import values as cell_values
from bookapp.importer.catalogue_values import (
    catalogue_punctuation_columns,
    without_closing_punctuation,
    without_life_dates,
)
from bookapp.importer.errors import ValueProblem
from bookapp.importer.fields import FIELDS
from bookapp.importer.matching import suggest
from bookapp.importer.preview import preview
from bookapp.importer.profiling import profile_file
from bookapp.importer.values import parse_isbn, parse_pages, parse_year
from bookapp.models import Import
from bookapp.services.import_words import summary_line
from tests import layouts
from tests.conftest import flask_cli, run_worker
from tests.helpers import HEADER, book_row
from tests.test_access import bearer
from tests.test_mapping import book, finished, page_said, post_file


def rejected_rows(app, headers, state: dict) -> list[tuple[int, str]]:
    items = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]
    return [(r["row"], r["message"]) for r in items]


def test_a_catalogue_reports_isbns_years_and_pages_are_read_past_their_punctuation_and_the_import_says_so(
    app, tmp_path
):
    """A library system's report writes an ISBN with its qualifier ("0441172717 (pbk.)"), a year as "c1965."
    or "[1965]" and pages as "xii, 412 p. :": every row was rejected. Each reads as the book's value, and
    the import says how many ISBN cells it read past their qualifier; two years, two page counts or a wrong
    ISBN behind a qualifier are still refused, saying what is wrong."""
    headers = bearer(app)
    wrong = layouts.isbn10(10)[:9] + str((int(layouts.isbn10(10)[9]) + 1) % 10)
    odd = {9: {"publicationyear": "1987, c1965"}, 10: {"isbn": f"{wrong} (pbk.)"}, 11: {"pages": "300, 200 p."}}
    name, content = layouts.catalogue_report(1, 11, cells=odd.get)
    mapping = json.dumps(layouts.CATALOGUE_REPORT_MAPPING)
    state = finished(app, headers, post_file(app, headers, name, content, mapping=mapping))

    assert (state["created"], state["rejected"]) == (8, 3)
    saved = [book(app, layouts.isbn13_of(n)) for n in range(1, 9)]
    assert [(b.title, b.year_published, b.no_of_pages) for b in saved] == [
        (f"Dune {n}", "1965", 400 + n) for n in range(1, 9)
    ]
    # Every form but "ISBN 0-441-17271-7" (read as ever) has a qualifier; "… (pbk.) | 978…" holds two ISBNs too.
    assert state["repairs"]["isbn_past_qualifier"] == {"count": 6, "rows": [2, 4, 5, 6, 8, 9]}
    assert state["repairs"]["isbn_first_of_several"] == {"count": 2, "rows": [4, 8]}
    assert rejected_rows(app, headers, state) == [
        (10, "Year published holds different years (1987, 1965); keep the one the book was published in"),
        (11, "ISBN has a wrong check digit; check it for a typo"),
        (12, "No. of pages holds several numbered sequences of pages (300, 200); write the book's number of pages"),
    ]
    said = page_said(app, state["id"])
    assert (
        "on the way in" not in said
        and (
            "Read 6 ISBN cells that held a library catalogue's note after the ISBN, such as (pbk.) or (hardcover : alk. "
            "paper), as the ISBN alone (rows 2, 4, 5, 6, 8, 9)."
        )
        in said
    )
    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": app.config["REDIS_URL"],
           "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"]}  # fmt: skip
    report = flask_cli(["import-report", str(state["id"])], env)
    assert report.returncode == 0, report.stderr
    assert (
        "Read 6 ISBN cells past a library catalogue's qualifier after the ISBN, such as (pbk.): rows 2, 4, 5, 6, 8, 9."
        in report.stderr
    )

    # Match columns keeps each column its name suggests: its values read as that field.
    (tmp_path / name).write_bytes(layouts.catalogue_report(1)[1])
    choices = suggest(layouts.CATALOGUE_REPORT_HEADER, profile_file(tmp_path / name))
    assert [choices.chain(f) for f in ("isbn", "year_published", "no_of_pages", "quantity")] == [
        ["isbn"], ["publicationyear"], ["pages"], ["copies"]]  # fmt: skip


def test_a_catalogues_closing_punctuation_is_taken_off_titles_and_authors_and_the_import_says_so(app, tmp_path):
    """A library system's report gives a title and an author as its MARC record holds them, closed with the
    catalogue's punctuation ("Dune /", "Dune :", "Dune.", "Herbert, Frank,", "Herbert, Frank."): books were
    stored and listed as "Dune /" by "Herbert, Frank,". Each is stored without it (and a name's dates,
    "King, Stephen, 1947-"); an abbreviation's full stop ("Tolkien, J. R. R.", "Seuss, Dr.") and a title's own
    question mark stay; the import says in how many rows, on its page, in the API and in its report; Match
    columns' preview shows the values so."""
    headers = bearer(app)
    odd = {3: {"author": "Tolkien, J. R. R.,"}, 4: {"author": "Seuss, Dr."}, 5: {"title": "Who goes there? /"},
           6: {"author": "King, Stephen, 1947-"}}  # fmt: skip
    name, content = layouts.catalogue_report(1, 8, cells=odd.get)
    assert b"Dune 1 :" in content and b'"Herbert, Frank,"' in content
    mapping = json.dumps(layouts.CATALOGUE_REPORT_MAPPING)
    state = finished(app, headers, post_file(app, headers, name, content, mapping=mapping))

    assert (state["created"], state["rejected"]) == (8, 0)
    saved = [book(app, layouts.isbn13_of(n)) for n in range(1, 9)]
    assert [(b.title, b.author) for b in saved] == [
        ("Dune 1", "Herbert, Frank"), ("Dune 2", "Herbert, Frank"), ("Dune 3", "Tolkien, J. R. R."),
        ("Dune 4", "Seuss, Dr."), ("Who goes there?", "Herbert, Frank"), ("Dune 6", "King, Stephen"),
        ("Dune 7", "Herbert, Frank"), ("Dune 8", "Herbert, Frank")]  # fmt: skip
    assert state["repairs"]["catalogue_punctuation_taken_off"] == {"count": 8, "rows": list(range(2, 10))}
    assert state["repairs"]["catalogue_dates_taken_off"] == {"count": 1, "rows": [7]}
    assert (
        'Took a library catalogue\'s closing punctuation (" /", " :", ",", ".") off the title or the author of 8 rows'
        in page_said(app, state["id"])
    )
    with app.app_context():
        line = summary_line(db.session.get(Import, state["id"]))
    assert (
        "Took a library catalogue's closing punctuation (' /', ' :', ',', '.') off the title or author of 8 rows"
        in line
    )

    (tmp_path / name).write_bytes(content)
    profile = profile_file(tmp_path / name)
    shown = preview(suggest(layouts.CATALOGUE_REPORT_HEADER, profile), profile)
    assert [(r.values["title"], r.values["author"]) for r in shown[:3]] == [
        ("Dune 1", "Herbert, Frank"), ("Dune 2", "Herbert, Frank"), ("Dune 3", "Tolkien, J. R. R.")]  # fmt: skip


#: A catalogue's names with the dates (and the fuller form of the forenames) its records add, and a firm's
#: name and a title ending in an abbreviation of their own, by book; and each as it is stored.
DATED_CELLS = {
    1: ({"author": "Herbert, Frank, 1920-1986."}, ("Dune 1", "Herbert, Frank")),
    2: ({"author": "Tolkien, J. R. R. (John Ronald Reuel), 1892-1973."}, ("Dune 2", "Tolkien, J. R. R.")),
    3: ({"author": "King, Martin Luther, Jr., 1929-1968."}, ("Dune 3", "King, Martin Luther, Jr.")),
    4: ({"author": "Hachette et Cie.", "title": "Correspondance avec Hachette et Cie."},
        ("Correspondance avec Hachette et Cie.", "Hachette et Cie.")),
    5: ({"author": "Le Guin, Ursula K., 1929-2018,"}, ("Dune 5", "Le Guin, Ursula K.")),
    6: ({"author": "Lewis, C. S. (Clive Staples)"}, ("Dune 6", "Lewis, C. S.")),
    7: ({}, ("Dune 7", "Herbert, Frank")),
}  # fmt: skip


def test_a_catalogues_names_lose_their_dates_and_a_shops_names_keep_theirs(app, tmp_path):
    """A library catalogue's report gives its names as its records hold them, with the dates and the fuller
    form of the forenames it adds ("Herbert, Frank, 1920-1986.", "Tolkien, J. R. R. (John Ronald Reuel),
    1892-1973."): the closing full stop went, the dates stayed, and the books were listed by "Herbert,
    Frank, 1920-1986". Each name is stored without them, as the catalogue's punctuation is, and the import
    says so in a note of its own; a firm's "Hachette et Cie." keeps its full stop, in a title too. A shop's
    list, no catalogue's, keeps its names as written: "Smith, 1999 edition", "Herbert, Frank, 1920-1986"."""
    headers = bearer(app)
    name, content = layouts.catalogue_report(1, 7, cells=lambda n: DATED_CELLS[n][0])
    state = finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(
        layouts.CATALOGUE_REPORT_MAPPING)))  # fmt: skip

    assert (state["created"], state["rejected"]) == (7, 0)
    saved = [book(app, layouts.isbn13_of(n)) for n in DATED_CELLS]
    assert [(b.title, b.author) for b in saved] == [stored for _, stored in DATED_CELLS.values()]
    assert state["repairs"]["catalogue_dates_taken_off"] == {"count": 5, "rows": [2, 3, 4, 6, 7]}
    assert (
        "Took the dates a library catalogue adds to a name, and the fuller form of its forenames, off the author of 5 "
        'rows: "Herbert, Frank, 1920-1986" is stored as "Herbert, Frank", "Tolkien, J. R. R. (John Ronald Reuel), '
        '1892-1973" as "Tolkien, J. R. R." (rows 2, 3, 4, 6, 7).'
    ) in page_said(app, state["id"])
    with app.app_context():
        line = summary_line(db.session.get(Import, state["id"]))
    assert (
        "Took the dates a library catalogue adds to a name (and the fuller form of its forenames) off the author of "
        "5 rows: rows 2, 3, 4, 6, 7." in line
    )
    (tmp_path / name).write_bytes(content)
    profile = profile_file(tmp_path / name)
    shown = preview(suggest(layouts.CATALOGUE_REPORT_HEADER, profile), profile)
    previewed = [r.values["author"] for r in shown[:3]]
    assert previewed == ["Herbert, Frank", "Tolkien, J. R. R.", "King, Martin Luther, Jr."]

    authors = ("Smith, 1999 edition", "Herbert, Frank, 1920-1986", "King, Stephen, 1947-")
    name, content = layouts.euro_sheet(11, count=3, prices=("9,99 €",), authors=authors)
    state = finished(app, headers, post_file(app, headers, name, content))
    assert (state["created"], state["rejected"]) == (3, 0)
    assert tuple(book(app, layouts.isbn13_of(n)).author for n in range(11, 14)) == authors
    assert "catalogue_dates_taken_off" not in state["repairs"]


def test_a_shops_titles_ending_in_a_question_mark_or_an_ellipsis_are_stored_as_written(app):
    """A shop's stock list whose every title ends in a mark of its own ("Who Goes There?", "And Then There
    Were None...") and whose authors end in an initial is no catalogue's: every cell is stored as written."""
    headers = bearer(app)
    titles = ("Who Goes There?", "And Then There Were None...", "Are You There God? It's Me, Margaret.",
              "Do Androids Dream of Electric Sheep?", "Cat's Cradle...")  # fmt: skip
    authors = ("Campbell, John W.", "Christie, Agatha", "Blume, Judy", "Dick, Philip K.", "Vonnegut, Kurt, Jr.")
    name, content = layouts.euro_sheet(1, count=5, prices=("9,99 €",), titles=titles, authors=authors)
    state = finished(app, headers, post_file(app, headers, name, content))

    assert (state["created"], state["rejected"]) == (5, 0)
    saved = [book(app, layouts.isbn13_of(n)) for n in range(1, 6)]
    assert [(b.title, b.author) for b in saved] == list(zip(titles, authors, strict=True))
    assert "catalogue_punctuation_taken_off" not in state["repairs"]


@pytest.mark.parametrize("count", [1, 2, 5])
def test_a_few_shop_titles_ending_in_a_full_stop_are_stored_as_written(app, count):
    """A shop's list of one or two books whose title ends in a full stop of its own is no catalogue: a
    column of full stops alone tells nothing until a catalogue's own marks (" /", " :", ",") show."""
    headers = bearer(app)
    titles = ("Are You There God? It's Me, Margaret.", "Who Goes There?", "Stop. Breathe. Think.",
              "The Lion, the Witch and the Wardrobe.", "Dune.")[:count]  # fmt: skip
    authors = ("Blume, Judy.", "Campbell, John W.", "Hanh, Thich Nhat.", "Lewis, C. S.", "Herbert, Frank.")[:count]
    name, content = layouts.euro_sheet(1, count=count, prices=("9,99 €",), titles=titles, authors=authors)
    state = finished(app, headers, post_file(app, headers, name, content))

    assert (state["created"], state["rejected"]) == (count, 0)
    saved = [book(app, layouts.isbn13_of(n)) for n in range(1, count + 1)]
    assert [(b.title, b.author) for b in saved] == list(zip(titles, authors, strict=True))
    assert "catalogue_punctuation_taken_off" not in state["repairs"]


def test_a_catalogues_full_stops_count_where_its_other_marks_show():
    titles = ["Dune /", "Emma :", "It /", "Dune."]
    names = ["Herbert, Frank.", "Austen, Jane.", "King, Stephen.", "Herbert, Frank."]
    assert catalogue_punctuation_columns(list(zip(titles, names, strict=True))) == {0, 1}
    assert catalogue_punctuation_columns([[n] for n in names]) == frozenset()
    assert catalogue_punctuation_columns([["Dune /"], ["Emma :"]]) == frozenset()  # too few to tell


def test_a_title_from_a_fallback_column_keeps_its_full_stop(app):
    """Where a catalogue's title cell is blank and the title comes from the column matched after it, that
    column's value is stored as written: only the catalogue's own column closes with its punctuation."""
    headers = bearer(app)
    odd = {2: {"title": "", "itemcallnumber": "Stop. Breathe. Think."}}
    name, content = layouts.catalogue_report(1, 8, cells=odd.get)
    mapping = {**layouts.CATALOGUE_REPORT_MAPPING, "columns": {"title": ["title", "itemcallnumber"]}}
    state = finished(app, headers, post_file(app, headers, name, content, mapping=json.dumps(mapping)))

    assert (state["created"], state["rejected"]) == (8, 0)
    assert book(app, layouts.isbn13_of(2)).title == "Stop. Breathe. Think."
    assert book(app, layouts.isbn13_of(1)).title == "Dune 1"


def test_a_fix_of_a_catalogues_rejected_row_is_read_as_the_catalogue_was(app, staff_client):
    """A catalogue report's row rejected for its year, fixed in the browser: the check and the follow-up
    import read its title and author as the import read the report's ("Dune 9 :" is "Dune 9"), though the
    one fixed row alone is too few to tell a catalogue by."""
    headers = bearer(app)
    name, content = layouts.catalogue_report(1, 9, cells={9: {"publicationyear": "1987, c1965"}}.get)
    mapping = json.dumps(layouts.CATALOGUE_REPORT_MAPPING)
    state = finished(app, headers, post_file(app, headers, name, content, mapping=mapping))
    assert (state["created"], state["rejected"]) == (8, 1)

    cells = next(csv.reader(io.StringIO(content.decode().splitlines()[9])))
    assert cells[1:3] == ["Dune 9 :", "Herbert, Frank,"]
    cells[4] = "1965"
    row = dict(zip(layouts.CATALOGUE_REPORT_HEADER, cells, strict=True))
    checked = app.test_client().post(
        f"/api/v1/imports/{state['id']}/validate-row", headers=headers, json={"cells": row}
    )
    assert (checked.get_json()["book"]["title"], checked.get_json()["book"]["author"]) == ("Dune 9", "Herbert, Frank")
    data = {f"r10c{position}": cell for position, cell in enumerate(cells)}
    response = staff_client.post(f"/imports/{state['id']}/fix", data={**data, "action": "import"})
    assert response.status_code == 302, response.get_data(as_text=True)
    run_worker(app)

    fixed = book(app, layouts.isbn13_of(9))
    assert (fixed.title, fixed.author, fixed.year_published) == ("Dune 9", "Herbert, Frank", "1965")


@pytest.mark.parametrize(
    "text, stored",
    [("Dune /", "Dune"), ("Dune :", "Dune"), ("Dune ;", "Dune"), ("Dune =", "Dune"), ("Dune.", "Dune"),
     ("Herbert, Frank,", "Herbert, Frank"), ("Herbert, Frank.", "Herbert, Frank"),
     ("Herbert, Frank, 1920-1986.", "Herbert, Frank, 1920-1986"), ("Tolkien, J. R. R.", "Tolkien, J. R. R."),
     ("Tolkien, J.R.R.", "Tolkien, J.R.R."), ("Tolkien, J. R. R.,", "Tolkien, J. R. R."), ("Seuss, Dr.", "Seuss, Dr."),
     ("King, Martin Luther, Jr.", "King, Martin Luther, Jr."), ("Sketches by Boz, etc.", "Sketches by Boz, etc."),
     ("Who goes there? /", "Who goes there?"), ("Who Goes There?", "Who Goes There?"),
     ("And Then There Were None...", "And Then There Were None..."), ("Dune/", "Dune/"), ("/", "/"), (",", ","),
     ("Dune", "Dune"), ("Hachette et Cie.", "Hachette et Cie."), ("Espasa-Calpe y Cía.", "Espasa-Calpe y Cía."),
     ("United States. Dept.", "United States. Dept."), ("Gebr.", "Gebr."),
     ("Letters from the U.S.", "Letters from the U.S."),
     ("Custer, George A., Gen.", "Custer, George A., Gen."), ("Smith, John, Sr.", "Smith, John, Sr."),
     ("Bulletin, Vol.", "Bulletin, Vol.")],
)  # fmt: skip
def test_a_catalogues_closing_punctuation_is_taken_off_but_an_abbreviations_full_stop_stays(text, stored):
    assert without_closing_punctuation(text) == stored


@pytest.mark.parametrize(
    "name, stored",
    [("Herbert, Frank, 1920-1986", "Herbert, Frank"), ("King, Stephen, 1947-", "King, Stephen"),
     ("Tolkien, J. R. R. (John Ronald Reuel), 1892-1973", "Tolkien, J. R. R."),
     ("Tolkien, J. R. R. (John Ronald Reuel), 1892–1973", "Tolkien, J. R. R."),
     ("Lewis, C. S. (Clive Staples)", "Lewis, C. S."),
     ("King, Martin Luther, Jr., 1929-1968", "King, Martin Luther, Jr."), ("Smith, John, b. 1947", "Smith, John"),
     ("Ælfric, Abbot of Eynsham, ca. 955-ca. 1020", "Ælfric, Abbot of Eynsham"), ("Voltaire, 1694-1778", "Voltaire"),
     ("Smith, John, 1900 or 1901-1950", "Smith, John"),
     ("Smith, John (Fictitious character)", "Smith, John (Fictitious character)"),
     ("Smith, 1999 edition", "Smith, 1999 edition"), ("Herbert, Frank", "Herbert, Frank"), ("1920-1986", "1920-1986"),
     (", 1920-1986", ", 1920-1986"), ("Orwell, George, 1984", "Orwell, George, 1984")],
)  # fmt: skip
def test_a_catalogues_dates_and_fuller_form_are_taken_off_a_name(name, stored):
    assert without_life_dates(name) == stored


def test_only_a_column_whose_cells_all_close_as_a_catalogues_do_is_read_without_that_punctuation():
    catalogue = [f"Dune {n} /" for n in range(19)] + ["Dune"]  # one cell in twenty keyed without it
    questions = ["Who Goes There?", "And Then There Were None...", "Dune."]  # a shop's: little to take off
    some = ["Dune :", "Dune", "Hyperion", "Neuromancer"]  # a title with a colon, the rest plain
    names = ["Herbert, Frank,", "Tolkien, J. R. R.", "Herbert, Frank.", "Seuss, Dr."]
    initials = ["Dick, Philip K.", "Tolkien, J. R. R.", "Le Guin, Ursula K."]  # nothing to take off
    columns = [catalogue, questions * 7, some * 5, names * 5, initials * 7, ["9.99"] * 20]
    rows = [[column[i] if i < len(column) else "" for column in columns] for i in range(21)]
    assert catalogue_punctuation_columns(rows) == {0, 3}
    assert catalogue_punctuation_columns([row[:1] for row in rows[:18]] + [["Dune"], ["Dune"]]) == frozenset()


@pytest.mark.parametrize(
    "cell, isbn",
    [("0441172717 (pbk.)", "9780441172719"), ("9780441172719 (hardcover : alk. paper)", "9780441172719"),
     ("ISBN 0-441-17271-7", "9780441172719"), ("0-441-17271-7 (v. 1) (pbk.)", "9780441172719"),
     ("0441172717 (pbk.) : $4.95", "9780441172719"), ("0441172717 :", "9780441172719"),
     ("9780441172719 (pbk.) ; 0441172717 (pbk.)", "9780441172719")],
)  # fmt: skip
def test_an_isbn_is_read_past_a_catalogues_qualifier(cell, isbn):
    assert parse_isbn(cell) == isbn


@pytest.mark.parametrize(
    "cell, problem",
    [("0441172718 (pbk.)", "has a wrong check digit"), ("(pbk.)", "is not an ISBN"), ("Dune (pbk.)", "is not an ISBN"),
     ("9780441172719 (hbk.) ; 9780306406157 (pbk.)", "holds more than one ISBN, and not all of one book")],
)  # fmt: skip
def test_a_wrong_isbn_behind_a_qualifier_is_refused_saying_what_is_wrong(cell, problem):
    with pytest.raises(ValueProblem, match=problem):
        parse_isbn(cell)


@pytest.mark.parametrize("cell", ["c1965.", "[1965]", "1965.", "©1965", "p1965", "[c1965]", "cop. 1965", "[1965?]",
                                  "1965, c1965", "C1965"])  # fmt: skip
def test_a_catalogues_year_is_read_as_its_year(cell):
    assert parse_year(cell) == "1965"


@pytest.mark.parametrize(
    "cell, problem",
    [("1987, c1965", "holds different years (1987, 1965)"), ("1965-1970", "holds different years (1965, 1970)"),
     ("c19x5", "must be a 4-digit year"), ("c0965", "must be a year from 1000"), ("[196-?]", "must be a 4-digit year"),
     ("c1965 reprint", "must be a 4-digit year")],
)  # fmt: skip
def test_two_years_or_nonsense_in_a_year_cell_are_refused(cell, problem):
    with pytest.raises(ValueProblem, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse_year(cell)


@pytest.mark.parametrize("cell", ["412 p.", "412 p. ;", "xii, 412 p.", "412 pages", "xii, 412 p. : ill. ; 24 cm.",
                                  "[8], 412 p.", "412 S.", "412 páginas", "412pp."])  # fmt: skip
def test_a_catalogues_extent_is_read_as_its_number_of_pages(cell):
    assert parse_pages(cell) == 412


@pytest.mark.parametrize(
    "cell, problem",
    [("300, 200 p.", "several numbered sequences"), ("xii p.", "must be a whole number"), ("0 p.", "must be 1 or more"),
     ("1 v. (unpaged)", "must be a whole number"), ("412 p. :\nill.", "line break"), ("many pages", "whole number")],
)  # fmt: skip
def test_an_extent_without_one_number_of_pages_is_refused(cell, problem):
    with pytest.raises(ValueProblem, match=problem):
        parse_pages(cell)


def test_cells_the_plain_reading_takes_never_reach_the_catalogue_readings(monkeypatch):
    """The catalogue readings run only on a cell the plain reading refuses: a usual file's ISBNs (13 digits,
    hyphenated, ="…"), years (1965, 2008.0, 1965-01-01) and pages (304, 304.0) cost what they did."""
    calls = []

    def counted(name: str) -> None:
        reading = getattr(cell_values, name)
        monkeypatch.setattr(cell_values, name, lambda text: calls.append(name) or reading(text))

    for name in ("qualified_isbn", "catalogue_year", "catalogue_pages"):
        counted(name)
    plain = [
        ("978-0-441-17271-9", "1965", "304"), ('="0441172717"', "2008.0", "304.0"), ("0306406152", "1965-01-01", "")
    ]  # fmt: skip
    rows = [(n + 2, book_row(n, **{"ISBN": i, "Year published": y, "No. of pages": p})) for n, (i, y, p) in
            enumerate(plain)]  # fmt: skip
    rows += [(n + 2, book_row(n)) for n in range(3, 50)]
    valid, problems = RowValidator(map_headers(HEADER), text_cells=True).validate_chunk(rows)
    assert (len(valid), problems, calls) == (50, [], [])

    catalogue = [
        (2, book_row(0, **{"ISBN": "0441172717 (pbk.)", "Year published": "c1965.", "No. of pages": "412 p."}))
    ]
    valid, problems = RowValidator(map_headers(HEADER), text_cells=True).validate_chunk(catalogue)
    assert (len(valid), problems, valid.past_qualifier) == (1, [], [2])
    assert sorted(set(calls)) == ["catalogue_pages", "catalogue_year", "qualified_isbn"]


#: What each of a stock list's headers fills, in its language's order (the publisher's column: nothing).
STOCK_LIST_FIELDS = ["isbn", "title", "author", None, "book_type", "year_published", "no_of_pages", "price",
                     "quantity", "description"]  # fmt: skip


@pytest.mark.parametrize("language", list(layouts.STOCK_LIST_HEADERS))
def test_a_stock_list_headed_in_french_german_or_spanish_is_matched_by_its_headers(app, tmp_path, language):
    """A shop's stock list headed "Titre; Auteur; Année; Prix; Qté…" (or in German or Spanish) had no
    column matched but its ISBN (and Genre): each had to be matched by hand. Its headers fill the fields,
    the publisher's column is ignored, and Match columns suggests each; only its own genres ("Roman") are
    left to match to the book types."""
    header = layouts.STOCK_LIST_HEADERS[language]
    name, content = layouts.stock_list(language, 1)
    (tmp_path / name).write_bytes(content)
    choices = suggest(header, profile_file(tmp_path / name))
    expected = {f: [h] for h, f in zip(header, STOCK_LIST_FIELDS, strict=True) if f}
    assert {f: choices.chain(f) for f in expected} == expected
    assert header[3] not in choices.used_for()

    headers = bearer(app)
    genres = layouts.STOCK_LIST_GENRES[language]
    mapping = json.dumps({"values": {"book_type": {genres[0]: "Classic", genres[1]: "Comic"}}})
    state = finished(app, headers, post_file(app, headers, name, content, mapping=mapping))
    assert (state["created"], state["rejected"], state["ignored_columns"]) == (4, 0, [header[3]])
    first = book(app, layouts.isbn13_of(1))
    assert [getattr(first, f) for f in FIELDS] == [
        "Dune 1", "Frank Herbert", "Comic", layouts.isbn13_of(1), "1965", Decimal("11.50"), 401, 2, "Arrakis, 1."]  # fmt: skip


@pytest.mark.parametrize(
    "header, field",
    [("TITRE", "title"), ("Quantité", "quantity"), ("QUANTITE", "quantity"), ("Qté.", "quantity"), ("qte", "quantity"),
     ("Annee", "year_published"), ("Anne\u0301e", "year_published"), ("Nombre de pages", "no_of_pages"),
     ("Résumé", "description"), ("Type", "book_type"), ("Menge", "quantity"), ("Anzahl", "quantity"),
     ("Jahr", "year_published"), ("Seiten", "no_of_pages"), ("TÍTULO", "title"), ("Titulo", "title"),
     ("Cantidad", "quantity"), ("AÑO", "year_published"), ("Descripcion", "description"), ("Prix (EUR)", "price")],
)  # fmt: skip
def test_a_header_in_french_german_or_spanish_matches_case_and_accents_aside(header, field):
    headers = [header if f == field else h for h, f in zip(HEADER, FIELDS, strict=True)] + ["Éditeur"]
    header_map = map_headers(headers)
    assert header_map.positions[field] == headers.index(header)
    assert header_map.ignored == ["Éditeur"], "a publisher's column fills no field"


def test_a_collection_programs_purchase_price_is_its_price_unless_the_file_has_a_price(app, tmp_path):
    """A collection program's export has no price but Purchase Price (what its owner paid): it went to Match
    columns for want of a price. It is read as the price; a file with a Price beside it reads its Price, and
    Match columns suggests no Purchase Price to read where a Price is blank, only in place of a Price column
    that is blank throughout."""
    headers = bearer(app)
    name, content = layouts.clz_books(1)
    state = finished(app, headers, post_file(app, headers, name, content))
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 4, 0)
    assert book(app, layouts.isbn13_of(1)).price == Decimal("9.99")

    name, content = layouts.bookbuddy(11, genres=("Classics", "Comics", "Horror"), prices=("$9.99", "$4.50"))
    state = finished(app, headers, post_file(app, headers, name, content))
    assert (state["created"], state["rejected"]) == (5, 0)
    assert "Purchase Price" in state["ignored_columns"]
    assert book(app, layouts.isbn13_of(11)).price == Decimal("9.99")
    (tmp_path / name).write_bytes(content)
    assert suggest(layouts.BOOKBUDDY_HEADER, profile_file(tmp_path / name)).chain("price") == ["Price"]

    name, content = layouts.bookbuddy(21, prices=("", "$4.50"))
    (tmp_path / name).write_bytes(content)
    assert suggest(layouts.BOOKBUDDY_HEADER, profile_file(tmp_path / name)).chain("price") == ["Purchase Price"]
