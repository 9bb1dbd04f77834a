"""Join three lines of migrations: the audit log and API tokens, what-if scenarios, and
documents written only when they changed. Nothing to change; it only makes one head again.

Revision ID: e1a9c3b5d702
Revises: 3f7a9c2d5e18, 5d2b8e4a7c91, b7d4e2a9c610
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

revision: str = "e1a9c3b5d702"
down_revision: tuple[str, str, str] = ("3f7a9c2d5e18", "5d2b8e4a7c91", "b7d4e2a9c610")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
