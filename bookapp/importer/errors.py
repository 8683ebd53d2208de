"""What can be wrong with a file or with one of its rows, in words a user understands."""

from dataclasses import dataclass

#: What a message about the whole file ends with: the kinds of file bookapp reads.
WHAT_TO_UPLOAD = (
    "Upload the book list as a CSV file or tab-separated text (.csv, .tsv, .txt), or as a spreadsheet: "
    "an Excel workbook (.xlsx, .xls, .xlsb) or an OpenDocument spreadsheet (.ods)."
)


class FileProblem(Exception):
    """The file as a whole cannot be imported; the message says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ValueProblem(ValueError):
    """One cell's value is not acceptable for its field."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One problem in one row: the row number as the user sees it, the column and why."""

    row_number: int
    column: str | None
    value: str | None
    message: str


class UnsavedFormula(str):
    """An XLSX cell (named like "F5") holding a formula whose result was never saved."""
