"""Dry runs that have ended keep no more change rows than a dry run keeps now.

A dry run records the changes it would make (import_changes) for its row-by-row report alone. It now
records those of its first 10,000 updated books in the file's order (services/dry_runs.py:
DRY_RUN_CHANGES_KEPT), and they are deleted with its file (reconcile.delete_expired_uploads). Dry runs
made before recorded one per book they would update, and nothing deleted them: a dry run of a
million-row update held a million rows for good. Of the dry runs that have ended (succeeded, failed or
cancelled):
- those whose file was deleted keep none: their report needs the file;
- the others keep their first 10,000 in the file's order (by row number), the ones a dry run made now
  would have; their report and page say where the list stops, as a dry run's made now do
  (dry_runs.changes_listed).

A real import's changes, which undo reads, are left alone, and so are those of a dry run not ended yet.
The rows deleted are not restored by a downgrade.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

#: DRY_RUN_CHANGES_KEPT at this revision.
KEPT = 10_000

#: The dry runs that have ended (models.TERMINAL_STATUSES at this revision).
ENDED_DRY_RUNS = "SELECT id FROM imports WHERE dry_run AND status IN ('succeeded', 'failed', 'cancelled')"


def upgrade():
    # Plain SQL on both databases, as in 0002.
    op.execute(f"DELETE FROM import_changes WHERE import_id IN ({ENDED_DRY_RUNS} AND file_deleted_at IS NOT NULL)")
    connection = op.get_bind()
    over = connection.execute(
        sa.text(
            f"SELECT import_id FROM import_changes WHERE import_id IN ({ENDED_DRY_RUNS}) "
            f"GROUP BY import_id HAVING count(*) > {KEPT}"
        )
    ).scalars()
    for import_id in list(over):
        # The last change kept: the KEPT-th in the file's order.
        last_row, last_id = connection.execute(
            sa.text(
                "SELECT row_number, id FROM import_changes WHERE import_id = :import_id "
                "ORDER BY row_number, id LIMIT 1 OFFSET :offset"
            ),
            {"import_id": import_id, "offset": KEPT - 1},
        ).one()
        connection.execute(
            sa.text(
                "DELETE FROM import_changes WHERE import_id = :import_id "
                "AND (row_number > :last_row OR (row_number = :last_row AND id > :last_id))"
            ),
            {"import_id": import_id, "last_row": last_row, "last_id": last_id},
        )


def downgrade():
    # The rows deleted are gone: nothing to restore, nothing to undo in the schema.
    pass
