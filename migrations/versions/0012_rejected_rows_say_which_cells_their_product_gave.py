"""Rejected rows say which of their cells the file held in another row.

- rejected_rows.filled: for a row continuing an item (a shop export's variant row, which takes its
  product's title, vendor, type and description from the product's first row where its own cells are
  blank), the positions of the cells so taken and that first row's number: {"from_row": 2, "cells": [1, 3]}.
  The fix grid marks those cells, so a person fixing the row sees that their file left them blank.
  Null for every other row.

Rows rejected before this revision have nothing recorded: the cells they kept are shown as ever, unmarked.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases, as in 0006 (JSON is what sa.JSON is on both).
    op.execute("ALTER TABLE rejected_rows ADD COLUMN filled JSON")


def downgrade():
    with op.batch_alter_table("rejected_rows") as batch:
        batch.drop_column("filled")
