"""Sign-ins through the identity provider: a session keeps the role and groups the
provider's claims gave (a token's sign-in leaves both empty).

Revision ID: 7c4e1a9b3d26
Revises: e1a9c3b5d702
Create Date: 2026-12-01 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "7c4e1a9b3d26"
down_revision: str | None = "e1a9c3b5d702"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("web_session") as batch:
        batch.add_column(sa.Column("role", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("groups", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_session") as batch:
        batch.drop_column("groups")
        batch.drop_column("role")
