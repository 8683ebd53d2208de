"""Profile a file's columns for matching them to book fields: samples, blank share, distinct values, counts.

This is column-wise work over the whole file, so pandas does it: a CSV is read in chunks with
`pd.read_csv(dtype=str, keep_default_na=False)` in the encoding and with the delimiter the reader
sniffs; a workbook's rows come from open_table, a chunk at a time, into DataFrames. The import itself
keeps its own reader (faster per cell, as bench/ shows).

Memory stays flat whatever the file's length: each column counts its values one by one only while it
has few distinct ones (VALUES_LIMIT: a Book type column, a shelf, a rating); past that it keeps a
sketch instead, the SKETCH_SIZE smallest 64-bit hashes of its values (k minimum values), which counts
distinct values exactly up to SKETCH_SIZE and estimates beyond (within about 1 %).

The profile is plain JSON, kept on the import while its columns wait to be matched:

    {"rows": 1234, "read_as": "CSV, UTF-8, comma-separated", "text_cells": true, "decimal_comma": false,
     "nul_cells": false, "headers": ["Title", …],
     "columns": [{"header": "Title", "samples": ["Dune", …], "blank": 3, "distinct": 1231,
                  "distinct_exact": true, "values": [["Classic", 700], …] or null, "looks_like": null}, …],
     "head": [[2, ["Dune", …]], …]}

`head` is the first rows as the importer reads them (typed cells of a workbook tagged, see
encode_cell), so a preview validates them exactly as the import will.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import FileProblem, UnsavedFormula, ValueProblem
from .reading import detect_kind, open_table
from .values import parse_isbn

#: Sample values shown per column.
SAMPLES = 5
#: Columns with at most this many distinct values have every value counted (and can be value-matched).
VALUES_LIMIT = 1_000
#: The longest value a column's counted values may hold (a value map's limit): longer, none are listed.
VALUE_CHARS = 255
#: The most text a column's listed values may hold together (the profile is kept on the import's row).
VALUES_TEXT_LIMIT = 32_000
#: How many of the smallest value hashes a column keeps once it has many distinct values.
SKETCH_SIZE = 1 << 16
#: Rows per chunk.
CHUNK_ROWS = 50_000
#: The first cells of a chunk looked at to tell a column of many distinct values (titles, ISBNs) at once.
HEAD_CHECK = 5_000
#: The rows kept as the file's first rows, for the preview.
HEAD_ROWS = 10
#: The longest sample text kept.
SHOWN_CHARS = 80
#: Distinct values looked at to tell what a column holds (ISBNs, years).
PROBE_VALUES = 200
#: The share of those that must be ISBNs, or years, for the column to suggest that field.
SUGGEST_SHARE = 0.9
#: Years a column of 4-digit numbers must stay within to suggest Year published (up to next year).
FIRST_PRINTED_YEAR = 1450
_BLANKS = frozenset({"", '=""'})


def is_blank_text(text: str) -> bool:
    """Whether a cell's text is blank as the importer sees it: empty, spaces, or the formula `=""`."""
    return text.strip() in _BLANKS


def cell_text(cell: object) -> str:
    """Return a cell as the text a person sees in the spreadsheet (a whole number without ".0")."""
    if cell is None:
        return ""
    if type(cell) is str:
        return cell
    if isinstance(cell, UnsavedFormula):
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime) and cell.time() == dt.time(0):
        return cell.date().isoformat()
    if isinstance(cell, (dt.date, dt.time)):
        return cell.isoformat()
    return str(cell)


def shown(text: str) -> str:
    """Return *text* short enough to show as a sample."""
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def as_read(text: str) -> str:
    """Return a cell's text as the importer reads it: ="0441172717" (a text formula that keeps the
    leading zero) is 0441172717."""
    text = text.strip()
    if len(text) > 2 and text[0] == "=" and text[1] == '"' and text[-1] == '"':
        return text[2:-1].replace('""', '"').strip()
    return text


def looks_like(values: Iterable[str]) -> str | None:
    """Return the field a column's values suggest: "isbn" when they are valid ISBNs, "year_published"
    when they are 4-digit years from FIRST_PRINTED_YEAR to next year; else None."""
    values = [v for v in values if v]
    if not values:
        return None
    if sum(map(_is_year, values)) >= SUGGEST_SHARE * len(values):
        return "year_published"
    if sum(map(_is_isbn, values)) >= SUGGEST_SHARE * len(values):
        return "isbn"
    return None


def _is_year(text: str) -> bool:
    text = text.removesuffix(".0")  # a year a numeric tool wrote as 2008.0
    return len(text) == 4 and text.isdigit() and FIRST_PRINTED_YEAR <= int(text) <= dt.date.today().year + 1


def _is_isbn(text: str) -> bool:
    try:
        return parse_isbn(text) is not None
    except ValueProblem:
        return False


