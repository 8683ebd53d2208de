"""What a shop's staff read on an import's pages, in their own words: a dry run is called a dry run wherever it
is named. Files of the real layouts (tests/layouts.py), through the real endpoints and a real worker."""

import html
import re

from tests import layouts
from tests.conftest import run_worker
from tests.test_imports import upload
from tests.test_matching import text_of


def offered(page_html: str) -> dict:
    """The Match columns form as the page offers it: each select's choice, each text box's value, the values
    of Book type listed."""
    form: dict = {}
    for name, body in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page_html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        form.setdefault(name, []).append(html.unescape(chosen.group(1)) if chosen else "")
    for name, value in re.findall(r'<input type="(?:text|hidden)"[^>]* name="([^"]+)" value="([^"]*)"', page_html):
        if name != "csrf_token":
            form[name] = html.unescape(value)
    return form


def waiting_at_columns(app, client, name: str, content: bytes, **form) -> str:
    """Upload as a person does; return the Match columns page's location, its columns read."""
    answer = upload(client, content, name, **form)
    assert answer.status_code == 302 and answer.location.endswith("/columns"), answer.location
    run_worker(app)  # the column profile
    return answer.location


# A dry run says so on every page it has: tab, progress bar, cancel buttons.


def test_a_dry_run_is_called_a_dry_run_in_its_tab_title_its_progress_bar_and_its_cancel_buttons(app, staff_client):
    """A Goodreads export uploaded with "check only" waits at Match columns: its own page (tab title, the
    banner, Cancel) and its Match columns page (Cancel and its confirm) say dry run, not import; queued, its
    progress bar is the dry run's; finished, so is its tab's title."""
    name, content = layouts.goodreads(1)
    location = waiting_at_columns(app, staff_client, name, content, dry_run="y")
    waiting = staff_client.get("/imports/1").get_data(as_text=True)
    assert "<title>Dry run #1 · " in waiting and "Match its columns to check it" in text_of(
        staff_client.get("/imports/1")
    )
    assert ">Cancel dry run</button>" in waiting and "Cancel import" not in waiting

    columns = staff_client.get(location).get_data(as_text=True)
    assert re.search(r'data-confirm="Cancel this dry run\? The file is not checked\.">Cancel dry run</button>', columns)
    assert "Cancel import" not in columns and "Cancel this import" not in columns

    choices = {
        **offered(columns),
        "default-book_type": "Classic",
        "default-price": "0.00",
        "default-quantity": "1",
        "action": "continue",
    }
    assert staff_client.post(location, data=choices).location == "/imports/1"
    queued = staff_client.get("/imports/1").get_data(as_text=True)
    assert "<title>Dry run #1 · queued" in queued and 'aria-label="Dry run progress"' in queued
    assert ">Cancel dry run</button>" in queued and "Import progress" not in queued
    run_worker(app)
    assert "<title>Dry run #1 · succeeded" in staff_client.get("/imports/1").get_data(as_text=True)


def test_an_import_still_offers_to_cancel_the_import(app, staff_client):
    name, content = layouts.goodreads(1)
    location = waiting_at_columns(app, staff_client, name, content)
    assert ">Cancel import</button>" in staff_client.get("/imports/1").get_data(as_text=True)
    columns = staff_client.get(location).get_data(as_text=True)
    assert 'data-confirm="Cancel this import? The file is not imported.">Cancel import</button>' in columns
    assert "dry run" not in columns.lower()
