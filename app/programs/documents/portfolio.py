"""The JSON contract of the portfolio: goals above programs, dependencies between
programs, and people across programs; and the part of each program's roll-up that the
portfolio is built from.

Contributors are named by ``ref``: a program's key, or ``program/outcome``. Items are
named by their tracker key (with their source where they are shown on their own), as
everywhere else. Dates are days in the portfolio's time zone (goals) or in each
program's (its own figures).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.programs.documents import portfolio_examples as examples
from app.programs.documents.program import RagColor, _Stored
from vocabulary import StatusCategory


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


# What each program's recomputation keeps for the portfolio (stored, never served).


class PartEnd(_Out):
    source: str
    key: str
    title: str
    url: str | None = None
    project: str | None = None
    status_category: StatusCategory = StatusCategory.TODO
    due_on: date | None = None
    expected_on: date | None = None


class PartBoundary(_Out):
    """A dependency with one end in the program and the other outside it."""

    from_: PartEnd = Field(alias="from")
    to: PartEnd
    inside: Literal["from", "to"]
    late: bool = False
    reason: str | None = None
    detail: str | None = None
    needed_on: date | None = None
    expected_on: date | None = None
    critical: bool = False
    outcomes: list[str] = []


class PartOutcome(_Out):
    key: str
    name: str
    target: date | None = None
    rag: RagColor
    percent: float
    done_count: int
    scope_count: int
    forecast_basis: str
    p50: date | None = None
    p85: date | None = None
    probability_on_time: float | None = None
    finished_on: date | None = None
    inputs: dict[str, object] | None = Field(
        default=None, description="The forecast's inputs (rollup.inputs), to run it again"
    )


class PartIdentity(_Out):
    source: str
    name: str | None = None
    email: str | None = None


class PartPerson(_Out):
    id: str = Field(description="The person's id on the program's resources page")
    name: str
    identities: list[PartIdentity]
    wip: list[tuple[str, str]] = []
    remaining: list[tuple[str, str]] = []
    estimates: list[float | None] = []


class PartStanding(_Out):
    on: date
    rag: RagColor
    percent: float | None = None
    p85: date | None = None
    probability_on_time: float | None = None


class PortfolioPart(_Stored):
    """What a program's recomputation keeps for the portfolio: its figures, its
    outcomes with their forecasts' inputs, the dependencies that leave it and who works
    on it. The portfolio is rebuilt from every program's part, whichever were recomputed."""

    key: str
    name: str
    owner: str | None = None
    timezone: str
    as_of: date
    computed_at: datetime
    rag: RagColor
    reason: str = ""
    percent: float
    progress_text: str = ""
    done_count: int = 0
    scope_count: int = 0
    target: date | None = None
    forecast_basis: str
    p50: date | None = None
    p85: date | None = None
    probability_on_time: float | None = None
    movement: str | None = None
    week_ago: PartStanding | None = None
    scope_growth: bool = True
    horizon_weeks: int = 520
    outcomes: list[PartOutcome] = []
    boundaries: list[PartBoundary] = []
    people: list[PartPerson] = []


# What the API serves.


class Period(_Out):
    label: str
    start: date
    end: date


class GoalReason(_Out):
    rule: str
    detail: str
    contributors: list[str] = Field(default=[], description="Refs of the contributors behind it")


class GoalRag(_Out):
    color: RagColor
    reasons: list[GoalReason]
    policy_version: str
    forecast_verdict: RagColor | None = None
    held: bool = False


class GoalProgress(_Out):
    percent: float | None = Field(
        description="The contributors' progress weighted by their weight, 0–100 (their "
        "amounts may be items or points, so shares done are weighted, not amounts added)"
    )
    text: str


class SamplingError(_Out):
    p50: float | None = None
    p85: float | None = None
    p95: float | None = None


class GoalForecast(_Out):
    basis: str = Field(description="monte_carlo | insufficient_history | done | no_work")
    p50: date | None = None
    p85: date | None = None
    p95: date | None = None
    sampling_error_days: SamplingError = SamplingError()
    trials: int = 0


class LeftOut(_Out):
    contributor: str
    reason: str


class Deciding(_Out):
    contributor: str
    share: float = Field(description="Share of trials in which it finished last")


class Confidence(_Out):
    """The chance that the goal is met by the end of its period."""

    probability: float | None = None
    error: float | None = Field(default=None, description="Standard error from sampling")
    meaning: Literal["period_end"] = "period_end"
    against: date
    covers: list[str] = Field(default=[], description="Outcomes (refs) it runs")
    left_out: list[LeftOut] = []
    deciding: list[Deciding] = []
    text: str


class GoalMovement(_Out):
    since: date
    rag_from: RagColor
    percent_from: float | None = None
    p85_from: date | None = None
    probability_from: float | None = None
    text: str


class GoalContributor(_Out):
    ref: str
    kind: Literal["program", "outcome"]
    program: str
    outcome: str | None = None
    name: str
    weight: float
    share: float = Field(description="Its weight over the goal's total weight")
    rag: RagColor
    percent: float
    done_count: int
    scope_count: int
    target: date | None = None
    forecast_basis: str
    p50: date | None = None
    p85: date | None = None
    probability_on_time: float | None = Field(
        default=None, description="Its own chance, against its own target(s)"
    )
    computed: bool = True


