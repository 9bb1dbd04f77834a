"""The roadmap and resources documents beside each program's stored status.

Revision ID: 5d1e2f7a9c30
Revises: 6b1d0c9e2f41
Create Date: 2026-11-21 23:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "5d1e2f7a9c30"
down_revision: str | None = "6b1d0c9e2f41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows stored before this revision read as empty documents until the next recompute.
    with op.batch_alter_table("program_status") as batch:
        batch.add_column(sa.Column("roadmap", sa.JSON(), server_default="{}", nullable=False))
        batch.add_column(sa.Column("resources", sa.JSON(), server_default="{}", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("program_status") as batch:
        batch.drop_column("resources")
        batch.drop_column("roadmap")
