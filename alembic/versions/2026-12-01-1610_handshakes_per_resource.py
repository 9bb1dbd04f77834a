"""Asana handshakes per resource: a registration names the webhooks it is creating, and
only those may set a secret, once each.

Revision ID: e877c25ec21e
Revises: 8c4f1a2b7d63
Create Date: 2026-12-01 15:37:27
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "e877c25ec21e"
down_revision: str | None = "8c4f1a2b7d63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscription", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("handshake_resources", sa.JSON(), server_default="[]", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscription", schema=None) as batch_op:
        batch_op.drop_column("handshake_resources")
