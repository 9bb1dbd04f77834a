"""The portfolio in the configuration: goals above programs, what contributes to them,
outcomes that wait on another program's outcome, and the limits people are held to
across programs.

A goal (a theme, an objective) has an owner and a period; programs and outcomes
contribute to it, each with a weight. Key results measure the goal on figures Throughline
computes (how much is done, how likely it is done in time). ``portfolio_problems`` checks
the references between goals, programs and outcomes on the raw file, so each unknown
name is reported with its line even when other parts of the file are wrong.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.config.fields import TimeZoneName
from rollup.model import RagPolicy

_SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_RAG = RagPolicy()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|H([12])|(0[1-9]|1[0-2])))?$")


def _period_of(text: str) -> dict[str, Any]:
    """``2027``, ``2027-H1``, ``2027-Q2`` or ``2027-05`` as its first and last day."""
    found = _PERIOD.match(text.strip())
    if not found:
        raise ValueError(
            f"{text!r} is not a period like 2027, 2027-H1, 2027-Q2, 2027-05 or {{start, end}}"
        )
    year = int(found.group(1))
    quarter, half, month = found.group(2), found.group(3), found.group(4)
    if quarter:
        first, last = 3 * int(quarter) - 2, 3 * int(quarter)
    elif half:
        first, last = 6 * int(half) - 5, 6 * int(half)
    elif month:
        first = last = int(month)
    else:
        first, last = 1, 12
    end = date(year, last, calendar.monthrange(year, last)[1])
    return {"start": date(year, first, 1), "end": end, "label": text.strip()}


class PeriodConfig(_Model):
    """The time a goal is to be met in: its first and last day."""

    start: date
    end: date
    label: str = ""
    """How the file named it (``2027-Q1``); by default the two dates."""

    @model_validator(mode="before")
    @classmethod
    def _named(cls, value: object) -> object:
        if isinstance(value, str):
            return _period_of(value)
        if isinstance(value, int):
            return _period_of(str(value))
        return value

    @model_validator(mode="after")
    def _ordered(self) -> PeriodConfig:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")
        if not self.label:
            object.__setattr__(self, "label", f"{self.start} – {self.end}")
        return self


class ContributionConfig(_Model):
    """A program (all its outcomes) or one of its outcomes, contributing to a goal."""

    program: str
    outcome: str | None = None
    weight: float = Field(default=1.0, gt=0)
    """How much this contributor counts in the goal's progress, against the others."""

    @property
    def ref(self) -> str:
        """``program`` or ``program/outcome``: how pages and the API name a contributor."""
        return f"{self.program}/{self.outcome}" if self.outcome else self.program


Metric = Literal["percent_done", "items_done", "outcomes_done", "on_time"]


class KeyResultConfig(_Model):
    """A measurable result of a goal, on a figure Throughline computes.

    ``percent_done``: the contributors' weighted progress, 0–100; ``items_done``: units
    of work finished; ``outcomes_done``: outcomes finished; ``on_time``: the chance, 0–100,
    that every contributor finishes by the end of the goal's period.
    """

    key: Annotated[str, Field(pattern=_SLUG)]
    name: str = Field(min_length=1, max_length=256)
    metric: Metric
    target: float = Field(ge=0)
    contributors: tuple[str, ...] = ()
    """``program`` or ``program/outcome`` among the goal's contributors (default: all)."""

    @model_validator(mode="after")
    def _percent(self) -> KeyResultConfig:
        if self.metric in ("percent_done", "on_time") and self.target > 100:
            raise ValueError(f"a {self.metric} target is a percentage (0–100), not {self.target}")
        return self


class GoalRagConfig(_Model):
    """How a goal's chance to be met by the end of its period gives its colour."""

    green_at: float = Field(default=_RAG.green_at, ge=0, le=1)
    amber_at: float = Field(default=_RAG.amber_at, ge=0, le=1)
    hysteresis: Literal["margin", "consecutive", "off"] = "margin"
    hysteresis_margin: float = Field(default=_RAG.hysteresis_margin, ge=0, le=0.5)

    @model_validator(mode="after")
    def _ordered(self) -> GoalRagConfig:
        if self.amber_at > self.green_at:
            raise ValueError(
                f"amber_at ({self.amber_at}) must not be above green_at ({self.green_at})"
            )
        return self


