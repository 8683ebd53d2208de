"""What a file's first rows decide for every reading of it: the columns that write numbers with a decimal
comma, and those that close their cells with a library catalogue's punctuation. open_table reads them
ahead when it opens the file (they are read again as its first rows), so a resumed import, a report and
the preview read its prices, titles and authors as the import did.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, islice

from .catalogue_values import catalogue_punctuation_columns
from .decimal_comma import decimal_comma_columns
from .errors import FileProblem

Rows = Iterator[tuple[int, list[object]]]

#: Rows under the header looked at, when a file is opened, to tell which columns write decimal commas and
#: which a library catalogue's closing punctuation.
SAMPLE_ROWS = 1_000
#: Rows under the header that tell whether a column holds what its name says (a reading app's Genre named as
#: Book type holds no book types): read at upload (peek), or kept when a file is opened (a workbook too
#: large to read in the upload's request is checked so by its job).
FIRST_ROWS = 50


def look_ahead(rows: Rows, *, decimal_comma: bool) -> tuple[Rows, frozenset[int], frozenset[int], list[list[object]]]:
    """Read a table's first *rows* ahead; return its rows (those read ahead first again), the columns that
    write numbers with a decimal comma (none looked for in a file read with decimal commas as a whole,
    *decimal_comma*), those whose cells close with a library catalogue's punctuation, and the cells of its
    first FIRST_ROWS rows."""
    head: list[tuple[int, list[object]]] = []
    rest = rows
    try:
        head.extend(islice(rows, SAMPLE_ROWS))  # keeps the rows read before an error
    except FileProblem as problem:  # a row that cannot be read: refused when the reading reaches it
        rest = _raising(problem)
    commas = frozenset() if decimal_comma else decimal_comma_columns(cells for _, cells in head)
    first = [cells for _, cells in head[:FIRST_ROWS]]
    return chain(head, rest), commas, catalogue_punctuation_columns([cells for _, cells in head]), first


def _raising(problem: FileProblem) -> Rows:
    """Raise *problem* once the rows before it have been read (a generator: it runs when it is reached)."""
    raise problem
    yield
