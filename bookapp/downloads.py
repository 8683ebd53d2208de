"""Answer a request with a table as a streamed CSV or XLSX attachment (one place for every download)."""

import datetime as dt
from collections.abc import Iterable

from flask import Response, abort, stream_with_context

from .importer import FileProblem
from .importer.headers import field_of
from .models import Import
from .services.import_jobs import upload_path
from .services.reports import RECONCILIATION_HEADER, csv_lines, reconciliation_rows, rejected_table
from .services.row_check import reads_decimal_comma
from .services.spreadsheet import XLSX_MIMETYPE, xlsx_chunks


def table_download(stem: str, header: list[str], rows: Iterable[list[object]], fmt: str, *,
                   text_columns: set[int] = frozenset(), number_formats: dict[int, str] | None = None,
                   sheet_title: str = "Rows", delimiter: str = ","):  # fmt: skip
    """Return *rows* under *header* as `stem-DATE.csv` or `stem-DATE.xlsx`, streamed (the download starts
    at once, memory stays flat); 404 for another format."""
    name = f"{stem}-{dt.datetime.now(dt.UTC):%Y-%m-%d}.{fmt}"
    if fmt == "csv":
        body, mimetype = csv_lines(header, rows, delimiter), "text/csv"
    elif fmt == "xlsx":
        body = xlsx_chunks(header, rows, text_columns=text_columns, number_formats=number_formats,
                           sheet_title=sheet_title)  # fmt: skip
        mimetype = XLSX_MIMETYPE
    else:
        abort(404)
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def rejected_download(imp: Import, fmt: str):
    """Answer with the rejected rows as CSV or XLSX: the file's columns plus an error column.

    A CSV keeps the semicolons of a file read with them: its prices' decimal commas then read as they
    did in the original when it comes back fixed."""
    header, rows = rejected_table(imp)
    isbn_columns = {i for i, h in enumerate(header) if field_of(h) == "isbn"}
    return table_download(f"import-{imp.id}-rejected-rows", header, rows, fmt, text_columns=isbn_columns,
                          sheet_title="Rejected rows", delimiter=";" if reads_decimal_comma(imp) else ",")  # fmt: skip


def reconciliation_download(imp: Import, fmt: str):
    """Answer with one line per row of the file: its outcome and, for updates, before → after."""
    if not imp.is_terminal:
        abort(409, description="The report is ready when the import has ended.")
    try:
        rows = reconciliation_rows(imp, upload_path(imp))
        first = next(rows, None)
    except FileProblem as problem:
        abort(410, description=problem.message)

    def all_rows():
        if first is not None:
            yield first
            yield from rows

    return table_download(f"import-{imp.id}-report", RECONCILIATION_HEADER, all_rows(), fmt, text_columns={2},
                          sheet_title="Report")  # fmt: skip
