"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json and checked against the real
responses by the tests (schemathesis)."""

from ..importer.fields import BOOK_TYPES
from ..models import ImportMode, ImportStatus
from ..services.books import PAGE_SIZES, SORTABLE

_ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict:
    return {
        str(code): {"description": "An error", "content": {"application/json": {"schema": _ERROR}}} for code in codes
    }


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _page_of(ref: str) -> dict:
    return {
        "type": "object",
        "required": ["total", "page", "per_page", "items"],
        "properties": {
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "items": {"type": "array", "items": {"$ref": ref}},
        },
    }


_PAGE_PARAMETERS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": max(PAGE_SIZES)}},
]
_ID = {"in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_INT = {"type": ["integer", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}

_BOOK_INPUT = {
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
        "description": _NULLABLE_STRING,
    },
}


_CHAIN = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}]}
_MAPPING = {
    "type": "object",
    "description": "columns: field → a header of the file, a list of headers (a fallback chain: the first filled "
    "cell) or null (leave an optional field empty); defaults: field → one value for every row; values: "
    "book_type → {file value: stored type, or null to reject those rows}. Fields not named are matched by "
    "their headers.",
    "properties": {
        "columns": {"type": "object", "additionalProperties": _CHAIN},
        "defaults": {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
        "values": {"type": "object", "additionalProperties": {"type": "object"}},
    },
}
_PROFILE = {
    "type": "object",
    "required": ["id", "name", "headers", "mapping"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "headers": {"type": "array", "items": _NULLABLE_STRING},
        "mapping": _MAPPING,
        "created_by": _NULLABLE_STRING,
        "created_at": _TIME,
        "updated_at": _TIME,
    },
}


_ROW_INPUT = {
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


def openapi_document() -> dict:
    """Return the API's OpenAPI document."""
    book_actions = {
        "get": {"summary": "One book", "parameters": [{"name": "book_id", **_ID}],
                "responses": {"200": _json({"$ref": "#/components/schemas/Book"}), **_errors(401, 404)}},
        "put": {"summary": "Replace a book's fields (the importer's rules)", "parameters": [{"name": "book_id", **_ID}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _BOOK_INPUT}}},
                "responses": {"200": _json({"$ref": "#/components/schemas/Book"}), **_errors(400, 401, 403, 404, 422)}},
        "patch": {"summary": "Change some of a book's fields", "parameters": [{"name": "book_id", **_ID}],
                  "requestBody": {"required": True, "content": {"application/json": {"schema": _BOOK_INPUT}}},
                  "responses": {"200": _json({"$ref": "#/components/schemas/Book"}), **_errors(400, 401, 403, 404, 422)}},
        "delete": {"summary": "Delete a book", "parameters": [{"name": "book_id", **_ID}],
                   "responses": {"204": {"description": "Deleted"}, **_errors(401, 403, 404)}},
    }  # fmt: skip

    def import_action(summary: str, *codes: int, parameters: tuple = ()) -> dict:
        return {"post": {"summary": summary, "parameters": [{"name": "import_id", **_ID}, *parameters],
                         "responses": {"200": _json({"$ref": "#/components/schemas/Import"}),
                                       "202": _json({"$ref": "#/components/schemas/Import"}),
                                       **_errors(401, 403, 404, 409, *codes)}}}  # fmt: skip

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "bookapp",
            "version": "1",
            "description": "Import spreadsheets of books; browse and change them.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/books": {
                "get": {
                    "summary": "Books, with the search, filters and sort of /books",
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                        {"name": "book_type", "in": "query", "schema": {"type": "string", "enum": list(BOOK_TYPES)}},
                        {"name": "import_id", "in": "query", "schema": {"type": "integer"}},
                        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(SORTABLE)}},
                        {"name": "direction", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc"]}},
                        *_PAGE_PARAMETERS,
                    ],
                    "responses": {"200": _json(_page_of("#/components/schemas/Book")), **_errors(400, 401)},
                },
                "post": {
                    "summary": "Create a book (the importer's rules)",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _BOOK_INPUT}}},
                    "responses": {"201": _json({"$ref": "#/components/schemas/Book"}), **_errors(400, 401, 403, 422)},
                },
            },
            "/books/{book_id}": book_actions,
            "/imports": {
                "get": {
                    "summary": "Imports, newest first",
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": [s.value for s in ImportStatus]},
                        },
                        *_PAGE_PARAMETERS,
                    ],
                    "responses": {"200": _json(_page_of("#/components/schemas/Import")), **_errors(400, 401, 403)},
                },
                "post": {
                    "summary": "Upload a spreadsheet and queue its import",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {
                                        "file": {
                                            "type": "string",
                                            "format": "binary",
                                            "description": "The book list: .xlsx, .xls, .xlsb, .ods, or CSV or "
                                            "tab-separated text (UTF-8, UTF-16 with BOM, Windows-1252); "
                                            "what it is comes from its bytes, not its name",
                                        },
                                        "mode": {"type": "string", "enum": [m.value for m in ImportMode]},
                                        "dry_run": {"type": "boolean"},
                                        "all_or_nothing": {"type": "boolean"},
                                        "allow_repeat": {"type": "boolean"},
                                        "mapping": {
                                            "type": "string",
                                            "contentMediaType": "application/json",
                                            "description": "How the file's columns fill the book fields, a JSON "
                                            "text: see the Mapping schema",
                                        },
                                        "profile": {"type": "string", "description": "A saved profile's name"},
                                        "save_as": {
                                            "type": "string",
                                            "description": "Save the mapping used as a profile of this name",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "202": _json({"$ref": "#/components/schemas/Import"}),
                        **_errors(400, 401, 403, 409, 413),
                        "422": _json(
                            {"$ref": "#/components/schemas/Unmatched"},
                            "The file cannot be read as sent: its columns leave a required field without a column "
                            "(missing_fields, columns), or it is not a book list",
                        ),
                    },
                },
            },
            "/profiles": {
                "get": {
                    "summary": "Import profiles, by name",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["items"],
                                "properties": {"items": {"type": "array", "items": _PROFILE}},
                            }
                        ),
                        **_errors(401, 403),
                    },
                },
                "post": {
                    "summary": "Save a mapping for files with a header row",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["name", "headers", "mapping"],
                                    "properties": {
                                        "name": {"type": "string"},
                                        "headers": {"type": "array", "items": _NULLABLE_STRING},
                                        "mapping": _MAPPING,
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"201": _json(_PROFILE), **_errors(400, 401, 403, 422)},
                },
            },
            "/profiles/{profile_id}": {
                "get": {
                    "summary": "One import profile",
                    "parameters": [{"name": "profile_id", **_ID}],
                    "responses": {"200": _json(_PROFILE), **_errors(401, 403, 404)},
                },
                "put": {
                    "summary": "Rename a profile or replace its mapping",
                    "parameters": [{"name": "profile_id", **_ID}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"name": {"type": "string"}, "mapping": _MAPPING},
                                }
                            }
                        },
                    },
                    "responses": {"200": _json(_PROFILE), **_errors(400, 401, 403, 404, 422)},
                },
                "delete": {
                    "summary": "Delete a profile (imports keep their own copy of its mapping)",
                    "parameters": [{"name": "profile_id", **_ID}],
                    "responses": {"204": {"description": "Deleted"}, **_errors(401, 403, 404)},
                },
            },
            "/imports/{import_id}": {
                "get": {
                    "summary": "One import",
                    "parameters": [{"name": "import_id", **_ID}],
                    "responses": {"200": _json({"$ref": "#/components/schemas/Import"}), **_errors(401, 403, 404)},
                },
            },
            "/imports/{import_id}/rejected": {
                "get": {
                    "summary": "The problems of the rejected rows",
                    "parameters": [
                        {"name": "import_id", **_ID},
                        {"name": "column", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "kind",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "A kind of problem, as `problems_summary` names it",
                        },
                        *_PAGE_PARAMETERS,
                    ],
                    "responses": {
                        "200": _json(_page_of("#/components/schemas/RowProblem")),
                        **_errors(400, 401, 403, 404),
                    },
                },
            },
            "/imports/{import_id}/cancel": import_action("Cancel a queued or running import"),
            "/imports/{import_id}/retry": import_action("Queue a failed or cancelled import again"),
            "/imports/{import_id}/confirm": import_action(
                "Import a finished dry run's file, once (409 with confirmed_import when it was confirmed before)",
                parameters=({"name": "allow_repeat", "in": "query", "schema": {"type": "boolean"}},),
            ),
            "/imports/{import_id}/undo": import_action("Undo a finished import"),
            "/imports/{import_id}/validate-row": {
                "post": {
                    "summary": "Check one row with the import's rules (its mapping, defaults and value maps), as a "
                    "fixed row would be imported",
                    "parameters": [{"name": "import_id", **_ID}],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ROW_INPUT}}},
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/RowCheck"}),
                        **_errors(400, 401, 403, 404, 409, 422),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
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
                        "no_of_pages": _NULLABLE_INT,
                        "quantity": {"type": "integer"},
                        "description": _NULLABLE_STRING,
                        "import_id": _NULLABLE_INT,
                        "created_at": _TIME,
                        "updated_at": _TIME,
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
                        "total_rows": _NULLABLE_INT,
                        "processed_rows": {"type": "integer"},
                        "created": {"type": "integer"},
                        "updated": {"type": "integer"},
                        "unchanged": {"type": "integer"},
                        "skipped": {"type": "integer"},
                        "rejected": {"type": "integer"},
                        "started_at": _TIME,
                        "finished_at": _TIME,
                        "error": _NULLABLE_STRING,
                        "outcome": {
                            "type": "string",
                            "description": "How it ended, in words: 'succeeded with 3 rejected rows', 'undone', …",
                        },
                        "file_problem": {
                            "type": "boolean",
                            "description": "Failed for the file itself: retry cannot help",
                        },
                        "source_import_id": _NULLABLE_INT,
                        "fixes_import_id": {
                            **_NULLABLE_INT,
                            "description": "The import whose rejected rows this one imports, fixed",
                        },
                        "fixed_by": {
                            "type": "array",
                            "items": {"type": "integer"},
                            "description": "The imports of this one's rejected rows, fixed (oldest first)",
                        },
                        "confirmed_as_id": {
                            **_NULLABLE_INT,
                            "description": "A dry run: the import it was confirmed as",
                        },
                        "undone_at": _TIME,
                        "undone_by": _NULLABLE_STRING,
                        "headers": {"type": ["array", "null"], "items": _NULLABLE_STRING},
                        "mapping": {"oneOf": [{"type": "null"}, _MAPPING]},
                        "profile": {
                            "type": ["object", "null"],
                            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                        },
                        "repairs": {
                            "type": "object",
                            "description": "Cells repaired on the way in, by kind "
                            "(isbn_leading_zero): a count and the first rows",
                        },
                        "problems_summary": {
                            "type": "array",
                            "description": "One import only: each kind of problem of its rejected rows, the commonest first",
                            "items": {"$ref": "#/components/schemas/ProblemKind"},
                        },
                    },
                },
                "Unmatched": {
                    "allOf": [_ERROR],
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
                        "column": _NULLABLE_STRING,
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
                                    "position": {**_NULLABLE_INT, "description": "The column's place, from 0"},
                                    "column": _NULLABLE_STRING,
                                    "value": _NULLABLE_STRING,
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
                            **_NULLABLE_INT,
                            "description": "The file line a CSV row starts on, where it is not the row number "
                            "(after a cell with a line break); null otherwise.",
                        },
                        "column": _NULLABLE_STRING,
                        "value": _NULLABLE_STRING,
                        "message": {"type": "string"},
                        "title": {**_NULLABLE_STRING, "description": "The row's title as the file held it"},
                        "isbn": {**_NULLABLE_STRING, "description": "The row's ISBN as the file held it"},
                    },
                },
            },
        },
    }