class ColumnStats:
    """One column's figures, added to a chunk at a time."""

    def __init__(self, header: str):
        self.header = header
        self.blank = 0
        self.samples: list[str] = []
        self.probe: dict[str, None] = {}
        #: Every value's count while the column has few distinct values; None past VALUES_LIMIT.
        self.counts: dict[str, int] | None = {}
        #: The smallest hashes of its values once it has many (sorted, at most SKETCH_SIZE).
        self.sketch: np.ndarray | None = None

    def add(self, cells: np.ndarray) -> np.ndarray:
        """Count a chunk's cells of this column (an object array of text); return, per row, whether its
        cell is blank."""
        if self.counts is not None and len(pd.unique(cells[:HEAD_CHECK])) > VALUES_LIMIT:
            self._stop_counting(np.empty(0, dtype=object))  # many distinct values: no need to count them
        if self.counts is None:
            return self._add_to_sketch(cells)
        codes, uniques = pd.factorize(cells, use_na_sentinel=False)
        counts = np.bincount(codes, minlength=len(uniques))
        blank = np.fromiter((type(u) is not str or u.strip() in _BLANKS for u in uniques), bool, len(uniques))
        if blank.any():
            self.blank += int(counts[blank].sum())
            filled, filled_counts = uniques[~blank], counts[~blank]
            blank_rows = np.isin(codes, np.flatnonzero(blank))
        else:
            filled, filled_counts = uniques, counts
            blank_rows = np.zeros(len(codes), bool)
        self._note_first(filled)
        if len(filled) + len(self.counts) > 2 * VALUES_LIMIT:
            self._stop_counting(filled)
            return blank_rows
        get = self.counts.get
        for value, count in zip(filled.tolist(), filled_counts.tolist(), strict=True):
            self.counts[value] = get(value, 0) + count
        if len(self.counts) > VALUES_LIMIT:
            self._stop_counting(np.empty(0, dtype=object))
        return blank_rows

    def _add_to_sketch(self, cells: np.ndarray) -> np.ndarray:
        """A column of many distinct values: blanks found with whole-array comparisons, values hashed."""
        try:
            spaces = np.fromiter(map(str.isspace, cells), bool, len(cells))
        except TypeError:  # a cell that is not text (pandas' NaN): blank
            spaces = np.fromiter((type(c) is not str or c.isspace() for c in cells), bool, len(cells))
        blank_rows = (cells == "") | (cells == '=""') | spaces
        blanks = int(blank_rows.sum())
        filled = cells[~blank_rows] if blanks else cells
        self.blank += blanks
        if self._noting:
            self._note_first(pd.unique(filled[:HEAD_CHECK]))
        self._sketch(filled)
        return blank_rows

    def _stop_counting(self, more: np.ndarray) -> None:
        """Too many distinct values to list: the sketch counts them from now on."""
        if self.counts:
            more = np.concatenate([np.array(list(self.counts), dtype=object), more])
        self.counts = None
        self._sketch(more)

    def forget_blank_rows(self, count: int) -> None:
        """Leave out rows where every cell is blank (the importer skips them): one blank cell each."""
        self.blank -= count

    @property
    def _noting(self) -> bool:
        """Whether samples (or values to tell what the column holds) are still wanted."""
        return len(self.samples) < SAMPLES or len(self.probe) < PROBE_VALUES

    def _note_first(self, filled: np.ndarray) -> None:
        if not self._noting:
            return
        for value in filled[:PROBE_VALUES].tolist():
            text = as_read(value)
            if len(self.samples) < SAMPLES and shown(text) not in self.samples:
                self.samples.append(shown(text))
            if len(self.probe) < PROBE_VALUES:
                self.probe[text] = None

    def _sketch(self, values: np.ndarray) -> None:
        """Keep the SKETCH_SIZE smallest distinct hashes of the values seen."""
        if not len(values):
            return
        hashes = pd.util.hash_array(np.asarray(values, dtype=object), categorize=False)
        kept = self.sketch
        if kept is not None and len(kept) >= SKETCH_SIZE:
            hashes = hashes[hashes < kept[-1]]  # only a hash below the largest kept one can stay
        if kept is not None:
            hashes = np.concatenate([kept, hashes])
        hashes.sort()
        if len(hashes) > 1:
            hashes = hashes[np.concatenate([[True], hashes[1:] != hashes[:-1]])]
        self.sketch = hashes[:SKETCH_SIZE]

    def distinct(self) -> tuple[int, bool]:
        """Return the number of distinct non-blank values and whether it is exact."""
        if self.counts is not None:
            return len(self.counts), True
        kept = self.sketch
        if kept is None or len(kept) < SKETCH_SIZE:
            return (0 if kept is None else len(kept)), True
        return round((SKETCH_SIZE - 1) * 2.0**64 / (float(kept[-1]) + 1)), False

    def result(self) -> dict:
        distinct, exact = self.distinct()
        values = None
        lengths = [len(v) for v in self.counts] if self.counts is not None else []
        if self.counts is not None and max(lengths, default=0) <= VALUE_CHARS and sum(lengths) <= VALUES_TEXT_LIMIT:
            values = [[v, n] for v, n in sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))]
        return {
            "header": self.header,
            "samples": self.samples,
            "blank": self.blank,
            "distinct": distinct,
            "distinct_exact": exact,
            "values": values,
            "looks_like": looks_like(self.probe),
        }


