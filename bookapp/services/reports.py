"""Files bookapp writes: rejected rows to fix and re-upload. Every cell is safe to open in a spreadsheet."""

import csv
import io
import tempfile
from array import array
from collections.abc import Iterable, Iterator
from itertools import islice

from sqlalchemy import select

from ..extensions import db
from ..importer.text_values import FORMULA_PREFIXES, TEXT_CONSTANT
from ..models import Import, ImportMode, RejectedRow
from .dry_runs import changes_listed
from .problems import capped_cells
from .profiles import REJECTED_DOWNLOAD_COLUMNS
from .spreadsheet import XLSX_MIMETYPE  # noqa: F401 - where callers found it


def neutralised(value: object) -> object:
    """Return text that a spreadsheet would run as a formula with an apostrophe in front (a formula that
    is only a text constant stays as it is: a spreadsheet shows its digits, and bookapp reads them back)."""
    if isinstance(value, str) and value[:1] in FORMULA_PREFIXES and not TEXT_CONSTANT.match(value):
        return "'" + value
    return value


def rejected_table(imp: Import) -> tuple[list[str], Iterator[list[object]]]:
    """Return the header (the file's columns, then "row" and "error") and the rejected rows, in file order.

    "row" is the row a spreadsheet showed it in, with the file's line after it where that differs.
    A row stored whole before rows were capped (millions of cells) is cut as rows are now, and says so.
    """
    headers = [str(h) if h is not None else "" for h in (imp.headers or [])]

    def rows() -> Iterator[list[object]]:
        query = (
            select(RejectedRow.cells, RejectedRow.row_number, RejectedRow.line, RejectedRow.errors)
            .where(RejectedRow.import_id == imp.id)
            .order_by(RejectedRow.row_number)
            .execution_options(yield_per=1000)
        )
        for stored, row_number, line, errors in db.session.execute(query):
            cells, cut = capped_cells(stored if isinstance(stored, list) else [stored])
            if cut:
                errors = f"{errors}; {cut}" if errors else cut
            # A whole number as the spreadsheet showed it (2010, not 2010.0 in a CSV).
            cells = [int(c) if type(c) is float and c.is_integer() else c for c in cells]
            padded = cells + [None] * (len(headers) - len(cells))
            where = row_number if line is None else f"{row_number} (line {line} of the file)"
            # Cells past the header's columns come after "row" and "error", which stay under their names.
            yield [*padded[: len(headers)], where, errors, *cells[len(headers) :]]

    return [*headers, *REJECTED_DOWNLOAD_COLUMNS], rows()


#: A cell of CSV text that starts like a formula: after a comma or a line break, perhaps quoted (a
#: cell holding a carriage return always is: unquoted, one is the end of the line). Looked for in the
#: encoded text with each kind of character made one (commas and line breaks ",", the prefixes "="),
#: so that three plain substring searches find it: a regular expression over every character took a
#: sixth of a million-row export. UTF-8 never uses an ASCII byte inside another character.
_UNQUOTED_PREFIXES = "".join(p for p in FORMULA_PREFIXES if p != "\r").encode()
_AS_ONE_KIND = bytes.maketrans(b"\n" + _UNQUOTED_PREFIXES, b"," + b"=" * len(_UNQUOTED_PREFIXES))
_FORMULA_CELLS = (b",=", b',"=', b',"\r')
#: Rows written, and looked at for formulas, at a time.
CSV_BATCH_ROWS = 500


def _formula_cell_in(encoded: bytes, delimiter: str = ",") -> bool:
    if delimiter != ",":  # its delimiter made a comma too (a comma inside a cell then only costs the slow path)
        encoded = encoded.replace(delimiter.encode(), b",")
    marked = (b"\n" + encoded).translate(_AS_ONE_KIND)  # the line break before the first row
    return any(cell in marked for cell in _FORMULA_CELLS)


#: Characters that make a header cell need quotes in the file, so the reader finds the delimiter.
_QUOTED_IN_HEADER = (",", ";", "\t", "|", '"', "\n", "\r")


