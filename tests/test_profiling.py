"""importer/profiling.py with plain files: samples, blank shares, distinct values (counted, then estimated),
value counts, what a column's values suggest, the first rows kept for the preview."""

import datetime as dt

import pytest

from bookapp.importer import FileProblem, item_values, open_table, profiling
from bookapp.importer.cells import decode_cell, encode_cell, looks_like
from bookapp.importer.errors import UnsavedFormula
from bookapp.importer.profiling import profile_file
from bookapp.importer.reading import estimate_rows
from tests.helpers import csv_bytes, isbn13, write_xlsx


def columns_of(profile: dict) -> dict[str, dict]:
    return {c["header"]: c for c in profile["columns"]}


def write(tmp_path, rows, header, name="file.csv", **kwargs):
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows, header=header, **kwargs))
    return path


def test_blank_cells_and_blank_rows_are_what_the_importer_skips(tmp_path):
    rows = [["a", "x"], ["", "y"], ["  ", "z"], ['=""', "w"], ["b", ""], ["", ""], ["c", "v"]]

    profile = profile_file(write(tmp_path, rows, ["First", "Second"]))

    assert profile["rows"] == 6  # the row of empty cells is no row
    first, second = columns_of(profile)["First"], columns_of(profile)["Second"]
    assert (first["blank"], first["distinct"], first["samples"]) == (3, 3, ["a", "b", "c"])
    assert (second["blank"], second["distinct"]) == (1, 5)


def test_few_values_are_all_counted_and_many_are_not_listed(tmp_path, monkeypatch):
    monkeypatch.setattr(profiling, "VALUES_LIMIT", 10)
    rows = [[["Fiction", "Manga", "Poetry"][n % 3], f"Title {n}", " Fiction " if n == 0 else "x"] for n in range(30)]

    profile = profile_file(write(tmp_path, rows, ["Genre", "Title", "Other"]), chunk_rows=7)

    genre, title, other = (columns_of(profile)[h] for h in ("Genre", "Title", "Other"))
    assert genre["values"] == [["Fiction", 10], ["Manga", 10], ["Poetry", 10]]
    assert (title["values"], title["distinct"], title["distinct_exact"]) == (None, 30, True)
    assert other["values"] == [["x", 29], [" Fiction ", 1]]  # as written: the page trims them as a value map does


def test_past_the_sketch_size_distinct_values_are_estimated_closely_in_flat_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(profiling, "SKETCH_SIZE", 1024)
    monkeypatch.setattr(profiling, "VALUES_LIMIT", 50)
    rows = [[f"Book {n % 20_000}", str(n % 1000)] for n in range(40_000)]

    profile = profile_file(write(tmp_path, rows, ["Title", "Copies"]), chunk_rows=5_000)

    title, copies = columns_of(profile)["Title"], columns_of(profile)["Copies"]
    assert not title["distinct_exact"] and abs(title["distinct"] - 20_000) < 0.1 * 20_000
    assert (copies["distinct"], copies["distinct_exact"], copies["values"]) == (
        1000,
        True,
        None,
    )  # under the sketch size


def test_chunks_do_not_change_the_profile(tmp_path):
    rows = [[f"Book {n}", ["A", "B", ""][n % 3], isbn13(n)] for n in range(1, 200)]
    path = write(tmp_path, rows, ["Title", "Kind", "Code"])

    assert profile_file(path, chunk_rows=13) == profile_file(path)


def test_samples_are_the_first_different_values_as_the_importer_reads_them(tmp_path):
    rows = [['="0441172717"', "Dune"], ['="0441172717"', "Dune"], ['=""', "x" * 200], ["0140449132", "Emma"]]

    profile = profile_file(write(tmp_path, rows, ["ISBN", "Title"]))

    assert columns_of(profile)["ISBN"]["samples"] == ["0441172717", "0140449132"]
    assert columns_of(profile)["Title"]["samples"] == ["Dune", "x" * 79 + "…", "Emma"]


def test_values_suggest_isbn_and_year_published_only_when_nearly_all_fit():
    assert looks_like([isbn13(n) for n in range(1, 30)]) == "isbn"
    assert looks_like(['="0441172717"', "0-14-044913-2", "978-0-14-044913-6"]) == "isbn"
    assert looks_like(["1450", "1999", "2008.0", str(dt.date.today().year + 1)]) == "year_published"
    assert looks_like(["1449", "1999"]) is None  # before printing
    assert looks_like(["304", "120", "88"]) is None  # pages
    assert looks_like([isbn13(n) for n in range(1, 10)] + ["n/a"] * 5) is None


def test_the_first_rows_are_kept_as_the_importer_reads_them(tmp_path):
    rows = [[f"Book {n}", "Line one\nline two" if n == 2 else "plain"] for n in range(1, 15)]

    profile = profile_file(write(tmp_path, rows, ["Title", "Notes"]))

    assert [number for number, _ in profile["head"]] == list(range(2, 12))
    assert profile["head"][1] == [3, ["Book 2", "Line one\nline two"]]
    assert profile["text_cells"] is True and profile["read_as"] == "CSV, UTF-8, comma-separated"


