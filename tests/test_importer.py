"""The importer core with plain data: no Flask, no database, no Redis."""

import datetime as dt
from decimal import Decimal

import pytest

from bookapp.importer import BookRow, FileProblem, RowValidator, map_headers, open_table
from bookapp.importer.errors import ValueProblem
from bookapp.importer.values import (
    converters,
    parse_book_type,
    parse_int,
    parse_isbn,
    parse_price,
    parse_text,
    parse_year,
)
from tests.helpers import HEADER, book_row, csv_bytes, isbn13, write_xlsx


def test_the_importer_core_imports_nothing_of_flask_sqlalchemy_redis_or_the_app():
    import ast
    from pathlib import Path

    import bookapp.importer

    imported = set()
    for source in Path(bookapp.importer.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                imported.add("." * node.level + (node.module or "").split(".")[0])
    assert not imported & {"flask", "flask_sqlalchemy", "sqlalchemy", "redis", "rq", "bookapp"}
    assert not any(name.startswith("..") for name in imported)


@pytest.mark.parametrize(
    "header, field",
    [(" Title ", "title"), ("AUTHOR", "author"), ("Book Type", "book_type"), ("No. of pages", "no_of_pages"),
     ("Year Published", "year_published"), ("Genre", "book_type"), ("ISBN-13", "isbn"), ("ISBN10", "isbn"),
     ("Qty", "quantity"), ("Stock", "quantity"), ("Pages", "no_of_pages"), ("Year", "year_published")],
)  # fmt: skip
def test_headers_match_ignoring_case_spacing_punctuation_and_synonyms(header, field):
    headers = [h if h != _canonical(field) else header for h in HEADER]
    assert map_headers(headers).positions[field] == headers.index(header)


def _canonical(field):
    from bookapp.importer.fields import LABELS

    return LABELS[field]


def test_unknown_and_protected_columns_are_ignored_and_listed():
    header_map = map_headers([*HEADER, "Shelf", "id", "created_at"])
    assert header_map.ignored == ["Shelf", "id", "created_at"]


def test_a_missing_required_column_refuses_the_file_naming_it_and_the_headers_found():
    with pytest.raises(FileProblem) as exc:
        map_headers(["Title", "Author", "ISBN", "Price"])
    assert "Book type, Year published, Quantity" in exc.value.message
    assert "'Title', 'Author', 'ISBN', 'Price'" in exc.value.message


@pytest.mark.parametrize(
    "value, expected",
    [("978-0-306-40615-7", "9780306406157"), ("ISBN 0-306-40615-2", "9780306406157"), ("0 306 40615 2", "9780306406157"),
     ("080442957X", "9780804429573"), ("080442957x", "9780804429573"), (9780306406157, "9780306406157"),
     (9780306406157.0, "9780306406157"), ("9780306406157.0", "9780306406157"), (306406152, "9780306406157"),
     ("979-10-90636-07-1", "9791090636071")],
)  # fmt: skip
def test_isbn_spellings_are_stored_as_isbn13_digits(value, expected):
    assert parse_isbn(value) == expected


@pytest.mark.parametrize(
    "value, fragment",
    [("978-0-306-40615-8", "check digit"), ("12345", "10 or 13 digits"), ("9.78E+12", "scientific notation"),
     ("9770306406158", "978 or 979"), ("abc", "not an ISBN")],
)  # fmt: skip
def test_bad_isbns_are_rejected_with_the_reason(value, fragment):
    with pytest.raises(ValueProblem, match=fragment):
        parse_isbn(value)


@pytest.mark.parametrize("value", ["9.780306406157e+12", "9.780306406157000000e+12", "9,780306406157E12"])
def test_an_isbn_in_scientific_notation_with_every_digit_is_read(value):
    assert parse_isbn(value) == "9780306406157"


@pytest.mark.parametrize("value", ["9.78030640615e+12", "9.7803064061571e+12"])
def test_an_isbn_in_scientific_notation_missing_a_digit_is_refused(value):
    with pytest.raises(ValueProblem, match="scientific notation, so its digits are lost"):
        parse_isbn(value)


@pytest.mark.parametrize("value", ["1e5000", "9.780306406157e+4400"])
def test_an_isbn_cell_of_a_number_far_longer_than_an_isbn_rejects_its_row_alone(value):
    rows = [(n + 2, book_row(n)) for n in range(3)]
    rows[1] = (3, book_row(1, ISBN=value))
    valid, problems = RowValidator(map_headers(HEADER), text_cells=True).validate_chunk(rows)
    assert [r.row_number for r in valid] == [2, 4]
    assert [(p.row_number, p.column) for p in problems] == [(3, "ISBN")]
    assert "scientific notation" in problems[0].message


@pytest.mark.parametrize("field, cell", [("title", "nan"), ("author", "#N/A"), ("description", "N/A")])
def test_a_files_blank_word_is_blank_and_a_persons_is_kept(field, cell):
    assert converters()[field](cell) is None
    assert converters(alone=True)[field](cell) == cell


def test_a_title_that_is_a_word_like_a_blank_but_not_one_is_kept():
    assert [converters()["title"](t) for t in ("Nan", "Null", "n/a")] == ["Nan", "Null", "n/a"]


@pytest.mark.parametrize(
    "value, decimal_comma, expected",
    [("12.99", False, Decimal("12.99")), ("£1,299.50", False, Decimal("1299.50")), ("$ 5", False, Decimal("5.00")),
     ("12,99", True, Decimal("12.99")), ("1.299,50", True, Decimal("1299.50")), (12.99, False, Decimal("12.99")),
     (7, False, Decimal("7.00")), ("0", False, Decimal("0.00"))],
)  # fmt: skip
def test_prices_are_exact_decimals(value, decimal_comma, expected):
    price = parse_price(value, decimal_comma=decimal_comma)
    assert price == expected and price.as_tuple().exponent == -2


@pytest.mark.parametrize("value", [float("nan"), "inf", "-1", "1.005", "123456789", "twelve", "12,99"])
def test_bad_prices_are_rejected(value):
    with pytest.raises(ValueProblem):
        parse_price(value)


@pytest.mark.parametrize("value", ["NaN", "nan", "NA", "#N/A", "null"])
def test_a_numeric_tools_blank_is_a_blank_price(value):
    assert parse_price(value) is None  # the row then says "Price is required"


@pytest.mark.parametrize("value", ["304", "304.0", "3.04e2", 304, 304.0, " 304 "])
def test_whole_numbers_accept_usual_spellings(value):
    assert parse_int(value, minimum=1) == 304


@pytest.mark.parametrize("value", ["12.5", "-3", "2147483648", "many", 12.5])
def test_bad_whole_numbers_are_rejected(value):
    with pytest.raises(ValueProblem):
        parse_int(value, minimum=0)


@pytest.mark.parametrize("value", ["1969", 1969, 1969.0, "1969.0", dt.datetime(1969, 7, 20), dt.date(1969, 1, 1)])
def test_years_come_from_text_numbers_and_dates(value):
    assert parse_year(value) == "1969"


@pytest.mark.parametrize(
    "value, expected", [("sci-tech", "Sci-tech"), (" SCI TECH ", "Sci-tech"), ("horror", "Horror")]
)
def test_book_types_match_loosely_and_store_canonically(value, expected):
    assert parse_book_type(value) == expected


def test_an_unknown_book_type_lists_the_allowed_ones():
    with pytest.raises(ValueProblem, match="Sci-tech, Magazine, Comic, Classic, Horror"):
        parse_book_type("Novel")


def test_text_is_stripped_normalised_and_blank_means_none():
    assert parse_text("\u00a0 Cafe\u0301\t", 255) == "Café"
    assert parse_text("   ", 255) is None
    with pytest.raises(ValueProblem):
        parse_text("a\x00b", 255)
    with pytest.raises(ValueProblem, match="limit is 5"):
        parse_text("toolong", 5)


def test_text_a_person_types_keeps_words_like_na_and_none():
    assert parse_text("NA", 255) == "NA" and converters(alone=True)["title"]("None") == "None"


def _validator():
    return RowValidator(map_headers(HEADER))


def test_a_valid_row_becomes_a_book_row():
    row = _validator().validate(2, book_row(1, Description=""))
    assert isinstance(row, BookRow)
    assert row.isbn == isbn13(1) and row.description is None and row.row_number == 2


def test_every_problem_in_a_row_is_reported_with_its_column():
    problems = _validator().validate(7, book_row(1, Title="", Price="abc", Quantity="-1"))
    assert [(p.row_number, p.column) for p in problems] == [(7, "Title"), (7, "Price"), (7, "Quantity")]
    assert problems[0].message == "Title is required"


ODD_CELLS = {
    "Title": [" leading space", "trailing space ", "'quoted", "'=formula", "a\x1fb", "tab\tinside", "line\nbreak",
              "café", "cafe\u0301", "\x7f", "x" * 256, "", "  ", "ok"],
    "Description": ["", "two\nlines", "nul\x00", " padded ", "x" * 5001, "plain"],
    "ISBN": [isbn13(1), "9780000000010", "978" + "\u0663" * 10, "97800000000191", "978-0-00-000001-9",
             "0-306-40615-2", " " + isbn13(2), ""],
    "Price": ["1.50", "1,50", "abc", "", "-1", "1e3", " 2.00"],
    "Quantity": ["1", "-1", "1.0", "", "x", "٣"],
}  # fmt: skip


@pytest.mark.parametrize("column", ODD_CELLS)
def test_a_column_checked_in_bulk_gives_each_cell_what_its_converter_gives(column):
    """Whole-column checks are only a fast path: each cell's value or problem is the converter's own."""
    from bookapp.importer.validation import validate_values

    header_map = map_headers(HEADER)
    position = HEADER.index(column)
    field = next(f for f, p in header_map.positions.items() if p == position)
    for odd in ODD_CELLS[column]:
        rows = [(n + 2, book_row(n + 1)) for n in range(50)]
        rows[20][1][position] = odd
        for text_cells in (True, False):
            valid, problems = RowValidator(header_map, text_cells=text_cells).validate_chunk(rows)
            values, expected = validate_values({field: odd}, alone=False)  # as a column's converter reads it
            if field in expected:
                assert [(p.row_number, p.message) for p in problems] == [(22, expected[field])], repr(odd)
            else:
                assert not problems, (repr(odd), problems)
                assert next(r for r in valid if r.row_number == 22).values()[field] == values[field], repr(odd)
            assert len(valid) == 50 - len(problems)


def test_a_row_with_too_few_cells_is_a_row_error():
    problems = _validator().validate(3, book_row(1)[:5])
    assert "5 cells but the header has 9" in problems[0].message


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them_with_the_file_line_where_it_differs(tmp_path):
    text = csv_bytes([book_row(1), book_row(2, Description="two\nlines"), book_row(3)]).decode()
    text = text.replace("\r\n", "\r\n\r\n", 1)  # a blank line after the header: row 2, empty
    path = tmp_path / "books.csv"
    path.write_text(text, newline="")
    with open_table(path) as table:
        numbers = [n for n, _ in table.rows]
        assert numbers == [3, 4, 5]  # the header is row 1; a cell with a line break stays in its row
        assert [table.lines.line(n) for n in numbers] == [3, 4, 6]


def test_line_breaks_in_cells_of_every_kind_keep_rows_and_lines_apart(tmp_path):
    path = tmp_path / "books.csv"
    path.write_bytes(
        b"Title,Author\r\n\r\n"
        b'a,"b\nc"\r\n'  # row 3, lines 3-4
        b"  ,  \r\n"  # row 4, line 5
        b'"x\r\ny",z\r\n'  # row 5, lines 6-7
        b"last,one\r\n"  # row 6, line 8
        b'"lone\rcr",q\r\n'  # row 7, lines 9-10 (a lone CR ends a line too)
        b"end,e\r\n"  # row 8, line 11
    )
    with open_table(path) as table:
        rows = [(n, table.lines.line(n)) for n, _ in table.rows]
    assert rows == [(3, 3), (4, 5), (5, 6), (6, 8), (7, 9), (8, 11)]


def test_row_numbers_and_lines_hold_across_reading_batches(tmp_path):
    from bookapp.importer.reading import CSV_BATCH

    count = CSV_BATCH * 2 + 500
    multi = {7, CSV_BATCH - 1, CSV_BATCH, CSV_BATCH + 3, 2 * CSV_BATCH + 10}  # books with 3-line descriptions
    rows = [book_row(n, Description="one\ntwo\nthree" if n in multi else "d") for n in range(1, count + 1)]
    path = tmp_path / "books.csv"
    path.write_bytes(csv_bytes(rows))
    with open_table(path) as table:
        read = [(n, cells[0], table.lines.line(n)) for n, cells in table.rows]
    assert [(n, title) for n, title, _ in read] == [(n + 1, f"Book {n}") for n in range(1, count + 1)]
    for n, _, line in read:
        assert line == n + 2 * sum(1 for m in multi if m + 1 < n), n


def test_an_unterminated_quote_after_a_multi_line_cell_names_its_row_and_line(tmp_path):
    path = tmp_path / "books.csv"
    path.write_bytes(csv_bytes([book_row(1, Description="a\nb")]) + b'"Open quote,Author\r\nmore,text\r\n')
    with open_table(path) as table, pytest.raises(FileProblem, match="Row 3 \\(line 4 of the file\\) opens a quote"):
        list(table.rows)


def test_rows_blank_after_trimming_are_left_out_not_rejected(tmp_path):
    from bookapp.importer.left_out import LeftOutRows

    path = tmp_path / "books.csv"
    path.write_bytes(
        csv_bytes([book_row(1)])
        + b"     \r\n"  # a line of spaces: row 3
        + b"  ,  , \r\n"  # cells of spaces, fewer than the header's: row 4
        + b"\t\t \r\n"  # tabs and a space: row 5
        + b" , , , , , , , , \r\n"  # as many cells as the header, all spaces: row 6
        + b",,,,,,,,,,,,\r\n"  # more cells than the header, all empty: the reader skips it (row 7)
        + csv_bytes([book_row(2, Price="ten")]).split(b"\r\n", 1)[1]  # row 8, rejected
    )
    with open_table(path) as table:
        rows = list(table.rows)
        validator = RowValidator(map_headers(table.headers), text_cells=True)
        _, problems = validator.validate_chunk(rows)
    kept, problems, told = LeftOutRows(validator).after_validation(rows, problems)
    assert [n for n, _ in kept] == [2, 8]
    assert [(p.row_number, p.column) for p in problems] == [(8, "Price")] and told == {}


def test_a_nul_byte_in_a_text_file_is_a_bad_cell_naming_its_column_not_a_binary_file(tmp_path):
    path = tmp_path / "books.csv"
    rows = [
        [*book_row(1, Title="Du\x00ne"), ""],
        [*book_row(2), ""],
        [*book_row(3), "shelf\x00 4"],
        [*book_row(4), "5"],
    ]
    path.write_bytes(csv_bytes(rows, header=[*HEADER, "Shelf"]))
    with open_table(path) as table:
        assert table.nul_cells
        validator = RowValidator(map_headers(table.headers), text_cells=True, nul_cells=table.nul_cells)
        valid, problems = validator.validate_chunk(list(table.rows))
    assert [r.row_number for r in valid] == [3, 5]
    assert [(p.row_number, p.column, p.message) for p in problems] == [
        (2, "Title", "Title contains a NUL byte (a stray control character); remove it"),
        (4, "Shelf", "Shelf contains a NUL byte (a stray control character); remove it"),
    ]


def test_a_cell_over_the_cell_limit_rejects_its_row_in_any_column(tmp_path):
    from bookapp.importer.reading import MAX_CELL_CHARS

    long = "x" * (MAX_CELL_CHARS + 1)
    rows = [[*book_row(1, Description=long), ""], [*book_row(2), ""], [*book_row(3), long], [*book_row(4), "short"]]
    path = tmp_path / "books.csv"
    path.write_bytes(csv_bytes(rows, header=[*HEADER, "Notes"]))
    with open_table(path) as table:
        valid, problems = RowValidator(map_headers(table.headers), text_cells=True).validate_chunk(list(table.rows))
    assert [r.row_number for r in valid] == [3, 5]
    assert [(p.row_number, p.column) for p in problems] == [(2, "Description"), (4, "Notes")]
    assert problems[1].message == "Notes is 100,001 characters long; the most a cell may hold is 100,000"


def test_a_cell_too_long_to_read_refuses_the_file_naming_its_row(tmp_path):
    from bookapp.importer.reading import READ_CELL_CHARS

    path = tmp_path / "books.csv"
    path.write_bytes(csv_bytes([book_row(1), book_row(2, Description="x" * (READ_CELL_CHARS + 1))]))
    with (
        open_table(path) as table,
        pytest.raises(FileProblem, match=r"Row 3 opens a quote .* never closed, or has a cell"),
    ):
        list(table.rows)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters_are_detected(tmp_path, delimiter):
    path = tmp_path / "books.csv"
    path.write_bytes(csv_bytes([book_row(1, Price="12,50" if delimiter == ";" else "12.50")], delimiter=delimiter))
    with open_table(path) as table:
        validator = RowValidator(map_headers(table.headers), decimal_comma=table.decimal_comma)
        rows = [validator.validate(n, cells) for n, cells in table.rows]
    assert rows[0].price == Decimal("12.50")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / "books.csv"
    path.write_bytes(csv_bytes([book_row(1, Title="Café “quoted”")], encoding=encoding))
    with open_table(path) as table:
        assert table.headers[0] == "Title"
        assert next(table.rows)[1][0] == "Café “quoted”"


def test_an_unterminated_quote_names_its_row(tmp_path):
    path = tmp_path / "books.csv"
    path.write_bytes(csv_bytes([book_row(1)]) + b'"Open quote,Author\r\nmore,text\r\n')
    with open_table(path) as table, pytest.raises(FileProblem, match="Row 3 opens a quote"):
        list(table.rows)


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n....", "PNG image"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old binary Excel"),
    ],
)
def test_the_file_type_comes_from_its_bytes(tmp_path, content, fragment):
    path = tmp_path / "books.csv"
    path.write_bytes(content)
    with pytest.raises(FileProblem, match=fragment), open_table(path):
        pass


