"""A delivery note imported with Add to stock, first as a dry run, then confirmed: the preview, the books
and both row-by-row reports say the stock after the delivery (stored + delivered), not the file's own
quantities. A shop's German stock list (CSV and XLSX), on SQLite and PostgreSQL."""

import csv
import html
import io
import json
import re

import pytest

from tests import layouts
from tests.conftest import after_chunk_saved, run_worker, sign_in
from tests.test_access import bearer
from tests.test_mapping import book, finished, post_file

#: The shop's own genres, matched to the book types.
MAPPING = json.dumps({"values": {"book_type": {"Roman": "Classic", "Comic": "Comic"}}})
#: The stock list's quantity column ("Bestand") and the books stored before the delivery (1 to 4).
QUANTITY = layouts.STOCK_LIST_HEADERS["de"].index("Bestand")
STORED = range(1, 5)


def stock_rows(first: int, count: int) -> list[list[str]]:
    _, content = layouts.stock_list("de", first, count)
    return list(csv.reader(io.StringIO(content.decode("cp1252"), newline=""), delimiter=";"))


def delivery_note(kind: str) -> tuple[str, bytes]:
    """The shop's stock list of books 1 to 4 (quantities 2, 3, 4, 1) delivered again, book 2 once more with
    5, and a new book 9 (quantity 2): as the CSV the shop's spreadsheet saves, or as its .xlsx (typed cells)."""
    header, *rows = stock_rows(1, 4)
    again = list(rows[1])
    again[QUANTITY] = "5"
    rows += [again, stock_rows(9, 1)[1]]
    if kind == "csv":
        return "lieferschein.csv", shop_csv([header, *rows])
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([int(c) if c.isdigit() and len(c) < 6 else float(c.replace(",", ".")) if c.endswith(",50") else c
                      for c in row])  # fmt: skip
    output = io.BytesIO()
    workbook.save(output)
    return "lieferschein.xlsx", output.getvalue()


def shop_csv(rows: list[list[str]]) -> bytes:
    """The rows as the shop's spreadsheet saves a CSV."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("cp1252")


def preview_quantities(client, import_id: int) -> list[tuple[str, str, str]]:
    """The preview table's rows as shown: (row, outcome, quantity)."""
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    table = page.split('<table class="preview">', 1)[1].split("</table>", 1)[0]
    labels = [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table)]
    at = labels.index("Quantity")
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in table.split("<tr>")[2:]]
    return [(row[0], row[1], html.unescape(row[at]).strip()) for row in rows]


