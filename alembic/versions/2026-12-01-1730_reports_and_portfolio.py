"""Join the two lines of migrations: risk owners, decisions, alerts and digests beside the
portfolio's documents. Nothing to change; it only makes one head again.

Revision ID: 34f3b57179ac
Revises: 3d7e5b9c1a24, 3f7a9c2e5b18
Create Date: 2026-12-01 17:30:06.835238
"""

from collections.abc import Sequence

revision: str = "34f3b57179ac"
down_revision: tuple[str, str] = ("3d7e5b9c1a24", "3f7a9c2e5b18")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