def test_xlsx_rows_of_cells_holding_only_spaces_are_left_out(tmp_path):
    from bookapp.importer.left_out import LeftOutRows

    path = write_xlsx(tmp_path / "books.xlsx", [book_row(1), ["   ", None, " \t "], book_row(2, Price="ten")])
    with open_table(path) as table:
        rows = list(table.rows)
        validator = RowValidator(map_headers(table.headers))
        _, problems = validator.validate_chunk(rows)
    kept, problems, told = LeftOutRows(validator).after_validation(rows, problems)
    assert [n for n, _ in kept] == [2, 4] and [p.row_number for p in problems] == [4] and told == {}


def test_xlsx_typed_cells_are_read_with_sheet_row_numbers(tmp_path):
    row = ["Dune", "Frank Herbert", "Classic", 9780441172719, dt.datetime(1965, 8, 1), 9.99, 412.0, 3, None]
    path = write_xlsx(tmp_path / "books.xlsx", [row, [None] * 9, [*row[:3], "0441172717", 1965, "9.99", None, 1, "x"]])
    with open_table(path) as table:
        validator = RowValidator(map_headers(table.headers))
        rows = [validator.validate(n, cells) for n, cells in table.rows]
    assert [r.row_number for r in rows] == [2, 4]
    assert rows[0].isbn == rows[1].isbn == "9780441172719"
    assert rows[0].year_published == "1965" and rows[0].price == Decimal("9.99") and rows[0].no_of_pages == 412