class GoalConfig(_Model):
    key: Annotated[str, Field(pattern=_SLUG)]
    name: str = Field(min_length=1, max_length=256)
    owner: str = Field(min_length=1, max_length=256)
    period: PeriodConfig
    description: str | None = None
    contributors: tuple[ContributionConfig, ...] = ()
    key_results: tuple[KeyResultConfig, ...] = ()
    rag: GoalRagConfig = GoalRagConfig()


class OutcomeDependencyConfig(_Model):
    """An outcome that cannot finish before another program's outcome has."""

    program: str
    outcome: str
    needed_by: date | None = None
    """When the waiting outcome needs it done (default: the waiting outcome's target)."""


class PortfolioConfig(_Model):
    timezone: TimeZoneName = "UTC"
    """The zone the portfolio's days (a goal's today, its history) are counted in."""
    wip_limit: int | None = Field(default=None, ge=1)
    """Items in progress per person across every program before they are over-allocated
    (default: their team's ``wip_limit``, else ``resources.wip_limit``)."""
    max_programs: int = Field(default=2, ge=1)
    """Programs a person can have open work in before they are spread too thin."""


Location = tuple[str | int, ...]


def _entries(value: object) -> list[tuple[int, Mapping[str, Any]]]:
    items = value if isinstance(value, list) else []
    return [(i, e) for i, e in enumerate(items) if isinstance(e, dict)]


def portfolio_problems(data: Mapping[str, Any]) -> list[tuple[Location, str]]:
    """Goals' and outcomes' references to programs and outcomes that do not exist (or
    that contradict themselves), each at the place in the file that names them."""
    programs = {
        p.get("key"): {o.get("key") for _, o in _entries(p.get("outcomes"))}
        for _, p in _entries(data.get("programs"))
    }
    known = ", ".join(sorted(str(k) for k in programs)) or "none"
    found: list[tuple[Location, str]] = []

    def check(loc: Location, what: str, program: object, outcome: object) -> bool:
        if program not in programs:
            found.append(
                ((*loc, "program"), f"{what} names unknown program {program!r} (known: {known})")
            )
            return False
        if outcome is not None and outcome not in programs[program]:
            outcomes = ", ".join(sorted(str(o) for o in programs[program])) or "none"
            found.append(
                (
                    (*loc, "outcome"),
                    f"{what} names unknown outcome {outcome!r} of program {program!r} "
                    f"(its outcomes: {outcomes})",
                )
            )
            return False
        return True

    seen_goals: set[object] = set()
    for g_index, goal in _entries(data.get("goals")):
        loc: Location = ("goals", g_index)
        key = goal.get("key")
        if key in seen_goals:
            found.append(((*loc, "key"), f"duplicate goal {key!r}"))
        seen_goals.add(key)
        refs: set[str] = set()
        for c_index, entry in _entries(goal.get("contributors")):
            here = (*loc, "contributors", c_index)
            program, outcome = entry.get("program"), entry.get("outcome")
            if not check(here, f"goal {key!r}", program, outcome):
                continue
            ref = f"{program}/{outcome}" if outcome is not None else str(program)
            if ref in refs:
                found.append((here, f"goal {key!r} names contributor {ref!r} twice"))
            refs.add(ref)
        for k_index, result in _entries(goal.get("key_results")):
            listed = result.get("contributors")
            for r_index, ref in enumerate(listed if isinstance(listed, list) else []):
                program = str(ref).split("/", 1)[0]
                if str(ref) not in refs and program not in refs:
                    found.append(
                        (
                            (*loc, "key_results", k_index, "contributors", r_index),
                            f"key result {result.get('key')!r} of goal {key!r} names {ref!r}, "
                            "which does not contribute to the goal",
                        )
                    )
    for p_index, program in _entries(data.get("programs")):
        for o_index, outcome in _entries(program.get("outcomes")):
            for d_index, entry in _entries(outcome.get("depends_on")):
                here = ("programs", p_index, "outcomes", o_index, "depends_on", d_index)
                what = f"outcome {outcome.get('key')!r} depends_on"
                if entry.get("program") == program.get("key"):
                    found.append(
                        (
                            (*here, "program"),
                            f"{what} its own program {program.get('key')!r}: within a "
                            "program, dependencies come from the trackers' links",
                        )
                    )
                    continue
                check(here, what, entry.get("program"), entry.get("outcome"))
    return found
