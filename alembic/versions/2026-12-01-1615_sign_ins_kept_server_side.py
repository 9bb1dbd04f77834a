"""Sign-ins kept server-side: the browser holds a random secret, the store its digest,
so signing out ends a session everywhere.

Revision ID: e6ff45d9b7f1
Revises: e877c25ec21e
Create Date: 2026-12-01 15:44:29
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "e6ff45d9b7f1"
down_revision: str | None = "e877c25ec21e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("principal", sa.String(length=128), nullable=False),
        sa.Column("token_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
    )
    op.create_index("ix_web_session_expires_at", "web_session", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_web_session_expires_at", table_name="web_session")
    op.drop_table("web_session")
