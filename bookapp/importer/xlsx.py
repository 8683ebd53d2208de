"""Read an XLSX workbook safely and fast: check the zip, then stream the book sheet with calamine.

openpyxl reads about 25,000 rows/s and trusts the sheet's dimension tag; calamine (Rust) reads about
200,000 rows/s. Before calamine sees the file, every member of the zip is inflated once with a cap on
its real size (zip bombs and members that lie about their size are refused), and the sheets' XML is
scanned for formulas that have no saved result (calamine would read those as empty cells).
"""

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from defusedxml import ElementTree
from openpyxl.utils.cell import get_column_letter

from .errors import FileProblem, UnsavedFormula

#: The most a workbook may inflate to, in all and per member.
MAX_UNCOMPRESSED_TOTAL = 2 << 30
MAX_UNCOMPRESSED_MEMBER = 1 << 30
#: The largest inflation ratio accepted for a member over 1 MB (real workbooks stay well under 100).
MAX_RATIO = 200
_ALLOWED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
_CELL_WITH_FORMULA = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,7})"[^>]*>((?:(?!</c>).){0,4096}?)</c>', re.DOTALL)
_HAS_VALUE = re.compile(rb"<v(?:\s[^>]*)?>[^<]")
_NAMESPACES = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pkg": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_WHAT_TO_UPLOAD = "Upload the book list as a CSV file or an Excel workbook (.xlsx)."


@dataclass
class WorkbookCheck:
    """What the zip check learnt: each sheet's XML member and its formula cells without a result."""

    sheet_members: dict[str, str] = field(default_factory=dict)
    unsaved_formulas: dict[str, set[tuple[int, int]]] = field(default_factory=dict)


def column_index(letters: str) -> int:
    """Return the 0-based index of a column named like "A", "Z" or "AB"."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def check_workbook(path) -> WorkbookCheck:
    """Refuse a workbook that is not a readable zip, is a bomb, or lies about its members' sizes."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise FileProblem(f"The file is not a valid .xlsx workbook (a damaged zip). {_WHAT_TO_UPLOAD}") from None
    check = WorkbookCheck()
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        if "xl/workbook.xml" not in names:
            raise FileProblem(f"The file is a zip archive but not an Excel workbook (.xlsx). {_WHAT_TO_UPLOAD}")
        if any(m.compress_type not in _ALLOWED_METHODS for m in members):
            raise FileProblem("The workbook uses an unsupported compression method. Save it again from Excel.")
        if sum(m.file_size for m in members) > MAX_UNCOMPRESSED_TOTAL:
            raise FileProblem("The workbook would unpack to more than 2 GB; it is refused as unsafe.")
        for member in members:
            scan = member.filename.startswith("xl/worksheets/")
            check.unsaved_formulas[member.filename] = _inflate(archive, member, scan_formulas=scan)
        check.sheet_members = _sheet_members(archive)
        _refuse_unsafe_parts(archive, check)
    return check


def unsafe_xml(exc: Exception, member: str | None = None) -> FileProblem:
    """The problem of an XML part that declares a DOCTYPE, entities or external references."""
    where = f" in {member!r}" if member else ""
    return FileProblem(f"The workbook contains unsafe XML ({type(exc).__name__}){where}; it is refused.")


OUTSIDE_THE_FILE = "The workbook's structure is damaged: a sheet points outside the file. Save it again from Excel."