def _rewrite_member(path, member: str, old: bytes, new: bytes) -> None:
    """Edit one XML member of a workbook in place (to give a formula a saved result): *old* is a regular
    expression, since the writer's XML library decides how an empty tag is written (<v />, <v></v>)."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as archive:
        contents = {info: archive.read(info.filename) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in contents.items():
            archive.writestr(info, re.sub(old, new, data) if info.filename == member else data)


def _read_all(path):
    with open_table(path) as table:
        validator = RowValidator(map_headers(table.headers))
        return table, validator.validate_chunk(list(table.rows))


def test_xlsx_hidden_sheets_are_ignored_and_the_book_sheet_is_found(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    notes = workbook.active
    notes.title = "Read me"
    notes.append(["How to fill this in"])
    hidden = workbook.create_sheet("Old")
    hidden.append(HEADER)
    hidden.append(["Old", "X", "Comic", isbn13(9), 2000, 1, 1, 1, None])
    hidden.sheet_state = "hidden"
    books = workbook.create_sheet("Stock")
    books.append(HEADER)
    books.append(["New", "Y", "Comic", isbn13(1), 2001, 2, 2, 2, None])
    workbook.save(tmp_path / "b.xlsx")
    table, (valid, problems) = _read_all(tmp_path / "b.xlsx")
    assert "Stock" in table.description
    assert [r.title for r in valid] == ["New"] and problems == []


def test_xlsx_merged_cells_fill_their_area(tmp_path):
    rows = [["A", "Ann", "Horror", isbn13(1), 2001, 1, None, 1, None],
            ["B", "Bob", None, isbn13(2), 2002, 1, None, 1, None]]  # fmt: skip
    path = write_xlsx(tmp_path / "m.xlsx", rows)
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    workbook.active.merge_cells("C2:C3")
    workbook.save(path)
    _, (valid, problems) = _read_all(path)
    assert problems == [] and [r.book_type for r in valid] == ["Horror", "Horror"]


def test_xlsx_formulas_give_their_saved_result_and_one_without_is_a_row_error(tmp_path):
    rows = [["A", "Ann", "Comic", isbn13(1), 2001, "=10+2.5", None, 1, None],
            ["B", "Bob", "Comic", isbn13(2), 2002, "=1+1", None, 1, None]]  # fmt: skip
    path = write_xlsx(tmp_path / "f.xlsx", rows)
    _rewrite_member(path, "xl/worksheets/sheet1.xml", rb"<f>10\+2\.5</f><v ?/>|<f>10\+2\.5</f><v></v>",
                    b"<f>10+2.5</f><v>12.5</v>")  # fmt: skip
    _, (valid, problems) = _read_all(path)
    assert [r.price for r in valid] == [Decimal("12.50")]
    assert problems[0].row_number == 3 and "formula (cell F3) whose result was never saved" in problems[0].message


def test_a_formula_never_calculated_is_found_whatever_order_its_cell_tag_names_its_place_in(tmp_path):
    """Spreadsheet programs write a cell's place first (<c r="F3">); other writers put its style or type
    first (<c s="0" t="n" r="F3">). A formula never calculated, written so, was read as an empty cell
    ("Price is required"); it is blamed on its own cell, as when its place comes first."""
    import zipfile

    rows = [["A", "Ann", "Comic", isbn13(1), 2001, 2, 100, 1, None],
            ["B", "Bob", "Comic", isbn13(2), 2002, "=1+1", 100, 1, None]]  # fmt: skip
    path = write_xlsx(tmp_path / "f.xlsx", rows)
    _rewrite_member(path, "xl/worksheets/sheet1.xml", rb'<c r="(\w+)"((?: \w+="\w+")*)>', rb'<c s="0"\2 r="\1">')
    assert b'<c s="0" r="F3"><f>1+1</f>' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    _, (valid, problems) = _read_all(path)
    assert [r.title for r in valid] == ["A"]
    assert [(p.row_number, p.column) for p in problems] == [(3, "Price")]
    assert "formula (cell F3) whose result was never saved" in problems[0].message


def test_a_formula_never_calculated_is_blamed_on_its_own_cell_beside_empty_tags_and_at_the_sheets_end(tmp_path):
    """A totals row as a program that does not calculate writes it: empty cells as empty tags
    (<c r="B4" t="inlineStr" />) before its formulas, and a formula in the sheet's very last cell.
    Each problem names the formula's own cell and field, not an empty cell before it, and none is lost."""
    rows = [["A", "Ann", "Comic", isbn13(1), 2001, 2, 100, 1, None],
            ["Total", "", "", "", "", "=SUM(F2:F2)", "=SUM(G2:G2)", "", ""],
            ["Total", None, None, None, None, "=SUM(F2:F2)", "=SUM(G2:G2)"]]  # fmt: skip
    path = write_xlsx(tmp_path / "totals.xlsx", rows)
    _, (valid, problems) = _read_all(path)
    assert len(valid) == 1
    formulas = {(p.row_number, p.column): p.message for p in problems if "formula" in p.message}
    assert set(formulas) == {(3, "Price"), (3, "No. of pages"), (4, "Price"), (4, "No. of pages")}, problems
    assert "(cell G4)" in formulas[(4, "No. of pages")] and "(cell F3)" in formulas[(3, "Price")]


