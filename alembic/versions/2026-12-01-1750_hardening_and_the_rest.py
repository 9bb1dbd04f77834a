"""Join the two lines of migrations: handshakes per resource, server-side sign-ins and sync
checkpoints beside the reports', portfolio's and risks' tables. Nothing to change; it only
makes one head again.

Revision ID: 9a3c5e7f1b24
Revises: 6b1d2e8f4a90, c46ed75ead5d
Create Date: 2026-12-01 17:50:00
"""

from collections.abc import Sequence

revision: str = "9a3c5e7f1b24"
down_revision: tuple[str, str] = ("6b1d2e8f4a90", "c46ed75ead5d")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
