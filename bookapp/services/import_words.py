"""How an import ended, in words: its outcome ("succeeded with 3 rejected rows", a dry run's "would create
4 books"), the class that colours it, and the one sentence the command line prints, with the notes of the rows
read with a repair or left out."""

from ..importer.validation import NOTED_ROWS
from ..models import Import, ImportStatus
from .columns_read import field_columns
from .dry_runs import would_do

#: The note (kept with the repairs) of the rows left out because no column a field reads holds anything.
LEFT_OUT = "rows_without_book_cells"
#: The note of a workbook's rows with a number read as its cell's format shows it (9.996 as 10.00).
SHOWN_ROUNDED = "numbers_read_as_shown"
#: The note of the rows whose ISBN was an ISBN-10 that lost its leading 0 (a number cell's), read with it.
LEADING_ZERO = NOTED_ROWS["repaired"]
#: The note of the rows whose ISBN cell held several ISBNs of the book (read as the first).
SEVERAL_ISBNS = NOTED_ROWS["first_of_several"]
#: The note of the rows whose ISBN cell held a library catalogue's qualifier after the ISBN ("(pbk.)").
PAST_QUALIFIER = NOTED_ROWS["past_qualifier"]
#: The note of the rows whose title or author had a library catalogue's closing punctuation taken off
#: ("Dune /", "Herbert, Frank,": see importer.catalogue_values).
CATALOGUE_PUNCTUATION = NOTED_ROWS["punctuation_taken_off"]
#: The notes of the rows whose year or number of pages was written as a library catalogue writes it
#: ("c1965.", "©1965", "[1965]"; "xii, 412 p. :") and read as the year or the pages (catalogue_values).
CATALOGUE_YEAR = NOTED_ROWS["catalogue_year"]
CATALOGUE_PAGES = NOTED_ROWS["catalogue_pages"]
#: How the report says them: the field read, the catalogue's form of it, and an example.
_CATALOGUE_FORMS_SAID = (
    (CATALOGUE_YEAR, "the year", "date", "c1965., ©1965 or [1965] (read as 1965)"),
    (CATALOGUE_PAGES, "the number of pages", "extent", "xii, 402 p. : (read as 402)"),
)
#: The note of the rows whose author had the dates (or the fuller form) a library catalogue adds to a name
#: taken off ("Herbert, Frank, 1920-1986": see importer.catalogue_values).
CATALOGUE_DATES = NOTED_ROWS["dates_taken_off"]
#: The note of the rows whose quantity or number of pages was written with points grouping thousands (1.200),
#: read so as the file's prices are (a comma-separated file whose prices have a decimal comma).
THOUSANDS_POINTS = NOTED_ROWS["thousands_points"]
#: The note of the row under the header left out as a second header of field names (item_sku, …).
SECOND_HEADER = "second_header_row"
#: The note of the rows left out as a note under the books: one cell of text, nothing else.
NOTE_ROWS = "note_rows"
#: The note of the rows left out as a sheet's totals ("Total", no ISBN: see importer.left_out).
TOTALS = "totals_rows"
#: The note of a product export's rows of variable or grouped products left out (importer.left_out).
PRODUCTS = "product_rows"
#: The note of the rows whose description was written in HTML and stored as its text (importer.markup).
FROM_HTML = NOTED_ROWS["from_markup"]
#: How the summary says each note, in this order: the note, what its count counts, and the sentence ({count}:
#: "3 rows"; {rows}: which, "rows 4, 7, …"; {first}: the first of them).
_NOTES_SAID = (
    (PAST_QUALIFIER, "ISBN cell", "Read {count} past a library catalogue's qualifier after the ISBN, such as (pbk.): {rows}."),
    (CATALOGUE_PUNCTUATION, "row", "Took a library catalogue's closing punctuation (' /', ' :', ',', '.') off the title "
                                   "or author of {count}: {rows}."),
    *((kind, "row", f"Read {what} of {{count}} from a library catalogue's {form}, such as {example}: {{rows}}.")
      for kind, what, form, example in _CATALOGUE_FORMS_SAID),
    (CATALOGUE_DATES, "row", "Took the dates a library catalogue adds to a name (and the fuller form of its forenames) "
                             "off the author of {count}: {rows}."),
    (THOUSANDS_POINTS, "row", "Read the quantity or number of pages of {count} with points grouping thousands, as the "
                              "file's prices with a decimal comma write them (1.200 as 1200): {rows}."),
    (LEFT_OUT, "row", "Left out {count} with nothing in the matched columns ({rows})."),
    (TOTALS, "totals row", "Left out {count} ({rows})."),
    (NOTE_ROWS, "row", "Left out {count} of one note each ({rows})."),
    (SECOND_HEADER, "row", "Left out row {first:,}: a second header of field names."),
    (SHOWN_ROUNDED, "row", "Read {count} with a number as its cell's format shows it, rounded ({rows})."),
    (PRODUCTS, "row", "Left out {count} of variable or grouped products ({rows}): their variations are the books."),
    (FROM_HTML, "description", "Stored {count} written in HTML as plain text ({rows})."),
)  # fmt: skip

