"""Check a zipped workbook (.xlsx, .xlsb, .ods) before calamine reads it, and tell which it is.

openpyxl reads about 25,000 rows/s and trusts the sheet's dimension tag; calamine (Rust) reads about
200,000 rows/s. Before calamine sees the file, every member of the zip is inflated once with a cap on
its real size (zip bombs and members that lie about their size are refused). On the way, an .xlsx's
sheets are scanned for formulas that have no saved result (calamine would read those as empty cells),
and an .ods's content for repeated cells (a few bytes can repeat a cell over billions of cells, and
calamine builds them all).

Formulas elsewhere: an .xlsb's formula records always carry the result Excel last computed, and an
.ods formula cell keeps its last result in office:value (a file never recalculated gives the cell's
shown text, or an empty cell), so only .xlsx has the "never computed" state to detect.
"""

import posixpath
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from defusedxml import ElementTree
from isal import isal_zlib as inflating

from .errors import WHAT_TO_UPLOAD, FileProblem
from .extent import OdsExtent, XlsxExtent, measure_apart, refuse_far_sheet
from .shown_numbers import OdsShownNumbers, ShownCells, ShownNumbers, rounding_styles
from .unsaved_formulas import CellScan, UnsavedFormulas

#: The most a workbook may inflate to, in all and per member.
MAX_UNCOMPRESSED_TOTAL = 2 << 30
MAX_UNCOMPRESSED_MEMBER = 1 << 30
#: The largest inflation ratio accepted for a member over 1 MB (real workbooks stay well under 100).
MAX_RATIO = 200
#: The largest zip directory (the list of members) read: a few kilobytes in a real workbook; millions
#: of members would cost gigabytes to list.
MAX_ZIP_DIRECTORY = 4 << 20
_ALLOWED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
_NAMESPACES = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pkg": "http://schemas.openxmlformats.org/package/2006/relationships",
}
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
#: The member that makes each kind of zipped workbook (an .ods also names its type in "mimetype").
BOOK_MEMBERS = {"xlsx": "xl/workbook.xml", "xlsb": "xl/workbook.bin", "ods": "content.xml"}
_NOT_SHEETS = {
    "word/document.xml": "a Word document (.docx)",
    "ppt/presentation.xml": "a PowerPoint presentation (.pptx)",
}
_UNREADABLE_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError)


