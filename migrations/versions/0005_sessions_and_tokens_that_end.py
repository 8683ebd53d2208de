"""Sessions and API tokens that end.

- users.session_version: raised by sign-out, a password change and `flask revoke-sessions`; a session
  names the version it began in, so raising it ends every earlier session. Existing users start at 0
  (their sessions from before this release carry no version and end once).
- api_tokens.expires_at: when a token stops working (NULL: until it is revoked, as before).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
