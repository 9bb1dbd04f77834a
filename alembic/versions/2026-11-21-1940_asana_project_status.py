"""Project status: the latest status update a team posted per project (Asana).

Revision ID: 8634e3f649c6
Revises: c4049e7a2b87
Create Date: 2026-11-21 19:40:42.078144
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "8634e3f649c6"
down_revision: str | None = "c4049e7a2b87"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=64), nullable=False),
        sa.Column("project_name", sa.String(length=256), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("status_type", sa.String(length=32), nullable=False),
        sa.Column("color", sa.String(length=8), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=256), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("fk_project_status_source_id_source"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_status")),
        sa.UniqueConstraint(
            "source_id", "project", name=op.f("uq_project_status_source_id_project")
        ),
    )


def downgrade() -> None:
    op.drop_table("project_status")
