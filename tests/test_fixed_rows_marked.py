"""An import's list of rejected rows marks the rows fixed later in the grid, as its banner counts them."""

import re

from tests.test_fixes import fix_rows_4_and_7, import_with_bad_rows
from tests.test_matching import text_of


def listed_rows(page: str) -> dict[str, str]:
    """The Row cell of each rejected row listed on an import's page, as text, by its row number."""
    table = page[page.index('<table class="errors">') :]
    cells = re.findall(r'<td class="num" data-label="Row">(.*?)</td>', table[: table.index("</table>")], re.S)
    texts = [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]
    return {t.split()[0]: t for t in texts}


def test_the_rejected_rows_fixed_later_are_marked_so_in_the_list(app, staff_client):
    """Rows 4 and 7 of three rejected rows fixed in the grid: the banner says 2 of 3 were fixed later, and the
    list under it says which two, so that the row left to fix (10) is told apart."""
    original = import_with_bad_rows(app, staff_client)
    follow_up = fix_rows_4_and_7(app, staff_client, original)

    page = staff_client.get(f"/imports/{original}").get_data(as_text=True)
    assert "2 of its 3 rejected rows" in page
    assert listed_rows(page) == {
        "4": f"4 fixed later in import #{follow_up}",
        "7": f"7 fixed later in import #{follow_up}",
        "10": "10",
    }


def test_an_import_of_rows_fixed_in_the_grid_offers_no_match_columns_again(app, staff_client):
    """The fix grid's "Import the fixed rows" makes an import of the grid's rows, their columns matched
    already: its page no longer offers "Match columns and import again", which the import it fixes still does."""
    original = import_with_bad_rows(app, staff_client)
    follow_up = fix_rows_4_and_7(app, staff_client, original)

    page = staff_client.get(f"/imports/{follow_up}").get_data(as_text=True)
    assert f'Fixes for <a href="/imports/{original}">import #{original}</a>' in page
    assert "Match columns and import again" not in page
    assert "Match columns and import again" in staff_client.get(f"/imports/{original}").get_data(as_text=True)
    refused = text_of(staff_client.post(f"/imports/{follow_up}/rematch", follow_redirects=True))
    assert (
        f"Import #{follow_up} imported rows fixed on the fix page of import #{original}, read with that import's "
        f"columns: to match the columns again, do it from import #{original}." in refused
    ), refused
