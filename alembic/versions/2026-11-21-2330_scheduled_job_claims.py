"""Scheduled job claims: the latest due time of each job and whether it finished, so
replicas run each scheduled job once.

Revision ID: 5c2e9a1d7b40
Revises: 5d1e2f7a9c30
Create Date: 2026-11-21 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "5c2e9a1d7b40"
down_revision: str | None = "5d1e2f7a9c30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("job_id", sa.String(length=128), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_run")),
    )


def downgrade() -> None:
    op.drop_table("job_run")