def test_a_workbook_of_formulas_never_calculated_is_refused_as_a_whole(tmp_path, monkeypatch):
    """Past MAX_UNSAVED_FORMULAS such cells the file, not each row, is the problem (and each cell would
    be held in memory while the sheet is read); under it, each is its row's error."""
    from bookapp.importer import unsaved_formulas

    rows = [[f"T{n}", "Ann", "Comic", isbn13(n), 2001, f"={n}+1", None, 1, None] for n in range(1, 6)]
    path = write_xlsx(tmp_path / "f.xlsx", rows)
    monkeypatch.setattr(unsaved_formulas, "MAX_UNSAVED_FORMULAS", 5)
    _, (valid, problems) = _read_all(path)
    assert list(valid) == [] and len(problems) == 5
    monkeypatch.setattr(unsaved_formulas, "MAX_UNSAVED_FORMULAS", 4)
    with pytest.raises(FileProblem, match="more than 4 formulas whose result was never saved"), open_table(path):
        pass


def test_a_zip_member_that_inflates_beyond_reason_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * (300 << 20))
    with pytest.raises(FileProblem, match="zip bomb"), open_table(path):
        pass


def test_first_rows_finds_repeats_across_merges(monkeypatch):
    from bookapp.importer import duplicates

    monkeypatch.setattr(duplicates, "MERGE_EVERY", 3)
    seen = duplicates.FirstRows()
    assert seen.earlier_rows([isbn13(1), isbn13(2)], [2, 3]) == [None, None]
    assert seen.earlier_rows([isbn13(3), isbn13(4), isbn13(1)], [4, 5, 6]) == [None, None, 2]
    assert seen.earlier_rows([isbn13(5), isbn13(5), isbn13(4)], [7, 8, 9]) == [None, 7, 5]
    assert len(seen) == 5


