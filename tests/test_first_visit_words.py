"""What a first-time staff user reads on an ended import's page: each link and button of its actions says
alone what it does or downloads (a screen reader's list of links reads them out of their line), and the two
pairs of downloads are named alike."""

import re
from html import unescape

from tests.conftest import sign_in
from tests.test_fixes import import_with_bad_rows


def action_names(html: str) -> list[str]:
    """The text of each link and button in the import's actions, as a list of links reads it."""
    actions = re.search(r'<div class="actions">(.*?)</div>\s*(?:<p|</section>)', html, re.S)
    assert actions, "no actions on the import's page"
    found = re.findall(r"<(?:a|button)\b[^>]*>(.*?)</(?:a|button)>", actions.group(1), re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", text)).split()) for text in found]


def test_every_download_of_an_ended_import_names_what_it_downloads(sqlite_app):
    """The row-by-row report's second link said only "(XLSX)", beside "Rejected rows (XLSX)": read alone, or
    by a screen reader's list of links, it named no file. Each download names its file and its format."""
    from tests.conftest import add_user

    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    import_id = import_with_bad_rows(sqlite_app, client)
    names = action_names(client.get(f"/imports/{import_id}").get_data(as_text=True))
    downloads = [name for name in names if re.search(r"\((CSV|XLSX)\)$", name)]
    assert downloads == [
        "Row-by-row report (CSV)",
        "Row-by-row report (XLSX)",
        "Rejected rows (CSV)",
        "Rejected rows (XLSX)",
    ], names
    assert all(re.search(r"[A-Za-z]{3}", re.sub(r"\((CSV|XLSX)\)", "", name)) for name in names), names


def export_words(page: str) -> str:
    """The words in front of the books list's export links, as the page shows them."""
    found = re.search(r'<p class="actions">(.*?)<a [^>]*>Export CSV</a>', page, re.S)
    assert found, "no Export CSV link"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def test_the_books_list_says_which_books_its_exports_hold(sqlite_app):
    """A search for "book 1" showed "Books 4 matching" and, under it, "Export CSV": a newcomer could not tell
    whether that file holds the books found or the whole stock, nor in what order. The links now say: the
    books found, all of them (every page), sorted as shown; and on the whole list, every book."""
    from tests.conftest import add_user, run_worker
    from tests.helpers import book_row, csv_bytes
    from tests.test_imports import upload

    add_user(sqlite_app, "staff@example.com")
    client = sign_in(sqlite_app.test_client(), "staff@example.com")
    upload(client, csv_bytes([book_row(n) for n in range(1, 13)]))
    run_worker(sqlite_app)

    found = client.get("/books?q=book+1&sort=price&direction=desc&per_page=25").get_data(as_text=True)
    assert export_words(found) == "The 4 books found (every page), sorted as shown:", export_words(found)
    whole = client.get("/books").get_data(as_text=True)
    assert export_words(whole) == "Every book (12), sorted as shown:", export_words(whole)
