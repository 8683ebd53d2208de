"""Import the files people have: column mappings, saved profiles, repaired cells, fixes of rejected rows.

- import_profiles: a named way to read files with one header row (header_key: sha256 of that row).
- imports.mapping: the mapping an import was read with (columns, fallbacks, defaults, value maps).
- imports.profile_id: the profile that mapping came from.
- imports.repairs: cells repaired on the way in (an ISBN-10 that lost its leading zero), by kind.
- imports.fixes_import_id: the import whose rejected rows this one imports, fixed in the browser.
- imports.status takes a new value, needs_mapping (the column is text: no change to it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("header_key", sa.String(length=64), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_import_profiles_header_key", "import_profiles", ["header_key"])
    # Plain ADD COLUMN on both databases: SQLite takes a REFERENCES clause there and nowhere else.
    json = "JSON"  # what sa.JSON is on both databases
    op.execute(f"ALTER TABLE imports ADD COLUMN mapping {json}")
    op.execute("ALTER TABLE imports ADD COLUMN profile_id INTEGER REFERENCES import_profiles (id) ON DELETE SET NULL")
    op.execute(f"ALTER TABLE imports ADD COLUMN repairs {json}")
    op.execute("ALTER TABLE imports ADD COLUMN fixes_import_id INTEGER REFERENCES imports (id) ON DELETE SET NULL")


def downgrade():
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("fixes_import_id")
        batch.drop_column("repairs")
        batch.drop_column("profile_id")
        batch.drop_column("mapping")
    op.drop_index("ix_import_profiles_header_key", table_name="import_profiles")
    op.drop_table("import_profiles")
