"""What-if: a program's forecast re-run with changes, and scenarios saved by name.

Nothing here touches a tracker or the stored roll-up. The program is loaded as a
recomputation loads it and evaluated twice by ``recompute.evaluate_program`` — as it
stands, and as ``rollup.whatif.apply`` edits it — with the same seed, so the answer is
what a recomputation of the edited program would say.
"""

from __future__ import annotations

import asyncio
import zoneinfo
from collections.abc import Mapping
from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ProgramConfig
from app.programs import loading, lookup, recompute
from app.store.audit import record_audit
from app.store.tables import MAX_ROW_ID, ProgramRow, ScenarioRow
from rollup import whatif
from rollup.figures import day
from rollup.forecast import Forecast
from rollup.graph import DependencyGraph
from rollup.mapping import ItemIndex
from rollup.status import ProgramRollup

MAX_ADDED = 100_000
MAX_REMOVED = 10_000


class ScenarioChanges(BaseModel):
    """What a scenario changes; every field may be left out."""

    add_items: int | dict[str, int] = Field(
        0,
        description="Items of new scope: a number spread evenly over the outcomes, or "
        "a number per outcome key",
    )
    remove_keys: list[str] = Field(
        default_factory=list,
        max_length=MAX_REMOVED,
        description="Items or epics to defer: they and their open work leave the program",
    )
    pace_factor: float | dict[str, float] = Field(
        1.0, description="The pace multiplied by this: for the program, or per outcome key"
    )
    targets: dict[str, date] = Field(
        default_factory=dict, description="New target dates by outcome key"
    )

    def problems(self, outcomes: list[str]) -> list[tuple[str, str]]:
        """(field, message) for each value this program cannot take."""
        found = []
        known = set(outcomes)
        named: dict[str, Mapping[str, object]] = {
            "add_items": self.add_items if isinstance(self.add_items, dict) else {},
            "pace_factor": self.pace_factor if isinstance(self.pace_factor, dict) else {},
            "targets": self.targets,
        }
        for name, mapping in named.items():
            unknown = sorted(set(mapping) - known)
            if unknown:
                found.append(
                    (name, f"unknown outcome(s) {', '.join(unknown)}; known: {', '.join(outcomes)}")
                )
        counts = self.add_items.values() if isinstance(self.add_items, dict) else [self.add_items]
        if any(c < 0 for c in counts) or sum(counts) > MAX_ADDED:
            found.append(("add_items", f"between 0 and {MAX_ADDED:,} items"))
        factors = (
            self.pace_factor.values() if isinstance(self.pace_factor, dict) else [self.pace_factor]
        )
        if any(not 0.05 <= f <= 20 for f in factors):
            found.append(("pace_factor", "a factor between 0.05 and 20"))
        if any(len(k) > 64 or not k for k in self.remove_keys):
            found.append(("remove_keys", "keys of 1 to 64 characters"))
        return found

    def scenario(self) -> whatif.Scenario:
        spread = self.add_items if isinstance(self.add_items, int) else 0
        per = self.add_items if isinstance(self.add_items, dict) else {}
        pace = self.pace_factor if isinstance(self.pace_factor, float | int) else 1.0
        factors = self.pace_factor if isinstance(self.pace_factor, dict) else {}
        return whatif.Scenario(
            add_items=spread,
            add_per_outcome=per,
            remove_keys=tuple(self.remove_keys),
            pace_factor=float(pace),
            pace_factors={k: float(v) for k, v in factors.items()},
            targets=dict(self.targets),
        )


class Figures(BaseModel):
    p50: date | None
    p85: date | None
    p95: date | None
    probability_on_time: float | None
    basis: str
    remaining: float


class Side(BaseModel):
    program: Figures
    outcomes: dict[str, Figures]


class WhatIfResult(BaseModel):
    program: str
    as_of: date
    before: Side
    after: Side
    removed: list[str]
    """Keys of the open work the scenario deferred."""
    added: dict[str, int]
    summary: str


