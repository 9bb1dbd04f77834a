"""The portfolio rebuilt with every recomputation from every program's stored part: goals,
dependencies and people across programs, the risks of waiting programs, goals' days —
whichever programs a recomputation covered (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.programs import lookup, portfolio, risks
from app.programs.documents import portfolio as out
from app.programs.recompute import recompute
from app.store import catalog, records
from app.store.engine import session_scope
from app.store.tables import GoalSnapshotRow, PortfolioDocumentRow, RiskEventRow, RiskRow
from connectors.base import Page
from tests.app import portfolio_data as data


@pytest.fixture
async def seeded(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with session_scope(sessionmaker) as session:
        await catalog.apply_config(session, data.config(), now=data.NOW)
        await data.seed(session)


async def _stored(session: AsyncSession) -> dict[str, PortfolioDocumentRow]:
    return {r.kind: r for r in await session.scalars(select(PortfolioDocumentRow))}


async def _cross_risks(session: AsyncSession, program: str) -> list[RiskRow]:
    found = await lookup.get_program(session, data.config(), program)
    return [
        r
        for r in await risks.list_risks(session, found.id, state="all")
        if r.rule == "cross_program_dependency"
    ]


async def test_a_recompute_stores_goals_dependencies_and_people_across_programs(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    await recompute(sessionmaker, data.config(), now=data.NOW)
    async with sessionmaker() as session:
        stored = await _stored(session)
    assert set(stored) == {"portfolio", "dependencies", "people"}
    assert {r.digest for r in stored.values()} == {portfolio.digest(data.config())}
    found = out.Portfolio.model_validate(stored["portfolio"].document)
    assert [g.key for g in found.goals] == ["revenue", "mobile-first"]
    revenue = found.goals[0]
    assert [c.ref for c in revenue.contributors] == ["checkout", "platform/vault"]
    assert revenue.confidence.covers == ["checkout/fast-pay", "checkout/web", "platform/vault"]
    assert revenue.forecast.basis == "monte_carlo"
    assert [p.key for p in found.programs] == ["checkout", "platform", "mobile"]
    assert found.programs[0].goals == ["revenue", "mobile-first"]
    assert (found.dependencies.count, found.dependencies.late) == (1, 1)
    assert (found.outcome_links.count, found.outcome_links.late) == (1, 1)
    assert (found.people.shared, found.people.over_allocated) == (1, 1)
    people = out.PortfolioPeople.model_validate(stored["people"].document)
    dee = people.people[0]
    assert (dee.name, dee.programs, dee.wip, dee.wip_limit) == ("Dee Evans", 3, 4, 3)
    assert [f.rule for f in dee.flags] == ["wip_over_limit", "too_many_programs"]


async def test_the_waiting_program_gets_a_risk_naming_the_other_program_and_its_owner(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    await recompute(sessionmaker, data.config(), now=data.NOW)
    async with sessionmaker() as session:
        (checkout,) = await _cross_risks(session, "checkout")
        (mobile,) = await _cross_risks(session, "mobile")
        assert await _cross_risks(session, "platform") == []
    assert checkout.title == (
        "1 item(s) wait on late work in Platform (owner Bo Chen) on the critical path"
    )
    assert checkout.items == ["PLAT-2", "PAY-3"]
    assert checkout.closed_at is None
    assert mobile.title.startswith(
        "App 5.0 waits on Pay in one click in Checkout v2 (owner Ana Lima)"
    )
    assert mobile.outcome_key == "app"


async def test_a_recompute_of_some_programs_rebuilds_from_every_stored_part(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    config = data.config()
    await recompute(sessionmaker, config, now=data.NOW)
    later = data.NOW + timedelta(hours=2)
    async with session_scope(sessionmaker) as session:
        source = await records.get_source(session, "asana")
        assert source is not None
        finished = data.work(
            "9002", source="asana", project="900", done_days_ago=0, started_days_ago=2,
            updated_at=later,
        )  # fmt: skip
        await records.save_page(session, source.id, Page("900", [finished]), now=later)
    result = await recompute(sessionmaker, config, now=later, programs=["mobile"])
    assert result.programs == ["mobile"]
    async with sessionmaker() as session:
        stored = await _stored(session)
        events = list(await session.scalars(select(RiskEventRow)))
    found = out.Portfolio.model_validate(stored["portfolio"].document)
    tiles = {p.key: p for p in found.programs}
    assert all(t.computed for t in tiles.values())
    assert tiles["mobile"].done_count == 10
    assert tiles["checkout"].done_count == 20
    assert found.dependencies.late == 1
    deps = out.PortfolioDependencies.model_validate(stored["dependencies"].document)
    assert [(d.from_.key, d.to.key) for d in deps.dependencies] == [("PLAT-2", "PAY-3")]
    # Checkout was not recomputed: its risk stays open, neither closed nor opened again.
    assert sum(1 for e in events if e.kind == "closed") == 0


async def test_a_programs_own_recompute_leaves_the_portfolios_risks_alone(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    config = data.config()
    await recompute(sessionmaker, config, now=data.NOW)
    await recompute(sessionmaker, config, now=data.NOW + timedelta(hours=1), programs=["checkout"])
    async with sessionmaker() as session:
        (risk,) = await _cross_risks(session, "checkout")
        events = list(
            await session.scalars(select(RiskEventRow).where(RiskEventRow.risk_id == risk.id))
        )
    assert [e.kind for e in events] == ["opened"]


async def test_the_risk_closes_when_the_blocker_is_no_longer_late(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    config = data.config()
    await recompute(sessionmaker, config, now=data.NOW)
    later = data.NOW + timedelta(hours=1)
    async with session_scope(sessionmaker) as session:
        source = await records.get_source(session, "jira")
        assert source is not None
        sooner = [
            item if item.key != "PLAT-2" else data.work(
                "PLAT-2", due_on=data.TODAY + timedelta(days=5), started_days_ago=1,
                updated_at=later, links=item.links,
            )
            for item in data.platform_items()
        ]  # fmt: skip
        await records.save_page(session, source.id, Page("PLAT", sooner), now=later)
    await recompute(sessionmaker, config, now=later, sources={"jira"})
    async with sessionmaker() as session:
        (risk,) = await _cross_risks(session, "checkout")
        stored = await _stored(session)
    assert risk.closed_at is not None
    deps = out.PortfolioDependencies.model_validate(stored["dependencies"].document)
    assert [d.late for d in deps.dependencies] == [False]


async def test_each_day_of_a_goal_is_kept_and_its_week_read_as_movement(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    config = data.config()
    await recompute(sessionmaker, config, now=data.NOW - timedelta(days=7))
    await recompute(sessionmaker, config, now=data.NOW)
    await recompute(sessionmaker, config, now=data.NOW + timedelta(hours=1))
    async with sessionmaker() as session:
        days = sorted(
            (r.goal_key, r.taken_on) for r in await session.scalars(select(GoalSnapshotRow))
        )
        found = await portfolio.read_portfolio(session, config, now=data.NOW)
    week_ago = data.TODAY - timedelta(days=7)
    assert days == sorted(
        (g, d) for g in ("revenue", "mobile-first") for d in (week_ago, data.TODAY)
    )
    moved = found.goals[0].movement
    assert moved is not None
    assert moved.since == week_ago
    assert moved.text.startswith("since 13 Nov 2026: ")


async def test_another_configuration_is_read_from_the_stored_parts_until_the_next_rebuild(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    await recompute(sessionmaker, data.config(), now=data.NOW)
    goal = (
        "  - key: platform-health\n    name: Healthy platform\n    owner: Bo Chen\n"
        "    period: 2027\n    contributors: [{program: platform}]\npeople:\n"
    )
    changed = data.config(data.CONFIG.replace("people:\n", goal))
    async with sessionmaker() as session:
        found = await portfolio.read_portfolio(session, changed, now=data.NOW)
        stored = await _stored(session)
    assert [g.key for g in found.goals][-1] == "platform-health"
    assert found.goals[-1].contributors[0].computed
    assert stored["portfolio"].digest == portfolio.digest(data.config())


async def test_an_older_rebuild_does_not_replace_a_newer_one(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    config = data.config()
    await recompute(sessionmaker, config, now=data.NOW)
    result = await portfolio.rebuild(sessionmaker, config, now=data.NOW - timedelta(minutes=1))
    assert not result.stored
    async with sessionmaker() as session:
        assert {r.computed_at for r in (await _stored(session)).values()} == {data.NOW}


async def test_an_unknown_goal_is_not_found(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    await recompute(sessionmaker, data.config(), now=data.NOW)
    async with sessionmaker() as session:
        with pytest.raises(lookup.NotFound, match="no goal 'nope'"):
            await portfolio.read_goal(session, data.config(), "nope", now=data.NOW)
