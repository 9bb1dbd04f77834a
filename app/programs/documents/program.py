"""The JSON contract of programs, outcomes and dependencies (DESIGN.md, Interfaces).

Field names are part of the contract. Item lists name items by their tracker key; where
an item is shown on its own it carries its source, title and link, so every number can
be traced to the items behind it. Dates are the program's local dates; times are
ISO 8601 in the program's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.programs.documents import examples
from vocabulary import RunStatus, StatusCategory

RagColor = Literal["green", "amber", "red", "grey"]
ForecastBasisName = Literal[
    "monte_carlo", "insufficient_history", "done", "no_work", "not_computed"
]


SCHEMA_VERSION = 1
"""The version of the stored documents' shape. A release that changes a stored document
in a way an older reader cannot take raises it; readers refuse a newer document (written
by a newer release beside them during an upgrade) and show "not computed" until their own
release recomputes."""


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class _Stored(_Out):
    schema_version: int = Field(
        default=SCHEMA_VERSION, description="The shape of this document (see the README)"
    )


class ItemLink(_Out):
    source: str
    key: str
    title: str
    url: str | None = None


class Reason(_Out):
    rule: str
    detail: str
    items: list[str] = []


class Rag(_Out):
    color: RagColor
    reasons: list[Reason]
    policy_version: str = "1"
    forecast_verdict: RagColor | None = Field(
        default=None, description="The colour the chance to be on time gave, as shown"
    )
    held: bool = Field(
        default=False,
        description="Whether that colour was held against a flicker (hysteresis); the "
        "chance alone would give another",
    )


class Progress(_Out):
    done: float
    total: float
    percent: float = Field(
        description="Done over total on the basis, 0–100 (a program's over its distinct "
        "items, never a mean of its outcomes' percentages)"
    )
    basis: Literal["count", "estimate"]
    unestimated: int = Field(description="Items whose estimate was imputed")
    done_count: int = 0
    scope_count: int = 0
    text: str = Field(
        default="", description='As every page states it: "32 of 57 items done (56 %)"'
    )


class SamplingErrorDays(_Out):
    """Monte Carlo noise only: half-width of each percentile's 95 % interval from the
    finite number of trials. The forecast's own uncertainty is the P50–P95 spread."""

    p50: float | None = None
    p85: float | None = None
    p95: float | None = None


class WeekCount(_Out):
    week_start: date
    completed: int
    work: float | None = Field(
        default=None, description="Work finished in the basis's unit (points, by estimate)"
    )
    observed: float = Field(
        default=1.0,
        description="Share of the week observed (the oldest and the current are partial)",
    )


class LeftOut(_Out):
    outcome: str
    reason: str = Field(description="done | done late | no target | no work")


class OnTime(_Out):
    """What ``probability_on_time`` is stated against."""

    meaning: Literal["target", "all_targets"] = Field(
        description="target: the outcome's own target; all_targets: every open outcome of "
        "the program by its own target, in the same trial"
    )
    against: date | None = Field(
        default=None, description="The outcome's target; for a program, the latest it covers"
    )
    covers: list[str] = Field(default=[], description="Names of the outcomes it covers")
    left_out: list[LeftOut] = []
    text: str


class Pace(_Out):
    per_week: float = Field(description="The pace the trials drew from (posterior mean), per week")
    observed_per_week: float = Field(description="Work finished per week observed")
    dispersion: float = Field(description="How lumpy the work finishes (1: one at a time)")
    changed: float = Field(description="Probability the pace changed within the window")


class MovementShare(_Out):
    factor: Literal["scope", "pace", "finished", "dependencies", "target"]
    p50_days: float
    p85_days: float
    probability: float | None = None
    text: str


class Movement(_Out):
    """Why the forecast moved since the snapshot a week back (each factor's share)."""

    since: date
    until: date
    p50_days: float
    p85_days: float
    observed_p85_days: float | None = None
    probability: float | None = None
    text: str
    probability_text: str = ""
    shares: list[MovementShare] = []


