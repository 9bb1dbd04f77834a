"""The weekly report as JSON: what the API serves and every other format is drawn from.

Figures come from the snapshot the report names (``snapshot``); "previous" values come
from the snapshot a week before it. Dates are the program's local dates, times are in
its time zone, and every item is named with its source, title and tracker link.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.programs import documents
from app.store.text import StorableText
from vocabulary import DeliveryStatus

Channel = Literal["slack", "confluence", "email", "webhook"]


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ReportSummary(_Out):
    week: str
    generated_at: datetime
    rag: documents.RagColor


class ReportList(_Out):
    reports: list[ReportSummary]


class ProgramRef(_Out):
    key: str
    name: str
    timezone: str


class SnapshotRef(_Out):
    """Where the figures came from: the program's snapshot as ``on`` ended, compared
    with the one as ``base_on`` ended (about a week earlier)."""

    on: date
    taken_at: datetime
    base_on: date | None = None
    complete: bool = Field(
        description="False when the snapshot predates report documents: only its figures"
    )


class Headline(_Out):
    color: documents.RagColor
    previous: documents.RagColor | None = None
    reasons: list[documents.Reason] = []


class ProgressFigures(_Out):
    done: float
    total: float
    percent: float
    basis: Literal["count", "estimate"]
    done_count: int
    scope_count: int


class ForecastFigures(_Out):
    p50: date | None = None
    p85: date | None = None
    p95: date | None = None
    probability_on_time: float | None = None
    basis: str | None = None


class Standing(_Out):
    """A figure now and a week before, side by side."""

    progress: ProgressFigures
    previous_progress: ProgressFigures | None = None
    forecast: ForecastFigures
    previous_forecast: ForecastFigures | None = None
    target: date | None = None


class OutcomeRow(_Out):
    key: str
    name: str
    target: date | None
    rag: documents.RagColor
    previous_rag: documents.RagColor | None = None
    percent: float
    previous_percent: float | None = None
    done: float
    total: float
    p50: date | None = None
    p85: date | None = None
    previous_p85: date | None = None
    probability_on_time: float | None = None


class RiskSection(_Out):
    counts: documents.RiskCounts
    top: list[documents.Risk] = []


class DependencyEnd(_Out):
    source: str | None = None
    key: str
    title: str | None = None
    url: str | None = None
    status_category: str | None = None
    due_on: date | None = None
    expected_on: date | None = None


class LateDependency(_Out):
    from_: DependencyEnd = Field(alias="from")
    to: DependencyEnd
    reason: str | None = None
    detail: str | None = None
    critical: bool = False


class DependencySection(_Out):
    count: int
    items: list[LateDependency] = []


class Delivery(_Out):
    channel: Channel
    target: str = Field(description="Where it goes, without secrets")
    status: DeliveryStatus
    attempts: int = 0
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    error: str | None = None
    url: str | None = Field(default=None, description="The Confluence page, once written")


class Links(_Out):
    page: str
    html: str
    markdown: str
    json_: str = Field(alias="json")


class Covers(_Out):
    """Which days a report covers, next to its ISO week, so the label cannot be misread."""

    start: date
    end: date
    issued_on: date | None = Field(
        default=None, description="The day the schedule writes it (None: a preview)"
    )
    text: str = Field(description='"2026-W47, 9–15 Nov, issued Mon 16 Nov"')


class EpicLine(_Out):
    """What an epic of an outcome finished in the period ("Card vault: 4 stories done, 2 left")."""

    name: str
    key: str | None = None
    url: str | None = None
    done: int = Field(description="Finished in the period")
    left: int
    noun: str = "items"
    text: str


class OutcomeLine(_Out):
    """An outcome in a sentence or two: colour, its reason in words, progress, date, what
    changed."""

    key: str
    name: str
    rag: documents.RagColor
    previous_rag: documents.RagColor | None = None
    reason: str = Field(description="The one reason that matters most, in words")
    progress: str
    date: str = Field(description="The safe date (P85) against the target, and how it moved")
    moved: str | None = Field(default=None, description="Why the forecast moved, where known")
    finished: int = Field(default=0, description="Units finished in the period")
    accomplishments: list[EpicLine] = []


class Blocker(_Out):
    key: str
    title: str
    url: str | None = None
    assignee: str | None = None


class BlockedLine(_Out):
    key: str
    title: str
    url: str | None = None
    outcome: str | None = None
    assignee: str | None = None
    by: str = Field(description="Blocked by whom, in words")
    blockers: list[Blocker] = []


class NextWeeks(_Out):
    """What lies ahead in the two weeks after the period."""

    until: date
    due: list[documents.WorkLine] = Field(default=[], description="Unfinished work due by then")
    overdue: list[documents.WorkLine] = []
    milestones: list[documents.Milestone] = []
    blocked: list[BlockedLine] = []
    not_started: list[documents.WorkLine] = Field(
        default=[], description="Critical-path work that has not started"
    )
    recorded: bool = Field(
        default=True, description="False: the snapshot predates the outlook; lists are empty"
    )


class RiskLine(_Out):
    id: int
    title: str
    severity: str
    roam: str | None = None
    owner: str | None = None
    owner_basis: str | None = None
    mitigation: str | None = None
    suggested_mitigation: str | None = None
    age_days: int = Field(description="Days open at the end of the period")
    items: list[str] = []


class Decision(_Out):
    text: str
    needed_by: date | None = None
    owner: str | None = None
    source: Literal["notes", "register"]


class ScenarioLine(_Out):
    """A what-if scenario someone kept during the week: what the change would do."""

    name: str
    summary: str = Field(description='"If we defer PAY-1, P(on time) rises from 34 % to 81 %."')
    saved_on: date
    saved_by: str | None = None


class RiskRegister(_Out):
    """Top risks, issues (risks that happened) and the decisions needed, apart."""

    risks: list[RiskLine] = []
    issues: list[RiskLine] = []
    decisions: list[Decision] = []
    scenarios: list[ScenarioLine] = []
    """What-if scenarios kept during the week, to decide on."""
    open: int = 0


class OutcomeExplained(_Out):
    key: str
    name: str
    progress: str = Field(default="", description='"12 of 30 items done (40 %)"')
    on_time: documents.OnTime | None = None
    movement: documents.Movement | None = None


class Explained(_Out):
    """The week's figures in the words every page uses, and why the forecast moved since
    the snapshot a week before (as the covered day's roll-up explained it), for the
    report's summary to quote."""

    progress: str = Field(default="", description='"32 of 57 items done (56 %)"')
    on_time: documents.OnTime | None = Field(
        default=None, description="What the chance of meeting the target is stated against"
    )
    movement: documents.Movement | None = Field(
        default=None, description="Why P50, P85 and the chance moved, factor by factor"
    )
    outcomes: list[OutcomeExplained] = []


class WeeklyReport(_Out):
    program: ProgramRef
    week: str
    covers: Covers | None = None
    preview: bool = Field(default=False, description="A preview: never archived or delivered")
    summary: list[str] = Field(
        default=[], description="The executive summary: three to five plain sentences"
    )
    warnings: list[str] = Field(
        default=[], description="Data-freshness problems: a source not synced, webhooks silent"
    )
    quiet: str | None = Field(
        default=None, description="Said when nothing (or little) was finished in the period"
    )
    headline: str | None = Field(
        default=None, description="The one reason behind the colour that matters most, in words"
    )
    movement: str | None = Field(
        default=None, description="Why the program's forecast moved since a week before"
    )
    history: list[documents.WeekCount] = Field(
        default=[], description="Work finished per seven-day window up to the period's end"
    )
    outcome_lines: list[OutcomeLine] = []
    next_weeks: NextWeeks | None = None
    risk_register: RiskRegister | None = None
    period_start: date | None = Field(description="The day after the previous snapshot")
    period_end: date = Field(description="The last day covered (the snapshot's day)")
    generated_at: datetime
    snapshot: SnapshotRef
    rag: Headline
    standing: Standing
    outcomes: list[OutcomeRow] = []
    changes: documents.Changes | None = Field(
        default=None, description="Since the previous snapshot; None for a first report"
    )
    new_late_dependencies: list[LateDependency] = Field(
        default=[],
        description="The changes' new late dependencies with both ends named and linked",
    )
    risks: RiskSection | None = None
    dependencies_at_risk: DependencySection | None = None
    explained: Explained | None = Field(
        default=None, description="Absent for snapshots taken before figures were explained"
    )
    milestones: list[documents.Milestone] = Field(
        default=[], description="Due within four weeks of the period's end, or overdue"
    )
    burnup: list[documents.BurnupPoint] = []
    data_quality: documents.DataQuality | None = None
    freshness: list[documents.SourceFreshness] = Field(
        default=[], description="Each source's last good sync before the snapshot was taken"
    )
    notes: str | None = None
    notes_updated_at: datetime | None = None
    review: bool = Field(default=False, description="Delivery waits for notes or a send")
    released_at: datetime | None = None
    deliveries: list[Delivery] = []
    links: Links | None = None


class NotesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: StorableText = Field(max_length=20_000, description="The program manager's commentary")


class NotesOut(_Out):
    week: str
    notes: str | None
    notes_updated_at: datetime | None
    generated: bool = Field(description="False: the notes wait for the week's report")
    released: bool
    deliveries: list[Delivery] = []
