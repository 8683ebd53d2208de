"""The books in stock, and how far the deferred copies of them (search and sort indexes) have caught up."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..column_types import Money, UTCDateTime, utcnow
from ..extensions import db
from ..importer.fields import BOOK_TYPES, MAX_LENGTHS


class Book(db.Model):
    """A book in stock; its ISBN is stored as ISBN-13 digits and is unique."""

    __tablename__ = "books"
    __table_args__ = (
        # PostgreSQL: a block-range index. Books are stored in the order imports create them, so a
        # few bytes per range of pages find one import's books, and inserts barely pay for it.
        Index("ix_books_created_by_import_id", "created_by_import_id", postgresql_using="brin"),
        # SQLite: never hand out a deleted book's id again (the search index's catch-up counts on it).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    isbn: Mapped[str] = mapped_column(String(13), unique=True)
    title: Mapped[str] = mapped_column(String(MAX_LENGTHS["title"]))
    author: Mapped[str] = mapped_column(String(MAX_LENGTHS["author"]))
    book_type: Mapped[str] = mapped_column(String(max(len(t) for t in BOOK_TYPES)))
    year_published: Mapped[str] = mapped_column(String(4))
    price: Mapped[Decimal] = mapped_column(Money)
    no_of_pages: Mapped[int | None] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: The import that created this book, and the one that last wrote it (None: edited by hand).
    #: Plain indexed ids, not foreign keys: imports are never deleted, and a foreign-key check per
    #: inserted row cost more than the insert itself on PostgreSQL.
    created_by_import_id: Mapped[int | None] = mapped_column(Integer)
    import_id: Mapped[int | None] = mapped_column(Integer, index=True)


class SearchState(db.Model):
    """How far a deferred copy of the books has caught up: every book with an id up to indexed_upto is
    in it. Row 1: the search index; row 2: the sort index."""

    __tablename__ = "search_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    indexed_upto: Mapped[int] = mapped_column(BigInteger, default=0)
    #: How many books the copy holds (the sort index keeps it: exact counts without counting every book).
    books: Mapped[int | None] = mapped_column(BigInteger)