def profile_file(path: Path | str, *, chunk_rows: int = CHUNK_ROWS) -> dict:
    """Profile every column of the file an import would read (see the module's docstring).

    Raises FileProblem when the file cannot be read, with the importer's own words."""
    path = Path(path)
    with open_table(path) as table:
        headers = [cell_text(h).strip() for h in table.headers]
        head = list(islice(table.rows, HEAD_ROWS))
        profile = {
            "read_as": table.description,
            "text_cells": table.text_cells,
            "decimal_comma": table.decimal_comma,
            "nul_cells": table.nul_cells,
            "headers": headers,
            "head": [[number, [encode_cell(c) for c in cells]] for number, cells in head],
        }
        stats = [ColumnStats(h) for h in headers]
        encoding, delimiter = table.encoding, table.delimiter
        if encoding is None:  # a workbook: its rows as the importer reads them, a chunk at a time
            rows = _count(stats, _frames([*head, *table.rows], len(headers), chunk_rows))
    if encoding is not None:
        try:
            rows = _count(stats, _csv_frames(path, encoding, delimiter, len(headers), chunk_rows))
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
            # pandas refused a row the reader may take or refuse in its own words: read it the importer's way.
            stats = [ColumnStats(h) for h in headers]
            with open_table(path) as table:
                rows = _count(stats, _frames(table.rows, len(headers), chunk_rows))
    profile["rows"] = rows
    profile["columns"] = [s.result() for s in stats]
    return profile


def _count(stats: list[ColumnStats], frames: Iterator[pd.DataFrame]) -> int:
    """Add every chunk to the columns' figures; return the number of rows that are not blank."""
    rows = 0
    for frame in frames:
        blank_rows = np.ones(len(frame), bool)
        for index, column in enumerate(stats):
            blank_rows &= column.add(frame.iloc[:, index].to_numpy(dtype=object))
        skipped = int(blank_rows.sum())
        if skipped:
            for column in stats:
                column.forget_blank_rows(skipped)
        rows += len(frame) - skipped
    return rows


def _csv_frames(path: Path, encoding: str, delimiter: str, width: int, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Chunks of a CSV read by pandas with the encoding and delimiter the reader sniffed."""
    # Rows with more cells than the header are skipped here (the import rejects them); rows with fewer
    # are filled with blanks; blank lines are skipped, as the reader does.
    yield from pd.read_csv(
        path,
        sep=delimiter,
        encoding=encoding,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        header=0,
        names=range(width),
        index_col=False,
        on_bad_lines="skip",
        chunksize=chunk_rows,
    )


def _frames(rows: Iterable[tuple[int, list[object]]], width: int, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Chunks of a workbook's rows as DataFrames of text, one column per header."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, chunk_rows)):
        texts = [[cell_text(c) for c in cells[:width]] + [""] * (width - len(cells)) for _, cells in chunk]
        yield pd.DataFrame(texts, columns=range(width), dtype=object)


def estimate_rows(path: Path | str) -> int:
    """Return about how many rows the file has, from its size and its first megabyte (a CSV) or its
    size alone (a workbook: about 40 compressed bytes a row)."""
    path = Path(path)
    size = path.stat().st_size
    if detect_kind(path) != "csv":
        return size // 40
    with open(path, "rb") as fh:
        start = fh.read(1 << 20)
    lines = start.count(b"\n") or 1
    return round(lines * size / max(len(start), 1))


_TAGS = {dt.datetime: "datetime", dt.date: "date", dt.time: "time"}


def encode_cell(cell: object) -> object:
    """Return a cell as JSON: text, numbers, booleans and None as they are, other types tagged."""
    if cell is None or type(cell) in (str, int, bool):
        return cell
    if isinstance(cell, UnsavedFormula):
        return {"$": "formula", "v": str(cell)}
    if isinstance(cell, float):
        return cell if math.isfinite(cell) else {"$": "float", "v": repr(cell)}
    for kind, tag in _TAGS.items():
        if isinstance(cell, kind):
            return {"$": tag, "v": cell.isoformat()}
    if isinstance(cell, dt.timedelta):
        return {"$": "timedelta", "v": cell.total_seconds()}
    return str(cell)


def decode_cell(value: object) -> object:
    """Return the cell encode_cell was given."""
    if not isinstance(value, dict):
        return value
    tag, data = value.get("$"), value.get("v")
    if tag == "formula":
        return UnsavedFormula(data)
    if tag == "float":
        return float(data)
    if tag == "datetime":
        return dt.datetime.fromisoformat(data)
    if tag == "date":
        return dt.date.fromisoformat(data)
    if tag == "time":
        return dt.time.fromisoformat(data)
    if tag == "timedelta":
        return dt.timedelta(seconds=data)
    raise FileProblem(f"The stored first rows hold a cell of an unknown kind ({tag!r}).")
