"""The columns an import's pass reads its rows with: at its first read, resolved from its mapping and the
header's names and recorded (Import.columns_read, which Import.reads_with gives its reports and fixes too);
from then on, never resolved again. And, for what shows its rows later, the columns each field was read from.
"""

from __future__ import annotations

from ..importer import FileProblem, HeaderMap, Mapping
from ..importer.book_types import holds_other_than_book_types
from ..importer.groups import suggested_group
from ..importer.headers import field_of
from ..importer.mapping import MappingError, header_text
from ..models import Import
from .profiles import profile_for


class ColumnsUnmatched(Exception):
    """The file's header leaves a required field without a column, or its first rows' values want matching,
    and no mapping was given: the import waits for its columns to be matched (a workbook too large to read
    in the upload's request), or, when its upload asked not to wait (Import.matching_refused), is refused
    for the fields it is missing (runner.run_import)."""

    def __init__(self, headers: list[str | None], missing: list[str] | None = None, header_row: int | None = None):
        super().__init__("the file's columns need matching")
        self.headers = headers
        #: The required fields the header leaves without a column, and the row it was read from.
        self.missing = missing or []
        self.header_row = header_row


def refuse_one_column(headers: list[object]) -> None:
    """Refuse a file of one column (a text file of notes, a list of ISBNs alone): a book needs at least its
    title and its ISBN, each from a column of its own (neither takes a default), so Match columns could never
    be completed for it."""
    if len(headers) < 2:
        named = f" (“{header_text(headers[0])}”)" if headers and header_text(headers[0]) else ""
        raise FileProblem(
            f"The file has one column{named}, so it cannot hold books: each book needs at least its title and "
            "its ISBN, in columns of their own. If it is a list of books, save it from your spreadsheet program "
            "as CSV or XLSX, or start from the template."
        )


def values_want_matching(headers: list[object], header_map: HeaderMap, rows: list[list[object]]) -> bool:
    """Whether a file whose header names every field still wants Match columns before its rows are read,
    by its header and first *rows*: a shop export's rows of one product need their product column chosen
    (Rows of one item), and its names may match fields they do not hold (Shopify's Published: TRUE, no
    year); a reading app's Genre (Science Fiction), or a shop's own kind of book (Roman), needs its values
    matched to types, or their rows are rejected."""
    return bool(suggested_group(headers)) or holds_other_than_book_types(header_map, rows)


def columns_read(
    imp: Import,
    headers: list[object],
    header_row: int | None = None,
    first_rows: list[list[object]] | None = None,
) -> HeaderMap:
    """Return the header map the rows are read with: the columns the import's first read recorded,
    never resolved again (a release's synonyms may have changed since: a resume, or a dry run's
    confirm, reads the columns the first chunks or the preview read); at its first read, resolved
    from its mapping (or, where its upload did not read the header, the profile saved for it) and the header's
    names, and recorded (committed with the header, before any row).

    *first_rows*: the file's first rows under its header, when its upload did not read them (a large
    workbook): read by the header's names, they are checked as the upload checks them (values_want_matching),
    unless the upload asked to import the file as it is (the API, the command line: Import.matching_refused)."""
    if imp.columns_read is not None:
        header_map, absent = Mapping.from_json(imp.columns_read).resolve(headers)
        if absent:
            raise FileProblem(
                f"The file no longer has the columns import #{imp.id} first read it with: "
                f"{', '.join(map(repr, absent))}. Import it again as a new upload."
            )
        return header_map
    refuse_one_column(headers)
    mapping = Mapping.from_json(imp.mapping)
    if not mapping and imp.profile_id is None and not imp.processed_rows:
        # A large workbook's upload did not read its header: the profile saved for it is found here, as
        # an upload finds it for a file it read (imports.columns_for).
        profile = profile_for(headers)
        if profile is not None:
            imp.profile, imp.mapping = profile, profile.mapping
            mapping = Mapping.from_json(profile.mapping)
    header_map, _ = mapping.resolve(headers)
    if (
        not mapping
        and not imp.processed_rows
        and (
            header_map.missing
            or (
                first_rows is not None
                and not imp.matching_refused
                and values_want_matching(headers, header_map, first_rows)
            )
        )
    ):
        raise ColumnsUnmatched([header_text(h) or None for h in headers], header_map.missing, header_row)
    header_map = mapping.header_map(headers, header_row)
    if imp.checkpoint_row and header_map.ignored != (imp.ignored_columns or []):
        # Rows were saved by a release that recorded no columns, only those it left aside, and this
        # release's names leave aside others: the rest would fill fields from other columns than
        # the rows already saved did.
        raise FileProblem(
            f"Import #{imp.id} was started by an earlier release of bookapp, which read its columns "
            f"differently: it left aside {_listed(imp.ignored_columns)}, this release leaves aside "
            f"{_listed(header_map.ignored)}. Its {imp.processed_rows:,} rows read so far are kept; "
            "to import the rest the same way, undo it and import the file again, or match its "
            "columns again (Match columns and import again)."
        )
    imp.columns_read = mapping.as_read(header_map).to_json()
    return header_map


def _listed(headers: list[str] | None) -> str:
    return ", ".join(map(repr, headers)) if headers else "no column"


def field_positions(imp: Import) -> dict[str, tuple[int, ...]]:
    """Return the positions of the columns each field was read from: its column, then its fallbacks."""
    try:
        header_map, _ = imp.reads_with().resolve(imp.headers)
        return {f: (header_map.positions[f], *header_map.fallbacks.get(f, ())) for f in header_map.positions}
    except (MappingError, FileProblem):  # a mapping an earlier version saved: the headers' own names
        return {field_of(h): (i,) for i, h in reversed(list(enumerate(imp.headers))) if field_of(h)}


def field_columns(imp: Import, fld: str) -> list[str]:
    """Return the names of the file's columns a field was read from, in order ("ISBN13", "ISBN")."""
    if not imp.headers:
        return []
    return [header_text(imp.headers[i]) for i in field_positions(imp).get(fld, ()) if i < len(imp.headers)]