def header_cell(header: str) -> str:
    """A header cell as a CSV's first line holds it: quoted when it holds a delimiter of any kind, so
    the reader finds the file's own delimiter in that line."""
    if any(c in header for c in _QUOTED_IN_HEADER):
        return '"' + header.replace('"', '""') + '"'
    return header


def csv_lines(header: list[str], rows: Iterable[list[object]], delimiter: str = ",") -> Iterator[bytes]:
    """Yield a UTF-8 CSV (with BOM, so Excel reads it right), encoded, a few hundred rows at a time.

    Each batch is written whole, then its text searched for a cell that starts like a formula; only a
    batch with one (or with a line break before such a character inside a cell) is written again
    cell by cell, neutralised. Looking at every cell in Python halved the speed of a million-row export.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    first_line = delimiter.join(header_cell(str(neutralised(h))) for h in header) + "\r\n"
    yield ("\ufeff" + first_line).encode()
    rows = iter(rows)
    while batch := list(islice(rows, CSV_BATCH_ROWS)):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(batch)  # None is written as an empty cell
        encoded = buffer.getvalue().encode()
        if _formula_cell_in(encoded, delimiter):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([neutralised(v) for v in row] for row in batch)
            encoded = buffer.getvalue().encode()
        yield encoded


RECONCILIATION_HEADER = ["Row", "Outcome", "ISBN", "Title", "Changes (before → after)", "Problems"]


def reconciliation_rows(imp: Import, upload_path) -> Iterator[list[object]]:
    """Yield one line per row of the import's file: its outcome and, for updates, what changed.

    Walks the stored file again next to the per-chunk outcome records, so memory stays flat.
    Raises FileProblem when the stored file is gone.
    """
    from ..importer import RowValidator, open_table
    from ..importer.errors import FileProblem
    from ..importer.fields import LABELS
    from ..models import ImportChange, ImportChunk
    from .outcomes import Outcome
    from .row_check import comma_columns, punctuation_columns

    names = {o.value: o.name.lower() for o in Outcome}
    if imp.saved_nothing:  # all or nothing, not saved: its valid rows were only checked
        names = {code: name if name == "rejected" else "valid, not saved" for code, name in names.items()}
    if not upload_path.exists():
        raise FileProblem("The uploaded file is no longer kept, so the per-row report cannot be made.")
    listed = changes_listed(imp)  # a dry run keeps the changes of its first updated books only
    chunks = db.session.scalars(
        select(ImportChunk).where(ImportChunk.import_id == imp.id).order_by(ImportChunk.first_row)
    )
    with open_table(upload_path) as table:
        header_map = imp.reads_with().header_map(table.headers, table.header_row)
        validator = RowValidator(
            header_map,
            decimal_comma=table.decimal_comma,
            decimal_comma_columns=comma_columns(imp, table, header_map),
            catalogue_punctuation_columns=punctuation_columns(imp, table, header_map),
            text_cells=table.text_cells,
        )
        isbn_at, title_at = header_map.positions["isbn"], header_map.positions.get("title")

        def as_read(cells: list, position: int) -> str:
            """A rejected row's cell as the import read it (it has no validated value): the file's, or, in a shop
            export's variant row that left it blank, the one it took from its product's first row."""
            value = cells[position] if isinstance(cells, list) and position < len(cells) else None
            return "" if value is None else str(value)

        rows = iter(validator.continued(table.rows))
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
            problems, rejected_cells = {}, {}
            for row_number, errors, cells in db.session.execute(
                select(RejectedRow.row_number, RejectedRow.errors, RejectedRow.cells).where(
                    RejectedRow.import_id == imp.id, RejectedRow.row_number.between(chunk.first_row, chunk.last_row)
                )
            ):
                problems[row_number], rejected_cells[row_number] = errors, cells
            for row_number, code in zip(numbers, chunk.outcomes, strict=True):
                row = values_of.get(row_number)
                before = changes.get(row_number)
                outcome = names[bytes([code])]
                described = ""
                if before and row is not None:
                    described = "; ".join(
                        f"{LABELS[f]}: {'' if v is None else v} → {_after(imp.mode, f, v, row)}"
                        for f, v in before.items()
                    )
                elif listed and outcome == "updated" and row_number > listed.last_row:
                    described = listed.not_listed()
                cells = rejected_cells.get(row_number)
                yield [
                    row_number,
                    outcome,
                    row.isbn if row else as_read(cells, isbn_at) if cells else "",
                    row.title if row else as_read(cells, title_at) if cells else "",
                    described,
                    problems.get(row_number, ""),
                ]


def _after(mode: str, field: str, before, row) -> str:
    """A changed field's value after the row, as the report shows it: with Add to stock the row's quantity
    was added to the stock (3 → 8 (+5)); any other field changed holds the row's value."""
    value = getattr(row, field)
    if field == "quantity" and mode == ImportMode.ADD_STOCK and before is not None:
        return f"{before + value} (+{value})"
    return "" if value is None else str(value)