def _isbn_spellings(count: int, seed: int) -> list[str]:
    """ISBN-13s and ISBN-10s, mostly valid, written the ways files write them (and a few odd ways)."""
    import random

    from stdnum import ean
    from stdnum.isbn import _calc_isbn10_check_digit

    rng = random.Random(seed)
    cells = []
    for _ in range(count):
        digits = "".join(rng.choice("0123456789") for _ in range(12))
        prefix = rng.choice(["978", "979", "977", ""])
        if prefix:
            body = prefix + digits[:9]
            text = body + (ean.calc_check_digit(body) if rng.random() < 0.9 else rng.choice("0123456789"))
        else:
            body = digits[:9]
            text = body + (_calc_isbn10_check_digit(body) if rng.random() < 0.9 else rng.choice("0123456789X"))
            text = text.lower() if rng.random() < 0.2 else text
        spelled = [
            lambda t: "-".join([t[:3], t[3:5], t[5:9], t[9:]]),
            lambda t: " ".join([t[:1], t[1:5], t[5:]]),
            lambda t: " " + t,
            lambda t: t + "-",
            lambda t: "--" + t,
            lambda t: t[:4] + "  -- " + t[4:],
            lambda t: "ISBN " + t,
            lambda t: t,
        ]
        cells.append(rng.choice(spelled)(text))
    return [*cells, "", "X", "978030640615X", "０３０６４０６１５２", "9780306406157.0", "306406152", "0306406152 "]


