"""Hostile and broken files: each refused with a message, or read right, in bounded time; the worker lives on."""

import io
import os
import random
import re
import string
import struct
import threading
import time
import zipfile
import zlib

import pytest
from openpyxl import load_workbook

from bookapp.importer.errors import FileProblem
from bookapp.importer.xlsx import check_workbook
from tests.conftest import run_worker
from tests.helpers import HEADER, book_row, csv_bytes, write_xlsx
from tests.test_imports import book_count, import_state, upload

pytestmark = pytest.mark.security


def rewritten(source, member: str, change, *, method=zipfile.ZIP_DEFLATED, extra: dict | None = None) -> bytes:
    """Return the workbook's bytes with one member changed (and members added)."""
    output = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(output, "w", method) as archive:
        for info in original.infolist():
            data = original.read(info.filename)
            archive.writestr(info.filename, change(data) if info.filename == member else data, compress_type=method)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return output.getvalue()


@pytest.fixture
def workbook(tmp_path):
    return write_xlsx(tmp_path / "books.xlsx", [book_row(n) for n in range(1, 4)])


SHEET = "xl/worksheets/sheet1.xml"


def run(app, client, content: bytes, name: str) -> dict:
    response = upload(client, content, name=name, allow_repeat="1")
    if response.status_code != 302:
        return {"status": "refused at upload", "error": response.get_data(as_text=True), "code": response.status_code}
    started = time.monotonic()
    run_worker(app)
    state = import_state(client, response.location)
    state["seconds"] = time.monotonic() - started
    return state


BILLION_LAUGHS = b'<!ENTITY lol "lol">' + b"".join(
    b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10) for n in range(1, 10)
)


def with_doctype(xml: bytes, declarations: bytes, in_first_text: bytes | None) -> bytes:
    """Return *xml* with a DOCTYPE holding *declarations* before its root element, and its first text
    element's content replaced by *in_first_text* (an entity reference, say)."""
    start = re.search(rb"<[A-Za-z]", xml).start()
    root = re.match(rb"<([\w:]+)", xml[start:]).group(1)
    xml = xml[:start] + b"<!DOCTYPE " + root + b" [" + declarations + b"]>" + xml[start:]
    if in_first_text is not None:
        xml = re.sub(rb"<t(?: [^>]*)?>[^<]*</t>", b"<t>" + in_first_text + b"</t>", xml, count=1)
    return xml


SHARED_STRINGS = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>Title</t></si></sst>'


