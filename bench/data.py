"""Deterministic book files for the benchmarks, CSV and XLSX, written once into a path and kept.

- Realistic files (bench/catalogue.py: ISBNs in random order, repeating authors and titles, blank
  and long cells): every bench case's data. Same seed, same bytes, for the workbooks too.
- The tidy file (``row``, ``write_csv``, ``write_xlsx``): the earlier bench data, ascending ISBNs,
  "Author 1, Author 2…", prices and years in a regular pattern; the bench keeps it as its best case,
  and the load test and the mapping bench use it.

    python -m bench.data realistic PATH ROWS [FIRST] | xlsx PATH ROWS | tidy PATH ROWS | probe ROWS

writes a file in a process of its own (so the bench's own process stays small: a case's peak RSS
starts at its parent's) or prints the searches made from a file's middle row as JSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

from stdnum import ean

from .catalogue import SEED, VERSION, Catalogue  # noqa: F401 (VERSION names the files)

HEADER = ["Title", "Author", "Book type", "ISBN", "Year published", "Price", "No. of pages", "Quantity", "Description"]
TYPES = ["Sci-tech", "Magazine", "Comic", "Classic", "Horror"]


# The tidy best case -------------------------------------------------------------------------------


def isbn13(n: int) -> str:
    body = f"978{n:09d}"
    return body + ean.calc_check_digit(body)


def row(n: int, bad: bool = False) -> list[str]:
    """A tidy row: unique title and ascending ISBN, repeating authors, types, years, prices and counts."""
    return [
        f"The Collected Works, Volume {n}",
        f"Author {n % 5003}",
        TYPES[n % 5] if not bad else "Paperback",
        isbn13(n),
        str(1900 + n % 125),
        f"{n % 90 + 4}.{(n * 7) % 100:02d}",
        str(80 + n % 900),
        str(n % 40),
        f"A description of book {n}, with a few words about its subject and its edition." if n % 3 else "",
    ]


def write_csv(path: Path, rows: int, bad_every: int = 0, first: int = 1) -> Path:
    """Write the tidy file (once: an existing file is kept)."""
    lines = (row(n, bad=bool(bad_every) and n % bad_every == 0) for n in range(first, first + rows))
    return _write_csv(path, lines)


def write_xlsx(path: Path, rows: int) -> Path:
    """Write the tidy file as a workbook (once)."""
    return _write_xlsx(path, (row(n) for n in range(1, rows + 1)))


# The realistic file -----------------------------------------------------------------------------------


def realistic_rows(count: int, first: int = 1, seed: int = SEED) -> Iterator[list[str]]:
    """Rows first .. first + count - 1 of the realistic file of *seed*, as CSV cells."""
    return Catalogue(seed).rows(count, first)


def write_realistic_csv(path: Path, rows: int, first: int = 1, seed: int = SEED) -> Path:
    """Write rows first .. first + rows - 1 of the realistic file (once: an existing file is kept)."""
    return _write_csv(path, realistic_rows(rows, first, seed))


def write_realistic_xlsx(path: Path, rows: int, seed: int = SEED) -> Path:
    """Write the realistic rows as a workbook (once), with the cell types a spreadsheet has: numbers
    for years, prices, pages and quantities, and for 4 ISBNs in 10 written as 13 plain digits."""

    def cells(values: list[str]) -> list:
        title, author, book_type, isbn, year, price, pages, quantity, description = values
        number = len(isbn) == 13 and isbn.isdigit() and int(isbn) % 10 < 4
        return [title, author, book_type, int(isbn) if number else isbn, int(year), float(price),
                int(pages) if pages else None, int(quantity), description or None]  # fmt: skip

    return _write_xlsx(path, map(cells, realistic_rows(rows, seed=seed)), typed=True)


def _write_csv(path: Path, lines: Iterator[list[str]]) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(lines)
    tmp.rename(path)
    return path


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose members all carry one date: the same cells give the same bytes."""

    @staticmethod
    def _info(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
        info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
        return info

    def writestr(self, name, data, *args, **kwargs):
        super().writestr(self._info(name) if isinstance(name, str) else name, data, *args, **kwargs)

    def write(self, filename, arcname=None, *args, **kwargs):
        with (
            open(filename, "rb") as source,
            self.open(self._info(arcname or str(filename)), "w", force_zip64=True) as out,
        ):
            shutil.copyfileobj(source, out, 1 << 20)


def _write_xlsx(path: Path, lines: Iterator[list], typed: bool = False) -> Path:
    if path.exists():
        return path
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    workbook.properties.created = workbook.properties.modified = dt.datetime(2000, 1, 1)
    sheet = workbook.create_sheet("Books")
    sheet.append(HEADER)
    for values in lines:
        if not typed:  # the tidy rows: the numbers as numbers
            values = [values[0], values[1], values[2], values[3], int(values[4]), float(values[5]), int(values[6]),
                      int(values[7]), values[8] or None]  # fmt: skip
        sheet.append(values)
    tmp = path.with_suffix(".part")
    with _FixedTimeZip(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).save()
    tmp.rename(path)
    return path


def main(argv: list[str]) -> int:
    what, *args = argv
    if what == "probe":
        print(json.dumps(Catalogue().probe(int(args[0]))))
    elif what == "realistic":
        write_realistic_csv(Path(args[0]), int(args[1]), first=int(args[2]) if len(args) > 2 else 1)
    elif what == "xlsx":
        write_realistic_xlsx(Path(args[0]), int(args[1]))
    elif what == "tidy":
        write_csv(Path(args[0]), int(args[1]))
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
