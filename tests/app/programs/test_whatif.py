"""What-if through the service: the answer equals what a recomputation of the equivalently
edited program stores, and nothing stored changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import parse_config
from app.programs import lookup, plans, whatif
from app.programs.documents import ProgramStatus
from app.programs.recompute import Loaded, recompute
from app.store import catalog, records
from app.store.engine import session_scope
from app.store.tables import ItemRow, ProgramStatusRow
from connectors.base import Deletion
from rollup.graph import DependencyGraph
from rollup.mapping import ItemIndex
from rollup.model import Program
from tests.app import rollup_data as data
from tests.rollup.builders import item as data_item_of

NEW_TARGET = data.TARGET - timedelta(days=25)


@pytest.fixture
async def seeded(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with session_scope(sessionmaker) as session:
        await catalog.apply_config(session, data.config(), now=data.NOW)
        source_id = await data.seed(session)
    await recompute(sessionmaker, data.config(), now=data.NOW)
    return source_id


def side_of(status: ProgramStatus) -> whatif.Side:
    def figures(f: object) -> whatif.Figures:
        return whatif.Figures(
            p50=f.p50,  # type: ignore[attr-defined]
            p85=f.p85,  # type: ignore[attr-defined]
            p95=f.p95,  # type: ignore[attr-defined]
            probability_on_time=f.probability_on_time,  # type: ignore[attr-defined]
            basis=f.basis,  # type: ignore[attr-defined]
            remaining=round(f.remaining, 2),  # type: ignore[attr-defined]
        )

    return whatif.Side(
        program=figures(status.forecast),
        outcomes={o.key: figures(o.forecast) for o in status.outcomes},
    )


async def test_what_if_equals_the_forecast_of_the_edited_program(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    config = data.config()
    changes = whatif.ScenarioChanges(
        remove_keys=["WEB-1", "PAY-6"], targets={"fast-pay": NEW_TARGET}
    )
    async with session_scope(sessionmaker) as session:
        program = await lookup.get_program(session, config, "checkout")
        stored = await lookup.read_status(session, config, "checkout", now=data.NOW)
        result = await whatif.what_if(session, program, changes, now=data.NOW)
    assert result.before == side_of(stored)
    assert result.removed == ["PAY-6", "WEB-1"]

    # The same change made for real: the items gone from the tracker, the target moved.
    edited = parse_config(data.CONFIG.replace(data.TARGET.isoformat(), NEW_TARGET.isoformat()))
    async with session_scope(sessionmaker) as session:
        ids = dict((await session.execute(select(ItemRow.key, ItemRow.external_id))).all())
        gone = [Deletion("jira", ids[k], data.NOW) for k in ("WEB-1", "PAY-6")]
        await records.mark_deleted(session, seeded, gone)
    await recompute(sessionmaker, edited, now=data.NOW)
    async with session_scope(sessionmaker) as session:
        recomputed = await lookup.read_status(session, edited, "checkout", now=data.NOW)
    assert result.after == side_of(recomputed)
    # Deferring the open web work leaves only Pay in one click to forecast.
    assert result.before.program.basis == "insufficient_history"
    assert result.after.program.basis == "monte_carlo"
    assert result.after.outcomes["fast-pay"].probability_on_time is not None


async def test_what_if_stores_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    config = data.config()
    async with session_scope(sessionmaker) as session:
        before = await session.scalar(select(ProgramStatusRow.computed_at))
        items = await session.scalar(select(func.count()).select_from(ItemRow))
        program = await lookup.get_program(session, config, "checkout")
        await whatif.what_if(
            session,
            program,
            whatif.ScenarioChanges(add_items=50, remove_keys=["PAY-1"]),
            now=data.NOW,
        )
    async with session_scope(sessionmaker) as session:
        assert await session.scalar(select(ProgramStatusRow.computed_at)) == before
        assert await session.scalar(select(func.count()).select_from(ItemRow)) == items


async def test_more_scope_and_a_slower_pace_never_make_it_earlier(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    config = data.config()
    async with session_scope(sessionmaker) as session:
        program = await lookup.get_program(session, config, "checkout")
        more = await whatif.what_if(
            session, program, whatif.ScenarioChanges(add_items={"fast-pay": 30}), now=data.NOW
        )
        slower = await whatif.what_if(
            session, program, whatif.ScenarioChanges(pace_factor={"fast-pay": 0.5}), now=data.NOW
        )
        faster = await whatif.what_if(
            session, program, whatif.ScenarioChanges(pace_factor=2.0), now=data.NOW
        )
    assert more.added == {"fast-pay": 30, "web": 0}
    base = more.before.outcomes["fast-pay"]
    assert more.after.outcomes["fast-pay"].remaining == base.remaining + 30
    assert base.p85 is not None
    for changed in (more, slower):
        later = changed.after.outcomes["fast-pay"].p85
        assert later is not None
        assert later > base.p85
    quick = faster.after.outcomes["fast-pay"].p85
    assert quick is not None
    assert quick < base.p85
    assert "work 2× as fast" in faster.summary


TEAMS = """
teams:
  - {key: payments, name: "Payments <b>&", members: [ana]}
