"""Make book files for tests: valid ISBNs, CSV and XLSX writers."""

import csv
import io
from pathlib import Path

from stdnum import ean

HEADER = ["Title", "Author", "Book type", "ISBN", "Year published", "Price", "No. of pages", "Quantity", "Description"]
TYPES = ["Sci-tech", "Magazine", "Comic", "Classic", "Horror"]


def isbn13(n: int) -> str:
    """Return a valid ISBN-13 (978 prefix) numbered *n*."""
    body = f"978{n:09d}"
    return body + ean.calc_check_digit(body)


def book_row(n: int, **overrides) -> list[str]:
    """Return a valid CSV row for book number *n*, with fields overridden by name."""
    row = {
        "Title": f"Book {n}",
        "Author": f"Author {n % 97}",
        "Book type": TYPES[n % 5],
        "ISBN": isbn13(n),
        "Year published": str(1950 + n % 70),
        "Price": f"{n % 50}.{n % 100:02d}",
        "No. of pages": str(100 + n % 400),
        "Quantity": str(n % 20),
        "Description": f"Description of book {n}",
    }
    row.update(overrides)
    return [row[h] for h in HEADER]


def csv_bytes(
    rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    """Return a CSV file's bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def write_csv(path: Path, rows: list[list[str]], **kwargs) -> Path:
    """Write a CSV file and return its path."""
    path.write_bytes(csv_bytes(rows, **kwargs))
    return path


def write_xlsx(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    """Write an XLSX workbook with one sheet and return its path."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Books"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path
