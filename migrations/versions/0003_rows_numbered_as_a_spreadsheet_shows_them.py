"""Rows are numbered as a spreadsheet shows them; the file line is kept where it differs.

import_row_errors.line and rejected_rows.line: the line of the file a CSV record starts on, set only
when it is not the row number (after a cell holding a line break). Rows saved before keep NULL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TABLE import_row_errors ADD COLUMN line INTEGER")
    op.execute("ALTER TABLE rejected_rows ADD COLUMN line INTEGER")


def downgrade():
    with op.batch_alter_table("rejected_rows") as batch:
        batch.drop_column("line")
    with op.batch_alter_table("import_row_errors") as batch:
        batch.drop_column("line")
