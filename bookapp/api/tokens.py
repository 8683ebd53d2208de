"""The API's blueprint and its bearer-token auth (shared by the API's modules)."""

import secrets
from functools import wraps

from flask import Blueprint, abort, g, request
from sqlalchemy import select

from ..extensions import db
from ..models import ApiToken, User

bp = Blueprint("api", __name__)


def issue_token(user: User) -> str:
    """Create an API token for *user* and return it (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=ApiToken.hash(token)))
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
    return api_token.user


def token_required(view):
    """Let through requests with a valid `Authorization: Bearer <token>` of a staff user."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        g.api_user = _token_user()
        if not g.api_user.is_staff:
            abort(403, description="This token's user is a viewer: it may read books only.")
        return view(*args, **kwargs)

    return wrapped


def reader_token_required(view):
    """Let through requests with a valid token of any user (viewers read books)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        g.api_user = _token_user()
        return view(*args, **kwargs)

    return wrapped