def report_changes(client, import_id: int) -> list[tuple[str, str, str]]:
    """The row-by-row report's (row, outcome, changes)."""
    text = client.get(f"/imports/{import_id}/report.csv").get_data(as_text=True)
    return [(r[0], r[1], r[4]) for r in list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_add_to_stock_dry_run_shows_and_reports_the_stock_after_the_delivery(app, kind):
    """A dry run's preview showed the file's quantities (3) where confirming made the stock 6, its report
    said no change, and the confirmed import's report said "Quantity: 3 → 3". Each now says 3 → 6."""
    headers = bearer(app)
    name, content = layouts.stock_list("de", 1, len(STORED))
    assert finished(app, headers, post_file(app, headers, name, content, mapping=MAPPING))["created"] == 4
    assert [book(app, layouts.isbn13_of(n)).quantity for n in STORED] == [2, 3, 4, 1]

    name, content = delivery_note(kind)
    dry = finished(app, headers, post_file(app, headers, name, content, mapping=MAPPING, mode="add_stock",
                                           dry_run="true"))  # fmt: skip
    assert (dry["status"], dry["created"], dry["updated"], dry["rejected"]) == ("succeeded", 1, 5, 0)
    client = sign_in(app.test_client(), "staff@example.com")
    # Each updated row: (row, in stock, delivered); row 6 adds 5 more to book 2, which row 3 took to 6.
    added = [("2", 2, 2), ("3", 3, 3), ("4", 4, 4), ("5", 1, 1), ("6", 6, 5)]
    shown = [(row, "updated", f"{stock + more} ({stock} + {more})") for row, stock, more in added]
    assert preview_quantities(client, dry["id"]) == [*shown, ("7", "created", "2")]
    assert [book(app, layouts.isbn13_of(n)).quantity for n in STORED] == [2, 3, 4, 1], "a dry run saves nothing"
    assert book(app, layouts.isbn13_of(9)) is None
    expected = [(row, "updated", f"Quantity: {stock} → {stock + more} (+{more})") for row, stock, more in added]
    expected.append(("7", "created", ""))
    assert report_changes(client, dry["id"]) == expected

    confirmed = app.test_client().post(f"/api/v1/imports/{dry['id']}/confirm", headers=headers)
    state = finished(app, headers, confirmed)
    assert (state["status"], state["created"], state["updated"]) == ("succeeded", 1, 5)
    assert [book(app, layouts.isbn13_of(n)).quantity for n in (*STORED, 9)] == [4, 11, 8, 2, 2]
    assert report_changes(client, state["id"]) == expected


#: A dry run's preview of the delivery below: each row's outcome and the stock it would leave.
PIECES_PREVIEW = [
    ("2", "updated", "4 (2 + 2)"),
    ("3", "updated", "6 (3 + 3)"),
    ("4", "updated", "8 (4 + 4)"),
    ("5", "updated", "2 (1 + 1)"),
    ("6", "created", "2"),
    ("7", "updated", "11 (6 + 5)"),
    ("8", "updated", "5 (2 + 3)"),
]


def delivery_in_pieces(app, headers) -> int:
    """Store books 1 to 4, then post as an Add to stock dry run, read in pieces of 3 rows (2-4, 5-7, 8), a
    delivery of books 1 to 4 and new book 9 where book 2 (row 3) comes again in row 7 with 5 and book 9
    (row 6) in row 8 with 3; return the dry run's id."""
    app.config["IMPORT_CHUNK_SIZE"] = 3
    name, content = layouts.stock_list("de", 1, len(STORED))
    assert finished(app, headers, post_file(app, headers, name, content, mapping=MAPPING))["created"] == 4
    header, *rows = stock_rows(1, 4)
    rows.append(stock_rows(9, 1)[1])
    for first, quantity in ((rows[1], "5"), (rows[4], "3")):
        rows.append([quantity if at == QUANTITY else cell for at, cell in enumerate(first)])
    posted = post_file(app, headers, "lieferschein.csv", shop_csv([header, *rows]), mapping=MAPPING,
                       mode="add_stock", dry_run="true")  # fmt: skip
    assert posted.status_code == 202
    return posted.get_json()["id"]


def test_an_add_to_stock_dry_run_adds_up_a_book_listed_again_in_a_later_piece_of_the_file(app):
    """A dry run summed a book's rows within one piece of the file only (5,000 rows; 3 here): book 2 listed
    again three rows on showed "8 (3 + 5)" where confirming made 11, and new book 9 listed again counted as
    created twice. The dry run now says what the import then does."""
    headers = bearer(app)
    dry_id = delivery_in_pieces(app, headers)
    run_worker(app)
    dry = app.test_client().get(f"/api/v1/imports/{dry_id}", headers=headers).get_json()
    assert (dry["status"], dry["created"], dry["updated"], dry["rejected"]) == ("succeeded", 1, 6, 0)
    client = sign_in(app.test_client(), "staff@example.com")
    assert preview_quantities(client, dry_id) == PIECES_PREVIEW
    assert report_changes(client, dry_id)[5] == ("7", "updated", "Quantity: 6 → 11 (+5)")

    state = finished(app, headers, app.test_client().post(f"/api/v1/imports/{dry_id}/confirm", headers=headers))
    assert (state["status"], state["created"], state["updated"]) == ("succeeded", 1, 6)
    assert [book(app, layouts.isbn13_of(n)).quantity for n in (*STORED, 9)] == [4, 11, 8, 2, 5]


def test_an_add_to_stock_dry_run_stopped_after_a_piece_checks_its_file_again_when_retried(app):
    """Retried, a dry run resumed after its last piece checked, with the totals of the pieces before it
    gone with the run that stopped (it saved no books to read them from): row 7 said 8 (3 + 5)."""
    headers = bearer(app)
    dry_id = delivery_in_pieces(app, headers)

    def stop(cursor):  # the run stops at its next check, after its first piece's commit
        stopping = cursor.connection.cursor()
        stopping.execute("UPDATE imports SET cancel_requested = TRUE")
        stopping.close()

    with after_chunk_saved(app, stop):
        run_worker(app)
    client = sign_in(app.test_client(), "staff@example.com")
    assert client.get(f"/imports/{dry_id}.json").get_json()["status"] == "cancelled"
    assert client.post(f"/imports/{dry_id}/retry").status_code == 302
    run_worker(app)
    dry = client.get(f"/imports/{dry_id}.json").get_json()
    assert (dry["status"], dry["processed_rows"], dry["created"], dry["updated"]) == ("succeeded", 7, 1, 6)
    assert preview_quantities(client, dry_id) == PIECES_PREVIEW
    assert report_changes(client, dry_id)[5] == ("7", "updated", "Quantity: 6 → 11 (+5)")