class SavedScenario(BaseModel):
    id: int
    name: str
    changes: ScenarioChanges
    result: WhatIfResult
    saved_at: datetime
    saved_by: str | None


class ScenarioList(BaseModel):
    scenarios: list[SavedScenario]


def figures_of(forecast: Forecast) -> Figures:
    return Figures(
        p50=forecast.p50.on if forecast.p50 else None,
        p85=forecast.p85.on if forecast.p85 else None,
        p95=forecast.p95.on if forecast.p95 else None,
        probability_on_time=forecast.probability_on_time,
        basis=forecast.basis.value,
        remaining=round(forecast.remaining, 2),
    )


def side_of(rollup: ProgramRollup) -> Side:
    return Side(
        program=figures_of(rollup.forecast),
        outcomes={o.outcome.key: figures_of(o.forecast) for o in rollup.outcomes},
    )


def describe(changes: ScenarioChanges, config: ProgramConfig, titles: Mapping[str, str]) -> str:
    """The scenario in words: "defer PAY-1 (3-D Secure) and add 20 items"."""
    names = {o.key: o.name for o in config.outcomes}
    parts = []
    if changes.remove_keys:
        shown = [f"{k} ({titles[k]})" if k in titles else k for k in changes.remove_keys[:3]]
        more = len(changes.remove_keys) - 3
        parts.append("defer " + ", ".join(shown) + (f" and {more} more" if more > 0 else ""))
    if isinstance(changes.add_items, int) and changes.add_items:
        parts.append(f"add {changes.add_items} items")
    elif isinstance(changes.add_items, dict):
        parts += [f"add {n} items to {names[k]}" for k, n in changes.add_items.items() if n]
    if isinstance(changes.pace_factor, dict):
        parts += [f"work {f:g}× as fast on {names[k]}" for k, f in changes.pace_factor.items()]
    elif changes.pace_factor != 1.0:
        parts.append(f"work {changes.pace_factor:g}× as fast")
    parts += [f"move {names[k]}'s target to {day(d)}" for k, d in changes.targets.items()]
    if not parts:
        return "change nothing"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _pct(p: float | None) -> str:
    return "—" if p is None else f"{round(p * 100)} %"


def _moved(before: Figures, after: Figures) -> str | None:
    """How one forecast moved, in words (None: it did not)."""
    b, a = before.probability_on_time, after.probability_on_time
    if b is not None and a is not None:
        if a == b:
            return f"P(on time) stays at {_pct(b)}"
        return f"P(on time) {'rises' if a > b else 'falls'} from {_pct(b)} to {_pct(a)}"
    if before.p85 != after.p85:
        return f"P85 moves from {day(before.p85)} to {day(after.p85)}"
    return None


def summary(what: str, before: Side, after: Side, names: Mapping[str, str]) -> str:
    """The answer in one sentence, as the weekly report quotes it: the program's chance,
    or — when the program has no forecast to compare — each outcome's that moved."""
    program = _moved(before.program, after.program)
    if program is not None:
        return f"If we {what}, {program}."
    parts = [
        f"{names.get(key, key)}'s {moved}"
        for key, figures in before.outcomes.items()
        if key in after.outcomes and (moved := _moved(figures, after.outcomes[key])) is not None
    ]
    if parts:
        return f"If we {what}, " + "; ".join(parts) + "."
    return f"If we {what}, the forecast does not change (P85 {day(after.program.p85)})."


