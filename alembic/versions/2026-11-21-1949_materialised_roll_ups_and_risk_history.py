"""Materialised roll-ups (program and outcome status) and the history of risks opening
and closing.

Revision ID: 1d8615550cf3
Revises: 8634e3f649c6
Create Date: 2026-11-21 19:49:23.240811
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "1d8615550cf3"
down_revision: str | None = "8634e3f649c6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outcome_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("outcome_key", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rag", sa.String(length=8), nullable=False),
        sa.Column("status", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_outcome_status_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_status")),
        sa.UniqueConstraint(
            "program_id", "outcome_key", name=op.f("uq_outcome_status_program_id_outcome_key")
        ),
    )
    op.create_table(
        "program_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rag", sa.String(length=8), nullable=False),
        sa.Column("status", sa.JSON(), nullable=False),
        sa.Column("dependencies", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_program_status_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_status")),
        sa.UniqueConstraint("program_id", name=op.f("uq_program_status_program_id")),
    )
    op.create_table(
        "risk_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("risk_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_risk_event_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["risk_id"], ["risk.id"], name=op.f("fk_risk_event_risk_id_risk"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_event")),
    )
    with op.batch_alter_table("risk_event", schema=None) as batch_op:
        batch_op.create_index("ix_risk_event_program_at", ["program_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_risk_event_risk_id"), ["risk_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_event_risk_id"))
        batch_op.drop_index("ix_risk_event_program_at")

    op.drop_table("risk_event")
    op.drop_table("program_status")
    op.drop_table("outcome_status")
