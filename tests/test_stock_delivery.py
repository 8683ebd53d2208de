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
from tests.conftest import sign_in
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
        buffer = io.StringIO(newline="")
        csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([header, *rows])
        return "lieferschein.csv", buffer.getvalue().encode("cp1252")
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