def test_semicolons_and_windows_1252_are_read_as_the_importer_reads_them(tmp_path):
    rows = [["Café", "12,50"], ["Noël", "3,00"]]

    profile = profile_file(write(tmp_path, rows, ["Titre", "Prix"], delimiter=";", encoding="cp1252"))

    assert profile["decimal_comma"] is True and profile["rows"] == 2
    assert columns_of(profile)["Titre"]["samples"] == ["Café", "Noël"]
    assert columns_of(profile)["Prix"]["values"] == [["12,50", 1], ["3,00", 1]]


def test_a_workbook_is_profiled_from_its_typed_cells(tmp_path):
    rows = [["Dune", 1965, 9.99, dt.datetime(2024, 1, 15)], ["Emma", 1815.0, None, None]]
    path = write_xlsx(tmp_path / "books.xlsx", rows, header=["Title", "Year", "Price", "Added"])

    profile = profile_file(path)

    year, price, added = (columns_of(profile)[h] for h in ("Year", "Price", "Added"))
    assert year["values"] == [["1815", 1], ["1965", 1]]  # a whole number shows without ".0"
    assert (price["blank"], price["samples"]) == (1, ["9.99"])
    assert added["samples"] == ["2024-01-15"]
    assert profile["text_cells"] is False
    with open_table(path) as table:  # the first rows come back exactly as the importer reads them
        assert [[n, [decode_cell(c) for c in cells]] for n, cells in profile["head"]] == [[n, c] for n, c in table.rows]


def test_a_file_the_importer_cannot_read_is_refused_in_its_words(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b'Title,Author\n"Dune,Frank Herbert\nEmma,Jane Austen\n')

    with pytest.raises(FileProblem, match="never closed"):
        profile_file(path)


@pytest.mark.parametrize(
    "cell",
    ["text", 12, 1.5, True, None, dt.datetime(2024, 1, 2, 3, 4), dt.date(2024, 1, 2), dt.time(9, 30),
     dt.timedelta(hours=2), UnsavedFormula("F5"), float("inf")],
)  # fmt: skip
def test_cells_come_back_from_json_as_they_were(cell):
    import json

    back = decode_cell(json.loads(json.dumps(encode_cell(cell))))

    assert back == cell and type(back) is type(cell)


def test_the_row_estimate_follows_the_file_size(tmp_path):
    path = write(tmp_path, [["Book", "1"]] * 10_000, ["Title", "Copies"])

    assert 9_000 <= estimate_rows(path) <= 11_000


def test_a_shop_exports_values_taken_from_an_items_first_row_are_counted_alike_in_any_chunks_and_workbooks(
    tmp_path, monkeypatch
):
    """A Shopify export of books in two formats, with the column naming each row's product (Handle): the rows
    continuing a product take its Type from its first row, a paperback's row (it fills the barcode and price
    columns) and an image's (it fills only the image's) counted apart, since only the first is read once its
    columns are matched. The same whatever the chunks, from the CSV and from a workbook; a column with more
    such counts than are kept (every product's title) is said to be uncounted, not dropped silently."""
    import csv
    import io

    from tests import layouts

    name, content = layouts.shopify_variants(1, 4)
    path = tmp_path / name
    path.write_bytes(content)
    rows = list(csv.reader(io.StringIO(content.decode())))
    workbook = write_xlsx(tmp_path / "products.xlsx", rows[1:], header=rows[0])
    items = profile_file(path)["items"]
    assert profile_file(path, chunk_rows=2)["items"] == items == profile_file(workbook, chunk_rows=5)["items"]

    header = layouts.SHOPIFY_HEADER
    assert items["by"] == "Handle" and items["uncounted"] == []
    paperback, image = (items["kinds"].index(sorted(header.index(h) for h in filled)) for filled in (
        ["Handle", "Option1 Value", "Variant Inventory Tracker", "Variant Inventory Qty", "Variant Inventory Policy",
         "Variant Fulfillment Service", "Variant Price", "Variant Requires Shipping", "Variant Taxable", "Variant Barcode"],
        ["Handle", "Image Src", "Image Position"],
    ))  # fmt: skip
    assert items["columns"][str(header.index("Type"))] == {
        "continued": sorted([["Fiction", paperback, 4], ["Fiction", image, 4]]), "left_out": []}  # fmt: skip

    monkeypatch.setattr(item_values, "CONTINUED_LIMIT", 5)
    few = profile_file(path)["items"]
    assert header.index("Title") in few["uncounted"] and str(header.index("Type")) in few["columns"]
    monkeypatch.setattr(item_values, "CONTINUED_LIMIT", 1)  # a paperback's row and an image's: two kinds of row
    none = profile_file(path)
    assert none["items"]["uncounted"] == [i for i, column in enumerate(none["columns"]) if column["values"]]
