"""A library catalogue's years and page counts, read past the catalogue's own form ("©1965", "c1965.",
"[1965]"; "xii, 402 p. :", "402 p."): the import says so, as it says the other repairs of a catalogue's
cells, on its page, in its report and in the API's repairs. Through the API, on SQLite and PostgreSQL."""

import json

from bookapp.extensions import db
from bookapp.models import Import
from bookapp.services.import_words import summary_line
from tests import layouts
from tests.test_access import bearer
from tests.test_mapping import book, finished, page_said, post_file


def test_a_catalogues_years_and_page_counts_read_from_its_form_are_said(app):
    """A catalogue report writes book n's year as "[1965]", "1965.", "©1965", "p1965" or "c1965." and its pages
    as "401 p. ;", "xii, 402 p. :", "403 pages" or "404 p."; book 2's year and book 3's pages are plain.
    The years and page counts were cleaned without a word: now the import says in how many rows (and
    which), as it does for the titles' closing punctuation."""
    headers = bearer(app)
    plain = {2: {"publicationyear": "1965"}, 3: {"pages": "403"}}
    name, content = layouts.catalogue_report(1, 8, cells=plain.get)
    assert b"xii, 402 p. :" in content and "©1965".encode() in content and b"c1965." in content
    mapping = json.dumps(layouts.CATALOGUE_REPORT_MAPPING)
    state = finished(app, headers, post_file(app, headers, name, content, mapping=mapping))

    assert (state["created"], state["rejected"]) == (8, 0)
    assert [(book(app, layouts.isbn13_of(n)).year_published, book(app, layouts.isbn13_of(n)).no_of_pages)
            for n in (1, 2, 3)] == [("1965", 401), ("1965", 402), ("1965", 403)]  # fmt: skip
    # Book n is on row n + 1: every row but book 2's (row 3) read its year, and but book 3's (row 4) its pages.
    assert state["repairs"]["year_read_from_catalogue"] == {"count": 7, "rows": [2, 4, 5, 6, 7, 8, 9]}
    assert state["repairs"]["pages_read_from_catalogue"] == {"count": 7, "rows": [2, 3, 5, 6, 7, 8, 9]}

    said = page_said(app, state["id"])
    assert (
        'Year read from a library catalogue\'s date in 7 rows, such as "c1965.", "©1965" or "[1965]" read as '
        "1965 (rows 2, 4, 5, 6, 7, 8, 9)." in said
    ), said
    assert (
        'Number of pages read from a library catalogue\'s extent in 7 rows, such as "xii, 402 p. :" or "402 p." '
        "read as 402 (rows 2, 3, 5, 6, 7, 8, 9)." in said
    ), said
    with app.app_context():
        line = summary_line(db.session.get(Import, state["id"]))
    assert "Read the year of 7 rows from a library catalogue's date, such as c1965., ©1965 or [1965]" in line
    assert "rows 2, 4, 5, 6, 7, 8, 9." in line
    assert "Read the number of pages of 7 rows from a library catalogue's extent, such as xii, 402 p. :" in line


def test_only_a_catalogues_own_forms_are_told_apart():
    """A plain year, a number, a date and a whole number of pages are read as ever: only the catalogue's
    own forms count as read from them."""
    from bookapp.importer.catalogue_values import is_catalogue_date, is_catalogue_extent

    assert [is_catalogue_date(c) for c in ("1965", " 1965 ", "1965.0", 1965, "Jun 1, 1965", "©1965", "[1965]")] == [
        False, False, False, False, False, True, True]  # fmt: skip
    assert [is_catalogue_extent(c) for c in ("402", 402, "1,200", "402 p.", "xii, 402 p. :", "402 pages")] == [
        False, False, False, True, True, True]  # fmt: skip


def test_a_usual_files_years_and_page_counts_are_not_said(app):
    """A LibraryThing export's years (1970) and page counts (301) are plain: no note."""
    headers = bearer(app)
    name, content = layouts.librarything(1)
    state = finished(app, headers, post_file(app, headers, name, content,
                                             mapping=json.dumps(layouts.LIBRARYTHING_MAPPING)))  # fmt: skip
    assert (state["created"], state["rejected"]) == (5, 0)
    assert not {"year_read_from_catalogue", "pages_read_from_catalogue"} & set(state["repairs"])


def test_a_catalogues_year_or_extent_kept_as_text_by_a_formula_is_counted_as_read():
    """A spreadsheet keeps a cell as typed with a text formula, ="c1965.": the import reads it as c1965.,
    so as 1965, and counts it among the years read from a catalogue's date, as it counts c1965.; the same
    for an extent, ="xii, 402 p. :"."""
    from bookapp.importer import RowValidator, map_headers
    from tests.helpers import HEADER, book_row

    rows = [
        (2, book_row(1, **{"Year published": '="c1965."', "No. of pages": '="xii, 402 p. :"'})),
        (3, book_row(2, **{"Year published": "c1965.", "No. of pages": "402"})),
        (4, book_row(3, **{"Year published": '="1965"', "No. of pages": '="402"'})),
    ]
    for text_cells in (True, False):
        valid, problems = RowValidator(map_headers(HEADER), text_cells=text_cells).validate_chunk(rows)
        assert not problems
        assert [(r.year_published, r.no_of_pages) for r in valid] == [("1965", 402)] * 3
        assert (valid.catalogue_year, valid.catalogue_pages) == ([2, 3], [2])
