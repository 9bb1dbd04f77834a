"""The roll-up's own values: work items, dependencies, programs, outcomes and policies.

``app`` maps store rows into these; nothing here knows about databases or trackers'
APIs. An item is identified across trackers by its ``ref``, the pair (source, key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from vocabulary import ItemKind, StatusCategory

ItemRef = tuple[str, str]
"""(source name, tracker key): an item's identity across every configured tracker."""


class ProgressBasis(StrEnum):
    COUNT = "count"
    ESTIMATE = "estimate"


class Color(StrEnum):
    """A RAG colour; ``GREY`` means there is nothing to judge yet."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    GREY = "grey"

    @property
    def rank(self) -> int:
        """Badness, for "towards red": grey < green < amber < red."""
        return _COLOR_RANK[self]


_COLOR_RANK = {Color.GREY: 0, Color.GREEN: 1, Color.AMBER: 2, Color.RED: 3}


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One tracker item as the roll-up sees it.

    ``started_at`` is when the item first entered an in-progress status and ``done_at``
    when it last entered a done one (both from its status history); the tracker's
    ``resolved_at`` stands in for ``done_at`` when the history is missing.
    """

    source: str
    key: str
    title: str
    kind: ItemKind
    status: str
    status_category: StatusCategory
    updated_at: datetime
    url: str | None = None
    project: str | None = None
    projects: tuple[str, ...] = ()
    section: str | None = None
    issue_type: str | None = None
    parent_key: str | None = None
    assignee: str | None = None
    assignee_email: str | None = None
    estimate: float | None = None
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    started_at: datetime | None = None
    done_at: datetime | None = None
    start_on: date | None = None
    due_on: date | None = None
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    custom_fields: tuple[tuple[str, str], ...] = ()
    deleted: bool = False
    # Derived once: the roll-up reads these hundreds of thousands of times.
    ref: ItemRef = field(init=False, repr=False, compare=False)
    parent_ref: ItemRef | None = field(init=False, repr=False, compare=False)
    done: bool = field(init=False, repr=False, compare=False)
    completed_at: datetime | None = field(init=False, repr=False, compare=False)
    """When the work was finished, by its history or else the tracker's resolution."""

    def __post_init__(self) -> None:
        done = self.status_category is StatusCategory.DONE
        setattr_ = object.__setattr__
        setattr_(self, "ref", (self.source, self.key))
        setattr_(self, "parent_ref", (self.source, self.parent_key) if self.parent_key else None)
        setattr_(self, "done", done)
        setattr_(self, "completed_at", (self.done_at or self.resolved_at) if done else None)


@dataclass(frozen=True, slots=True)
class Dependency:
    """``before`` blocks ``after``; either end may be in another project or tracker."""

    before: ItemRef
    after: ItemRef
    link_type: str | None = None


@dataclass(frozen=True, slots=True)
class Selector:
    """Which items of one source feed an outcome; every criterion given must hold.

    Within a criterion any listed value matches. ``epics`` selects the epics and all their
    descendants; ``tags`` match labels (Asana tags are stored as labels); ``projects``
    matches an item's project or any project it is multi-homed in.
    """

    source: str
    projects: tuple[str, ...] = ()
    epics: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    issue_types: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    custom_fields: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    name: str
    target: date | None = None
    weight: float = 1.0
    basis: ProgressBasis = ProgressBasis.COUNT
    selectors: tuple[Selector, ...] = ()
    owner: str | None = None
    """Who answers for the outcome: owns its risks that no single item causes."""
    pace_factor: float = 1.0
    """What its forecast multiplies the pace its history shows by (a what-if's change)."""
    pace_added: float = 0.0
    """Work per week, in its basis's unit, that its forecast adds to every trial's pace: a
    team a what-if adds at a stated pace."""


@dataclass(frozen=True, slots=True)
class RagPolicy:
    """How a colour is chosen: the forecast's verdict, then rules that push towards red.

    Each escalation names the colour a firing rule forces at least (``None`` turns the
    rule off). ``version`` changes whenever the default rules change meaning.
    """

    version: str = "2"
    green_at: float = 0.85
    amber_at: float = 0.5
    hysteresis: str = "margin"
    """How the forecast's verdict is held (``rollup.hysteresis``): margin | consecutive | off."""
    hysteresis_margin: float = 0.05
    stall: Color | None = Color.RED
    """Nothing finished for ``stall_weeks`` weeks while work is left."""
    stall_weeks: int = 4
    slowdown: Color | None = Color.AMBER
    """The pace of the last ``recent_weeks`` weeks under ``slowdown_below`` of the window's."""
    slowdown_below: float = 0.5
    recent_weeks: int = 4
    late_dependency: Color | None = Color.RED
    overdue_milestone: Color | None = Color.RED
    stale_work: Color | None = Color.AMBER
    stale_share: float = 0.25
    scope_growth: Color | None = Color.AMBER
    data_quality: Color | None = Color.AMBER
    data_quality_below: float = 0.8
    dependency_cycle: Color | None = Color.AMBER


@dataclass(frozen=True, slots=True)
class ForecastOptions:
    history_weeks: int = 12
    trials: int = 10_000
    min_history_weeks: int = 4
    """Fewer weeks of history than this is ``insufficient_history``."""
    min_completed: int = 3
    """Fewer items finished in the history window than this is ``insufficient_history``."""
    scope_growth: bool = True
    """Draw the weekly scope growth the snapshots show into every trial."""
    horizon_weeks: int = 520
    """Trials still unfinished after this long count as never finishing (ten years)."""


@dataclass(frozen=True, slots=True)
class RiskThresholds:
    stale_after_days: int = 14
    scope_creep: float = 0.10
    slip_days: int = 7
    due_soon_days: int = 14
    critical_index: float = 0.1
    """A dependency is critical when its successor or predecessor decides the date at
    least this often in the forecast trials, or lies on the critical path."""
    blocked_statuses: tuple[str, ...] = ("blocked", "on hold", "waiting", "impeded")


@dataclass(frozen=True, slots=True)
class Policy:
    rag: RagPolicy = field(default_factory=RagPolicy)
    forecast: ForecastOptions = field(default_factory=ForecastOptions)
    risks: RiskThresholds = field(default_factory=RiskThresholds)


@dataclass(frozen=True, slots=True)
class Program:
    key: str
    name: str
    outcomes: tuple[Outcome, ...] = ()
    basis: ProgressBasis = ProgressBasis.COUNT
    policy: Policy = field(default_factory=Policy)
    owner: str | None = None
    """Who answers for the program: owns the risks no item or outcome owner answers for."""


@dataclass(frozen=True, slots=True)
class SnapshotPoint:
    """How a program (``outcome_key`` empty) or an outcome stood at the end of a day."""

    on: date
    outcome_key: str
    scope_count: int
    done_count: int
    scope_estimate: float = 0.0
    done_estimate: float = 0.0
    rag: Color = Color.GREY
    p50_on: date | None = None
    p85_on: date | None = None
    probability_on_time: float | None = None
    target: date | None = None
    """The target the probability was stated against (an outcome's)."""
    verdict: Color | None = None
    """The forecast's verdict as shown that day (before rules pushed towards red)."""
    verdict_raw: Color | None = None
    """What the probability alone said that day (``rollup.hysteresis``)."""
    basis: str | None = None
    """The forecast's basis that day (``monte_carlo`` when it was a forecast)."""
