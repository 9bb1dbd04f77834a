"""Each snapshot keeps its forecast's basis, target, verdict and inputs.

Revision ID: 8c4f1a2b7d63
Revises: 5c2e9a1d7b40
Create Date: 2026-12-01 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "8c4f1a2b7d63"
down_revision: str | None = "5c2e9a1d7b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Snapshots taken before this revision have nothing to explain a move or judge a
    # forecast by; they stay null and are skipped.
    with op.batch_alter_table("snapshot") as batch:
        batch.add_column(sa.Column("forecast", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("snapshot") as batch:
        batch.drop_column("forecast")
