"""Who signs in and what they may do: users, their roles and their API tokens."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from ..column_types import UTCDateTime, utcnow
from ..extensions import db


class Role(enum.StrEnum):
    """What a user may do: staff import and edit, viewers browse."""

    STAFF = "staff"
    VIEWER = "viewer"


class User(UserMixin, db.Model):
    """A person who signs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.STAFF.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Raised to end every session the user has (auth.sessions): a session names the version it began in.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def get_id(self) -> str:
        """The user's id as the session keeps it: with the session version, so a raised version ends it."""
        return f"{self.id}:{self.session_version or 0}"

    def set_password(self, password: str) -> None:
        """Store a salted hash of *password*; a new password ends every session begun with the old one."""
        changed = not (self.password_hash and check_password_hash(self.password_hash, password))
        self.password_hash = generate_password_hash(password)
        if changed:
            self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        """Return whether *password* matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_staff(self) -> bool:
        return self.role == Role.STAFF.value


#: A hash in Werkzeug's default form that no password matches: checking a password against it takes as
#: long as against a user's own, so a sign-in with an unknown email takes as long as one with a wrong password.
_UNMATCHABLE_HASH = "scrypt:32768:8:1$" + "0" * 16 + "$" + "0" * 128


def password_matches(user: User | None, password: str) -> bool:
    """Return whether *password* is *user*'s; for no user, False, after the same work as for a user."""
    if user is None:
        check_password_hash(_UNMATCHABLE_HASH, password)
        return False
    return user.check_password(password)


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: After this the token is refused (None: it works until revoked).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = db.relationship()

    @staticmethod
    def hash(token: str) -> str:
        """Return the stored form of *token*."""
        return hashlib.sha256(token.encode()).hexdigest()
