"""Imports say whether their upload asked not to wait on Match columns.

- imports.matching_refused: true when the upload asked that a file whose columns or values want matching be
  imported as it is, or refused, rather than wait on Match columns (the API and the command line, whose
  callers cannot use that page). A large workbook's job, which reads the first rows its upload did not,
  checks them as the upload checks a small file's only when it is false.

Imports made before this revision read false: as the web form's.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases, as in 0002.
    op.execute("ALTER TABLE imports ADD COLUMN matching_refused BOOLEAN NOT NULL DEFAULT false")


def downgrade():
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("matching_refused")
