"""Finding one's way: the header marks the current page, operators find the queue and leave it, every
page has an icon, and a finished import's page stops refreshing itself."""

import io
import re

import pytest
from rq import Queue

from bookapp.embedded_redis import EmbeddedRedis
from bookapp.models import Role
from tests.conftest import add_user, build_app, run_worker, sign_in
from tests.helpers import book_row, csv_bytes


def staff(app):
    add_user(app, "staff@example.com")
    return sign_in(app.test_client(), "staff@example.com")


def current_links(html: str) -> dict[str, str]:
    """Return {link text: aria-current value} for the header's links that carry aria-current."""
    header = html.split("<main>", 1)[0]
    return dict(
        (text, value) for value, text in re.findall(r'<a href="[^"]*" aria-current="(\w+)">([^<]+)</a>', header)
    )


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/books", {"Books": "page"}),
        ("/imports/new", {"Upload": "page"}),
        ("/imports", {"Imports": "page"}),
        ("/imports/1", {"Imports": "true"}),
        ("/books/1", {"Books": "true"}),
    ],
)
def test_the_header_marks_the_current_page(sqlite_app, path, current):
    client = staff(sqlite_app)
    client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes([book_row(1)])), "one.csv")})
    run_worker(sqlite_app)
    html = client.get(path).get_data(as_text=True)
    assert current_links(html) == current


def test_operators_find_the_queue_and_health_under_one_menu_that_viewers_do_not_get(sqlite_app):
    html = staff(sqlite_app).get("/books").get_data(as_text=True)
    menu = re.search(r'<details class="nav-menu">\s*<summary>Operate</summary>(.*?)</details>', html, re.S)
    assert menu, "an Operate disclosure in the header"
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', menu[1]) == [("/rq/", "Queue"), ("/health", "Health")]

    add_user(sqlite_app, "viewer@example.com", Role.VIEWER)
    viewer = sign_in(sqlite_app.test_client(), "viewer@example.com").get("/books").get_data(as_text=True)
    assert "Operate" not in viewer and "/rq/" not in viewer


def test_every_page_names_an_icon_that_is_served(sqlite_app):
    client = staff(sqlite_app)
    pages = [(sqlite_app.test_client(), "/login")] + [
        (client, p) for p in ("/books", "/imports", "/imports/new", "/rq/")
    ]
    for visitor, path in pages:
        html = visitor.get(path).get_data(as_text=True)
        icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
        assert icon, path
        response = client.get(icon[1])
        assert response.status_code == 200 and response.mimetype == "image/svg+xml", path
        assert b"<svg" in response.data
    unasked = client.get("/favicon.ico")  # what a browser asks for on a page that names no icon (JSON)
    assert unasked.status_code == 200 and unasked.mimetype == "image/svg+xml"


def test_the_page_refreshes_itself_without_scripts_only_until_the_import_ends(sqlite_app):
    client = staff(sqlite_app)
    client.post("/imports/new", data={"file": (io.BytesIO(csv_bytes([book_row(1)])), "one.csv")})
    refresh = re.compile(r'<noscript><meta http-equiv="refresh" content="\d+"></noscript>')
    assert refresh.search(client.get("/imports/1").get_data(as_text=True)), "queued: the page follows it"
    run_worker(sqlite_app)
    assert not refresh.search(client.get("/imports/1").get_data(as_text=True)), "ended: it stops"


def test_the_dashboard_has_a_way_back_and_never_shows_where_redis_is(sqlite_app, redis_client, tmp_path):
    """The dashboard printed its Redis URL (with a unix socket, the socket's path) on every page."""
    socket_path = tmp_path / "r" / "queue.sock"
    server = EmbeddedRedis(tmp_path / "r", port=0, unix_socket=socket_path, persistent=False).start()
    try:
        app = build_app(f"sqlite:///{tmp_path / 'socket.sqlite3'}", server.url, tmp_path / "socket-app",
                        RQ_DASHBOARD_REDIS_URL=server.url)  # fmt: skip
        queue = app.config["IMPORT_QUEUE"]
        job = Queue(queue, connection=redis_client.__class__.from_url(server.url)).enqueue("builtins.len", "x")
        client = staff(app)
        pages = [
            "/rq/",
            "/rq/0/view/queues",
            "/rq/0/view/workers",
            "/rq/0/view/jobs",
            f"/rq/0/view/jobs/{queue}/queued/8/asc/1",
            "/rq/0/data/queues.json",
            "/rq/0/data/workers.json",
            f"/rq/0/data/jobs/{queue}/queued/8/asc/1.json",
            f"/rq/0/view/job/{job.id}",
            f"/rq/0/data/job/{job.id}.json",
        ]
        for path in pages:
            response = client.get(path, follow_redirects=True)
            body = response.get_data(as_text=True)
            assert response.status_code == 200, path
            assert str(socket_path) not in body and "unix://" not in body and "queue.sock" not in body, path
        front = client.get("/rq/").get_data(as_text=True)
        assert re.search(r'<a class="bookapp-back" href="/imports">[^<]*Back to bookapp</a>', front)
    finally:
        server.stop()


def test_match_columns_and_the_fix_grid_lead_back_to_their_import_alike(app, staff_client):
    """Match columns' way back to its import read "Import #1: …" where the fix grid's read "← Import #1: …":
    each page's way back now starts with its arrow, and a profile's too."""
    from bookapp.extensions import db
    from bookapp.importer import Mapping
    from bookapp.services.profiles import save_profile
    from tests import layouts
    from tests.helpers import HEADER
    from tests.test_fixes import import_with_bad_rows

    def back(path: str) -> str:
        page = staff_client.get(path).get_data(as_text=True)
        return re.sub(r"<[^>]+>", "", re.search(r'<p class="back">(.*?)</p>', page, re.S)[1]).strip()

    fixed = import_with_bad_rows(app, staff_client)
    name, content = layouts.goodreads(1)
    columns = staff_client.post(
        "/imports/new", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    ).location  # its columns wait to be matched: Match columns
    with app.app_context():
        saved = save_profile("Warehouse stock list", [*HEADER, "Shelf"], Mapping(), None)
        db.session.commit()
        profile_id = saved.id

    assert back(f"/imports/{fixed}/fix") == f"← Import #{fixed}: books.csv"
    assert back(columns) == f"← Import #{fixed + 1}: {name}"
    assert back(f"/imports/profiles/{profile_id}") == "← Import profiles"
