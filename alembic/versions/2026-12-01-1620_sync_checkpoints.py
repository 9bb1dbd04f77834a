"""Sync checkpoints: how far a scope's listing got (the last id swept), written with the
rows it covers, so a sync cut short continues where it stopped.

Revision ID: c46ed75ead5d
Revises: e6ff45d9b7f1
Create Date: 2026-12-01 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "c46ed75ead5d"
down_revision: str | None = "e6ff45d9b7f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkpoint", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("checkpoint_since", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("checkpoint_started_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_column("checkpoint_started_at")
        batch_op.drop_column("checkpoint_since")
        batch_op.drop_column("checkpoint")