def test_the_isbn_fast_path_gives_what_the_isbn_converter_gives_for_every_cell_it_takes():
    from bookapp.importer.isbn_fast import fast_isbns

    cells = _isbn_spellings(20_000, seed=18)
    fast = fast_isbns(cells, text_cells=True)
    taken = 0
    for cell, value in zip(cells, fast, strict=True):
        if value is None:
            continue  # left to the converter
        taken += 1
        assert value == parse_isbn(cell), cell
    assert taken > len(cells) // 4
    # hyphenated and ISBN-10 spellings are taken, not only 13 digits
    assert fast_isbns(["978-0-306-40615-7", "0-306-40615-2", "080442957X", "0 306 40615 2"]) == [
        "9780306406157", "9780306406157", "9780804429573", "9780306406157"]  # fmt: skip
    # a workbook's number cells: whole numbers of 13 or 10 digits (9 digits lost a leading zero: the converter)
    numbers = [9780306406157.0, 9780306406157, 1000000001, 9780306406158.0, 9780306406157.5, 306406152, True]
    assert fast_isbns(numbers) == ["9780306406157", "9780306406157", "9781000000009", None, None, None, None]
    assert [parse_isbn(n) for n in numbers[:3]] == fast_isbns(numbers)[:3]

    # a column of number cells only (ISBNs a spreadsheet program took for numbers) is checked as a whole
    def converted(cell):
        try:
            return parse_isbn(cell)
        except ValueProblem:
            return None

    column = [float(c) for c in cells if len(c) == 13 and c.isdigit() and c[:3] in ("978", "979")]
    column += [9780306406158.0, 9780306406157.0]
    expected = [converted(c) for c in column]
    assert fast_isbns(column) == expected and None in expected and len(set(expected)) > 1_000
    assert fast_isbns([*column, 306406152.0]) == [*expected, None]  # one cell out of range: cell by cell


