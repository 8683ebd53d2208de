"""Files bookapp writes: rejected rows to fix and re-upload. Every cell is safe to open in a spreadsheet."""

import csv
import io
import tempfile
from array import array
from collections.abc import Iterable, Iterator

from sqlalchemy import select

from ..extensions import db
from ..importer.values import FORMULA_PREFIXES
from ..models import Import, RejectedRow

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralised(value: object) -> object:
    """Return text that a spreadsheet would run as a formula with an apostrophe in front."""
    if isinstance(value, str) and value[:1] in FORMULA_PREFIXES:
        return "'" + value
    return value


def rejected_table(imp: Import) -> tuple[list[str], Iterator[list[object]]]:
    """Return the header (the file's columns plus "error") and the rejected rows, in file order."""
    headers = [str(h) if h is not None else "" for h in (imp.headers or [])]

    def rows() -> Iterator[list[object]]:
        query = (
            select(RejectedRow.cells, RejectedRow.errors)
            .where(RejectedRow.import_id == imp.id)
            .order_by(RejectedRow.row_number)
            .execution_options(yield_per=1000)
        )
        for cells, errors in db.session.execute(query):
            padded = list(cells) + [None] * (len(headers) - len(cells))
            yield [*padded[: max(len(headers), len(cells))], errors]

    return [*headers, "error"], rows()


def csv_lines(header: list[str], rows: Iterable[list[object]]) -> Iterator[str]:
    """Yield a UTF-8 CSV (with BOM, so Excel reads it right) a few hundred rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([neutralised(h) for h in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow(["" if v is None else neutralised(v) for v in row])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_file(header: list[str], rows: Iterable[list[object]], *, text_columns: set[int] = frozenset(),
              sheet_title: str = "Rows") -> tempfile.SpooledTemporaryFile:  # fmt: skip
    """Write an XLSX workbook (streamed, write-only) and return it as a rewound file."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)

    def cell(value, column):
        written = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            written.data_type = "s"  # never a formula, whatever the text starts with
        if column in text_columns:
            written.number_format = "@"
        return written

    sheet.append([cell(h, None) for h in header])
    for row in rows:
        sheet.append([cell(v, i) for i, v in enumerate(row)])
    output = tempfile.SpooledTemporaryFile(max_size=16 << 20)  # noqa: SIM115 - the caller sends and closes it
    workbook.save(output)
    output.seek(0)
    return output


RECONCILIATION_HEADER = ["Row", "Outcome", "ISBN", "Title", "Changes (before → after)", "Problems"]


def reconciliation_rows(imp: Import, upload_path) -> Iterator[list[object]]:
    """Yield one line per row of the import's file: its outcome and, for updates, what changed.

    Walks the stored file again next to the per-chunk outcome records, so memory stays flat.
    Raises FileProblem when the stored file is gone.
    """
    from ..importer import RowValidator, map_headers, open_table
    from ..importer.errors import FileProblem
    from ..importer.fields import LABELS
    from ..models import ImportChange, ImportChunk
    from .saving import Outcome

    names = {o.value: o.name.lower() for o in Outcome}
    if not upload_path.exists():
        raise FileProblem("The uploaded file is no longer kept, so the per-row report cannot be made.")
    chunks = db.session.scalars(
        select(ImportChunk).where(ImportChunk.import_id == imp.id).order_by(ImportChunk.first_row)
    )
    with open_table(upload_path) as table:
        validator = RowValidator(map_headers(table.headers), decimal_comma=table.decimal_comma)
        rows = iter(table.rows)
        for chunk in chunks:
            numbers = array("I")
            numbers.frombytes(chunk.row_numbers)
            wanted = set(numbers)
            file_rows = []
            for row_number, cells in rows:
                if row_number in wanted:
                    file_rows.append((row_number, cells))
                if row_number >= chunk.last_row:
                    break
            valid, _ = validator.validate_chunk(file_rows)
            values_of = {row.row_number: row for row in valid}
            changes = {
                c.row_number: c.before
                for c in db.session.scalars(
                    select(ImportChange).where(
                        ImportChange.import_id == imp.id,
                        ImportChange.row_number.between(chunk.first_row, chunk.last_row),
                    )
                )
            }
            problems = dict(
                db.session.execute(
                    select(RejectedRow.row_number, RejectedRow.errors).where(
                        RejectedRow.import_id == imp.id, RejectedRow.row_number.between(chunk.first_row, chunk.last_row)
                    )
                ).all()
            )
            for row_number, code in zip(numbers, chunk.outcomes, strict=True):
                row = values_of.get(row_number)
                before = changes.get(row_number)
                described = ""
                if before and row is not None:
                    described = "; ".join(
                        f"{LABELS[f]}: {'' if v is None else v} → {'' if getattr(row, f) is None else getattr(row, f)}"
                        for f, v in before.items()
                    )
                yield [
                    row_number,
                    names[bytes([code])],
                    row.isbn if row else "",
                    row.title if row else "",
                    described,
                    problems.get(row_number, ""),
                ]
