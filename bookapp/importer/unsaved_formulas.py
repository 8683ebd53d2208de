"""Find a sheet's formula cells whose result was never saved, while its XML streams past the zip check.

A program that does not calculate (a script, some exporters) writes <c r="F4"><f>SUM(F2:F3)</f><v/></c>:
a formula with no value. Each such cell becomes its row's error, naming the cell; past
MAX_UNSAVED_FORMULAS of them the file as a whole is refused.
"""

import re

from openpyxl.utils.cell import column_index_from_string

from .errors import FileProblem

#: The most formula cells without a saved result a sheet may hold. Each is a row error, and is held in
#: memory while the sheet is read (a 62 MB file can hold 23 million: 3.4 GB); past this the file as a
#: whole is the problem (written by a program that does not calculate), and it is refused saying so.
MAX_UNSAVED_FORMULAS = 100_000
#: A cell with a body: its reference, looked ahead for among its attributes in any order (spreadsheet
#: programs write r first; other writers put s or t before it), and its body. (A cell written as one
#: empty tag, <c r="B4" t="inlineStr" />, has no body: the match starts at the next cell.)
_CELL_WITH_FORMULA = re.compile(
    rb'<c(?=\s)(?=[^>]*?\sr="([A-Z]{1,3})(\d{1,7})")[^>]*(?<!/)>((?:(?!</c>).){0,4096}?)</c>', re.DOTALL
)
#: The start of a formula element (<f>, <f t="shared" …>), found faster than by b"<f" among a sheet's many tags.
_FORMULA_TAG = re.compile(rb"<f[\s>/]")
_HAS_VALUE = re.compile(rb"<v(?:\s[^>]*)?>[^<]")


class CellScan:
    """Fed a sheet's XML block by block, hands each run of whole cells to ``scan``: a cell cut by the end
    of a block is kept, and scanned with the next block (or at ``finish``, the sheet's last cell)."""

    def __init__(self) -> None:
        self._tail = b""  # the block's last cell, which may go on in the next block

    def wanted(self, block: bytes) -> bool:
        """Whether *block* (with the cell kept from the block before) may hold a cell ``scan`` looks for."""
        return True

    def scan(self, data: bytes, end: int) -> None:
        """Look at the whole cells of *data* before *end*."""
        raise NotImplementedError

    def feed(self, block: bytes) -> None:
        if self.wanted(block):
            data = self._tail + block
            cut = data.rfind(b"<c ")
            self.scan(data, cut if cut > 0 else len(data))
            self._tail = data[cut:] if cut > 0 else b""
        else:
            cut = block.rfind(b"<c ")
            self._tail = block[cut:] if cut >= 0 else b""

    def finish(self):
        if self._tail and self.wanted(b""):  # the sheet's last cell
            self.scan(self._tail, len(self._tail))
        return self.found


def cell_position(letters: bytes, digits: bytes) -> tuple[int, int]:
    """Return a cell reference's (row, column), both from 0: b"F", b"4" → (3, 5)."""
    return int(digits) - 1, column_index_from_string(letters.decode()) - 1


class UnsavedFormulas(CellScan):
    """Fed a sheet's XML block by block: the (row, column), both from 0, of each formula cell without a
    saved result, in ``found`` once ``finish`` has been called."""

    def __init__(self) -> None:
        super().__init__()
        self.found: set[tuple[int, int]] = set()

    def wanted(self, block: bytes) -> bool:
        return bool(_FORMULA_TAG.search(block)) or b"<f" in self._tail

    def scan(self, data: bytes, end: int) -> None:
        for match in _CELL_WITH_FORMULA.finditer(data, 0, end):
            body = match.group(3)
            if b"<f" in body and not _HAS_VALUE.search(body):
                self.found.add(cell_position(match.group(1), match.group(2)))
        if len(self.found) > MAX_UNSAVED_FORMULAS:
            raise FileProblem(
                f"The workbook has more than {MAX_UNSAVED_FORMULAS:,} formulas whose result was never "
                "saved (the program that wrote it does not calculate). Open it in Excel or LibreOffice, "
                "let it calculate, save it, and upload that."
            )
