"""Answer a request with a table as a streamed CSV or XLSX attachment (one place for every download)."""

import datetime as dt
from collections.abc import Iterable

from flask import Response, abort, stream_with_context

from .services.reports import csv_lines
from .services.spreadsheet import XLSX_MIMETYPE, xlsx_chunks


def table_download(stem: str, header: list[str], rows: Iterable[list[object]], fmt: str, *,
                   text_columns: set[int] = frozenset(), number_formats: dict[int, str] | None = None,
                   sheet_title: str = "Rows"):  # fmt: skip
    """Return *rows* under *header* as `stem-DATE.csv` or `stem-DATE.xlsx`, streamed (the download starts
    at once, memory stays flat); 404 for another format."""
    name = f"{stem}-{dt.datetime.now(dt.UTC):%Y-%m-%d}.{fmt}"
    if fmt == "csv":
        body, mimetype = csv_lines(header, rows), "text/csv"
    elif fmt == "xlsx":
        body = xlsx_chunks(header, rows, text_columns=text_columns, number_formats=number_formats,
                           sheet_title=sheet_title)  # fmt: skip
        mimetype = XLSX_MIMETYPE
    else:
        abort(404)
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
