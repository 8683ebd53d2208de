"""Titles and authors as searches and sorts compare them: accents and case set aside, so that "creme"
finds "Crème brûlée" and "Émile" sorts among the E's.

Both indexes keep folded copies (search_index, sort_index) and every comparison that does without
them folds the books' own values the same way, so each database gives the same answers through its
indexes as through a plain scan or sort:

- SQLite: ``book_fold``, Python's fold below, which every connection gets. A Python call per value
  is dear (every title and author of a million books: 22 s on a loaded machine, where copying them took
  1 s), so only values with a character outside ASCII take it (3 % of titles, 9 % of authors in
  bench/data); ASCII ones are lowercased by SQLite's own lower(), which gives the same for them, or,
  for searches, left as they are, since LIKE and the trigram index set their case aside themselves.
- PostgreSQL: ``book_fold``, a function migration 0010 makes around the unaccent extension's dictionary
  (STABLE, as unaccent is, so the planner expands it in place: declared IMMUTABLE it was called per row,
  4.9 s instead of 2.1 s for a million titles). Where unaccent may not be created, it only lowercases:
  searches then set aside case, as before, not accents.
"""

import functools
import unicodedata

from sqlalchemy import LargeBinary, case, cast, func
from sqlalchemy.engine import Connection

#: The SQL function that folds a value, on both databases.
FUNCTION = "book_fold"
#: SQLite: a value with only one-byte (ASCII) characters; only the others take Python's fold. Bytes
#: against characters is the cheapest such test measured: 0.8 s for a million titles and authors,
#: GLOB '*[^ -~]*' 3.5 s (and Python's fold for all of them, 22 s, on a loaded machine).
_SQLITE_ASCII = "length(CAST({0} AS BLOB)) = length({0})"


#: Folded values a process remembers: authors and series titles come back again and again (bench/data's
#: million books hold 112,000 values with accents, 23,000 distinct; folding them took 1.1 s, 0.3 s so).
FOLDS_REMEMBERED = 1 << 16


def fold(value):
    """Return *value* without accents and case ("Crème BRÛLÉE" -> "creme brulee", "Straße" -> "strasse");
    any other value as it is."""
    return _fold_text(value) if isinstance(value, str) else value


@functools.lru_cache(maxsize=FOLDS_REMEMBERED)
def _fold_text(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def for_search(expression, dialect: str):
    """Return *expression* (a column) as searches compare it, an SQL expression for *dialect*: folded,
    but on SQLite ASCII values as they are (LIKE and the trigram index set their case aside)."""
    fold_it = getattr(func, FUNCTION)(expression)
    if dialect != "sqlite":
        return fold_it
    return case((_ascii_only(expression), expression), else_=fold_it)


def for_sort(expression, dialect: str):
    """Return *expression* (a column) as pages sort it: folded (on SQLite, ASCII values lowercased)."""
    fold_it = getattr(func, FUNCTION)(expression)
    if dialect != "sqlite":
        return fold_it
    return case((_ascii_only(expression), func.lower(expression)), else_=fold_it)


def for_search_sql(name: str, dialect: str) -> str:
    """The SQL text of for_search for column *name*, for triggers and bulk copies."""
    if dialect != "sqlite":
        return f"{FUNCTION}({name})"
    return f"CASE WHEN {_SQLITE_ASCII.format(name)} THEN {name} ELSE {FUNCTION}({name}) END"


def for_sort_sql(name: str, dialect: str) -> str:
    """The SQL text of for_sort for column *name*, for bulk copies."""
    if dialect != "sqlite":
        return f"{FUNCTION}({name})"
    return f"CASE WHEN {_SQLITE_ASCII.format(name)} THEN lower({name}) ELSE {FUNCTION}({name}) END"


def _ascii_only(expression):
    """SQLite: the condition "*expression* has one-byte characters only", as _SQLITE_ASCII writes it."""
    return func.length(cast(expression, LargeBinary)) == func.length(expression)


def fold_words(connection: Connection, words: list[str]) -> list[str]:
    """Fold a search's *words* as the database folds titles and authors (PostgreSQL: by its own function)."""
    if connection.dialect.name != "postgresql" or not words:
        return [fold(w) for w in words]
    params = {f"w{i}": w for i, w in enumerate(words)}
    row = connection.exec_driver_sql(
        "SELECT " + ", ".join(f"{FUNCTION}(%({k})s)" for k in params), params
    ).one()  # fmt: skip
    return list(row)