#: The note of each list of rows ValidRows keeps of the rows read with a repair: the importer's own, so
#: a new kind of repair it notes is counted (and its rows kept in step by ValidRows.where) without a copy here.
NOTES_OF_VALID_ROWS = NOTED_ROWS


def plural(count: int, one: str, many: str | None = None) -> str:
    """Return "1 row", "2 rows", "1,000 rows"."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def outcome(imp: Import) -> str:
    """Return how the import ended (or where it is), in words: "succeeded with 3 rejected rows", "undone";
    a dry run's, what its import would do: "would create 4 books and reject 2 rows"."""
    if imp.undone_at is not None:
        return "undone"
    if imp.status == ImportStatus.NEEDS_MAPPING.value:
        return "waiting for its columns to be matched"
    if imp.status != ImportStatus.SUCCEEDED.value:
        return imp.status
    if imp.dry_run:  # saved nothing, rejected nothing: what its import would do
        return would_do(imp)
    kept = imp.created + imp.updated + imp.unchanged + imp.skipped
    if imp.rejected and not kept:
        return "every row rejected"
    if imp.rejected:
        return f"succeeded with {plural(imp.rejected, 'rejected row')}"
    return imp.status


def outcome_class(imp: Import) -> str:
    """Return the CSS class that colours the outcome: a partial success is a warning, not a success."""
    if imp.undone_at is not None:
        return "status-undone"
    if imp.status == ImportStatus.SUCCEEDED.value and imp.rejected:
        return "status-partial"
    return f"status-{imp.status}"


def summary_line(imp: Import) -> str:
    """Return one sentence for a terminal import: its outcome and its counts (for the command line)."""
    what = "Dry run" if imp.dry_run else "Import"
    counts = ", ".join(
        f"{getattr(imp, name):,} {name}" for name in ("created", "updated", "unchanged", "skipped", "rejected")
    )
    if imp.saved_nothing or imp.dry_run:  # its valid rows were checked, not created: none of them is in the books
        counts = f"{imp.valid_rows:,} valid, {imp.rejected:,} rejected; nothing was saved"
    line = f"{what} #{imp.id} {outcome(imp)}: {counts}."
    if imp.undone_at is not None:
        who = f" by {imp.undone_by.email}" if imp.undone_by else ""
        line += f" Undone on {imp.undone_at:%Y-%m-%d %H:%M} UTC{who}."
    if imp.error:
        line += f" {imp.error}"
    zeros = (imp.repairs or {}).get(LEADING_ZERO)
    if zeros:
        rows = ", ".join(f"{n:,}" for n in zeros["rows"][:10]) + (", …" if zeros["count"] > 10 else "")
        line += f" Repaired {plural(zeros['count'], 'ISBN')} that had lost a leading 0 (rows {rows})."
    several = (imp.repairs or {}).get(SEVERAL_ISBNS)
    if several:
        columns = " and ".join(f"'{name}'" for name in field_columns(imp, "isbn")) or "ISBN"
        line += (
            f" Kept the book's ISBN-13 where {plural(several['count'], 'cell')} of {columns} held more than one "
            f"ISBN of the same book: {_rows(several)}."
        )
    for kind, noun, said in _NOTES_SAID:
        if note := (imp.repairs or {}).get(kind):
            line += " " + said.format(
                count=plural(note["count"], noun), rows=_rows(note), first=next(iter(note["rows"]), None)
            )
    return line


def _rows(note: dict) -> str:
    """Return a note's first rows in words: "row 12", "rows 4, 7, …"."""
    shown = note["rows"][:10]
    more = ", …" if note["count"] > len(shown) else ""
    return f"row{'' if note['count'] == 1 else 's'} {', '.join(f'{n:,}' for n in shown)}{more}"
