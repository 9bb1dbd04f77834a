"""Weekly reports: the day's status document on the program's snapshot, and when a
report's notes were written and its delivery released.

Snapshots taken before this revision have no document; reports written from them show
the figures the snapshot columns hold and say the rest was not recorded.

Revision ID: c108e7016d75
Revises: 1d8615550cf3
Create Date: 2026-11-21 20:34:59.573564
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "c108e7016d75"
down_revision: str | None = "1d8615550cf3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notes_updated_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("snapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("snapshot", schema=None) as batch_op:
        batch_op.drop_column("document")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("released_at")
        batch_op.drop_column("notes_updated_at")
