"""Derived risks' owners, register decisions, alerts and the portfolio digest.

Revision ID: 3d7e5b9c1a24
Revises: 8c4f1a2b7d63
Create Date: 2026-12-01 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "3d7e5b9c1a24"
down_revision: str | None = "8c4f1a2b7d63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Derived risks stored before this revision get their owner at the next recompute.
    with op.batch_alter_table("risk") as batch:
        batch.add_column(sa.Column("suggested_owner", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("owner_basis", sa.String(length=256), nullable=True))
        batch.add_column(
            sa.Column("decision", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=256), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("deliveries", sa.JSON(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_alert_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    op.create_index("ix_alert_program_raised", "alert", ["program_id", "raised_at"])
    op.create_index("ix_alert_status", "alert", ["status"])
    op.create_index("ix_alert_fingerprint", "alert", ["program_id", "fingerprint", "raised_at"])
    op.create_table(
        "alert_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_alert_state_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_state")),
        sa.UniqueConstraint(
            "program_id", "subject", name=op.f("uq_alert_state_program_id_subject")
        ),
    )
    op.create_table(
        "digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.JSON(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest")),
        sa.UniqueConstraint("week", name=op.f("uq_digest_week")),
    )


def downgrade() -> None:
    op.drop_table("digest")
    op.drop_table("alert_state")
    op.drop_index("ix_alert_fingerprint", table_name="alert")
    op.drop_index("ix_alert_status", table_name="alert")
    op.drop_index("ix_alert_program_raised", table_name="alert")
    op.drop_table("alert")
    with op.batch_alter_table("risk") as batch:
        batch.drop_column("decision")
        batch.drop_column("owner_basis")
        batch.drop_column("suggested_owner")
