"""Imports keep the columns they read; the imports that name another are found by index.

- imports.columns_read: which column fills which field (and the mapping's defaults, value maps and
  group_by), recorded when an import's rows are first read, so that no later read of it (a resume, the
  confirm of a dry run, the fix grid, the reports, a rematch's start) matches its header anew with a
  later release's synonyms.
- ix_imports_source_import_id, ix_imports_fixes_import_id: each import's JSON looks up the imports that
  read its file again and those that import its fixed rows; without them, a scan of imports each time.

Imports made before this revision have nothing recorded, and nothing is recorded for them here: how the
release that read them matched their columns is not known, and recording what this release reads would
claim to know it. Instead (services.pipeline, services.imports):
- an ended import keeps matching its header as the running release does, for its reports and fix grid;
- a dry run not yet confirmed asks to be previewed again before it imports;
- an import not yet ended records its columns at its next read, and one that already saved rows resumes
  only when this release leaves aside the columns the first read left aside (imports.ignored_columns,
  recorded then), else it fails saying so, its saved rows kept.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases, as in 0006 (JSON is what sa.JSON is on both).
    op.execute("ALTER TABLE imports ADD COLUMN columns_read JSON")
    op.create_index("ix_imports_source_import_id", "imports", ["source_import_id"])
    op.create_index("ix_imports_fixes_import_id", "imports", ["fixes_import_id"])


def downgrade():
    op.drop_index("ix_imports_fixes_import_id", table_name="imports")
    op.drop_index("ix_imports_source_import_id", table_name="imports")
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("columns_read")
