"""A form's problems tied to their fields, as the server renders them (WCAG 1.3.1, 3.3.1): aria-invalid and
aria-describedby naming the message, the first such field focused (autofocus, so it works without scripts), a
summary of links at the top when there are several; and sort state on the column's header (4.1.2)."""

import re
from html import unescape
from html.parser import HTMLParser

from tests.conftest import add_user, run_worker
from tests.helpers import book_row, csv_bytes, goodreads_csv, goodreads_row
from tests.test_fixes import import_with_bad_rows
from tests.test_imports import upload


class Controls(HTMLParser):
    """The page's form controls and sortable headers: {id or name: attributes}."""

    def __init__(self, html: str):
        super().__init__()
        self.controls: dict[str, dict] = {}
        self.headers: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("input", "select", "textarea") and attributes.get("type") != "hidden":
            self.controls[attributes.get("id") or attributes["name"]] = attributes
        elif tag == "th":
            self.headers.append(attributes)


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert found, f"no element #{element_id}"
    return unescape(found.group(1)).strip()


def invalid(controls: Controls) -> dict[str, dict]:
    return {name: a for name, a in controls.controls.items() if a.get("aria-invalid") == "true"}


def focused(controls: Controls) -> list[str]:
    return [name for name, a in controls.controls.items() if "autofocus" in a]


def summary_links(html: str) -> list[tuple[str, str]]:
    found = re.search(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', html, re.S)
    return (
        [(href, unescape(text)) for href, text in re.findall(r'<a href="#([^"]+)">([^<]+)</a>', found.group(1))]
        if found
        else []
    )


def test_a_refused_book_edit_ties_each_problem_to_its_field(app, staff_client):
    upload(staff_client, csv_bytes([book_row(1)]))
    run_worker(app)
    fields = {"title": "Book 1", "author": "A", "book_type": "Comic", "isbn": "9780000000019", "quantity": "1"}

    response = staff_client.post("/books/1/edit", data={**fields, "year_published": "someday", "price": "-5"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    controls = Controls(html)
    assert set(invalid(controls)) == {"year_published", "price"}
    for name, attributes in invalid(controls).items():
        assert attributes["aria-describedby"] == f"{name}-problem"
    assert "4-digit year" in text_of(html, "year_published-problem")
    assert "negative" in text_of(html, "price-problem")
    assert focused(controls) == ["year_published"], "the first field with a problem takes the focus"
    assert summary_links(html) == [
        ("year_published", text_of(html, "year_published-problem")),
        ("price", text_of(html, "price-problem")),
    ]
    assert "<title>Problems: Edit" in html

    one = staff_client.post("/books/1/edit", data={**fields, "year_published": "1999", "price": "-5"})
    html = one.get_data(as_text=True)
    assert set(invalid(Controls(html))) == {"price"} and focused(Controls(html)) == ["price"]
    assert summary_links(html) == [] and "error-summary" not in html, "one problem needs no summary"


def test_a_wrong_password_is_told_on_both_fields_and_missing_ones_each_on_its_own(sqlite_app):
    add_user(sqlite_app, "staff@example.com")
    client = sqlite_app.test_client()
    assert focused(Controls(client.get("/login").get_data(as_text=True))) == ["email"]

    html = client.post("/login", data={"email": "staff@example.com", "password": "nope"}).get_data(as_text=True)
    controls = Controls(html)
    assert set(invalid(controls)) == {"email", "password"}
    assert {a["aria-describedby"] for a in invalid(controls).values()} == {"sign-in-problem"}
    assert text_of(html, "sign-in-problem") == "That email and password do not match an account."
    assert 'id="sign-in-problem" role="alert"' in html and 'class="flash' not in html, "said in the form, once"
    assert focused(controls) == ["email"]

    html = client.post("/login", data={"email": "", "password": ""}).get_data(as_text=True)
    controls = Controls(html)
    assert {n: a["aria-describedby"] for n, a in invalid(controls).items()} == {
        "email": "email-problem",
        "password": "password-problem",
    }
    assert focused(controls) == ["email"] and [href for href, _ in summary_links(html)] == ["email", "password"]


def test_a_refused_upload_and_refused_column_matches_are_tied_to_their_controls(app, staff_client):
    response = upload(staff_client, b"", name="empty.csv")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    file_input = Controls(html).controls["file"]
    assert (file_input["aria-invalid"], file_input["aria-describedby"]) == ("true", "file-problem")
    assert "autofocus" in file_input and text_of(html, "file-problem")

    waiting = upload(staff_client, goodreads_csv([goodreads_row(n) for n in range(1, 6)]), name="goodreads.csv")
    columns = waiting.location
    page = staff_client.get(columns).get_data(as_text=True)
    assert invalid(Controls(page)) == {}, "nothing is marked before the form is sent"
    html = staff_client.post(columns, data={"action": "continue"}).get_data(as_text=True)
    marked = invalid(Controls(html))
    assert {"column-book_type", "column-price", "column-quantity"} <= set(marked)
    assert all(a["aria-describedby"] == f"missing-{n.removeprefix('column-')}" for n, a in marked.items())
    assert len(focused(Controls(html))) == 1 and focused(Controls(html))[0] in marked


def test_a_refused_fix_puts_the_focus_on_the_first_cell_with_a_problem(app, staff_client):
    import_id = import_with_bad_rows(app, staff_client)
    response = staff_client.post(f"/imports/{import_id}/fix", data={"action": "import"})
    assert response.status_code == 400
    controls = Controls(response.get_data(as_text=True))
    assert focused(controls) == [next(iter(invalid(controls)))]
    assert focused(Controls(staff_client.get(f"/imports/{import_id}/fix").get_data(as_text=True))) == []


def test_the_sorted_columns_header_says_so_and_the_arrow_is_not_read(app, staff_client):
    upload(staff_client, csv_bytes([book_row(n) for n in range(1, 4)]))
    run_worker(app)
    html = staff_client.get("/books?sort=price&direction=desc").get_data(as_text=True)
    sorted_by = [h for h in Controls(html).headers if "aria-sort" in h]
    assert sorted_by == [{"scope": "col", "class": "num", "aria-sort": "descending"}]
    assert '<span aria-hidden="true"> ▼</span></a></th>' in html and "aria-sort" not in html.split("<th")[0]
    assert not re.search(r"<a [^>]*aria-sort", html), "the link itself carries no sort state"
