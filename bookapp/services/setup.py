"""Create the schema and the first admin."""

import logging

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Role, User

log = logging.getLogger(__name__)


def init_database() -> None:
    """Create missing tables; create the admin from BOOKAPP_ADMIN_* when there is no user yet."""
    db.create_all()
    email, password = current_app.config.get("ADMIN_EMAIL"), current_app.config.get("ADMIN_PASSWORD")
    if email and password and db.session.scalar(select(User.id).limit(1)) is None:
        create_user(email, password, Role.STAFF)
        log.info("event=admin-created email=%s", email)


def create_user(email: str, password: str, role: Role = Role.STAFF) -> User:
    """Create or reset the user with *email*, giving it *password* and *role*."""
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email)) or User(email=email)
    user.set_password(password)
    user.role = Role(role).value
    db.session.add(user)
    db.session.commit()
    return user


def reset_database() -> None:
    """Drop bookapp's tables (whatever constraints an older schema left on them) and create them afresh.

    Destroys every book and import: for tests and benchmarks only.
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{table.name}" CASCADE')
    else:
        db.drop_all()
    db.create_all()