class Calibration(_Out):
    """How past weekly forecasts fared once their dates came."""

    judged: int
    p50_met: int
    p85_met: int
    brier: float | None = None
    chances: int = 0
    pending: int = 0
    text: str


class Forecast(_Out):
    p50: date | None = None
    p85: date | None = None
    p95: date | None = None
    probability_on_time: float | None = None
    basis: ForecastBasisName
    probability_error: float | None = Field(
        default=None, description="Standard error of probability_on_time from sampling"
    )
    sampling_error_days: SamplingErrorDays = SamplingErrorDays()
    trials: int = 0
    unit: Literal["items", "points"] = "items"
    remaining: float = Field(
        default=0, description="Work left in the unit, unrefined epics' expected size included"
    )
    unrefined: list[str] = Field(
        default=[], description="Epics with nothing under them, forecast at the split rate"
    )
    history: list[WeekCount] = Field(
        default=[], description="Items finished per seven-day window, oldest first"
    )
    capacity_share: float | None = Field(
        default=None,
        description="Share of trials the team's pace (not a dependency chain) decided",
    )
    on_time: OnTime | None = None
    pace: Pace | None = None
    growth_per_week: float | None = Field(
        default=None, description="Scope growth the trials drew from, in the unit per week"
    )
    movement: Movement | None = None
    calibration: Calibration | None = None


class Contributor(_Out):
    source: str
    key: str
    title: str
    url: str | None = None
    status: str
    status_category: StatusCategory
    estimate: float
    imputed: bool
    size: float
    share: float


class Explain(_Out):
    contributors: list[Contributor]


class Criticality(_Out):
    key: str
    index: float = Field(description="Share of trials whose date this item's chain decided")


class BurnupPoint(_Out):
    on: date
    scope: float
    done: float


class OutcomeStatus(_Stored):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.OUTCOME]}
    )

    key: str
    name: str
    target: date | None
    weight: float
    rag: Rag
    progress: Progress
    forecast: Forecast
    critical_path: list[str] = []
    criticality: list[Criticality] = []
    scope_growth: float | None = Field(default=None, description="Since the baseline, 0.1 = 10 %")
    done_late: bool = Field(default=False, description="Finished after its target")
    finished_on: date | None = None
    burnup: list[BurnupPoint] = []
    explain: Explain | None = Field(
        default=None, description="Every contributor; only on the outcome's own endpoint"
    )


class RiskCounts(_Out):
    open: int = 0
    low: int = 0
    medium: int = 0
    high: int = 0
    critical: int = 0


class QualityCheck(_Out):
    check: str
    detail: str
    count: int
    scored: bool
    items: list[str] = Field(default=[], description="The first 100 items")


class DataQuality(_Out):
    score: float | None
    checks: list[QualityCheck] = []


class SourceFreshness(_Out):
    name: str
    last_sync_at: datetime | None = None
    last_status: RunStatus | None = None
    age_seconds: float | None = None


class Freshness(_Out):
    computed_at: datetime | None = None
    as_of: date | None = None
    sources: list[SourceFreshness] = []


class Milestone(ItemLink):
    due_on: date | None
    status_category: StatusCategory
    overdue: bool


class LateDependency(_Out):
    """A dependency whose unfinished predecessor threatens its successor."""

    from_: ItemLink = Field(alias="from", description="The item waited on")
    to: ItemLink = Field(description="The item that waits")
    reason: str = Field(description="due_after_needed | forecast_after_needed | not_started")
    detail: str
    needed_on: date | None = None
    expected_on: date | None = None
    cross_project: bool
    cross_tracker: bool


class Unmapped(_Out):
    count: int
    items: list[ItemLink] = Field(default=[], description="The first 100 items")


class ProgramSummary(_Stored):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.SUMMARY]}
    )

    key: str
    name: str
    timezone: str
    rag: Rag
    progress: Progress
    target: date | None
    forecast: Forecast
    risk_counts: RiskCounts
    freshness: Freshness


