"""The items behind each program figure (outcome units, data-quality findings), so every
count on a page can list its items.

Revision ID: 0f5751767aa6
Revises: c108e7016d75
Create Date: 2026-11-21 20:35:13.887693
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0f5751767aa6"
down_revision: str | None = "c108e7016d75"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "program_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_program_item_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("fk_program_item_source_id_source"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_item")),
        sa.UniqueConstraint(
            "program_id",
            "facet",
            "name",
            "source_id",
            "key",
            name=op.f("uq_program_item_program_id_facet_name_source_id_key"),
        ),
    )
    with op.batch_alter_table("program_item", schema=None) as batch_op:
        batch_op.create_index("ix_program_item_source_key", ["source_id", "key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("program_item", schema=None) as batch_op:
        batch_op.drop_index("ix_program_item_source_key")

    op.drop_table("program_item")