def _refuse_unsafe_parts(archive: zipfile.ZipFile, check: WorkbookCheck) -> None:
    """Refuse XML parts with a DOCTYPE (entities, external ones, billion laughs: calamine would stop on
    them with a bare XmlError), and sheets whose part is outside the file or missing from it."""
    from defusedxml import DefusedXmlException

    for member in archive.namelist():
        if not member.endswith((".xml", ".rels")):
            continue
        try:
            with archive.open(member) as stream:
                for _ in ElementTree.iterparse(stream, events=("start",), forbid_dtd=True):
                    break  # the root element: a DOCTYPE comes before it or not at all
        except ElementTree.ParseError:
            continue  # damaged XML: the reader says so, part by part
        except DefusedXmlException as exc:
            raise unsafe_xml(exc, member) from None
    present = {name.replace("\\", "/").lower(): name for name in archive.namelist()}  # OPC names ignore case
    for sheet, member in check.sheet_members.items():
        normal = posixpath.normpath(member.replace("\\", "/"))
        if normal == ".." or normal.startswith(("../", "/")):
            raise FileProblem(OUTSIDE_THE_FILE)
        if normal.lower() not in present:
            raise FileProblem(
                "The workbook's structure is damaged: a sheet has no part in the file. Save it again from Excel."
            )
        check.sheet_members[sheet] = present[normal.lower()]


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    try:
        workbook = ElementTree.fromstring(_read_small(archive, "xl/workbook.xml"))
        rels = ElementTree.fromstring(_read_small(archive, "xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        raise FileProblem("The workbook's structure is damaged. Open it in Excel and save it again.") from None
    except Exception as exc:  # defusedxml refuses entities and DTDs with its own exception types
        raise FileProblem(f"The workbook contains unsafe XML ({type(exc).__name__}); it is refused.") from None
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{{{_NAMESPACES['pkg']}}}Relationship")}
    members = {}
    for sheet in workbook.iter(f"{{{_NAMESPACES['main']}}}sheet"):
        target = targets.get(sheet.get(f"{{{_NAMESPACES['rel']}}}id"), "")
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        members[sheet.get("name", "")] = member
    return members


def _read_small(archive: zipfile.ZipFile, name: str, limit: int = 16 << 20) -> bytes:
    with archive.open(name) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileProblem("The workbook's structure is unusually large; it is refused as unsafe.")
    return data


def _inflate(archive: zipfile.ZipFile, member: zipfile.ZipInfo, *, scan_formulas: bool) -> set[tuple[int, int]]:
    """Inflate one member with a cap on its real size; return formula cells with no saved result."""
    limit = min(MAX_UNCOMPRESSED_MEMBER, max(1 << 20, member.compress_size * MAX_RATIO))
    unsaved: set[tuple[int, int]] = set()
    total = 0
    tail = b""
    try:
        with archive.open(member) as stream:
            while block := stream.read(1 << 20):
                total += len(block)
                if total > limit:
                    raise FileProblem(
                        f"The workbook member {member.filename!r} inflates far beyond its compressed size "
                        "(a zip bomb); it is refused."
                    )
                if scan_formulas and (b"<f" in block or b"<f" in tail):
                    data = tail + block
                    cut = data.rfind(b"<c ")
                    for match in _CELL_WITH_FORMULA.finditer(data, 0, cut if cut > 0 else len(data)):
                        body = match.group(3)
                        if b"<f" in body and not _HAS_VALUE.search(body):
                            unsaved.add((int(match.group(2)) - 1, column_index(match.group(1).decode())))
                    tail = data[cut:] if cut > 0 else b""
                elif scan_formulas:
                    cut = block.rfind(b"<c ")
                    tail = block[cut:] if cut >= 0 else b""
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise FileProblem(f"The workbook member {member.filename!r} is damaged. Save the file again.") from None
    if total != member.file_size:
        raise FileProblem(f"The workbook member {member.filename!r} is not the size it declares; it is refused.")
    return unsaved


@dataclass
class Sheet:
    """The sheet chosen for import."""

    name: str
    headers: list[object]
    rows: Iterator[tuple[int, list[object]]]
    estimated_rows: int


@contextmanager
def open_book_sheet(path, choose) -> Iterator[Sheet]:
    """Open the first visible sheet *choose* prefers (given each sheet's header row) and stream it."""
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    check = check_workbook(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for damaged workbooks
        raise FileProblem(f"The workbook cannot be read ({type(exc).__name__}). Save it again from Excel.") from None
    try:
        candidates = []
        for meta in workbook.sheets_metadata:
            if meta.visible != SheetVisibleEnum.Visible:
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            if sheet.start is None:
                continue
            header = next(iter(sheet.iter_rows()), [])
            candidates.append((meta.name, sheet, header))
        if not candidates:
            raise FileProblem("The workbook has no visible sheet with data.")
        name, sheet, header = choose(candidates)
        candidates.clear()  # the other sheets' cells are held in memory until released
        headers = [None if h == "" else h for h in header]
        while headers and headers[-1] is None:
            headers.pop()
        unsaved = check.unsaved_formulas.get(check.sheet_members.get(name, ""), set())
        yield Sheet(
            name=name,
            headers=headers,
            rows=_rows(sheet, len(headers), unsaved),
            estimated_rows=max(sheet.height - 1, 0),
        )
    finally:
        workbook.close()


def _rows(sheet, width: int, unsaved: set[tuple[int, int]]) -> Iterator[tuple[int, list[object]]]:
    first_row, first_col = sheet.start
    merged = _merged_cells(sheet, first_row, first_col, width)
    top_left_values: dict[tuple[int, int], object] = {}
    rows = iter(sheet.iter_rows())
    next(rows, None)  # the header
    for offset, values in enumerate(rows, start=1):
        sheet_row = first_row + offset
        cells = [None if v == "" else v for v in values[:width]]
        if len(values) > width and any(v != "" for v in values[width:]):
            cells.extend(None if v == "" else v for v in values[width:])
        if merged:
            for col in range(width):
                origin = merged.get((sheet_row, col))
                if origin is None:
                    continue
                if origin == (sheet_row, col):
                    top_left_values[origin] = cells[col]
                elif cells[col] is None:
                    cells[col] = top_left_values.get(origin)
        if unsaved:
            for col in range(len(cells)):
                if (sheet_row, first_col + col) in unsaved:
                    cells[col] = UnsavedFormula(f"{get_column_letter(first_col + col + 1)}{sheet_row + 1}")
        if any(c is not None for c in cells):
            yield sheet_row + 1, cells


#: Merged areas are filled only up to this many cells (a merged whole column is a formatting quirk).
MAX_MERGED_CELLS = 1_000_000


def _merged_cells(sheet, first_row: int, first_col: int, width: int) -> dict[tuple[int, int], tuple[int, int]]:
    """Map each cell of a merged area to the area's top-left cell (sheet coordinates, columns relative)."""
    cells: dict[tuple[int, int], tuple[int, int]] = {}
    for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []:
        c1, c2 = max(c1 - first_col, 0), min(c2 - first_col, width - 1)
        if c1 > c2 or (r2 - r1 + 1) * (c2 - c1 + 1) + len(cells) > MAX_MERGED_CELLS:
            continue
        for row in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                cells[(row, col)] = (r1, c1)
    return cells