def zip_kind(path) -> str:
    """Return "xlsx", "xlsb" or "ods" from the zip's members (never its name); refuse other zips.

    Only the zip's directory and the tiny "mimetype" member are read: quick enough for an upload."""
    _check_directory_size(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if BOOK_MEMBERS["xlsx"] in names:
                return "xlsx"
            if BOOK_MEMBERS["xlsb"] in names:
                return "xlsb"
            mimetype = _read_small(archive, "mimetype", 256).strip() if "mimetype" in names else b""
    except _UNREADABLE_ZIP:
        raise FileProblem(
            f"The file is a damaged zip archive, not a workbook that can be read. {WHAT_TO_UPLOAD}"
        ) from None
    if mimetype == ODS_MIMETYPE:
        return "ods"
    if mimetype.startswith(b"application/vnd.oasis.opendocument."):
        what = mimetype.rpartition(b".")[2].decode("ascii", "replace")
        raise FileProblem(f"The file is an OpenDocument {what} file, not a spreadsheet. {WHAT_TO_UPLOAD}")
    what = next((what for member, what in _NOT_SHEETS.items() if member in names), None)
    if what:
        raise FileProblem(f"The file is {what}, not a spreadsheet. {WHAT_TO_UPLOAD}")
    raise FileProblem(f"The file is a zip archive but not a spreadsheet. {WHAT_TO_UPLOAD}")


def _check_directory_size(path) -> None:
    """Refuse a zip whose directory is larger than MAX_ZIP_DIRECTORY, before Python lists it."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - (1 << 16) - 22))
        tail = fh.read()
        end = tail.rfind(b"PK\x05\x06")
        if end < 0 or end + 22 > len(tail):
            return  # zipfile refuses it as damaged
        directory_size = struct.unpack_from("<I", tail, end + 12)[0]
        locator = end - 20
        if directory_size == 0xFFFFFFFF and locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
            fh.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
            record = fh.read(56)
            directory_size = struct.unpack_from("<Q", record, 40)[0] if len(record) == 56 else directory_size
    if directory_size > MAX_ZIP_DIRECTORY:
        raise FileProblem(
            "The zip archive lists far more files than a workbook has; it is refused as unsafe. "
            "Save the book list again from your spreadsheet program."
        )


@dataclass
class WorkbookCheck:
    """What the zip check learnt: each sheet's XML member and its formula cells without a result."""

    sheet_members: dict[str, str] = field(default_factory=dict)
    unsaved_formulas: dict[str, set[tuple[int, int]]] = field(default_factory=dict)
    #: Per sheet member (.xlsx), or per sheet name (.ods, .xls), its number cells shown with fewer decimals
    #: than they hold: (row, column) → the decimals shown (see shown_numbers).
    shown_decimals: dict[str, ShownCells] = field(default_factory=dict)
    #: Whether a sheet may span more cells than MAX_SHEET_CELLS (an .xlsx cell or row past column Z or
    #: Excel's last row, and any .xlsb): its size is then taken from calamine before it is read.
    far: bool = False


def check_workbook(path, kind: str = "xlsx", *, measure: bool = True) -> WorkbookCheck:
    """Refuse a zipped workbook that is not a readable zip, is a bomb, or lies about its members' sizes.

    A sheet that may be far is measured apart and refused if too big; with *measure* false, that is
    left to the caller (one that builds the sheets itself, in a process whose memory is capped)."""
    check = WorkbookCheck()
    with _checked_zip(path, kind) as archive:
        members = archive.infolist()
        styles = _rounding_styles(archive) if kind == "xlsx" else {}
        ods_shown = OdsShownNumbers()
        far = False
        for member in members:
            sheet = kind == "xlsx" and member.filename.startswith("xl/worksheets/")
            # Every part of an .xlsx is searched: calamine finds its workbook and sheets through the
            # package's relationships, wherever they lie and whatever they are called.
            extent = XlsxExtent() if kind == "xlsx" else None
            if kind == "ods" and member.filename == "content.xml":
                extent = OdsExtent(note_shown=ods_shown)
            formulas = UnsavedFormulas() if sheet else None
            shown = ShownNumbers(styles) if sheet and styles else None
            _inflate(archive, member, scans=[s for s in (formulas, shown) if s is not None], extent=extent)
            check.unsaved_formulas[member.filename] = formulas.found if formulas is not None else set()
            if shown is not None and shown.found:
                check.shown_decimals[member.filename] = shown.found
            if isinstance(extent, XlsxExtent):
                extent.finish()
                far = far or extent.far
        if kind == "xlsx":
            check.sheet_members = _sheet_members(archive)
        else:  # an .ods's sheets are in its one content part: their cells are kept by sheet name
            check.shown_decimals = {name: cells for name, cells in ods_shown.found.items() if cells}
        _refuse_unsafe_parts(archive, check)
    check.far = far or kind == "xlsb"  # an .xlsb's cells are binary records: its sheets are always measured
    if check.far and measure:
        # The sheets the reading opens, by the names calamine gives them (a name twice: the first, as the reading).
        for name, size in (measure_apart(path, None) or {}).items():
            refuse_far_sheet(name, size)
    return check


def declared_size(path, kind: str) -> int:
    """The bytes a zipped workbook says it unpacks to, once the checks that need no inflating passed
    (its lists of parts, its compression methods, the sizes and ratios its members declare)."""
    with _checked_zip(path, kind) as archive:
        return sum(m.file_size for m in archive.infolist())


@contextmanager
def _checked_zip(path, kind: str) -> Iterator[zipfile.ZipFile]:
    """Open the zip and refuse what its directory alone gives away; inflating is check_workbook's."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise FileProblem(f"The file is not a valid .{kind} workbook (a damaged zip). {WHAT_TO_UPLOAD}") from None
    with archive:
        _refuse_two_directories(archive)
        members = archive.infolist()
        if BOOK_MEMBERS[kind] not in {m.filename for m in members}:
            raise FileProblem(f"The file is a zip archive but not a readable .{kind} workbook. {WHAT_TO_UPLOAD}")
        if any(m.compress_type not in _ALLOWED_METHODS for m in members):
            raise FileProblem("The workbook uses an unsupported compression method. Save it again from Excel.")
        if sum(m.file_size for m in members) > MAX_UNCOMPRESSED_TOTAL:
            raise FileProblem("The workbook would unpack to more than 2 GB; it is refused as unsafe.")
        for member in members:  # one that says it inflates past its cap would be refused as it inflates
            if member.file_size > _inflated_limit(member):
                raise _bomb(member)
        yield archive


#: The zip's end record (signature, then the directory's entries on this disk and in all, its size and
#: its offset), and the zip64 locator that may stand just before it.
_END_RECORD = struct.Struct("<4s4xHHII")
_ZIP64_LOCATOR = b"PK\x06\x07"


def _refuse_two_directories(archive: zipfile.ZipFile) -> None:
    """Refuse a zip whose end records name two member lists: zipfile follows a zip64 locator before
    the end record whatever that record says, and calamine's zip reader only when the record's numbers
    are at their maximum, so the check and calamine would read different members (a harmless sheet
    checked, a far one read). A plain zip's record must also agree with what zipfile read."""
    handle = archive.fp
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(max(size - (1 << 16) - _END_RECORD.size, 0))
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _END_RECORD.size > len(tail):
        raise FileProblem(f"The workbook's zip structure is damaged. {WHAT_TO_UPLOAD}")
    _, here, total, directory_size, directory_offset = _END_RECORD.unpack_from(tail, at)
    full = 0xFFFF in (here, total) or 0xFFFFFFFF in (directory_size, directory_offset)
    zip64 = at >= 20 and tail[at - 20 : at - 16] == _ZIP64_LOCATOR
    if zip64 != full or (not zip64 and (total != len(archive.infolist()) or directory_offset != archive.start_dir)):
        raise FileProblem(
            "The workbook's zip structure is unusual (two lists of its parts), so it is refused as unsafe. "
            "Open it in your spreadsheet program, save it again, and upload that."
        )


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


def _rounding_styles(archive: zipfile.ZipFile) -> dict[int, int]:
    """The workbook's cell styles that show numbers rounded (see shown_numbers); {} when it has none, or
    its styles part cannot be read (an unsafe one is refused with the other parts)."""
    try:
        return rounding_styles(_read_small(archive, "xl/styles.xml"))
    except Exception:  # no styles part, or one that is damaged or unsafe: numbers are read as held
        return {}


def _read_small(archive: zipfile.ZipFile, name: str, limit: int = 16 << 20) -> bytes:
    with archive.open(name) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileProblem("The workbook's structure is unusually large; it is refused as unsafe.")
    return data


def _inflate(
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    *,
    scans: list[CellScan],
    extent: "OdsExtent | XlsxExtent | None" = None,
) -> None:
    """Inflate one member with a cap on its real size, feeding its blocks to *scans* and *extent*."""
    limit = _inflated_limit(member)
    total = 0
    crc = 0
    for block in _inflated_blocks(archive, member):
        total += len(block)
        if total > limit:
            raise _bomb(member)
        crc = inflating.crc32(block, crc)
        if extent is not None:
            extent.feed(block)
        for scan in scans:
            scan.feed(block)
    if crc != member.CRC:
        raise _damaged(member)
    if total != member.file_size:
        raise FileProblem(f"The workbook member {member.filename!r} is not the size it declares; it is refused.")
    for scan in scans:
        scan.finish()


def _inflated_limit(member: zipfile.ZipInfo) -> int:
    """The most a member may inflate to: MAX_RATIO times its compressed size (1 MB at least)."""
    return min(MAX_UNCOMPRESSED_MEMBER, max(1 << 20, member.compress_size * MAX_RATIO))


def _bomb(member: zipfile.ZipInfo) -> FileProblem:
    return FileProblem(
        f"The workbook member {member.filename!r} inflates far beyond its compressed size (a zip bomb); it is refused."
    )


def _damaged(member: zipfile.ZipInfo) -> FileProblem:
    return FileProblem(f"The workbook member {member.filename!r} is damaged. Save the file again.")


#: The local header before each member's data: its signature, its flags (at 6), then (at 26) the lengths
#: of its name and extra field.
_LOCAL_HEADER = struct.Struct("<4s2xH18xHH")
#: Inflated bytes per step: a member that inflates a millionfold still comes out a block at a time.
_BLOCK = 1 << 20
#: Flags zipfile's own reader refuses: encrypted (0x1), strong encryption (0x40); compressed patched data (0x20).
_ENCRYPTED, _PATCHED = 0x41, 0x20
_UTF8_NAME = 0x800


def _inflated_blocks(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """Yield a member's content a block at a time, inflated by ISA-L (about twice zlib's speed, the
    same deflate format); the caller counts the bytes and checks the CRC. The member's local header is
    checked as zipfile checks it (its name, its flags)."""
    if member.flag_bits & _ENCRYPTED:
        raise FileProblem("The workbook is encrypted; save it without a password and upload it again.")
    if member.flag_bits & _PATCHED:
        raise _damaged(member)
    handle = archive.fp
    try:
        handle.seek(member.header_offset)
        signature, flags, name_length, extra_length = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
        name = handle.read(name_length).decode("utf-8" if flags & _UTF8_NAME else "cp437")
        if signature != b"PK\x03\x04" or name != member.orig_filename or flags & (_ENCRYPTED | _PATCHED):
            raise _damaged(member)
        handle.seek(member.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
        left = member.compress_size
        if member.compress_type == zipfile.ZIP_STORED:
            while left > 0:
                block = handle.read(min(left, _BLOCK))
                if not block:
                    raise _damaged(member)
                left -= len(block)
                yield block
            return
        if left == 0:
            return  # an empty member some writers store with no deflate data at all: its size and CRC say 0
        inflater = inflating.decompressobj(-15)  # raw deflate, as zip stores it
        while left > 0 and not inflater.eof:
            data = handle.read(min(left, _BLOCK))
            if not data:
                raise _damaged(member)
            left -= len(data)
            while data and not inflater.eof:
                block = inflater.decompress(data, _BLOCK)
                data = inflater.unconsumed_tail
                if block:
                    yield block
            if inflater.eof and (data or left):
                raise _damaged(member)  # bytes after the deflate stream's end
        while not inflater.eof and (block := inflater.decompress(b"", _BLOCK)):
            yield block  # output held back by the last step's cap, from input the inflater had taken
        if not inflater.eof or inflater.unused_data:
            raise _damaged(member)  # the deflate stream ends before the member's data, or after it
    except (inflating.error, struct.error, OSError, ValueError, OverflowError, UnicodeDecodeError):
        raise _damaged(member) from None
