"""The API's blueprint and its bearer-token auth (shared by the API's modules)."""

import secrets
from datetime import timedelta
from functools import wraps

from flask import Blueprint, abort, g, request
from sqlalchemy import select

from ..extensions import db
from ..models import ApiToken, User, utcnow

bp = Blueprint("api", __name__)


def issue_token(user: User, expires_days: int | None = None) -> str:
    """Create an API token for *user*, working for *expires_days* days (None: until revoked), and return
    it (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    db.session.add(ApiToken(user=user, token_hash=ApiToken.hash(token), expires_at=expires_at))
    db.session.commit()
    return token


def _token_user() -> User:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        abort(401, description="Send an API token: 'Authorization: Bearer <token>'.")
    api_token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(token.strip()), ApiToken.revoked_at.is_(None))
    )
    if api_token is None:
        abort(401, description="The API token is not valid or has been revoked.")
    if api_token.expires_at is not None and api_token.expires_at <= utcnow():
        abort(401, description="The API token has expired. Ask for a new one (flask create-token).")
    return api_token.user


def staff_token_user() -> User:
    """Return the staff user whose token the request carries; answer 401 without a valid token, 403 for
    a viewer's."""
    user = _token_user()
    if not user.is_staff:
        abort(403, description="This token's user is a viewer: it may read books only.")
    return user


def token_required(view):
    """Let through requests with a valid `Authorization: Bearer <token>` of a staff user."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        g.api_user = staff_token_user()
        return view(*args, **kwargs)

    return wrapped


def reader_token_required(view):
    """Let through requests with a valid token of any user (viewers read books)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        g.api_user = _token_user()
        return view(*args, **kwargs)

    return wrapped