def test_the_bulk_text_check_leaves_out_only_cells_the_text_converter_would_keep_as_they_are():
    import random
    import unicodedata

    from bookapp.importer.fields import MAX_LENGTHS
    from bookapp.importer.plain_text import cells_to_convert

    rng = random.Random(20)
    alphabet = ["a", "Z", "1", " ", "'", "=", ",", "\x1f", "\t", "\n", "é", "e\u0301", "\x7f", "本", "\xa0", "\ud800"]
    cells = ["".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 2, 5, 40]))) for _ in range(5_000)]
    cells += ["x" * 255, "x" * 256, " lead", "trail ", "'quoted", "=formula", "\xa0nbsp", "Señora", "Kraków"]
    for field, required in (("title", True), ("description", False)):
        limit = MAX_LENGTHS[field]

        def check(column, limit=limit, required=required):
            return cells_to_convert(column, limit, text_cells=True, required=required)

        to_convert, blanks = check(cells)
        assert set(blanks) == ({i for i, c in enumerate(cells) if c == ""} if not required else set())
        for index in set(range(len(cells))) - set(to_convert) - set(blanks):
            assert parse_text(cells[index], limit) == cells[index]
        assert set(to_convert) >= {len(cells) - 7, len(cells) - 6, len(cells) - 5, len(cells) - 3}
        # composed non-ASCII text is taken in bulk; a decomposed cell sends its column's others to the converter
        assert check(["Señora", "Kraków", "plain"]) == ([], [])
        decomposed = unicodedata.normalize("NFD", "Señora")
        assert check(["Señora", decomposed, "plain"])[0] == [0, 1]
    title = MAX_LENGTHS["title"]
    assert len(cells) - 8 in cells_to_convert(cells, title, text_cells=False, required=True)[0]  # 256 characters
    # a workbook's column: blanks are None, and a number is converted on its own
    longest = MAX_LENGTHS["description"]
    workbook = {"text_cells": False, "required": False}
    assert cells_to_convert(["plain", None, " lead", 12], longest, **workbook) == ([1, 2, 3], [])
    assert cells_to_convert(["plain", None, " lead"], longest, **workbook) == ([2], [1])


def test_first_rows_packs_each_isbn_with_its_row_and_tells_978_from_979():
    from bookapp.importer import duplicates

    seen = duplicates.FirstRows()
    twins = ["9781000000009", "9791000000008"]  # the same nine digits after 978 and after 979
    assert seen.earlier_rows(twins, [2, 3]) == [None, None]
    seen._merge()
    assert seen.earlier_rows([twins[1], twins[0], isbn13(7)], [5_000_000, 5_000_001, 5_000_002]) == [3, 2, None]
    assert duplicates.isbn_codes(["9780000000002", "9799999999990"]).tolist() == [0, 1_999_999_999]


def test_first_rows_agrees_with_a_dict_over_many_merges_and_every_bucket(monkeypatch):
    import random

    from bookapp.importer import duplicates

    monkeypatch.setattr(duplicates, "MERGE_EVERY", 500)
    rng = random.Random(18)
    pool = [isbn13(rng.randrange(10**9)) for _ in range(3_000)] + ["9790000000001", "9799999999990"]
    seen, expected, row = duplicates.FirstRows(), {}, 2
    for _ in range(40):
        batch = [rng.choice(pool) for _ in range(rng.randrange(1, 400))]
        numbers = list(range(row, row + len(batch)))
        row += len(batch) + rng.randrange(3)  # blank rows leave gaps in the numbers
        want = []
        for isbn, number in zip(batch, numbers, strict=True):
            first = expected.setdefault(isbn, number)
            want.append(None if first == number else first)
        assert seen.earlier_rows(batch, numbers) == want
    assert len(seen) == len(expected)
    assert sum(len(bucket) for bucket in seen._buckets) > 2_000  # most went through the sorted arrays