def compare(
    config: ProgramConfig, loaded: recompute.Loaded, changes: ScenarioChanges, now: datetime
) -> WhatIfResult:
    """Before and after: pure computation, run off the event loop."""
    with recompute.frozen_heap():
        program = loading.to_program(config)
        index = ItemIndex(loaded.items)
        graph = DependencyGraph(loaded.dependencies, index)
        as_of = now.astimezone(zoneinfo.ZoneInfo(config.timezone)).date()
        trend = recompute.trend_of(config, loaded, as_of)
        before = recompute.evaluate_program(config, program, index, graph, trend, now)
        scenario = changes.scenario()
        edited, items = whatif.apply(program, loaded.items, scenario, now=now)
        edited_index = ItemIndex(items)
        after = recompute.evaluate_program(
            config,
            edited,
            edited_index,
            DependencyGraph(loaded.dependencies, edited_index),
            trend,
            now,
        )
    kept = {i.ref for i in items}
    removed = sorted(i.key for i in loaded.items if i.ref not in kept)
    titles = {i.key: i.title for i in loaded.items if i.key in set(changes.remove_keys)}
    sides = side_of(before), side_of(after)
    return WhatIfResult(
        program=config.key,
        as_of=as_of,
        before=sides[0],
        after=sides[1],
        removed=removed,
        added=whatif.added_per_outcome(program, scenario),
        summary=summary(
            describe(changes, config, titles),
            sides[0],
            sides[1],
            {o.key: o.name for o in config.outcomes},
        ),
    )


async def what_if(
    session: AsyncSession,
    program: lookup.ConfiguredProgram,
    changes: ScenarioChanges,
    *,
    now: datetime,
) -> WhatIfResult:
    """The program's forecast before and after ``changes``, as of ``now``."""
    loaded = await recompute.load(session, [program.config], now=now)
    return await asyncio.to_thread(compare, program.config, loaded, changes, now)


def saved_of(row: ScenarioRow) -> SavedScenario:
    return SavedScenario(
        id=row.id,
        name=row.name,
        changes=ScenarioChanges.model_validate(row.changes),
        result=WhatIfResult.model_validate(row.result),
        saved_at=row.saved_at,
        saved_by=row.saved_by,
    )


async def save(
    session: AsyncSession,
    program_id: int,
    name: str,
    changes: ScenarioChanges,
    result: WhatIfResult,
    *,
    now: datetime,
    by: str | None,
) -> SavedScenario:
    """Keep a scenario under ``name`` (replacing one of the same name); recorded in the
    audit log."""
    replaced = await session.scalar(
        select(ScenarioRow.changes).where(
            ScenarioRow.program_id == program_id, ScenarioRow.name == name
        )
    )
    await session.execute(
        delete(ScenarioRow).where(ScenarioRow.program_id == program_id, ScenarioRow.name == name)
    )
    row = ScenarioRow(
        program_id=program_id,
        name=name,
        changes=changes.model_dump(mode="json"),
        result=result.model_dump(mode="json"),
        saved_at=now,
        saved_by=by,
    )
    session.add(row)
    await session.flush()
    await record_audit(
        session,
        actor=by or "system",
        action="scenario.save",
        program=await _key_of(session, program_id),
        subject=name,
        before={"changes": replaced} if replaced is not None else None,
        after={"changes": row.changes, "summary": result.summary},
        now=now,
    )
    return saved_of(row)


async def _key_of(session: AsyncSession, program_id: int) -> str | None:
    return await session.scalar(select(ProgramRow.key).where(ProgramRow.id == program_id))


async def list_scenarios(session: AsyncSession, program_id: int) -> ScenarioList:
    """Saved scenarios, newest first."""
    rows = await session.scalars(
        select(ScenarioRow)
        .where(ScenarioRow.program_id == program_id)
        .order_by(ScenarioRow.saved_at.desc(), ScenarioRow.id.desc())
    )
    return ScenarioList(scenarios=[saved_of(r) for r in rows])


async def delete_scenario(
    session: AsyncSession, program_id: int, scenario_id: int, *, by: str = "system"
) -> bool:
    """Forget a saved scenario (recorded in the audit log); False when there is none."""
    if not 0 < scenario_id <= MAX_ROW_ID:
        return False  # past any row: none such, without asking a database that cannot say
    row = await session.scalar(
        select(ScenarioRow).where(
            ScenarioRow.program_id == program_id, ScenarioRow.id == scenario_id
        )
    )
    if row is None:
        return False
    name, before = row.name, {"name": row.name, "changes": row.changes}
    await session.delete(row)
    await session.flush()
    await record_audit(
        session,
        actor=by,
        action="scenario.delete",
        program=await _key_of(session, program_id),
        subject=name,
        before=before,
    )
    return True
