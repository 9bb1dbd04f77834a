"""The JSON contract of the roadmap and of resources (who carries the work).

Dates are the program's local dates. Items are named by their tracker key, as in every
other list of the API; bars by ``id`` (``source:KEY`` for an epic, ``source/project``
for a project's work under no epic).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.programs.documents import plan_examples as examples
from app.programs.documents.program import _Stored


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class TeamShare(_Out):
    key: str = Field(description="A team key, `no-team` or `unassigned`")
    name: str
    remaining: int
    completed: int = Field(description="Items finished in the history window (the pace)")
    basis: Literal["monte_carlo", "insufficient_history", "done"]
    p50: date | None = None
    p85: date | None = None
    decides: float | None = Field(
        default=None, description="Share of trials in which this share finished last"
    )


class TeamForecast(_Out):
    """An outcome's forecast run per team: each share at its team's own pace."""

    outcome: str
    basis: Literal["monte_carlo", "partial", "insufficient_history", "done", "no_work"]
    p50: date | None = None
    p85: date | None = None
    probability_on_time: float | None = None
    deciding: str | None = Field(default=None, description="The share deciding most trials")
    shares: list[TeamShare] = []


class BaselineDates(_Out):
    start: date | None = None
    due: date | None = None
    p50: date | None = None
    p85: date | None = None


class RoadmapBar(_Out):
    id: str
    kind: Literal["epic", "project"]
    source: str
    key: str | None = Field(description="The epic's key; null for a project bar")
    title: str
    url: str | None = None
    project: str | None = None
    project_name: str | None = Field(
        default=None, description="The project's name, where the tracker told it (Asana)"
    )
    outcome: str = Field(description="The outcome the bar is drawn under")
    outcomes: list[str] = Field(description="Every outcome its work feeds")
    scope: int
    done: int
    start: date | None = None
    start_basis: Literal["start_date", "first_in_progress", "earliest_work"] | None = None
    due: date | None = None
    due_basis: Literal["due_date", "latest_work"] | None = None
    finished_on: date | None = None
    p50: date | None = None
    p85: date | None = None
    forecast_basis: Literal["own_history", "outcome", "done", "insufficient_history"]
    late: bool = Field(description="P85 (or the finish) after the due date")
    critical: bool
    baseline: BaselineDates | None = None
    slip_days: int | None = Field(
        default=None, description="Days the end (finish, P85 or due) moved since the baseline"
    )
    slip_basis: Literal["p85", "due"] | None = Field(
        default=None,
        description="What the slip compares: p85 (its finish or P85 against the baseline's "
        "P85) or due (its due date against the baseline's, when either has no forecast)",
    )


class RoadmapMilestone(_Out):
    source: str
    key: str
    title: str
    url: str | None = None
    due_on: date | None = None
    done: bool
    outcome: str
    bar: str | None = Field(default=None, description="The bar it is drawn on")


class RoadmapLink(_Out):
    from_: str = Field(alias="from")
    to: str
    count: int
    late: int


class RoadmapOutcome(_Out):
    key: str
    name: str
    target: date | None = None
    p50: date | None = None
    p85: date | None = None
    forecast_basis: str
    rag: str
    baseline: BaselineDates | None = None
    teams: TeamForecast | None = None


class Baseline(_Out):
    on: date | None = Field(description="The snapshot day the baseline was read from")
    asked: date | None = Field(description="The date asked for (or the program's baseline)")
    origin: Literal["chosen", "program", "first_snapshot"]
    bars: int = Field(description="Bars the baseline snapshot kept dates for")


class Roadmap(_Stored):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.ROADMAP]}
    )

    key: str
    as_of: date | None = None
    computed_at: datetime | None = None
    baseline: Baseline | None = None
    outcomes: list[RoadmapOutcome] = []
    bars: list[RoadmapBar] = []
    milestones: list[RoadmapMilestone] = []
    links: list[RoadmapLink] = []


class ShareOut(_Out):
    name: str
    wip: int
    remaining: int
    estimate: float


class FlagOut(_Out):
    rule: Literal["wip_over_limit", "several_critical_paths", "members_over_allocated"]
    detail: str
    items: list[str] = []


class CriticalHold(_Out):
    outcome: str
    items: list[str]


class Workload(_Out):
    id: str
    name: str
    team: str | None = None
    members: list[str] = Field(description="Person ids (a person lists itself)")
    names: list[str] = Field(default=[], description="Display names trackers show")
    sources: list[str] = []
    wip: int
    wip_items: list[str]
    remaining: int
    remaining_items: list[str] = Field(description="At most 100 keys")
    estimate: float
    unestimated: int
    by_project: list[ShareOut]
    by_outcome: list[ShareOut]
    throughput: list[int] = Field(description="Items finished per week, oldest first")
    critical: list[CriticalHold] = []
    wip_limit: int
    flags: list[FlagOut] = []


class UnassignedOut(_Out):
    outcome: str
    remaining: int
    estimate: float
    unestimated: int
    items: list[str] = Field(description="At most 100 keys")


class Resources(_Stored):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.RESOURCES]}
    )

    key: str
    project_names: dict[str, str] = Field(
        default={}, description="`source/project` → the project's name, where known"
    )
    as_of: date | None = None
    computed_at: datetime | None = None
    week_starts: list[date] = Field(default=[], description="First day of each throughput week")
    people: list[Workload] = []
    teams: list[Workload] = []
    unassigned: list[UnassignedOut] = []
    forecasts: list[TeamForecast] = []
