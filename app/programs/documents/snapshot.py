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


class WorkLine(_Out):
    """A unit of work as a report names it: with its assignee and dates."""

    source: str
    key: str
    title: str
    url: str | None = None
    assignee: str | None = None
    status: str | None = None
    status_category: StatusCategory | None = None
    due_on: date | None = None
    expected_on: date | None = None
    outcome: str | None = None
    critical: bool = False


class Blocked(WorkLine):
    blockers: list[WorkLine] = Field(
        default=[], description="Unfinished work it waits on; empty when its status says blocked"
    )


class Finished(_Out):
    key: str
    on: date


class EpicTally(_Out):
    """An epic of an outcome (``epic`` None: the outcome's work under no epic)."""

    outcome: str
    epic: WorkLine | None = None
    noun: str = "items"
    done: int
    left: int
    recent: list[Finished] = Field(default=[], description="Units finished in the last 28 days")


class Outlook(_Out):
    """What the report's per-outcome accomplishments and next two weeks are drawn from."""

    epics: list[EpicTally] = []
    due: list[WorkLine] = []
    blocked: list[Blocked] = []
    not_started: list[WorkLine] = []


class SnapshotDocument(_Out):
    version: int = SNAPSHOT_VERSION
    status: ProgramStatus
    late_dependencies: LateList = LateList()
    risks: RiskTally = RiskTally()
    outlook: Outlook | None = None
    risk_titles: dict[str, str] = Field(
        default={}, description="Every open risk's title by id, as the day ended"
    )
