"""The portfolio: each program's part of it, the portfolio's documents, goals' days.

Revision ID: 3f7a9c2e5b18
Revises: 8c4f1a2b7d63
Create Date: 2026-12-01 17:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "3f7a9c2e5b18"
down_revision: str | None = "8c4f1a2b7d63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Programs stored before this revision have no part until their next recomputation;
    # the portfolio shows them as not computed until then.
    with op.batch_alter_table("program_status") as batch:
        batch.add_column(sa.Column("portfolio", sa.JSON(), nullable=True))
    op.create_table(
        "portfolio_document",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_portfolio_document")),
    )
    op.create_table(
        "goal_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_key", sa.String(length=64), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rag", sa.String(length=8), nullable=False),
        sa.Column("percent", sa.Float(), nullable=True),
        sa.Column("p85_on", sa.Date(), nullable=True),
        sa.Column("probability_on_time", sa.Float(), nullable=True),
        sa.Column("verdict", sa.String(length=8), nullable=True),
        sa.Column("verdict_raw", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_snapshot")),
        sa.UniqueConstraint(
            "goal_key", "taken_on", name=op.f("uq_goal_snapshot_goal_key_taken_on")
        ),
    )


def downgrade() -> None:
    op.drop_table("goal_snapshot")
    op.drop_table("portfolio_document")
    with op.batch_alter_table("program_status") as batch:
        batch.drop_column("portfolio")
