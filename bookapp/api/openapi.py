"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json and checked against the real
responses by the tests (schemathesis)."""

from ..importer.fields import BOOK_TYPES
from ..models import ImportMode, ImportStatus
from ..services.books import PAGE_SIZES, SORTABLE
from .openapi_schemas import BOOK_INPUT as _BOOK_INPUT
from .openapi_schemas import ERROR as _ERROR
from .openapi_schemas import MAPPING as _MAPPING
from .openapi_schemas import NULLABLE_STRING as _NULLABLE_STRING
from .openapi_schemas import PROFILE as _PROFILE
from .openapi_schemas import ROW_INPUT as _ROW_INPUT
from .openapi_schemas import SCHEMAS


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
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_REMATCH = {
    "type": "object",
    "properties": {
        "mapping": {
            "type": "string",
            "contentMediaType": "application/json",
            "description": "How the file's columns fill the book fields, a JSON text: see the Mapping schema. "
            "This or profile is required",
        },
        "profile": {"type": "string", "description": "A saved profile's name"},
        "save_as": {"type": "string", "description": "Save the mapping used as a profile of this name"},
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
                "Import a finished dry run's file, once (409 with confirmed_import when it was confirmed before; "
                "409 for a dry run with no columns_read, previewed by an earlier release: rematch it to preview it again)",
                parameters=({"name": "allow_repeat", "in": "query", "schema": {"type": "boolean"}},),
            ),
            "/imports/{import_id}/undo": import_action("Undo a finished import"),
            "/imports/{import_id}/rematch": {
                "post": {
                    "summary": "Import an ended import's stored file again, read with another mapping (a new "
                    "import whose source_import_id is this one; never refused as a repeated file)",
                    "parameters": [{"name": "import_id", **_ID}],
                    "requestBody": {"required": True, "content": {kind: {"schema": _REMATCH} for kind in _FORMS}},
                    "responses": {
                        "202": _json({"$ref": "#/components/schemas/Import"}),
                        **_errors(400, 401, 403, 404, 409),
                        "422": _json(
                            {"$ref": "#/components/schemas/Unmatched"},
                            "The mapping leaves a required field without a column (missing_fields, columns), "
                            "or names no profile there is",
                        ),
                    },
                },
            },
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
            "schemas": SCHEMAS,
        },
    }
