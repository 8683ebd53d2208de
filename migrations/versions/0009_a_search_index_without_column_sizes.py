"""SQLite's search index keeps no column sizes.

- books_search (FTS5, SQLite only) is made with columnsize=0: it kept each book's title and author
  sizes in a table of their own, which only ranking reads, and a search never ranks. A million books
  go in in 2.1 s instead of 2.7 s on the machine bench/RESULTS.md was measured on.
- As in 0008, the index starts afresh, empty, its mark at 0: searches scan until the next catch-up
  (a worker's maintenance, or the job after the next import) has copied the books again; results stay
  exact meanwhile.

PostgreSQL's search index is unchanged.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FTS5 = "CREATE VIRTUAL TABLE books_search USING fts5(title, author, tokenize='trigram', detail='none', content=''{})"
SETTINGS = [
    "INSERT INTO books_search (books_search, rank) VALUES ('hashsize', 16777216)",
    "INSERT INTO books_search (books_search, rank) VALUES ('automerge', 16)",
]


def upgrade():
    _replace(FTS5.format(", columnsize=0"))


def downgrade():
    _replace(FTS5.format(""))


def _replace(create: str) -> None:
    """Put an empty index made by *create* in the place of SQLite's search index, where there is one
    (none: FTS5 missing, or the index turned off), and set its mark back to 0. The triggers that keep
    it in step name it only, and stay."""
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    if connection.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'books_search'").first() is None:
        return
    op.execute("DROP TABLE books_search")
    for statement in [create, *SETTINGS]:
        op.execute(statement)
    op.execute("UPDATE search_state SET indexed_upto = 0 WHERE id = 1")