def test_a_file_a_numeric_tool_wrote_reads_as_the_books_it_holds(tmp_path):
    """What pandas' to_csv and R's write.csv make of a book list: blank numbers as nan or NA, prices with
    a binary float's rounding (3.3000000000000003), years as dates (2001-05-03, 03/05/2001 00:00). Each
    reads as the value it stands for; 12.989999999 is no float noise and stays refused."""
    rows = [
        book_row(1, **{"No. of pages": "nan", "Price": "3.3000000000000003", "Year published": "2001-05-03"}),
        book_row(2, **{"No. of pages": "NA", "Price": "14.289999999999999", "Year published": "03/05/1999 00:00"}),
        book_row(3, **{"No. of pages": "N/A", "Price": "12.99", "Year published": "1895-01-01 00:00:00"}),
        book_row(4, Price="12.989999999"),
        book_row(5, Quantity="NA"),
    ]
    path = tmp_path / "pandas.csv"
    path.write_bytes(csv_bytes(rows))
    _, (valid, problems) = _read_all(path)
    read = {r.isbn: (r.no_of_pages, str(r.price), r.year_published) for r in valid}
    assert read == {isbn13(1): (None, "3.30", "2001"), isbn13(2): (None, "14.29", "1999"),
                    isbn13(3): (None, "12.99", "1895")}  # fmt: skip
    assert [(p.row_number, p.message) for p in problems] == [
        (5, "Price has more than 2 decimal places"), (6, "Quantity is required")]  # fmt: skip


def test_a_semicolon_file_reads_its_thousands_points_in_whole_numbers(tmp_path):
    """Where prices have decimal commas (12,99), a point groups thousands: a stock of 1.200 is 1,200
    copies, not a refused 1.2; and 1,5 copies is refused, not read as 15."""
    rows = [book_row(1, Quantity="1.200", **{"No. of pages": "1.024", "Price": "12,99"}), book_row(2, Quantity="1,5")]
    path = tmp_path / "europe.csv"
    path.write_bytes(csv_bytes(rows, delimiter=";"))
    with open_table(path) as table:
        validator = RowValidator(map_headers(table.headers), decimal_comma=table.decimal_comma, text_cells=True)
        valid, problems = validator.validate_chunk(list(table.rows))
    assert [(r.quantity, r.no_of_pages, str(r.price)) for r in valid] == [(1200, 1024, "12.99")]
    assert [(p.row_number, p.message) for p in problems] == [(3, "Quantity must be a whole number")]


#: A description cell as a shop export writes it, and the text a book's description is stored as.
HTML_DESCRIPTIONS = [
    ("<p>A <strong>gripping</strong> tale&hellip;</p>", "A gripping tale…"),
    ("<p>One</p>\n<p>Two<br>three<br/><br />four &amp; more</p>", "One\n\nTwo\nthree\n\nfour & more"),
    ("<div><p>Book 1</p></div>", "Book 1"),
    ("<style>p { color: red }</style><p>Shown</p><script>alert('x')</script>", "Shown"),
    ("<ul>\n  <li>Hardcover</li>\n  <li>320&nbsp;pages</li>\n</ul>", "- Hardcover\n- 320 pages"),
    (
        "First paragraph, <em>as typed</em>\n\nSecond one\nwith a line break",
        "First paragraph, as typed\n\nSecond one\nwith a line break",
    ),
    ("<p>  spaced   out  </p>", "spaced out"),
    ("<p></p><!-- nothing -->", None),
]
#: Plain text with a "<" in it: kept as written.
PLAIN_WITH_ANGLES = ["a < b", "for ages 8<12", "we <3 it", "press <Enter> to go on", "<<The Title>>", "x<y and y>z"]


@pytest.mark.parametrize("text_cells", [True, False], ids=["csv", "workbook"])
def test_a_description_written_in_html_is_stored_as_its_text_and_plain_text_with_a_less_than_is_not(text_cells):
    cells = [cell for cell, _ in HTML_DESCRIPTIONS] + PLAIN_WITH_ANGLES + ["Plain, no markup"]
    rows = [(n + 2, book_row(n + 1, Description=cell)) for n, cell in enumerate(cells)]
    valid, problems = RowValidator(map_headers(HEADER), text_cells=text_cells).validate_chunk(rows)
    assert not problems
    expected = [text for _, text in HTML_DESCRIPTIONS] + PLAIN_WITH_ANGLES + ["Plain, no markup"]
    assert valid.column("description") == expected
    assert valid.from_markup == list(range(2, 2 + len(HTML_DESCRIPTIONS)))


def test_the_length_limit_of_a_description_written_in_html_is_its_texts():
    under = '<p><span class="body-text">Long read.</span></p>' * 400  # 19,600 characters of HTML, 4,798 of text
    over = "<p>" + "x" * 10_001 + "</p>"
    rows = [(2, book_row(1, Description=under)), (3, book_row(2, Description=over))]
    valid, problems = RowValidator(map_headers(HEADER), text_cells=True).validate_chunk(rows)
    assert valid.column("description") == ["\n\n".join(["Long read."] * 400)]
    assert [(p.row_number, p.message) for p in problems] == [
        (3, "Description is 10,001 characters long once its HTML is read as text; the limit is 10,000")
    ]
