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


GOODREADS_HEADER = [
    "Book Id", "Title", "Author", "Author l-f", "Additional Authors", "ISBN", "ISBN13", "My Rating",
    "Average Rating", "Publisher", "Binding", "Number of Pages", "Year Published", "Original Publication Year",
    "Date Read", "Date Added", "Bookshelves", "Bookshelves with positions", "Exclusive Shelf", "My Review",
    "Spoiler", "Private Notes", "Read Count", "Owned Copies",
]  # fmt: skip
GOODREADS_SHELVES = ["read", "to-read", "currently-reading"]


def goodreads_row(n: int, **overrides) -> list[str]:
    """Return a row of a Goodreads library export: ISBNs as ="…" text formulas (="" when there is none),
    a review with commas and line breaks. Book *n* has ISBN-13 isbn13(n) and its ISBN-10."""
    from stdnum import isbn as stdnum_isbn

    thirteen = isbn13(n)
    row = {
        "Book Id": str(1_000_000 + n),
        "Title": f"Goodreads Book {n}",
        "Author": f"Writer {n % 7}",
        "Author l-f": f"{n % 7}, Writer",
        "Additional Authors": "",
        "ISBN": f'="{stdnum_isbn.to_isbn10(thirteen)}"',
        "ISBN13": f'="{thirteen}"',
        "My Rating": str(n % 6),
        "Average Rating": f"{3 + n % 2}.{n % 100:02d}",
        "Publisher": "Ace",
        "Binding": "Paperback",
        "Number of Pages": str(200 + n),
        "Year Published": str(1960 + n % 60),
        "Original Publication Year": str(1900 + n % 60),
        "Date Read": "2024/01/15" if n % 3 == 0 else "",
        "Date Added": "2023/12/01",
        "Bookshelves": "fiction, favourites" if n % 2 else "",
        "Bookshelves with positions": "fiction (#1), favourites (#2)" if n % 2 else "",
        "Exclusive Shelf": GOODREADS_SHELVES[n % 3],
        "My Review": f"Loved it, truly.\nSecond thought, on book {n}." if n % 2 else "",
        "Spoiler": "",
        "Private Notes": "",
        "Read Count": str(n % 3),
        "Owned Copies": str(n % 4),
    }
    row.update(overrides)
    return [row[h] for h in GOODREADS_HEADER]


def goodreads_csv(rows: list[list[str]]) -> bytes:
    """Return a Goodreads library export's bytes (UTF-8, comma-separated, LF line ends as Goodreads writes)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GOODREADS_HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
