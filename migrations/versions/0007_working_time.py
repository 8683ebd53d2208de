"""An import's working time, apart from the time a lost worker cost it.

- imports.attempt_started_at: when the current attempt claimed the import (cleared when it ends).
- imports.working_seconds: seconds the import's attempts spent working, each counted to its end or,
  for an attempt whose worker was lost, to its last heartbeat (NULL for imports from before 0007).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases, as in 0004 and 0006.
    timestamp = "TIMESTAMP WITH TIME ZONE" if op.get_bind().dialect.name == "postgresql" else "DATETIME"
    op.execute(f"ALTER TABLE imports ADD COLUMN attempt_started_at {timestamp}")
    op.execute("ALTER TABLE imports ADD COLUMN working_seconds FLOAT")


def downgrade():
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("working_seconds")
        batch.drop_column("attempt_started_at")
