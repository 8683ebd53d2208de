"""In a real headless Chromium: the lists on the grey page (Books, Imports) have no stripe of another colour
at their edges where the scroll shadows' covers are, the shadow still shows where a table goes on, and the
imports list of a shop's real exports fits 1280 px, its long file names wrapping after _, - and ."""

import base64

import pytest

from tests import layouts, test_browser
from tests.conftest import add_user, run_worker, sign_in
from tests.helpers import HEADER, book_row, csv_bytes
from tests.test_browser import screenshot, sign_in_as_staff
from tests.test_browser_books import horizontal_overflow
from tests.test_imports import upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]

page, web_server = test_browser.page, test_browser.web_server


def seed(app, files: dict[str, bytes]) -> None:
    """Upload each file as staff and run its import (or stop it at Match columns) in this process."""
    add_user(app, "staff@example.com")
    client = sign_in(app.test_client(), "staff@example.com")
    for name, content in files.items():
        upload(client, content, name=name)
        run_worker(app)


def pixels(page, points: list[tuple[float, float]]) -> list[tuple[int, int, int]]:
    """The colours a screenshot of the viewport has at these points (read back through a canvas)."""
    shot = base64.b64encode(page.screenshot()).decode()
    return [
        tuple(rgb)
        for rgb in page.evaluate(
            """async ([shot, points]) => {
                const image = new Image();
                image.src = 'data:image/png;base64,' + shot;
                await image.decode();
                const canvas = document.createElement('canvas');
                canvas.width = image.width; canvas.height = image.height;
                const context = canvas.getContext('2d');
                context.drawImage(image, 0, 0);
                const scale = image.width / window.innerWidth;
                return points.map(([x, y]) => [...context.getImageData(Math.round(x * scale), Math.round(y * scale), 1, 1).data].slice(0, 3));
            }""",
            [shot, points],
        )
    ]


def edge_and_middle(page) -> dict:
    """The colour of the list's first row, in the blank padding under its text: at the left edge (under the
    left cover), in the middle, and at the right edge (under the right cover)."""
    box = page.evaluate(
        """() => { const w = document.querySelector('.table-wrap').getBoundingClientRect();
                   const r = document.querySelector('.table-wrap tbody tr').getBoundingClientRect();
                   return {left: w.left, right: w.right, y: r.bottom - 3}; }"""
    )
    y = box["y"]
    left, middle, right = pixels(
        page, [(box["left"] + 4, y), ((box["left"] + box["right"]) / 2, y), (box["right"] - 3, y)]
    )
    return {"left": left, "middle": middle, "right": right}


def test_the_lists_on_the_grey_page_have_no_white_stripes_and_the_imports_list_fits_1280_px(
    sqlite_app, web_server, page
):
    from playwright.sync_api import expect

    shopify_name, shopify = layouts.shopify_variants(1)
    _, goodreads = layouts.goodreads(20)
    seed(sqlite_app, {
        "variants10_" + shopify_name: shopify,
        "goodreads_library_export.csv": goodreads,
        "spring-stock-list-from-the-warehouse-final.csv": csv_bytes(
            [book_row(n, **({"Price": "free"} if n % 7 == 0 else {})) for n in range(1, 40)]),
        # A stock list with a row per extra picture of a book: 8 rows, 6 read and 2 left out.
        "stock-with-pictures.csv": csv_bytes(
            [[*book_row(n), ""] for n in range(50, 56)] + [[""] * len(HEADER) + [f"https://example.com/{n}.jpg"]
                                                          for n in (1, 2)], header=[*HEADER, "Image Src"]),
    })  # fmt: skip
    sign_in_as_staff(page, web_server)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(web_server + "/imports")
    assert horizontal_overflow(page, ".table-wrap") <= 0, "the imports list fits 1280 px"
    # Rows says the file's rows as the import's page does, the rows read and left out under them.
    rows = page.locator("main table tbody tr", has_text="pictures").locator("td").nth(7)
    expect(rows).to_have_text("8 rows: 6 read, 2 left out")
    assert page.locator(".scroll-hint").is_hidden(), "no 'Wider than the screen' on a desktop"
    rejected = page.locator("main table thead th", has_text="Rejected")
    assert rejected.evaluate(
        "th => th.getBoundingClientRect().right <= th.closest('.table-wrap').getBoundingClientRect().right"
    )
    name = page.locator("main table tbody a", has_text="products").inner_html()
    assert name == "variants10_<wbr>products_<wbr>export_<wbr>1.<wbr>csv", name
    colours = edge_and_middle(page)
    assert colours["left"] == colours["middle"] == colours["right"], f"no stripe at the edges of /imports: {colours}"
    screenshot(page, "table-edges-imports-1280")

    page.goto(web_server + "/books")
    colours = edge_and_middle(page)
    assert colours["left"] == colours["middle"] == colours["right"], f"no stripe at the edges of /books: {colours}"
    screenshot(page, "table-edges-books-1280")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(web_server + "/imports")
    assert horizontal_overflow(page, ".table-wrap") > 0 and page.locator(".scroll-hint").is_visible()
    colours = edge_and_middle(page)
    assert colours["left"] == colours["middle"], f"nothing to the left, no shadow there: {colours}"
    assert sum(colours["right"]) < sum(colours["middle"]) - 30, f"a shadow where the list goes on: {colours}"
    lines = page.locator("main table tbody a", has_text="products").evaluate(
        "a => [...a.getClientRects()].map(r => Math.round(r.width))"
    )
    assert len(lines) >= 2, "the long name wraps"
    assert rows.evaluate("td => td.getBoundingClientRect().width") < 100, "the rows read and left out wrap in two"
    screenshot(page, "table-edges-imports-390")