CASES = {
    "dimension tag far too large": (lambda wb: rewritten(wb, SHEET, lambda d: d.replace(b'ref="A1:I4"', b'ref="A1:XFD1048576"')), "succeeded", None),
    "dimension tag too small": (lambda wb: rewritten(wb, SHEET, lambda d: d.replace(b'ref="A1:I4"', b'ref="A1:A1"')), "succeeded", None),
    "a formatted cell in the sheet's last row": (lambda wb: rewritten(wb, SHEET, lambda d: d.replace(b"</sheetData>", b'<row r="1048576"><c r="A1048576" s="1"/></row></sheetData>')), "succeeded", None),
    "a value in the sheet's last cell, XFD1048576 (calamine would ask for 512 GB)": (lambda wb: rewritten(wb, SHEET, lambda d: d.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')), "failed", "far more cells than is safe"),
    "the last cell named in a prefixed tag": (lambda wb: rewritten(wb, SHEET, lambda d: d.replace(b"</sheetData>", b'<row r="1048576"><x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="XFD1048576"><x:v>1</x:v></x:c></row></sheetData>')), "failed", "far more cells than is safe"),
    "cells placed by their position, 30 across at row 999,999": (lambda wb: rewritten(wb, SHEET, lambda d: d.replace(b"</sheetData>", b'<row r="999999">' + b"<c><v>1</v></c>" * 30 + b"</row></sheetData>")), "failed", "spans 999,999 rows and 30 columns"),
    "the last cell named by a second r (calamine takes the last)": (lambda wb: rewritten(wb, SHEET, lambda d: d.replace(b"</sheetData>", b'<row r="5"><c r="A5" r="XFD1048576"><v>1</v></c></row></sheetData>')), "failed", "far more cells than is safe"),
    "the last cell named after another attribute": (lambda wb: rewritten(wb, SHEET, lambda d: d.replace(b"</sheetData>", b'<row r="1048576"><c t="n" r="XFD1048576"><v>1</v></c></row></sheetData>')), "failed", "far more cells than is safe"),
    "a wide header cell in column AZ, measured and read": (lambda wb: rewritten(wb, SHEET, lambda d: d.replace(b"</row>", b'<c r="AZ1" t="inlineStr"><is><t>Notes</t></is></c></row>', 1)), "succeeded", None),
    "XML entity expansion in the workbook": (lambda wb: rewritten(wb, "xl/workbook.xml", lambda d: d.replace(b"<workbook", b'<!DOCTYPE workbook [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><workbook', 1)), "refused at upload", "unsafe XML"),
    "an external entity in the workbook": (lambda wb: rewritten(wb, "xl/workbook.xml", lambda d: d.replace(b"<workbook", b'<!DOCTYPE workbook [<!ENTITY x SYSTEM "file:///etc/passwd">]><workbook', 1)), "refused at upload", "unsafe XML"),
    "XML entity expansion in a sheet": (lambda wb: rewritten(wb, SHEET, lambda d: with_doctype(d, b'<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">', b"&b;")), "either", "unsafe XML"),
    "billion laughs in a sheet": (lambda wb: rewritten(wb, SHEET, lambda d: with_doctype(d, BILLION_LAUGHS, b"&lol9;")), "either", "unsafe XML"),
    "an external entity in a sheet": (lambda wb: rewritten(wb, SHEET, lambda d: with_doctype(d, b'<!ENTITY x SYSTEM "file:///etc/passwd">', b"&x;")), "either", "unsafe XML"),
    "a DOCTYPE alone in a sheet": (lambda wb: rewritten(wb, SHEET, lambda d: with_doctype(d, b"", b"Book 1")), "either", "unsafe XML"),
    "an external entity in the shared strings": (lambda wb: rewritten(wb, SHEET, lambda d: d, extra={"xl/sharedStrings.xml": with_doctype(SHARED_STRINGS, b'<!ENTITY x SYSTEM "file:///etc/passwd">', b"&x;")}), "either", "unsafe XML"),
    "an external entity in the relationships": (lambda wb: rewritten(wb, "xl/_rels/workbook.xml.rels", lambda d: with_doctype(d, b'<!ENTITY x SYSTEM "file:///etc/passwd">', None)), "either", "unsafe XML"),
    "a sheet relationship pointing outside the package": (lambda wb: rewritten(wb, "xl/_rels/workbook.xml.rels", lambda d: d.replace(b'Target="/xl/worksheets/sheet1.xml"', b'Target="../../../../etc/passwd"')), "either", "points outside the file"),
    "a sheet relationship to a part the file lacks": (lambda wb: rewritten(wb, "xl/_rels/workbook.xml.rels", lambda d: d.replace(b'Target="/xl/worksheets/sheet1.xml"', b'Target="/xl/worksheets/sheet9.xml"')), "either", "structure is damaged"),
    "an unsupported compression method": (lambda wb: rewritten(wb, SHEET, lambda d: d, method=zipfile.ZIP_BZIP2), "failed", "unsupported compression"),
    "a zip bomb member": (lambda wb: rewritten(wb, SHEET, lambda d: d, extra={"xl/media/bomb.bin": b"\0" * (400 << 20)}), "failed", "zip bomb"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_workbooks_are_refused_or_read_right_in_bounded_time(app, staff_client, workbook, case):
    # Run in the test's own process (run_worker): a workbook calamine could not build would abort it.
    make, status, message = CASES[case]
    state = run(app, staff_client, make(workbook), "books.xlsx")
    # "either": refused at upload when the header read in the request finds it, else by the import.
    assert state["status"] in (("refused at upload", "failed") if status == "either" else (status,)), state
    if message:
        assert message in state["error"]
    else:
        assert state["created"] == 3
    if "seconds" in state:
        assert state["seconds"] < 20
    # The worker survives and the next import runs normally.
    after = run(app, staff_client, csv_bytes([book_row(100)]), "next.csv")
    assert after["status"] == "succeeded" and after["created"] == 1


#: The cases the header read in the upload's request meets (it reads no shared strings when the header
#: row does not use them: that one is the import's full check's).
STREAMED = [c for c, (_, _, message) in CASES.items() if message in ("unsafe XML", "points outside the file")
            and "shared strings" not in c]  # fmt: skip


@pytest.mark.parametrize("case", STREAMED)
def test_the_header_read_at_upload_refuses_hostile_xml_by_itself(workbook, tmp_path, monkeypatch, case):
    """A workbook too large to open whole in the request has its header streamed; that reader refuses a
    DOCTYPE, entities and a sheet outside the file itself, with the import's words."""
    from bookapp.importer import peek

    monkeypatch.setattr(peek, "OPEN_WHOLE_BYTES", 0)  # no fallback to opening it whole
    path = tmp_path / "hostile.xlsx"
    path.write_bytes(CASES[case][0](workbook))
    with pytest.raises(FileProblem, match=CASES[case][2]):
        peek.read_header(path)


def test_a_member_whose_declared_size_lies_is_refused(app, staff_client, workbook):
    content = bytearray(rewritten(workbook, SHEET, lambda d: d))
    with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
        declared = archive.getinfo(SHEET).file_size
    # In the sheet's central directory entry, claim half its real uncompressed size.
    entry = content.find(b"PK\x01\x02")
    while content[entry + 46 : entry + 46 + len(SHEET)] != SHEET.encode():
        entry = content.find(b"PK\x01\x02", entry + 4)
    content[entry + 24 : entry + 28] = (declared // 2).to_bytes(4, "little")
    state = run(app, staff_client, bytes(content), "books.xlsx")
    assert state["status"] == "failed" and "xl/worksheets/sheet1.xml" in state["error"], state


@pytest.mark.parametrize(
    "content, message",
    [(b"", "The file is empty"), (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "PNG image"),
     (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old binary Excel (.xls)"), (b"PK\x05\x06" + b"\0" * 18, "damaged or empty zip"),
     (b"\0\1\2\3binary", "binary data")],
)  # fmt: skip
def test_files_that_are_not_spreadsheets_are_refused_at_upload_saying_what_they_are(
    app, staff_client, content, message
):
    state = run(app, staff_client, content, "books.xlsx")
    assert state["code"] == 400 and message in state["error"]
    assert "Upload the book list as a CSV file or tab-separated text" in state["error"]


def test_a_header_only_file_is_refused(app, staff_client):
    state = run(app, staff_client, csv_bytes([]), "books.csv")
    assert state["status"] == "failed" and "no rows of books" in state["error"]


@pytest.mark.parametrize("first_row", ["", ",,,,", "  ,\t, ", "\ufeff"], ids=["empty", "commas", "spaces", "bom"])
def test_a_csv_whose_first_row_names_no_column_is_refused_at_upload(app, staff_client, first_row):
    """Refused in the upload's own answer, saying which row: not queued, then failed in its job."""
    content = (first_row + "\r\n").encode() + csv_bytes([book_row(1)])
    state = run(app, staff_client, content, "books.csv")
    assert state["code"] == 400 and "Row 1 is empty: the first row must name the columns" in state["error"]
    assert book_count(app) == 0


def test_a_workbook_whose_first_row_is_blank_is_refused_at_upload(app, staff_client, tmp_path):
    path = write_xlsx(tmp_path / "books.xlsx", [HEADER, book_row(1)], header=["  ", None, ""])
    state = run(app, staff_client, path.read_bytes(), "books.xlsx")
    assert state["code"] == 400 and "Row 1 is empty: the first row must name the columns" in state["error"]


def test_caps_on_columns_cells_and_rows(app, staff_client):
    wide = csv_bytes([book_row(1) + ["x"] * 300], header=HEADER + [f"extra {n}" for n in range(300)])
    assert "at most 200 are accepted" in run(app, staff_client, wide, "wide.csv")["error"]
    too_long_to_read = csv_bytes([book_row(1, Description="x" * 1_000_001)])
    state = run(app, staff_client, too_long_to_read, "long.csv")
    assert state["status"] == "failed" and "longer than 1,000,000 characters" in state["error"]
    app.config["IMPORT_MAX_ROWS"] = 50
    many = csv_bytes([book_row(n) for n in range(1, 101)])
    assert "more than 50 rows" in run(app, staff_client, many, "many.csv")["error"]
    assert book_count(app) == 0


def test_an_upload_over_the_size_limit_gets_a_clear_413(app, staff_client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    page = upload(staff_client, b"x" * 5000)
    assert page.status_code == 413 and "larger than the limit" in page.get_data(as_text=True)
    from tests.test_access import bearer

    api = app.test_client().post("/api/v1/imports", headers=bearer(app, "api@example.com"),
                                 data={"file": (io.BytesIO(b"x" * 5000), "b.csv")})  # fmt: skip
    assert api.status_code == 413 and "larger than the limit" in api.get_json()["error"]["message"]


def test_one_bad_cell_rejects_its_row_and_the_rest_of_the_file_imports(app, staff_client):
    """A stray NUL (in a book column or another one) and a cell over 100,000 characters are bad cells."""
    from tests.test_access import bearer

    header = [*HEADER, "Shelf\x00 notes"]
    rows = [[*book_row(n), ""] for n in range(1, 11)]
    rows[1] = [*book_row(2, Title="Du\x00ne"), ""]  # row 3
    rows[3] = [*book_row(4), "A\x00"]  # row 5
    rows[5] = [*book_row(6, Description="x" * 150_000), ""]  # row 7
    rows[7] = [*book_row(8), "y" * 100_001]  # row 9
    content = csv_bytes(rows, header=header)
    state = run(app, staff_client, content, "nul.csv")
    assert (state["status"], state["created"], state["rejected"]) == ("succeeded", 6, 4), state

    headers = bearer(app, "api@example.com")
    rejected = app.test_client().get(f"/api/v1/imports/{state['id']}/rejected", headers=headers).get_json()["items"]
    assert [(r["row"], r["column"]) for r in rejected] == [
        (3, "Title"), (5, "Shelf\N{SYMBOL FOR NULL} notes"), (7, "Description"), (9, "Shelf\N{SYMBOL FOR NULL} notes"),
    ]  # fmt: skip
    assert "NUL byte" in rejected[0]["message"] and "NUL byte" in rejected[1]["message"]
    assert "150,000 characters long" in rejected[2]["message"]
    assert "100,001 characters long; the most a cell may hold is 100,000" in rejected[3]["message"]
    assert all("\x00" not in str(r) for r in rejected)

    page = staff_client.get(f"/imports/{state['id']}")
    assert page.status_code == 200 and "NUL byte" in page.get_data(as_text=True)
    csv_download = staff_client.get(f"/imports/{state['id']}/rejected.csv")
    assert csv_download.status_code == 200 and "Du\x00ne" in csv_download.get_data(as_text=True)
    with staff_client.get(f"/imports/{state['id']}/rejected.xlsx") as xlsx_download:
        assert xlsx_download.status_code == 200
        sheet = load_workbook(io.BytesIO(xlsx_download.data)).active
    assert sheet["A2"].value == "Du\N{REPLACEMENT CHARACTER}ne"
    assert staff_client.get(f"/imports/{state['id']}/report.csv").status_code == 200

    # A file that is mostly NUL bytes is still binary data.
    refused = run(app, staff_client, b"Title,Author\r\n" + b"\x00" * 5000, "zeros.csv")
    assert refused["code"] == 400 and "binary data" in refused["error"]


def test_an_unclosed_quote_keeps_its_own_file_level_message(app, staff_client):
    content = csv_bytes([book_row(1, Description="two\nlines"), book_row(2)]) + b'"Book 3,never closed\r\n'
    state = run(app, staff_client, content, "quote.csv")
    assert state["status"] == "failed"
    assert 'Row 4 (line 5 of the file) opens a quote (") that is never closed' in state["error"]


def _patched_entry(content: bytes, member: str, change) -> bytes:
    """Return the zip's bytes with *change(content, offset)* applied to *member*'s local header and its
    central directory entry (each passed as the offset of its signature)."""
    content = bytearray(content)
    for signature, name_at in ((b"PK\x03\x04", 30), (b"PK\x01\x02", 46)):
        entry = content.find(signature)
        while content[entry + name_at : entry + name_at + len(member)] != member.encode():
            entry = content.find(signature, entry + 4)
        change(content, entry, signature)
    return bytes(content)


def _wrong_crc(content: bytearray, entry: int, signature: bytes) -> None:
    at = entry + (14 if signature == b"PK\x03\x04" else 16)
    content[at : at + 4] = (int.from_bytes(content[at : at + 4], "little") ^ 0x5A5A5A5A).to_bytes(4, "little")


def _encrypted(content: bytearray, entry: int, signature: bytes) -> None:
    content[entry + (6 if signature == b"PK\x03\x04" else 8)] |= 0x1


def _garbled_data(content: bytearray, entry: int, signature: bytes) -> None:
    if signature == b"PK\x03\x04":
        start = (
            entry
            + 30
            + int.from_bytes(content[entry + 26 : entry + 28], "little")
            + int.from_bytes(content[entry + 28 : entry + 30], "little")
        )
        size = int.from_bytes(content[entry + 18 : entry + 22], "little")
        content[start + size // 3 : start + size // 3 + 64] = bytes(range(64))


ZIP_DAMAGE = {
    "a member whose checksum is wrong": (_wrong_crc, "is damaged"),
    "a member whose compressed data is garbled": (_garbled_data, "is damaged"),
    "an encrypted member": (_encrypted, "encrypted"),
}


@pytest.mark.parametrize("case", list(ZIP_DAMAGE))
def test_a_damaged_or_encrypted_zip_member_is_refused_with_a_message(app, staff_client, tmp_path, case):
    change, message = ZIP_DAMAGE[case]
    rows = [book_row(n) for n in range(1, 400)]  # a sheet large enough that garbling it breaks the deflate stream
    workbook = write_xlsx(tmp_path / "books.xlsx", rows)
    content = _patched_entry(workbook.read_bytes(), SHEET, change)
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(content)
    with pytest.raises(FileProblem, match=message):
        check_workbook(path)
    state = run(app, staff_client, content, "books.xlsx")
    assert state["status"] in ("refused at upload", "failed"), state
    assert book_count(app) == 0


def test_a_workbook_stored_without_compression_is_read(app, staff_client, workbook):
    state = run(app, staff_client, rewritten(workbook, SHEET, lambda d: d, method=zipfile.ZIP_STORED), "books.xlsx")
    assert state["status"] == "succeeded" and state["created"] == 3, state


def _hand_made_zip(members: list[tuple[str, bytes, int, int, int]], local_names: dict[str, str] | None = None) -> bytes:
    """A zip written byte by byte: each member's (name, data as stored, method, CRC-32, size), so a test can
    store what no zip library writes (bytes after a deflate stream, a local name unlike the central one)."""
    local, central = bytearray(), bytearray()
    for name, stored, method, crc, size in members:
        offset, encoded = len(local), name.encode()
        local_name = (local_names or {}).get(name, name).encode()
        local += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(stored), size,
                             len(local_name), 0) + local_name + stored  # fmt: skip
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, len(stored),
                               size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded  # fmt: skip
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0)
    return bytes(local + central + end)


def _deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _members_of(workbook, sheet: bytes | None = None, *, after_stream: bytes = b"") -> list[tuple]:
    """The workbook's members, deflated again, the sheet replaced by *sheet* and followed by *after_stream*."""
    members = []
    with zipfile.ZipFile(workbook) as archive:
        for info in archive.infolist():
            data = archive.read(info.filename)
            if info.filename == SHEET and sheet is not None:
                data = sheet
            stored = _deflated(data) + (after_stream if info.filename == SHEET else b"")
            members.append((info.filename, stored, zipfile.ZIP_DEFLATED, zlib.crc32(data), len(data)))
    return members


def _padded_sheet(workbook, size: int) -> bytes:
    """The workbook's sheet, an XML comment after its root tag making it exactly *size* bytes."""
    with zipfile.ZipFile(workbook) as archive:
        sheet = archive.read(SHEET)
    cut = sheet.index(b">", sheet.index(b"<worksheet")) + 1
    filler = size - len(sheet) - len(b"<!---->")
    # Random letters: the deflate stream is long (a real sheet's ratio, no bomb) and its blocks end anywhere.
    text = "".join(random.Random(size).choices(string.ascii_letters, k=filler)).encode()
    return sheet[:cut] + b"<!--" + text + b"-->" + sheet[cut:]


@pytest.mark.parametrize("extra", list(range(1, 400, 9)))
def test_a_member_just_over_a_megabyte_is_read_whole(tmp_path, workbook, extra):
    """The inflater takes a few bytes of input ahead: a member whose last output falls just past a
    megabyte step must still be inflated to its end, not called damaged."""
    path = tmp_path / "big-sheet.xlsx"
    path.write_bytes(_hand_made_zip(_members_of(workbook, _padded_sheet(workbook, (1 << 20) + extra))))
    check_workbook(path)


@pytest.mark.parametrize("size", [1 << 20, 3 << 19, 2 << 20])
def test_bytes_after_a_members_deflate_stream_are_refused_at_once(tmp_path, workbook, size):
    """A stream that ends with bytes still to come is damaged, and saying so takes no time (its output
    ending on a megabyte step made the inflater be asked, forever, for output it would never give)."""
    path = tmp_path / "trailing.xlsx"
    members = _members_of(workbook, _padded_sheet(workbook, size), after_stream=b"trailing bytes")
    path.write_bytes(_hand_made_zip(members))
    outcome: list[BaseException | None] = []

    def check() -> None:
        try:
            check_workbook(path)
            outcome.append(None)
        except FileProblem as exc:
            outcome.append(exc)

    thread = threading.Thread(target=check, daemon=True)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the check never ended"
    assert outcome and "is damaged" in str(outcome[0])


def test_a_local_header_naming_another_member_is_refused(tmp_path, workbook):
    path = tmp_path / "renamed.xlsx"
    path.write_bytes(_hand_made_zip(_members_of(workbook), local_names={SHEET: SHEET.replace("sheet1", "sheet9")}))
    with pytest.raises(FileProblem, match="is damaged"):
        check_workbook(path)


def test_an_empty_member_stored_with_no_deflate_data_is_accepted(tmp_path, workbook):
    path = tmp_path / "empty-member.xlsx"
    path.write_bytes(_hand_made_zip([*_members_of(workbook), ("docProps/custom.bin", b"", zipfile.ZIP_DEFLATED, 0, 0)]))
    check_workbook(path)


def sheet_xml(workbook, change=lambda d: d) -> bytes:
    with zipfile.ZipFile(workbook) as archive:
        return change(archive.read(SHEET))


@pytest.mark.parametrize("far", [False, True])
def test_a_sheet_is_far_or_not_wherever_its_blocks_are_cut(workbook, far):
    """The sheet's XML arrives a block at a time: a tag cut in two is not taken for a far one, and a
    far one is found wherever the cut falls."""
    from bookapp.importer.extent import XlsxExtent

    extra = b'<row r="5"><c r="AB5"><v>1</v></c></row>' if far else b""
    xml = sheet_xml(workbook, lambda d: d.replace(b"</sheetData>", extra + b"</sheetData>"))
    for cut in range(1, len(xml)):
        extent = XlsxExtent()
        extent.feed(xml[:cut])
        extent.feed(xml[cut:])
        extent.finish()
        assert extent.far is far, (cut, xml[cut - 20 : cut + 20])


def test_a_sheet_over_the_cell_cap_is_refused_with_its_size_and_one_under_it_is_read(tmp_path, workbook):
    """Measured by calamine itself, apart: 1,048,576 rows × 27 columns is over the cap, 1,000,000 × 27
    is under it (both are measured: column AA is past Z)."""
    from bookapp.importer.extent import MAX_SHEET_CELLS

    def with_corner(cell: bytes) -> bytes:
        row = cell.lstrip(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        last = b'<row r="' + row + b'"><c r="' + cell + b'"><v>1</v></c></row></sheetData>'
        return rewritten(workbook, SHEET, lambda d: d.replace(b"</sheetData>", last))

    assert 1_000_000 * 27 <= MAX_SHEET_CELLS < 1_048_576 * 27
    over = tmp_path / "over.xlsx"
    over.write_bytes(with_corner(b"AA1048576"))
    with pytest.raises(FileProblem, match="spans 1,048,576 rows and 27 columns"):
        check_workbook(over)
    under = tmp_path / "under.xlsx"
    under.write_bytes(with_corner(b"AA1000000"))
    check_workbook(under)


def test_an_xlsb_with_a_value_in_its_last_cell_is_refused_and_the_worker_lives_on(app, staff_client):
    """An .xlsb's cells are binary records the check does not read: its sheets are measured apart."""
    from tests.helpers import xlsb_bytes

    far = xlsb_bytes([book_row(1)], far=(1_048_575, 16_383))
    state = run(app, staff_client, far, "books.xlsb")
    assert state["status"] in ("failed", "refused at upload") and "far more cells than is safe" in state["error"]
    after = run(app, staff_client, xlsb_bytes([book_row(2)]), "fine.xlsb")
    assert after["status"] == "succeeded" and after["created"] == 1


def test_a_far_sheet_kept_outside_the_worksheets_folder_is_refused(tmp_path, workbook):
    """calamine finds sheets through the package's relationships: a sheet part named anything,
    anywhere, is searched too."""
    far_cell = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    output = io.BytesIO()
    with zipfile.ZipFile(workbook) as original, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            data = original.read(info.filename)
            if info.filename == SHEET:
                archive.writestr("xl/data/part1.bin", data.replace(b"</sheetData>", far_cell))
                continue
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b'Target="/xl/worksheets/sheet1.xml"', b'Target="/xl/data/part1.bin"')
            archive.writestr(info.filename, data)
    path = tmp_path / "moved.xlsx"
    path.write_bytes(output.getvalue())
    with pytest.raises(FileProblem, match="far more cells than is safe"):
        check_workbook(path)


def two_directories(source, member: str, changed: bytes) -> bytes:
    """Return the workbook with a second central directory in which *member* is *changed*: the plain
    end record names that one, a zip64 end record (before it, with its locator) the original one."""
    raw = source.read_bytes()
    original = zipfile.ZipFile(source)
    directory = raw[original.start_dir : raw.rfind(b"PK\x05\x06")]
    name = member.encode()
    packed = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = packed.compress(changed) + packed.flush()
    crc = zlib.crc32(changed)
    offset = original.start_dir
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), len(changed),
                        len(name), 0) + name + data  # fmt: skip
    second, at = b"", 0
    while at < len(directory):
        lengths = struct.unpack_from("<HHH", directory, at + 28)
        entry = bytearray(directory[at : at + 46 + sum(lengths)])
        if bytes(entry[46 : 46 + lengths[0]]) == name:
            struct.pack_into("<III", entry, 16, crc, len(data), len(changed))
            struct.pack_into("<I", entry, 42, offset)
        second += bytes(entry)
        at += len(entry)
    count = len(original.infolist())
    body = raw[:offset] + local
    first_at = len(body) + len(second)
    end64_at = first_at + len(directory)
    end64 = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(directory), first_at)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, end64_at, 1)
    end_at = end64_at + len(end64) + len(locator)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, end_at - len(body), len(body), 0)
    return body + second + directory + end64 + locator + end


def test_a_zip_with_two_lists_of_its_parts_is_refused(app, staff_client, workbook):
    """zipfile follows the zip64 record, calamine the plain one: the check would see the harmless sheet
    and calamine read the far one. Refused before either, and the worker lives on."""
    far_cell = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    content = two_directories(workbook, SHEET, sheet_xml(workbook, lambda d: d.replace(b"</sheetData>", far_cell)))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert b"XFD" not in archive.read(SHEET)  # what zipfile sees
    state = run(app, staff_client, content, "books.xlsx")
    assert state["status"] in ("failed", "refused at upload") and "two lists of its parts" in state["error"]
    after = run(app, staff_client, csv_bytes([book_row(100)]), "next.csv")
    assert after["status"] == "succeeded" and after["created"] == 1


def test_a_workbook_is_checked_and_built_at_once_by_the_reading_process_alone(app, staff_client, workbook, monkeypatch,
                                                                               tmp_path):  # fmt: skip
    """The import's reading process checks the workbook while calamine builds it in a thread beside the
    check (the check no longer delays the build); the importing process builds nothing, so a file the
    check would refuse is never built where an abort would end the import's own process."""
    from bookapp.importer import workbook as opening

    seen = tmp_path / "seen.txt"

    def noting(step, real):
        def noted(*args, **kwargs):
            def note(event):
                with open(seen, "a") as out:
                    out.write(f"{step} {event} {os.getpid()} {threading.current_thread().name} {time.monotonic()}\n")

            note("starts")
            # A three-row check may end before the build's thread is first scheduled; the check waits a while
            # for the build to start, which it does only if the build runs beside it, not after it.
            waited = time.monotonic() + 10
            while step == "check" and "build starts" not in seen.read_text() and time.monotonic() < waited:
                time.sleep(0.01)
            try:
                return real(*args, **kwargs)
            finally:
                note("ends")

        return noted

    monkeypatch.setattr(opening, "_check", noting("check", opening._check))
    monkeypatch.setattr(opening, "_build", noting("build", opening._build))
    state = run(app, staff_client, workbook.read_bytes(), "books.xlsx")
    assert state["status"] == "succeeded" and state["created"] == 3, state
    notes = [line.split() for line in seen.read_text().splitlines()]
    at = {(step, event): float(moment) for step, event, _, _, moment in notes}
    assert sorted(at) == [("build", "ends"), ("build", "starts"), ("check", "ends"), ("check", "starts")]
    assert at["build", "starts"] < at["check", "ends"], "the build starts before the check has ended"
    assert {pid for _, _, pid, _, _ in notes} != {str(os.getpid())} and len({pid for _, _, pid, _, _ in notes}) == 1
    assert {step: thread for step, _, _, thread, _ in notes} == {"check": "MainThread", "build": "workbook-build"}


def test_a_workbook_whose_reading_process_dies_opening_it_is_opened_here_the_careful_way(app, staff_client, workbook,
                                                                                        caplog, capfd):  # fmt: skip
    """calamine, building a sheet the check has not yet measured, aborts the capped reading process
    (a value at XFD1048576 asks for 512 GB). The import opens the file again in its own process, check
    first, and fails with the check's message; nothing of the abort reaches the worker's output."""
    far = rewritten(workbook, SHEET, lambda d: d.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'))  # fmt: skip
    with caplog.at_level("INFO", "bookapp"):
        state = run(app, staff_client, far, "books.xlsx")
    assert state["status"] == "failed" and "far more cells than is safe" in state["error"], state
    assert "event=workbook-opened-again reason='the reading process failed with an exit (signal 6)'" in caplog.text
    output = capfd.readouterr()
    assert "Fatal Python error" not in output.err and "memory allocation" not in output.err, output.err[-2000:]
    after = run(app, staff_client, csv_bytes([book_row(100)]), "next.csv")
    assert after["status"] == "succeeded" and after["created"] == 1


def test_a_workbook_that_needs_more_memory_than_its_size_promises_is_built_again_the_careful_way(app, staff_client,
                                                                                                workbook, caplog):  # fmt: skip
    """Beside its check, calamine may take about three times what the file unpacks to: a 10 KB file whose
    one value in AB400000 asks for a 358 MB grid (under the cells a sheet may span) aborts the reading
    process at that cap. The work horse then measures it apart and reads it, as before the change."""
    wide = rewritten(workbook, SHEET, lambda d: d.replace(b"</sheetData>", b'<row r="400000"><c r="AB400000"><v>1</v></c></row></sheetData>'))  # fmt: skip
    with caplog.at_level("INFO", "bookapp"):
        state = run(app, staff_client, wide, "books.xlsx")
    assert state["status"] == "succeeded" and state["created"] == 3, state
    assert "event=workbook-opened-again reason='the reading process failed with an exit (signal 6)'" in caplog.text


def test_a_reading_process_out_of_memory_while_checking_leaves_the_file_to_the_careful_way(app, staff_client,
                                                                                          workbook, monkeypatch,
                                                                                          caplog):  # fmt: skip
    """The check itself runs under the reading process's cap: a MemoryError there (a sheet of a million
    formulas without results) is not the file's fault, so the work horse opens it again, uncapped."""
    from bookapp.importer import workbook as opening

    real = opening._check

    def short_of_memory(path, kind, *, measure=True):
        if not measure:  # beside the build, in the reading process
            raise MemoryError
        return real(path, kind, measure=measure)

    monkeypatch.setattr(opening, "_check", short_of_memory)
    with caplog.at_level("INFO", "bookapp"):
        state = run(app, staff_client, workbook.read_bytes(), "books.xlsx")
    assert state["status"] == "succeeded" and state["created"] == 3, state
    assert "event=workbook-opened-again reason='the reading process failed with MemoryError'" in caplog.text


def test_a_far_workbook_with_an_empty_visible_sheet_is_read_both_ways(app, staff_client, tmp_path):
    """An empty visible sheet spans nothing: measured apart it said (0, 0), which reads as "could not be
    built", so a workbook made far by a cell in column AA was refused when measured, read when built."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Books"
    sheet.append(HEADER)
    for n in range(1, 4):
        sheet.append(book_row(n))
    sheet["AA1"] = "Shelf"
    book.create_sheet("Notes")
    path = tmp_path / "with-notes.xlsx"
    book.save(path)
    assert check_workbook(path).far  # measured apart, every visible sheet: none refused
    app.config["IMPORT_READ_AHEAD"] = False  # the careful way, in the import's own process
    assert run(app, staff_client, path.read_bytes(), "books.xlsx")["created"] == 3
    app.config["IMPORT_READ_AHEAD"] = True
    again = run(app, staff_client, path.read_bytes(), "books.xlsx")
    assert again["status"] == "succeeded" and again["unchanged"] == 3, again