TEMPLATE_EXAMPLE = ["Dune", "Frank Herbert", "Classic", "978-0-441-17271-9", "1965", "9.99", "412", "3",
                    "Desert planet, politics and ecology."]  # fmt: skip
TEMPLATE_HOW_TO = [
    "How to fill in this template",
    "One book per row, below the header row. Keep the header row as it is.",
    "Required: Title, Author, Book type, ISBN, Year published, Price, Quantity. Optional: No. of pages, Description.",
    "Book type: one of Sci-tech, Magazine, Comic, Classic, Horror.",
    "ISBN: 10 or 13 digits; hyphens and spaces are fine. Keep the column formatted as Text so Excel keeps every digit.",
    "Year published: 4 digits, like 1965. Price: like 12.99. Quantity and No. of pages: whole numbers.",
    "Upload the file on the Upload page. Use a dry run first to see what would happen.",
    "",
    "An example (it stays on this sheet, so it is never imported):",
]


def template_csv() -> str:
    """Return the CSV template: the header row only (an example row left in would be imported as a book)."""
    from ..importer.fields import FIELDS, LABELS

    return b"".join(csv_lines([LABELS[f] for f in FIELDS], [])).decode()


def template_xlsx() -> tempfile.SpooledTemporaryFile:
    """Return the XLSX template: headers, ISBN as text, a book-type drop-down, and a how-to sheet with an example.

    The example sits on the how-to sheet, never below the headers: a user who leaves it there would
    import it as a book.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    from ..importer.fields import BOOK_TYPES, FIELDS, LABELS

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Books"
    sheet.append([LABELS[f] for f in FIELDS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    isbn_letter = chr(ord("A") + FIELDS.index("isbn"))
    type_letter = chr(ord("A") + FIELDS.index("book_type"))
    for row in range(2, 1002):
        sheet[f"{isbn_letter}{row}"].number_format = "@"
    choice = DataValidation(type="list", formula1='"' + ",".join(BOOK_TYPES) + '"', allow_blank=False,
                            showErrorMessage=True, error="Choose one of the five book types.")  # fmt: skip
    choice.add(f"{type_letter}2:{type_letter}100000")
    sheet.add_data_validation(choice)
    for letter, width in zip("ABCDEFGHI", (34, 24, 12, 20, 14, 10, 12, 10, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    how_to = workbook.create_sheet("How to")
    for line in TEMPLATE_HOW_TO:
        how_to.append([line])
    how_to.append([LABELS[f] for f in FIELDS])
    for cell in how_to[how_to.max_row]:
        cell.font = Font(bold=True)
    how_to.append(TEMPLATE_EXAMPLE)
    how_to["A1"].font = Font(bold=True)
    how_to.column_dimensions["A"].width = 110
    output = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115 - sent and closed by the caller
    workbook.save(output)
    output.seek(0)
    return output
