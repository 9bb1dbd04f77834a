"""What a day's snapshot keeps beside its figures, so that day's weekly report can be
written later: the status document, the late dependencies with both ends, the open risks."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.programs.documents.program import ProgramStatus, Risk
from vocabulary import StatusCategory

SNAPSHOT_VERSION = 1


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class LateEnd(_Out):
    source: str | None = None
    key: str
    title: str | None = None
    url: str | None = None
    status_category: StatusCategory | None = None
    due_on: date | None = None
    expected_on: date | None = None


class SnapshotLate(_Out):
    from_: LateEnd = Field(alias="from")
    to: LateEnd
    reason: str | None = None
    detail: str | None = None
    critical: bool = False
    cross_project: bool = False
    cross_tracker: bool = False


class LateList(_Out):
    count: int = 0
    items: list[SnapshotLate] = []


class RiskTally(_Out):
    counts: dict[str, int] = {}
    top: list[Risk] = []


class SnapshotDocument(_Out):
    version: int = SNAPSHOT_VERSION
    status: ProgramStatus
    late_dependencies: LateList = LateList()
    risks: RiskTally = RiskTally()
