"""The schemas of the OpenAPI document: what the API takes and answers (openapi.py lays out the paths)."""

from ..importer.fields import BOOK_TYPES
from ..models import ImportMode, ImportStatus

ERROR = {"$ref": "#/components/schemas/Error"}
NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}
TIME = {"type": ["string", "null"], "format": "date-time"}

BOOK_INPUT = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "author": {"type": "string"},
        "book_type": {"type": "string", "examples": list(BOOK_TYPES)},
        "isbn": {"type": "string", "examples": ["978-0-441-17271-9"]},
        "year_published": {"type": ["string", "integer"], "examples": ["1965"]},
        "price": {"type": ["string", "number"], "examples": ["9.99"]},
        "no_of_pages": {"type": ["integer", "string", "null"]},
        "quantity": {"type": ["integer", "string"]},
        "description": NULLABLE_STRING,
    },
}


_CHAIN = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}]}
MAPPING = {
    "type": "object",
    "description": "columns: field → a header of the file, a list of headers (a fallback chain: the first filled "
    "cell) or null (leave an optional field empty); defaults: field → one value for every row; values: "
    "book_type → {file value: stored type, or null to reject those rows}; group_by: the header of the column "
    "naming each row's item (a shop export's Handle: a row with the same value as the row above takes its "
    "blank title, author, type, year, pages and description from the item's first row). Fields not named are "
    "matched by their headers.",
    "properties": {
        "columns": {"type": "object", "additionalProperties": _CHAIN},
        "defaults": {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
        "values": {"type": "object", "additionalProperties": {"type": "object"}},
        "group_by": NULLABLE_STRING,
    },
}
PROFILE = {
    "type": "object",
    "required": ["id", "name", "headers", "mapping"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "headers": {"type": "array", "items": NULLABLE_STRING},
        "mapping": MAPPING,
        "created_by": NULLABLE_STRING,
        "created_at": TIME,
        "updated_at": TIME,
    },
}


ROW_INPUT = {
    "type": "object",
    "required": ["cells"],
    "properties": {
        "cells": {
            "oneOf": [
                {
                    "type": "object",
                    "additionalProperties": {"type": ["string", "number", "null"]},
                    "description": "The cells by header, as in the file's header row",
                },
                {
                    "type": "array",
                    "items": {"type": ["string", "number", "null"]},
                    "description": "The cells in the file's column order",
                },
            ]
        },
        "row": {
            "type": "integer",
            "minimum": 2,
            "maximum": 2**31 - 1,
            "description": "The row number problems are reported for",
        },
    },
}


SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "title", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "title": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {"type": "object"},
                },
            }
        },
    },
    "Book": {
        "type": "object",
        "required": ["id", "isbn", "title", "author", "book_type", "year_published", "price", "quantity"],
        "properties": {
            "id": {"type": "integer"},
            "isbn": {"type": "string", "pattern": "^97[89][0-9]{10}$"},
            "title": {"type": "string"},
            "author": {"type": "string"},
            "book_type": {"type": "string", "enum": list(BOOK_TYPES)},
            "year_published": {"type": "string", "pattern": "^[0-9]{4}$"},
            "price": {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$"},
            "no_of_pages": NULLABLE_INT,
            "quantity": {"type": "integer"},
            "description": NULLABLE_STRING,
            "import_id": NULLABLE_INT,
            "created_at": TIME,
            "updated_at": TIME,
        },
    },
    "Import": {
        "type": "object",
        "required": [
            "id",
            "status",
            "filename",
            "processed_rows",
            "created",
            "updated",
            "unchanged",
            "rejected",
        ],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": [s.value for s in ImportStatus]},
            "mode": {"type": "string", "enum": [m.value for m in ImportMode]},
            "filename": {"type": "string"},
            "total_rows": {
                **NULLABLE_INT,
                "description": "While it runs, the file's rows as estimated (null until known), the rows it will "
                "leave out among them; once it has succeeded, the rows it read (processed_rows)",
            },
            "processed_rows": {
                "type": "integer",
                "description": "The rows read: created, updated, unchanged, skipped or rejected (not the rows left out)",
            },
            "left_out_rows": {
                "type": "integer",
                "description": "The rows left out as holding no book, told in repairs (rows_without_book_cells, "
                "totals_rows, note_rows, second_header_row, product_rows): the file's rows are processed_rows + "
                "left_out_rows (empty rows aside)",
            },
            "rows_label": {
                "type": "string",
                "description": "How far it has got through the file's rows, as its page says it: '400 of 1,000 rows', "
                "'1,200 rows so far', '600 of 900 rows (200 left out)', '8 rows: 6 read, 2 left out'",
            },
            "percent": {
                "type": "integer",
                "description": "How far it has got through the file, 0–100 (its rows left out count as gone through)",
            },
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "unchanged": {"type": "integer"},
            "skipped": {"type": "integer"},
            "rejected": {"type": "integer"},
            "started_at": TIME,
            "finished_at": TIME,
            "phase": {
                "type": "string",
                "description": "What a running import does now: reading, validating, saving; 'worker lost: "
                "resuming' once its heartbeat is BOOKAPP_LOST_HEARTBEAT_SECONDS late (it resumes after its "
                "last committed chunk); 'waiting' while another import writes to the same SQLite database",
            },
            "phase_label": {
                "type": "string",
                "description": "The phase as the import's page says it: 'waiting for the database' for 'waiting'; for "
                "'worker lost: resuming', that it paused when the worker running it stopped and how it will go on "
                "('… carry on from the last rows it saved as soon as a worker is free')",
            },
            "heartbeat_at": {**TIME, "description": "The last sign of life of the worker running it"},
            "heartbeat_age_seconds": {
                "type": ["number", "null"],
                "description": "How old that sign is, while it runs (null otherwise)",
            },
            "attempts": {
                "type": "integer",
                "description": "The attempt it is on: 1 for its first run, one more per resume or retry; 0 "
                "before it starts",
            },
            "liveness": {
                "type": "string",
                "description": "What its page says of its worker: empty while all is well; a sentence once the "
                "worker has stopped answering or the import was started again",
            },
            "elapsed_seconds": {"type": ["number", "null"], "description": "From its first start to its end (or now)"},
            "working_seconds": {
                "type": ["number", "null"],
                "description": "Of elapsed_seconds, the time its attempts worked: a lost worker's last heartbeat "
                "ends its attempt's share (null for imports from before it was kept); rows_per_second uses it",
            },
            "rows_per_second": NULLABLE_INT,
            "error": {
                **NULLABLE_STRING,
                "description": "Why it failed or was cancelled. A workbook too large for its header to be read "
                "at upload (its job reads it) whose header leaves a required field without a column fails "
                "with file_problem true and the message a smaller file is refused with (422)",
            },
            "outcome": {
                "type": "string",
                "description": "How it ended, in words: 'succeeded with 3 rejected rows', 'every row rejected', "
                "'undone', …; a dry run's, what its import would do: 'would create 4 books and reject 2 rows'. "
                "Check it, not status alone, which says only whether the job ran to its end",
            },
            "outcome_class": {
                "type": "string",
                "description": "The outcome's kind, as the pages colour it: status-succeeded, status-partial, "
                "status-failed, status-undone, …",
            },
            "file_problem": {
                "type": "boolean",
                "description": "Failed for the file itself: retry cannot help",
            },
            "source_import_id": {
                **NULLABLE_INT,
                "description": "The dry run this import confirms, or the import whose file it reads again with "
                "its columns matched again (then it is a dry run exactly when that one was)",
            },
            "rematched_as": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "The imports that read this one's file again with its columns matched again "
                "(oldest first)",
            },
            "fixes_import_id": {
                **NULLABLE_INT,
                "description": "The import whose rejected rows this one imports, fixed",
            },
            "fixed_by": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "The imports of this one's rejected rows, fixed (oldest first)",
            },
            "confirmed_as_id": {
                **NULLABLE_INT,
                "description": "A dry run: the import it was confirmed as",
            },
            "undone_at": TIME,
            "undone_by": NULLABLE_STRING,
            "headers": {"type": ["array", "null"], "items": NULLABLE_STRING},
            "mapping": {
                "oneOf": [{"type": "null"}, MAPPING],
                "description": "The mapping given (a form, the API, a saved profile); null: none was given, the "
                "header's names say which column fills which field",
            },
            "columns_read": {
                "oneOf": [{"type": "null"}, MAPPING],
                "description": "The columns its rows are read from, recorded when its rows were first read: "
                "every field named (null: left empty), with the mapping's defaults, values and group_by. "
                "Every later read (a resume, the confirm of a dry run, the reports, the fix grid) reads these, "
                "whatever a later release's header names say. Null before its rows are read, and for imports "
                "read by a release that did not record it",
            },
            "profile": {
                "type": ["object", "null"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
            },
            "repairs": {
                "type": "object",
                "description": "Cells repaired on the way in, by kind (isbn_leading_zero; isbn_first_of_several: a cell "
                "holding a book's ISBN-13 and ISBN-10, read as the first; isbn_past_qualifier: a cell holding an ISBN "
                'and a library catalogue\'s qualifier after it, "0441172717 (pbk.)", read as the ISBN; '
                "catalogue_punctuation_taken_off: a row whose title or author closed with a library catalogue's "
                'punctuation, "Dune /" or "Herbert, Frank,", stored without it; catalogue_dates_taken_off: a row '
                'whose author held the dates a library catalogue adds to a name, "Herbert, Frank, 1920-1986", or the '
                "fuller form of its forenames, stored without them; year_read_from_catalogue: a row whose year was "
                'a library catalogue\'s date, "c1965.", "©1965" or "[1965]", read as 1965; '
                "pages_read_from_catalogue: a row whose number of pages was a library catalogue's extent, "
                '"xii, 402 p. :" or "402 p.", read as 402; thousands_points_read: a row whose quantity or number of '
                "pages was written with points grouping thousands, 1.200, read as 1200 as the file's prices with a "
                'decimal comma write them, "1.234,50"), and the rows left out '
                "with nothing in any matched column (rows_without_book_cells), as a second header of field names "
                "right under the header (second_header_row), as a note (note_rows: one cell of text, nothing else), "
                "or as the sheet's totals "
                "(totals_rows: no ISBN, and Total, Subtotal or Sum as the row's first text, or only numbers), and a workbook's rows "
                "with a number read as its cell's format shows it, rounded (numbers_read_as_shown: a price held as "
                "9.996 and shown as 10.00), and the rows whose description was written in HTML and stored as its "
                "plain text (descriptions_from_html), and a product export's rows of variable or grouped products "
                "left out, their variations being the books (product_rows): a count and the first rows",
            },
            "problems_summary": {
                "type": "array",
                "description": "One import only: each kind of problem of its rejected rows, the commonest first",
                "items": {"$ref": "#/components/schemas/ProblemKind"},
            },
        },
    },
    "Unmatched": {
        "allOf": [ERROR],
        "properties": {
            "missing_fields": {"type": "array", "items": {"type": "string"}},
            "columns": {"type": "array", "items": {"type": "string"}},
        },
    },
    "ProblemKind": {
        "type": "object",
        "required": ["kind", "column", "message", "count", "rows"],
        "properties": {
            "kind": {"type": "string", "description": "Filter the rejected rows with ?kind="},
            "column": NULLABLE_STRING,
            "message": {"type": "string"},
            "count": {"type": "integer"},
            "rows": {"type": "array", "items": {"type": "integer"}, "maxItems": 5},
        },
    },
    "RowCheck": {
        "type": "object",
        "required": ["valid", "blank", "problems", "columns", "row_problems", "book"],
        "properties": {
            "valid": {"type": "boolean"},
            "blank": {
                "type": "boolean",
                "description": "Every cell is blank: an import leaves the row out",
            },
            "problems": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["position", "column", "value", "message"],
                    "properties": {
                        "position": {**NULLABLE_INT, "description": "The column's place, from 0"},
                        "column": NULLABLE_STRING,
                        "value": NULLABLE_STRING,
                        "message": {"type": "string"},
                    },
                },
            },
            "columns": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "description": "The problems by column (header), in the words an import reports them",
            },
            "row_problems": {"type": "array", "items": {"type": "string"}},
            "book": {
                "type": ["object", "null"],
                "description": "The book the row makes, when it is valid",
            },
        },
    },
    "RowProblem": {
        "type": "object",
        "required": ["row", "message"],
        "properties": {
            "row": {
                "type": "integer",
                "description": "The row a spreadsheet program shows (the header is row 1).",
            },
            "line": {
                **NULLABLE_INT,
                "description": "The file line a CSV row starts on, where it is not the row number "
                "(after a cell with a line break); null otherwise.",
            },
            "column": NULLABLE_STRING,
            "value": NULLABLE_STRING,
            "message": {"type": "string"},
            "title": {
                **NULLABLE_STRING,
                "description": "The row's title as the import read it: its own cell, or, for a shop export's "
                "variant row that left it blank, its product's first row's title (title_from_row)",
            },
            "title_from_row": {
                **NULLABLE_INT,
                "description": "The row (its product's first) the title was taken from, where the row's own "
                "title cell is blank; null where the title is the row's own",
            },
            "isbn": {**NULLABLE_STRING, "description": "The row's ISBN as the file held it (a variant's is its own)"},
        },
    },
}
