"""Join the two lines of migrations: project names and decisions on derived risks beside
the reports' and the portfolio's tables. Nothing to change; it only makes one head again.

Revision ID: 6b1d2e8f4a90
Revises: 34f3b57179ac, 523eb25ca042
Create Date: 2026-12-01 17:45:00
"""

from collections.abc import Sequence

revision: str = "6b1d2e8f4a90"
down_revision: tuple[str, str] = ("34f3b57179ac", "523eb25ca042")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
