"""Write an XLSX workbook as a stream of bytes: the download starts at once and memory stays flat.

A workbook is a zip of XML parts. The sheet's rows are written as they come (text as inline strings,
so no table of every string is kept), into a zip written front to back: nothing is held but the
rows of one batch and the widths measured on the first rows. openpyxl's write-only mode keeps memory
flat too, but wrote a million books at about 30,000 rows/s and only to a file that must be complete
before the first byte is sent.

What a person gets: a bold header row, frozen, with filter arrows; columns as wide as their first
rows need; numbers as numbers (with a number format where given) and text as text, never a formula.
"""

import re
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import chain, islice
from math import isfinite

from openpyxl.utils.cell import get_column_letter

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: A sheet's rows, the header included; a longer table continues on another sheet.
MAX_SHEET_ROWS = 1_048_576
#: The longest text a spreadsheet program keeps in a cell; longer text is cut there.
MAX_CELL_CHARS = 32_767
#: A sheet's columns (A to XFD); cells past the last are left out.
MAX_SHEET_COLUMNS = 16_384
#: Rows measured to size the columns, and the narrowest and widest column (in characters).
WIDTH_SAMPLE_ROWS = 200
MIN_WIDTH, MAX_WIDTH = 6, 60
#: Rows written between two chunks handed to the caller.
ROWS_PER_CHUNK = 500
#: Zip compression level: 1 packs sheet XML nearly as well as the default 6, at three times its speed.
COMPRESS_LEVEL = 1
#: The built-in number formats a column may take (their ids in every spreadsheet program).
NUMBER_FORMATS = {"0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "@": 49}

_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
#: Characters XML cannot hold, shown as U+FFFD (a spreadsheet program would turn an _x0000_ escape back
#: into an invisible control character), and text a spreadsheet program would read as an escape
#: (_x0041_), whose underscore is escaped (_x005F_). Also &, < and >, which XML escapes its own way.
_NEEDS_CARE = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_needs_care = _NEEDS_CARE.search
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")


def _escaped(text: str) -> str:
    if len(text) > MAX_CELL_CHARS:
        text = text[:MAX_CELL_CHARS]
    if not _needs_care(text):
        return text
    text = _UNSAFE.sub(lambda m: "_x005F_" if m.group() == "_" else "\N{REPLACEMENT CHARACTER}", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Chunks:
    """A write-only file that hands over what was written since the last take (zipfile writes into it)."""

    def __init__(self):
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the parts wait for take()."""

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _width(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, float | Decimal):
        return len(f"{value:,.2f}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def xlsx_chunks(header: list[str], rows: Iterable[list[object]], *, text_columns: set[int] = frozenset(),
                number_formats: dict[int, str] | None = None, sheet_title: str = "Rows") -> Iterator[bytes]:  # fmt: skip
    """Yield an XLSX workbook of *rows* under *header*, a few hundred rows at a time.

    Columns in *text_columns* are text whatever their values (ISBNs keep every digit); *number_formats*
    maps a column to one of NUMBER_FORMATS (``"0.00"`` for prices), and text in such a column that is
    a plain number ("12.50") is written as a number. Other numbers are numbers, other values text.
    """
    number_formats = number_formats or {}
    unknown = set(number_formats.values()) - NUMBER_FORMATS.keys()
    if unknown:
        raise ValueError(f"unknown number formats: {sorted(unknown)}")
    rows = iter(rows)
    sample = list(islice(rows, WIDTH_SAMPLE_ROWS))
    header = header[:MAX_SHEET_COLUMNS]
    columns = min(max([1, len(header), *(len(row) for row in sample)]), MAX_SHEET_COLUMNS)
    widths = [
        max([_width(header[i]) + 3 if i < len(header) else 0, *(_width(r[i]) for r in sample if i < len(r))])
        for i in range(columns)
    ]
    # Styles: 0 plain, 1 bold (the header), 2 text, then one per number format in use.
    formats = sorted(set(number_formats.values()) - {"@"})
    style_of = {column: 3 + formats.index(f) for column, f in number_formats.items() if f != "@"}
    style_of.update({column: 2 for column in text_columns})
    style_of.update({column: 2 for column, f in number_formats.items() if f == "@"})
    letters = [get_column_letter(i + 1) for i in range(columns)]
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{min(max(w, MIN_WIDTH), MAX_WIDTH) + 1}" customWidth="1"'
        + (f' style="{style_of[i]}"' if i in style_of else "")
        + "/>"
        for i, w in enumerate(widths)
    )
    number_columns = {c for c, f in number_formats.items() if f != "@"} - set(text_columns)
    writer = _RowWriter(columns, style_of, text_columns, number_columns)
    sink = _Chunks()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
    archive.writestr("[Content_Types].xml", _content_types())
    archive.writestr("_rels/.rels", _root_rels())
    archive.writestr("xl/styles.xml", _styles(formats))
    header_xml = "".join(
        f'<c r="{letters[i]}1" s="1" t="inlineStr"><is><t xml:space="preserve">{_escaped(str(h))}</t></is></c>'
        for i, h in enumerate(header)
    )
    sheets: list[int] = []  # the rows of each sheet, header included
    remaining = chain(sample, rows)
    upcoming = next(remaining, _END)
    while True:
        last = 1
        with archive.open(f"xl/worksheets/sheet{len(sheets) + 1}.xml", "w", force_zip64=True) as out:
            out.write(
                (
                    f'{_XML_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_RELS}"><sheetViews><sheetView workbookViewId="0">'
                    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
                    f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
                    f'<row r="1">{header_xml}</row>'
                ).encode()
            )
            batch: list[str] = []
            while upcoming is not _END and last < MAX_SHEET_ROWS:
                last += 1
                batch.append(writer.row(last, upcoming))
                upcoming = next(remaining, _END)
                if len(batch) == ROWS_PER_CHUNK:
                    out.write("".join(batch).encode())
                    batch.clear()
                    yield sink.take()
            out.write(
                (
                    f'{"".join(batch)}</sheetData><autoFilter ref="A1:{letters[-1]}{last}"/>'
                    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
                    "</worksheet>"
                ).encode()
            )
        sheets.append(last)
        if upcoming is _END:
            break
    archive.writestr("xl/workbook.xml", _workbook(sheet_title, sheets, letters[-1]))
    archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
    archive.close()
    yield sink.take()


#: The end of the rows.
_END = object()


class _RowWriter:
    """Write rows as sheet XML, with each column's fixed parts made once (this is the hot loop)."""

    _TEXT_END = "</t></is></c>"
    _NUMBER_END = "</v></c>"

    def __init__(self, columns: int, style_of: dict[int, int], text_columns: set[int], number_columns: set[int]):
        self.style_of, self.text_columns, self.number_columns = style_of, text_columns, number_columns
        self.opens, self.text_mids, self.number_mids, self.numbers_as_text = [], [], [], []
        for i in range(columns):
            self._add_column(i)

    def _add_column(self, i: int) -> None:
        style = f' s="{self.style_of[i]}"' if i in self.style_of else ""
        self.opens.append(f'<c r="{get_column_letter(i + 1)}')
        self.text_mids.append(f'"{style} t="inlineStr"><is><t xml:space="preserve">')
        self.number_mids.append(f'"{style}><v>' if i not in self.text_columns else None)
        self.numbers_as_text.append(i in self.number_columns)

    def row(self, number: int, values: list[object]) -> str:
        """Return row *number* of the sheet holding *values* (blank cells left out)."""
        if len(values) > MAX_SHEET_COLUMNS:
            values = values[:MAX_SHEET_COLUMNS]
        texts = [v for v in values if type(v) is str]
        joined = "\n".join(texts)  # one look for characters to escape in the whole row
        return self._row(number, values, len(joined) > MAX_CELL_CHARS or _needs_care(joined) is not None)

    def _row(self, number: int, values: list[object], careful: bool) -> str:
        n = str(number)
        parts = ['<row r="', n, '">']
        while len(values) > len(self.opens):
            self._add_column(len(self.opens))
        opens, text_mids, number_mids, numbers_as_text = (
            self.opens,
            self.text_mids,
            self.number_mids,
            self.numbers_as_text,
        )
        for i, value in enumerate(values):
            kind = type(value)
            if kind is str and numbers_as_text[i] and _PLAIN_NUMBER(value):
                parts += (opens[i], n, number_mids[i], value, self._NUMBER_END)
            elif kind is str:
                if value:
                    parts += (opens[i], n, text_mids[i], _escaped(value) if careful else value, self._TEXT_END)
            elif value is None:
                continue
            elif kind in _NUMBERS and number_mids[i] is not None and _finite(value):
                parts += (opens[i], n, number_mids[i], str(value), self._NUMBER_END)
            elif kind is bool and number_mids[i] is not None:
                parts += (opens[i], n, number_mids[i].replace("><v>", ' t="b"><v>'), str(int(value)), "</v></c>")
            else:
                parts += (opens[i], n, text_mids[i], _escaped(str(value)), self._TEXT_END)
        parts.append("</row>")
        return "".join(parts)


_NUMBERS = frozenset({int, float, Decimal})
#: Text that a column with a number format writes as a number ("12.50", "1965"; not "0950", whose 0 would go).
_PLAIN_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?").fullmatch


def _finite(value: int | Decimal | float) -> bool:
    return type(value) is int or (value.is_finite() if type(value) is Decimal else isfinite(value))


def _content_types() -> str:
    # Every other .xml part is a sheet, so sheets need no entry each (and this part can come first).
    return (
        f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    )


def _root_rels() -> str:
    return (
        f'{_XML_HEAD}<Relationships xmlns="{_PACKAGE_RELS}"><Relationship Id="rId1" '
        f'Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )


def _styles(formats: list[str]) -> str:
    number_xfs = "".join(
        f'<xf numFmtId="{NUMBER_FORMATS[f]}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        for f in formats
    )
    return (
        f'{_XML_HEAD}<styleSheet xmlns="{_MAIN}">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{3 + len(formats)}"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        f"{number_xfs}</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _sheet_name(title: str, number: int) -> str:
    # A sheet name: at most 31 characters, none of []:*?/\ ; a continuation sheet says which part it is.
    name = re.sub(r"[\[\]:*?/\\]", " ", title).strip() or "Rows"
    suffix = f" ({number})" if number > 1 else ""
    return name[: 31 - len(suffix)] + suffix


def _workbook(title: str, sheets: list[int], last_letter: str) -> str:
    names = [_escaped(_sheet_name(title, n)).replace('"', "&quot;") for n in range(1, len(sheets) + 1)]
    listed = "".join(f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>' for n, name in enumerate(names, start=1))
    # The filter's range, named as spreadsheet programs name it.
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"'{name.replace(chr(39), chr(39) * 2)}'!$A$1:${last_letter}${rows}</definedName>"
        for n, (name, rows) in enumerate(zip(names, sheets, strict=True))
    )
    return (
        f'{_XML_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><sheets>{listed}</sheets>'
        f"<definedNames>{filters}</definedNames></workbook>"
    )


def _workbook_rels(sheets: int) -> str:
    listed = "".join(
        f'<Relationship Id="rId{n}" Type="{_RELS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, sheets + 1)
    )
    return (
        f'{_XML_HEAD}<Relationships xmlns="{_PACKAGE_RELS}">{listed}'
        f'<Relationship Id="rId{sheets + 1}" Type="{_RELS}/styles" Target="styles.xml"/></Relationships>'
    )