"""


@pytest.mark.parametrize(
    "changes",
    [
        whatif.ScenarioChanges(pace_factor={"payments": 2.0}),
        whatif.ScenarioChanges(add_teams=[whatif.NewTeam(name="<i>Twin</i>", like="payments")]),
    ],
    ids=["team-factor", "team-like-payments"],
)
async def test_a_team_s_pace_equals_the_outcomes_it_carries_sped_up(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int, changes: whatif.ScenarioChanges
) -> None:
    """Ana, of Payments, finished all of "Pay in one click"'s recent work and nobody
    finished enough of the web's to forecast: twice Payments' pace (or a second Payments)
    is that outcome's pace doubled."""
    config = parse_config(data.CONFIG + TEAMS)
    staff = plans.Staff.of(config)
    async with session_scope(sessionmaker) as session:
        program = await lookup.get_program(session, config, "checkout")
        by_team = await whatif.what_if(session, program, changes, now=data.NOW, staff=staff)
        by_outcome = await whatif.what_if(
            session, program, whatif.ScenarioChanges(pace_factor={"fast-pay": 2.0}), now=data.NOW
        )
    assert by_team.before == by_outcome.before
    assert by_team.after == by_outcome.after
    assert by_team.after.outcomes["fast-pay"] != by_team.before.outcomes["fast-pay"]
    assert "Payments <b>&" in by_team.summary or "<i>Twin</i>" in by_team.summary


def _figures(p: float | None, p85: int | None = None) -> whatif.Figures:
    return whatif.Figures(
        p50=None,
        p85=None if p85 is None else data.TODAY + timedelta(days=p85),
        p95=None,
        probability_on_time=p,
        basis="monte_carlo",
        remaining=1.0,
    )


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (
            whatif.Side(program=_figures(0.34), outcomes={}),
            whatif.Side(program=_figures(0.81), outcomes={}),
            "If we defer PAY-1, P(on time) rises from 34 % to 81 %.",
        ),
        (
            whatif.Side(program=_figures(None), outcomes={"pay": _figures(0.63)}),
            whatif.Side(program=_figures(None), outcomes={"pay": _figures(0.51)}),
            "If we defer PAY-1, Pay's P(on time) falls from 63 % to 51 %.",
        ),
        (
            whatif.Side(program=_figures(None, 10), outcomes={}),
            whatif.Side(program=_figures(None, 10), outcomes={}),
            "If we defer PAY-1, the forecast does not change (P85 30 Nov 2026).",
        ),
    ],
    ids=["program", "outcomes-when-the-program-has-none", "unchanged"],
)
def test_the_summary_says_what_moved(
    before: whatif.Side, after: whatif.Side, expected: str
) -> None:
    assert whatif.summary("defer PAY-1", before, after, {"pay": "Pay"}) == expected


