"""Flask extensions, created unbound and initialised by the app factory."""

from pathlib import Path

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base shared by every model."""


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
#: Schema changes: `flask db upgrade` applies migrations/ (the app itself never changes the schema).
migrate = Migrate(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to continue."

#: Rate limits (sign-in attempts); the counters live in Redis, shared by every web process.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
