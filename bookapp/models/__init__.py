"""Database models: books (books), imports and what each import did (imports), users and API tokens
(users). Every model is importable from here, as is utcnow, the time they are stamped with."""

from ..column_types import utcnow
from .books import Book, SearchState
from .imports import (
    MODE_LABELS,
    TERMINAL_STATUSES,
    Import,
    ImportChange,
    ImportChunk,
    ImportMode,
    ImportPhase,
    ImportProfile,
    ImportRowError,
    ImportStatus,
    RejectedRow,
)
from .users import ApiToken, Role, User, password_matches

__all__ = [
    "MODE_LABELS",
    "TERMINAL_STATUSES",
    "ApiToken",
    "Book",
    "Import",
    "ImportChange",
    "ImportChunk",
    "ImportMode",
    "ImportPhase",
    "ImportProfile",
    "ImportRowError",
    "ImportStatus",
    "RejectedRow",
    "Role",
    "SearchState",
    "User",
    "password_matches",
    "utcnow",
]
