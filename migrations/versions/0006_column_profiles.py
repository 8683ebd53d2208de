"""The column profile of a file that waits for its columns to be matched.

- imports.column_profile: what the matching page shows of each column (samples, blank share, distinct
  values, value counts) and the file's first rows for its preview, or where computing it has got
  (pending in a job, or the error). Cleared once the columns are matched.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases, as in 0004 (JSON is what sa.JSON is on both).
    op.execute("ALTER TABLE imports ADD COLUMN column_profile JSON")


def downgrade():
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("column_profile")
