"""Projects' names as the trackers call them; a person's scores on derived risks; every
change made to a risk, with who made it and when.

Revision ID: 523eb25ca042
Revises: 8c4f1a2b7d63
Create Date: 2026-12-01 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "523eb25ca042"
down_revision: str | None = "8c4f1a2b7d63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("fk_project_source_id_source"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("source_id", "project", name=op.f("uq_project_source_id_project")),
    )
    op.create_table(
        "risk_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("risk_id", sa.Integer(), nullable=True),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=256), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_risk_change_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["risk_id"], ["risk.id"], name=op.f("fk_risk_change_risk_id_risk"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_change")),
    )
    with op.batch_alter_table("risk_change", schema=None) as batch_op:
        batch_op.create_index(
            "ix_risk_change_program_risk", ["program_id", "risk_id"], unique=False
        )

    with op.batch_alter_table("risk", schema=None) as batch_op:
        batch_op.add_column(sa.Column("override_probability", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("override_impact", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("override_by", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("override_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk", schema=None) as batch_op:
        batch_op.drop_column("override_at")
        batch_op.drop_column("override_by")
        batch_op.drop_column("override_impact")
        batch_op.drop_column("override_probability")

    with op.batch_alter_table("risk_change", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_change_program_risk")

    op.drop_table("risk_change")
    op.drop_table("project")
