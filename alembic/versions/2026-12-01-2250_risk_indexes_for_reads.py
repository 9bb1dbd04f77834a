"""Risks read by every program status without their rows: the open count by severity
from one index, and the latest change from another.

Revision ID: 0c8ec2e4b18f
Revises: 7c4e1a9b3d26
Create Date: 2026-12-01 22:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0c8ec2e4b18f"
down_revision: str | None = "7c4e1a9b3d26"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_risk_program_open", table_name="risk")
    op.create_index("ix_risk_program_open", "risk", ["program_id", "closed_at", "severity"])
    op.create_index("ix_risk_updated", "risk", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_risk_updated", table_name="risk")
    op.drop_index("ix_risk_program_open", table_name="risk")
    op.create_index("ix_risk_program_open", "risk", ["program_id", "closed_at"])
