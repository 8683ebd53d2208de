"""Imports say how they ended: a dry run is confirmed once, file problems are final, problems have kinds.

- imports.confirmed_as_id: the import a dry run was confirmed as (set once, by compare-and-set).
  Dry runs confirmed before it existed get it from the import that names them as its source.
- imports.file_problem: whether the file itself was refused (a retry cannot help).
- import_row_errors.kind and .wording: digests that group problems of one kind for the summary, and
  the index the summary reads alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases: SQLite takes a REFERENCES clause there and nowhere else.
    op.execute("ALTER TABLE imports ADD COLUMN confirmed_as_id INTEGER REFERENCES imports (id) ON DELETE SET NULL")
    op.execute("ALTER TABLE imports ADD COLUMN file_problem BOOLEAN NOT NULL DEFAULT false")
    op.execute("ALTER TABLE import_row_errors ADD COLUMN kind VARCHAR(16)")
    op.execute("ALTER TABLE import_row_errors ADD COLUMN wording VARCHAR(16)")
    op.create_index(
        "ix_import_row_errors_import_kind",
        "import_row_errors",
        ["import_id", "kind", "column", "row_number", "wording"],
    )
    op.execute(
        "UPDATE imports SET confirmed_as_id = (SELECT min(c.id) FROM imports c "
        "WHERE c.source_import_id = imports.id AND NOT c.dry_run) WHERE dry_run"
    )


def downgrade():
    op.drop_index("ix_import_row_errors_import_kind", table_name="import_row_errors")
    with op.batch_alter_table("import_row_errors") as batch:
        batch.drop_column("wording")
        batch.drop_column("kind")
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("file_problem")
        batch.drop_column("confirmed_as_id")