class ProgramStatus(ProgramSummary):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.PROGRAM_STATUS]}
    )

    outcomes: list[OutcomeStatus]
    data_quality: DataQuality
    milestones: list[Milestone] = []
    unmapped: Unmapped = Unmapped(count=0)
    late_dependencies: int = 0
    late: list[LateDependency] = Field(
        default=[], description="The first 100 late dependencies, soonest needed first"
    )
    cycles: int = 0
    critical_path: list[str] = []
    burnup: list[BurnupPoint] = []


class ProgramList(_Out):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.PROGRAM_LIST]}
    )

    programs: list[ProgramSummary]


class DependencyNode(ItemLink):
    project: str | None
    epic: str | None = Field(default=None, description="The nearest epic above the item")
    kind: str
    status_category: StatusCategory
    due_on: date | None = None
    expected_on: date | None = Field(default=None, description="Critical-path forecast")
    outcomes: list[str] = []
    critical: bool = False
    criticality: float | None = None


class DependencyEdge(_Out):
    from_: str = Field(alias="from")
    to: str
    cross_project: bool
    cross_tracker: bool
    late: bool
    reason: str | None = Field(
        default=None, description="due_after_needed | forecast_after_needed | not_started"
    )
    detail: str | None = None


class GroupEdge(_Out):
    from_: str = Field(alias="from")
    to: str
    count: int
    late: int


class Rollups(_Out):
    epic: list[GroupEdge] = []
    outcome: list[GroupEdge] = []
    project: list[GroupEdge] = []


class Dependencies(_Stored):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.DEPENDENCIES]}
    )

    nodes: list[DependencyNode]
    edges: list[DependencyEdge]
    cycles: list[list[str]]
    critical_path: list[str]
    critical_paths: dict[str, list[str]] = Field(default={}, description="Per outcome")
    rollups: Rollups = Rollups()


Roam = Literal["resolved", "owned", "accepted", "mitigated"]


class Evidence(_Out):
    source: str
    key: str
    detail: str


class Risk(_Out):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.RISK]}
    )

    id: int
    origin: Literal["derived", "register"]
    rule: str | None
    title: str
    description: str | None = None
    severity: Literal["low", "medium", "high", "critical"]
    probability: int | None
    impact: int | None
    score: int | None = Field(description="probability × impact")
    roam: Roam | None
    owner: str | None
    mitigation: str | None = None
    due_on: date | None = None
    outcome: str | None = None
    items: list[str]
    evidence: list[Evidence] = []
    opened_at: datetime
    closed_at: datetime | None


class RiskList(_Out):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.RISK_LIST]}
    )

    risks: list[Risk]


class ChangedItem(ItemLink):
    outcomes: list[str] = []


class DateChange(ChangedItem):
    from_: date | None = Field(alias="from")
    to: date | None
    days: int | None = Field(description="How much later (negative: earlier)")


class StatusFlip(ChangedItem):
    from_: str = Field(alias="from")
    to: str


class ForecastChange(_Out):
    outcome: str | None = Field(description="None for the program as a whole")
    p50_from: date | None
    p50_to: date | None
    p85_from: date | None
    p85_to: date | None


class RagChange(_Out):
    outcome: str | None = Field(description="None for the program as a whole")
    from_: RagColor = Field(alias="from")
    to: RagColor


class RiskChange(_Out):
    id: int
    rule: str | None
    title: str
    severity: str
    on: date
    items: list[str] = []


class DependencyChange(_Out):
    from_: str = Field(alias="from")
    to: str


class Changes(_Out):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.CHANGES]}
    )

    since: date
    base_on: date = Field(description="The snapshot compared against (on or before since)")
    until: date
    completed: list[ChangedItem] = []
    added: list[ChangedItem] = []
    removed: list[ChangedItem] = []
    due_changes: list[DateChange] = []
    forecast_changes: list[ForecastChange] = []
    status_flips: list[StatusFlip] = []
    rag_changes: list[RagChange] = []
    risks_opened: list[RiskChange] = []
    risks_closed: list[RiskChange] = []
    dependencies_added: list[DependencyChange] = []
    dependencies_removed: list[DependencyChange] = []
    new_late_dependencies: list[DependencyChange] = Field(
        default=[], description="Late now, and not late (or not there) before"
    )