class KeyResult(_Out):
    key: str
    name: str
    metric: Literal["percent_done", "items_done", "outcomes_done", "on_time"]
    target: float
    value: float | None = None
    met: bool | None = None
    text: str
    contributors: list[str] = []


class GoalStatus(_Stored):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.GOAL]}
    )

    key: str
    name: str
    owner: str
    description: str | None = None
    period: Period
    as_of: date
    rag: GoalRag
    progress: GoalProgress
    forecast: GoalForecast
    confidence: Confidence
    movement: GoalMovement | None = None
    contributors: list[GoalContributor] = []
    restricted_contributors: int = Field(
        default=0, description="Contributors in programs the reader may not see (not named)"
    )
    key_results: list[KeyResult] = []


class ProgramTile(_Out):
    key: str
    name: str
    owner: str | None = None
    rag: RagColor
    reason: str = Field(default="", description="The first reason for its colour")
    percent: float
    progress_text: str = ""
    done_count: int = 0
    scope_count: int = 0
    target: date | None = None
    p50: date | None = None
    p85: date | None = None
    probability_on_time: float | None = None
    movement: str | None = Field(default=None, description="Why its forecast moved this week")
    week_ago: PartStanding | None = None
    goals: list[str] = Field(default=[], description="Goals it contributes to")
    computed: bool = True


class Tally(_Out):
    count: int = 0
    late: int = 0


class PeopleTally(_Out):
    shared: int = Field(default=0, description="People with open work in two programs or more")
    over_allocated: int = 0


class Portfolio(_Stored):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.PORTFOLIO]}
    )

    computed_at: datetime | None = None
    as_of: date
    timezone: str
    goals: list[GoalStatus]
    programs: list[ProgramTile]
    dependencies: Tally = Tally()
    outcome_links: Tally = Tally()
    people: PeopleTally = PeopleTally()


class CrossEnd(_Out):
    source: str
    key: str
    title: str
    url: str | None = None
    project: str | None = None
    status_category: StatusCategory
    due_on: date | None = None
    expected_on: date | None = None
    programs: list[str] = Field(description="Programs whose outcomes select it")


class CrossDependency(_Out):
    from_: CrossEnd = Field(alias="from", description="The item waited on")
    to: CrossEnd = Field(description="The item that waits")
    late: bool
    reason: str | None = Field(
        default=None, description="due_after_needed | forecast_after_needed | not_started"
    )
    detail: str | None = None
    needed_on: date | None = None
    expected_on: date | None = None
    critical: bool = Field(description="The waiting item is on a critical path")
    cross_tracker: bool
    outcomes: list[str] = Field(default=[], description="Waiting outcomes (refs)")


class OutcomeEnd(_Out):
    program: str
    outcome: str
    name: str
    target: date | None = None
    p85: date | None = None
    done: bool = False


class OutcomeLink(_Out):
    from_: OutcomeEnd = Field(alias="from", description="The outcome waited on")
    to: OutcomeEnd = Field(description="The outcome that waits (declared in its config)")
    needed_on: date | None = None
    expected_on: date | None = None
    late: bool
    reason: str | None = None
    detail: str | None = None


class ProgramNode(_Out):
    key: str
    name: str
    owner: str | None = None
    rag: RagColor


class ProgramEdge(_Out):
    from_: str = Field(alias="from")
    to: str
    count: int
    late: int


class RestrictedWork(_Out):
    program: str = Field(description="A program the reader sees")
    direction: Literal["waits_on", "holds_up"]
    count: int = Field(description="Items (or outcomes) in programs the reader may not see")
    text: str


class PortfolioDependencies(_Stored):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.DEPENDENCIES]}
    )

    computed_at: datetime | None = None
    programs: list[ProgramNode]
    edges: list[ProgramEdge] = Field(description="Dependencies rolled up between programs")
    dependencies: list[CrossDependency]
    outcome_links: list[OutcomeLink] = []
    restricted: list[RestrictedWork] = Field(
        default=[], description="Work in programs the reader may not see, counted per program"
    )


class PersonFlag(_Out):
    rule: Literal["wip_over_limit", "too_many_programs"]
    detail: str
    items: list[str] = []


class ProgramShare(_Out):
    program: str
    name: str
    person: str = Field(description="The person's id on that program's resources page")
    wip: int
    remaining: int
    estimate: float
    share: float = Field(description="Its open items over the person's across programs")
    wip_items: list[str] = []
    remaining_items: list[str] = []


class PersonAcross(_Out):
    id: str
    name: str
    team: str | None = None
    names: list[str] = []
    sources: list[str] = []
    programs: int
    wip: int
    remaining: int
    estimate: float
    wip_limit: int
    over_allocated: bool
    flags: list[PersonFlag] = []
    shares: list[ProgramShare] = []
    wip_items: list[str] = []
    remaining_items: list[str] = []


class PortfolioPeople(_Stored):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.PEOPLE]}
    )

    computed_at: datetime | None = None
    max_programs: int
    people: list[PersonAcross]