def test_a_chance_that_rounds_the_same_is_said_to_stay_and_the_date_to_move() -> None:
    before = whatif.Side(program=_figures(0.001, 10), outcomes={})
    after = whatif.Side(program=_figures(0.004, 3), outcomes={})
    assert whatif.summary("defer PAY-1", before, after, {}) == (
        "If we defer PAY-1, P(on time) stays at 0 % and P85 moves from 30 Nov 2026 to 23 Nov 2026."
    )


def test_the_openapi_examples_are_what_the_api_takes_and_gives() -> None:
    config = parse_config(data.CONFIG + TEAMS).programs[0]
    for example in whatif.CHANGES_EXAMPLES:
        changes = whatif.ScenarioChanges.model_validate(example)
        assert changes.problems([o.key for o in config.outcomes], ["payments"]) == []
    whatif.WhatIfResult.model_validate(whatif.RESULT_EXAMPLE)


async def test_the_stored_roll_up_is_the_before_while_it_is_current(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    config = data.config()
    changes = whatif.ScenarioChanges(add_items=5)
    async with session_scope(sessionmaker) as session:
        program = await lookup.get_program(session, config, "checkout")
        prepared, moment = await whatif.prepare(session, program, now=data.NOW + timedelta(hours=2))
        first = await whatif.what_if(session, program, changes, now=data.NOW + timedelta(hours=3))
    # Asked later the same day, the answer is as of the stored roll-up's moment...
    assert moment == data.NOW
    stored = prepared.standing(program.config, moment).stored
    assert stored is not None
    # ...whose figures are what the forecasts, run again, say.
    assert whatif.side_of(prepared.forecasts(program.config, moment)) == stored
    assert first.before == stored
    # The same question asked again later that day (nothing loaded again): the same answer.
    async with session_scope(sessionmaker) as session:
        later = await whatif.what_if(session, program, changes, now=data.NOW + timedelta(hours=5))
    assert later == first
    assert later.after != later.before

    # A later sync stores more finished work: until the roll-up is recomputed, the
    # what-if loads the data again and runs its own "before".
    async with session_scope(sessionmaker) as session:
        await data.seed_more(session, data.NOW + timedelta(hours=1))
    async with session_scope(sessionmaker) as session:
        again = await whatif.what_if(session, program, changes, now=data.NOW + timedelta(hours=3))
        prepared_again, moment_again = await whatif.prepare(
            session, program, now=data.NOW + timedelta(hours=3)
        )
    # The stored roll-up is not current: the answer is as of the moment asked.
    assert prepared_again is not prepared
    assert moment_again == data.NOW + timedelta(hours=3)
    assert prepared_again.standing(program.config, moment_again).stored is None
    assert again.before != first.before
    assert again.before.outcomes["fast-pay"].remaining == stored.outcomes["fast-pay"].remaining - 1


def test_the_programs_kept_loaded_are_bounded_by_count_and_items() -> None:
    def kept(n_items: int) -> whatif.Prepared:
        loaded = Loaded([data_item_of(f"PAY-{n}") for n in range(n_items)], [], {}, {}, {})
        return whatif.Prepared(
            loaded, Program("p", "P"), ItemIndex([]), DependencyGraph([], ItemIndex([]))
        )

    cache = whatif.PreparedCache(size=2, items=10)
    first, second, third = kept(4), kept(4), kept(4)
    cache.put(("db", "a"), 1, first)
    cache.put(("db", "b"), 1, second)
    assert cache.get(("db", "a"), 1) is first
    assert cache.get(("db", "a"), 2) is None  # its data changed
    cache.put(("db", "c"), 1, third)  # "b" was used least recently
    assert cache.get(("db", "b"), 1) is None
    assert cache.get(("db", "c"), 1) is third
    huge = kept(11)
    cache.put(("db", "d"), 1, huge)  # over the items: only the newest stays
    assert cache.get(("db", "a"), 1) is None
    assert cache.get(("db", "c"), 1) is None
    assert cache.get(("db", "d"), 1) is huge
