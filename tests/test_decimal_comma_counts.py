"""A count of copies or pages in a comma-separated sheet whose prices have a decimal comma (9,99 €): a point
groups its thousands, as in the prices (1.500 is 1500), and a comma that groups none is a decimal comma, so
1,5 copies is one and a half, refused saying so, never read as 15. SQLite and PostgreSQL."""

import csv
import io

from tests import layouts
from tests.conftest import run_worker
from tests.test_access import bearer
from tests.test_imports import import_state, upload
from tests.test_shop_sheets import book


def test_a_stock_of_one_and_a_half_written_with_a_decimal_comma_is_refused_not_read_as_fifteen(app, staff_client):
    name, content = layouts.euro_sheet(1, count=5)
    rows = list(csv.reader(io.StringIO(content.decode())))
    stock = layouts.EURO_SHEET_HEADER.index("Stock")
    rows[2][stock], rows[3][stock], rows[4][stock] = "1,5", "1.500", "1,500"  # books 2, 3 and 4 (rows 3, 4, 5)
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)

    response = upload(staff_client, buffer.getvalue().encode(), name)
    run_worker(app)

    state = import_state(staff_client, response.location)
    assert (state["created"], state["rejected"]) == (4, 1), state
    assert book(app, layouts.isbn13_of(2)) is None
    assert [book(app, layouts.isbn13_of(n)).quantity for n in (1, 3, 4, 5)] == [3, 1500, 1500, 3]
    answer = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=bearer(app)).get_json()
    assert [(r["row"], r["value"], r["message"]) for r in answer["items"]] == [
        (3, "1,5", "Quantity must be a whole number: 1,5 is read with a decimal comma, as the file's prices are, "
                   "so it has decimals")
    ]  # fmt: skip
