"""Documents written only when they changed: a digest per stored document, and a
revision per program that counts the changes (readers keep what they parsed per revision).

Revision ID: b7d4e2a9c610
Revises: 9a3c5e7f1b24
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "b7d4e2a9c610"
down_revision: str | None = "9a3c5e7f1b24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("program_status") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("digests", sa.JSON(), nullable=True))
    with op.batch_alter_table("outcome_status") as batch:
        batch.add_column(sa.Column("digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outcome_status") as batch:
        batch.drop_column("digest")
    with op.batch_alter_table("program_status") as batch:
        batch.drop_column("digests")
        batch.drop_column("revision")
