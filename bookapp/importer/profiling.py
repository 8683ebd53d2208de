"""Profile a file's columns for matching them to book fields: samples, blank share, distinct values, counts.

This is column-wise work over the whole file, so pandas does it: a CSV is read in chunks with
`pd.read_csv(dtype=str, keep_default_na=False)` in the encoding and with the delimiter the reader
sniffs; a workbook's rows come from open_table, a chunk at a time, into DataFrames. The import itself
keeps its own reader (faster per cell, as bench/ shows).

Memory stays flat whatever the file's length: each column counts its values one by one only while it
has few distinct ones (VALUES_LIMIT: a Book type column, a shelf, a rating); past that it keeps a
sketch instead, the SKETCH_SIZE smallest 64-bit hashes of its values (k minimum values), which counts
distinct values exactly up to SKETCH_SIZE and estimates beyond (within about 1 %).

A cell holding a word numeric tools write for a blank (nan, NaN, None, NULL, #N/A, in any case: NO_VALUE) is
blank here, as an empty one is: Book type, whose values Match values counts, passes it over as it does an
empty cell (a fallback column or the default is read; a row continuing an item takes its item's first row's
value), so it is no value to match and counts as a blank (or, in a continuing row, as the value it takes).

The profile is plain JSON, kept on the import while its columns wait to be matched:

    {"rows": 1234, "read_as": "CSV, UTF-8, comma-separated", "text_cells": true, "decimal_comma": false,
     "decimal_comma_columns": [5], "catalogue_punctuation_columns": [], "nul_cells": false,
     "headers": ["Title", …],
     "columns": [{"header": "Title", "samples": ["Dune", …], "blank": 3, "distinct": 1231,
                  "distinct_exact": true, "values": [["Classic", 700], …] or null, "looks_like": null}, …],
     "head": [[2, ["Dune", …]], …]}

`head` is the first rows as the importer reads them (typed cells of a workbook tagged, see
cells.encode_cell), so a preview validates them exactly as the import will.

A file with a column suggested as naming each row's item (Shopify's Handle, WooCommerce's Parent: see
groups.suggested_group) also has `items` (item_values.ItemValues): the values its rows are read with that are not
their own, so that Match values counts every row a value will be read in:

    "items": {"by": "Handle", "kinds": [[0, 9, 13], …], "uncounted": [1, …],
              "columns": {"5": {"continued": [["Fiction", 0, 3], …], "left_out": [["Fiction", 2], …]}, …}}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd

from .cells import as_read, cell_text, encode_cell, looks_like, shown
from .columns import is_blank_cell
from .groups import suggested_group
from .item_values import VALUES_TEXT_LIMIT, ItemValues
from .left_out import is_second_header
from .reading import open_table
from .text_values import PASSED_OVER, PASSED_OVER_LENGTH

#: Sample values shown per column.
SAMPLES = 5
#: Columns with at most this many distinct values have every value counted (and can be value-matched).
VALUES_LIMIT = 1_000
#: The longest value a column's counted values may hold (a value map's limit): longer, none are listed.
VALUE_CHARS = 255
#: How many of the smallest value hashes a column keeps once it has many distinct values.
SKETCH_SIZE = 1 << 16
#: Rows per chunk.
CHUNK_ROWS = 50_000
#: The first cells of a chunk looked at to tell a column of many distinct values (titles, ISBNs) at once.
HEAD_CHECK = 5_000
#: The rows kept as the file's first rows, for the preview.
HEAD_ROWS = 10
#: Distinct values looked at to tell what a column holds (ISBNs, years).
PROBE_VALUES = 200
#: The cells, as written (stripped), that are blank in a column's figures though they are text: those Book
#: type passes over as blank (text_values.PASSED_OVER: a numeric tool's nan, None, NULL, #N/A in any case).
NO_VALUE = PASSED_OVER["book_type"]
#: The longest cell looked up among NO_VALUE (one of those words with spaces around it); a longer one is none.
NO_VALUE_CELL = 2 * PASSED_OVER_LENGTH


def no_value_cells(cells: np.ndarray) -> np.ndarray:
    """Per cell of a chunk's column, whether it is one of NO_VALUE: whole-array lengths, then only the short
    cells stripped and looked up."""
    try:
        lengths = np.fromiter(map(len, cells), np.int64, len(cells))
    except TypeError:  # a cell that is not text (pandas' NaN): none of the words
        lengths = np.fromiter((len(c) if type(c) is str else NO_VALUE_CELL + 1 for c in cells), np.int64, len(cells))
    found = np.zeros(len(cells), bool)
    short = np.flatnonzero(lengths <= NO_VALUE_CELL)
    if len(short):
        found[short] = pd.Series(cells[short], dtype=object).str.strip().isin(NO_VALUE).to_numpy()
    return found


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
        blank = np.fromiter((type(u) is not str or is_blank_cell(u, NO_VALUE) for u in uniques), bool, len(uniques))
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
        """A column of many distinct values: blanks found with whole-array comparisons (a numeric tool's nan
        looked up in the short cells only), values hashed."""
        try:
            spaces = np.fromiter(map(str.isspace, cells), bool, len(cells))
        except TypeError:  # a cell that is not text (pandas' NaN): blank
            spaces = np.fromiter((type(c) is not str or c.isspace() for c in cells), bool, len(cells))
        blank_rows = (cells == "") | (cells == '=""') | spaces | no_value_cells(cells)
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
            "decimal_comma_columns": sorted(table.decimal_comma_columns),
            "catalogue_punctuation_columns": sorted(table.catalogue_punctuation_columns),
            "nul_cells": table.nul_cells,
            "headers": headers,
            "head": [[number, [encode_cell(c) for c in cells]] for number, cells in head],
        }
        stats = [ColumnStats(h) for h in headers]
        group = suggested_group(headers)
        items = ItemValues(headers, group) if group else None
        encoding, delimiter = table.encoding, table.delimiter
        # A second header of field names right under the header (item_sku, …) is left out by the import:
        # its names are no column's values (an ISBN column's "external_product_id" is no ISBN).
        second_header = bool(head) and is_second_header(head[0][1])
        if encoding is None or table.header_row > 1:
            # A workbook, or a CSV with rows above its header (a title): its rows as the importer reads
            # them, a chunk at a time (pandas would count the rows above the header as the file's).
            rows = _count(stats, _frames([*head[second_header:], *table.rows], len(headers), chunk_rows), items)
            encoding = None
    if encoding is not None:
        try:
            frames = _csv_frames(path, encoding, delimiter, len(headers), chunk_rows, skip_first=second_header)
            rows = _count(stats, frames, items)
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
            # pandas refused a row the reader may take or refuse in its own words: read it the importer's way.
            stats = [ColumnStats(h) for h in headers]
            items = ItemValues(headers, group) if group else None
            with open_table(path) as table:
                frames = _frames(islice(table.rows, int(second_header), None), len(headers), chunk_rows)
                rows = _count(stats, frames, items)
    profile["rows"] = rows
    profile["columns"] = [s.result() for s in stats]
    if items is not None:
        profile["items"] = items.result({i for i, column in enumerate(profile["columns"]) if column["values"]})
    return profile


def _count(stats: list[ColumnStats], frames: Iterator[pd.DataFrame], items: ItemValues | None = None) -> int:
    """Add every chunk to the columns' figures (and to *items*'); return the number of rows that are not blank."""
    rows = 0
    for frame in frames:
        blank_rows = np.ones(len(frame), bool)
        listed = [index for index, column in enumerate(stats) if column.counts is not None]
        blanks = []
        for index, column in enumerate(stats):
            blanks.append(column.add(frame.iloc[:, index].to_numpy(dtype=object)))
            blank_rows &= blanks[-1]
        if items is not None:
            # The reader skips a row with nothing at all in it (a row of spaces it reads, and it ends an item).
            read = (frame.to_numpy(dtype=object) != "").any(axis=1)
            items.add(frame[read], np.column_stack(blanks)[read], listed)
        skipped = int(blank_rows.sum())
        if skipped:
            for column in stats:
                column.forget_blank_rows(skipped)
        rows += len(frame) - skipped
    return rows


def _csv_frames(
    path: Path, encoding: str, delimiter: str, width: int, chunk_rows: int, *, skip_first: bool = False
) -> Iterator[pd.DataFrame]:
    """Chunks of a CSV read by pandas with the encoding and delimiter the reader sniffed (*skip_first*:
    without the line under the header)."""
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
        skiprows=[1] if skip_first else None,
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
