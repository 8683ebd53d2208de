"""Imports know which of their file's columns were blank in every row, and whether their profile was saved
from them.

- imports.blank_columns: the headers of the columns Match columns found blank in every row of the file
  (its column profile, which is cleared once the columns are matched), so that the import's report tells
  the columns it ignored that held values from those that held nothing. None where the file's columns were
  not profiled (a file whose header matched on upload, and every import made before this revision): the
  report then lists the ignored columns as one.
- imports.profile_saved_here: true when the import's columns were matched for it (on Match columns, or by
  the upload's mapping) and saved as its profile, which its report then says; false when a profile saved
  before matched them. Imports made before this revision read false, as they did.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases, as in 0006 (JSON is what sa.JSON is on both).
    op.execute("ALTER TABLE imports ADD COLUMN blank_columns JSON")
    op.execute("ALTER TABLE imports ADD COLUMN profile_saved_here BOOLEAN NOT NULL DEFAULT false")


def downgrade():
    # Native on both databases (SQLite since 3.35): the table is not rebuilt.
    op.execute("ALTER TABLE imports DROP COLUMN profile_saved_here")
    op.execute("ALTER TABLE imports DROP COLUMN blank_columns")
