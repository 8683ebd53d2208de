"""Deterministic book files for the benchmarks: CSV and XLSX, any size, optional share of bad rows."""

import csv
from pathlib import Path

from stdnum import ean

HEADER = ["Title", "Author", "Book type", "ISBN", "Year published", "Price", "No. of pages", "Quantity", "Description"]
TYPES = ["Sci-tech", "Magazine", "Comic", "Classic", "Horror"]


def isbn13(n: int) -> str:
    body = f"978{n:09d}"
    return body + ean.calc_check_digit(body)


def row(n: int, bad: bool = False) -> list[str]:
    """A realistic row: unique title and ISBN, repeating authors, types, years, prices and counts."""
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
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for n in range(first, first + rows):
            writer.writerow(row(n, bad=bool(bad_every) and n % bad_every == 0))
    tmp.rename(path)
    return path


def write_xlsx(path: Path, rows: int) -> Path:
    if path.exists():
        return path
    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Books")
    sheet.append(HEADER)
    for n in range(1, rows + 1):
        values = row(n)
        sheet.append([values[0], values[1], values[2], values[3], int(values[4]), float(values[5]), int(values[6]),
                      int(values[7]), values[8] or None])  # fmt: skip
    tmp = path.with_suffix(".part")
    workbook.save(tmp)
    tmp.rename(path)
    return path
