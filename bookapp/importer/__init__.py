"""The importer core: reading spreadsheets, mapping headers and validating rows.

Pure Python: nothing here imports Flask, SQLAlchemy, Redis or the rest of bookapp, so it is
tested with plain data and shared by the job, the CLI, the book editor and the benchmark.
"""

from .errors import FileProblem, RowProblem
from .fields import BOOK_TYPES, FIELDS, OPTIONAL_FIELDS, REQUIRED_FIELDS
from .headers import HeaderMap
from .mapping import Mapping, MappingError, map_headers
from .reading import open_table
from .validation import BookRow, RowValidator

__all__ = [
    "BOOK_TYPES",
    "FIELDS",
    "OPTIONAL_FIELDS",
    "REQUIRED_FIELDS",
    "BookRow",
    "FileProblem",
    "HeaderMap",
    "Mapping",
    "MappingError",
    "RowProblem",
    "RowValidator",
    "map_headers",
    "open_table",
]
