"""Answer a request with a table as a streamed CSV or an XLSX attachment (one place for every download)."""

from collections.abc import Iterable

from flask import Response, abort, send_file, stream_with_context

from .services.reports import XLSX_MIMETYPE, csv_lines, xlsx_file


def table_download(stem: str, header: list[str], rows: Iterable[list[object]], fmt: str, *,
                   text_columns: set[int] = frozenset(), sheet_title: str = "Rows"):  # fmt: skip
    """Return *rows* under *header* as `stem.csv` (streamed) or `stem.xlsx`; 404 for another format."""
    if fmt == "csv":
        response = Response(stream_with_context(csv_lines(header, rows)), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    if fmt == "xlsx":
        output = xlsx_file(header, rows, text_columns=text_columns, sheet_title=sheet_title)
        return send_file(output, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=f"{stem}.xlsx")
    abort(404)
