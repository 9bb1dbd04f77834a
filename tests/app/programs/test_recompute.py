"""Recomputing roll-ups from the store: stored once, read as lookups, history kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import parse_config
from app.programs import changes, lookup
from app.programs.recompute import affected_programs, recompute
from app.store import catalog, records
from app.store.engine import session_scope
from app.store.tables import OutcomeStatusRow, ProgramStatusRow, RiskEventRow, RiskRow, SnapshotRow
from connectors.base import LinkRef, Page
from tests.app import rollup_data as data
from tests.builders import make_item
from vocabulary import ItemKind, StatusCategory


@pytest.fixture
async def seeded(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with session_scope(sessionmaker) as session:
        await catalog.apply_config(session, data.config(), now=data.NOW)
        return await data.seed(session)


async def _count(session: AsyncSession, model: type, **where: object) -> int:
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return int(await session.scalar(stmt) or 0)


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        pytest.param(None, ["checkout", "mobile"], id="all"),
        pytest.param({"jira"}, ["checkout"], id="jira"),
        pytest.param({"asana"}, ["mobile"], id="asana"),
        pytest.param({"gitlab"}, [], id="none"),
    ],
)
def test_only_programs_that_select_from_the_synced_sources_are_recomputed(
    sources: set[str] | None, expected: list[str]
) -> None:
    assert [p.key for p in affected_programs(data.config(), sources)] == expected


async def test_recompute_stores_status_snapshots_and_risks(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    result = await recompute(sessionmaker, data.config(), now=data.NOW, sources={"jira"})
    assert result.programs == ["checkout"]
    assert result.items == 45
    async with sessionmaker() as session:
        row = await session.scalar(select(ProgramStatusRow))
        assert row is not None
        assert (row.as_of, row.rag) == (data.TODAY, "red")
        assert row.status["progress"]["scope_count"] == 43
        assert await _count(session, OutcomeStatusRow) == 2
        assert await _count(session, SnapshotRow, taken_on=data.TODAY) == 3
        (risk,) = await session.scalars(select(RiskRow))
        assert (risk.rule, risk.items, risk.severity) == (
            "overdue_milestone",
            ["PAY-7"],
            "critical",
        )
        assert await _count(session, RiskEventRow, kind="opened") == 1


async def test_reading_a_status_is_a_lookup_of_what_was_stored(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    config = data.config()
    await recompute(sessionmaker, config, now=data.NOW)
    async with sessionmaker() as session:
        await session.execute(
            ProgramStatusRow.__table__.update().values(
                rag="green",
                status={
                    **(await session.scalar(select(ProgramStatusRow.status))),  # type: ignore[dict-item]
                    "name": "Edited in place",
                },
            )
        )
        status = await lookup.read_status(session, config, "checkout", now=data.NOW)
    assert status.name == "Edited in place"
    assert status.risk_counts.open == 1
    assert status.freshness.computed_at is not None
    assert status.freshness.computed_at.utcoffset() == timedelta(hours=1)


async def test_a_program_not_yet_computed_is_grey_and_says_why(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    async with sessionmaker() as session:
        status = await lookup.read_status(session, data.config(), "checkout", now=data.NOW)
    assert status.rag.color == "grey"
    assert status.rag.reasons[0].rule == "not_computed"
    assert [o.key for o in status.outcomes] == ["fast-pay", "web"]


async def test_a_derived_risk_closes_when_its_signal_clears_and_reopens_with_history(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    config = data.config()
    await recompute(sessionmaker, config, now=data.NOW)
    milestone = make_item(
        "PAY-7",
        kind=ItemKind.MILESTONE,
        parent_key="PAY-1",
        status="Done",
        status_category=StatusCategory.DONE,
        due_on=data.TODAY - timedelta(days=2),
        updated_at=data.NOW + timedelta(hours=1),
    )
    async with session_scope(sessionmaker) as session:
        await records.save_page(session, seeded, Page("PAY", [milestone]), now=data.NOW)
    await recompute(sessionmaker, config, now=data.NOW + timedelta(hours=2))
    async with sessionmaker() as session:
        (risk,) = await session.scalars(select(RiskRow))
        assert risk.closed_at == data.NOW + timedelta(hours=2)
    reopened = make_item(
        "PAY-7",
        kind=ItemKind.MILESTONE,
        parent_key="PAY-1",
        due_on=data.TODAY - timedelta(days=2),
        updated_at=data.NOW + timedelta(hours=3),
    )
    async with session_scope(sessionmaker) as session:
        await records.save_page(session, seeded, Page("PAY", [reopened]), now=data.NOW)
    await recompute(sessionmaker, config, now=data.NOW + timedelta(hours=4))
    async with sessionmaker() as session:
        (risk,) = await session.scalars(select(RiskRow))
        assert risk.closed_at is None
        kinds = list(await session.scalars(select(RiskEventRow.kind).order_by(RiskEventRow.at)))
    assert kinds == ["opened", "closed", "opened"]


async def test_an_older_recomputation_never_overwrites_a_newer_one(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    config = data.config()
    await recompute(sessionmaker, config, now=data.NOW + timedelta(minutes=5), sources={"jira"})
    late = await recompute(sessionmaker, config, now=data.NOW, sources={"jira"})
    assert (late.programs, late.skipped) == ([], ["checkout"])


async def test_the_same_data_gives_the_same_forecast(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    config = data.config()
    await recompute(sessionmaker, config, now=data.NOW)
    async with sessionmaker() as session:
        first = await session.scalar(
            select(OutcomeStatusRow.status).where(OutcomeStatusRow.outcome_key == "fast-pay")
        )
    await recompute(sessionmaker, config, now=data.NOW + timedelta(seconds=1))
    async with sessionmaker() as session:
        second = await session.scalar(
            select(OutcomeStatusRow.status).where(OutcomeStatusRow.outcome_key == "fast-pay")
        )
    assert first is not None
    assert second is not None
    assert first["forecast"] == second["forecast"]


async def test_changes_since_a_day_name_the_items_behind_them(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    config = data.config()
    await recompute(sessionmaker, config, now=data.NOW)
    tomorrow = data.NOW + timedelta(days=1)
    finished = data.story("PAY-2", started_days_ago=3, done_days_ago=0.5, updated_at=tomorrow)
    new = data.story("PAY-8", updated_at=tomorrow, due_on=data.TODAY + timedelta(days=9))
    async with session_scope(sessionmaker) as session:
        await records.save_page(session, seeded, Page("PAY", [finished, new]), now=tomorrow)
    await recompute(sessionmaker, config, now=tomorrow)
    async with sessionmaker() as session:
        found = await changes.changes_since(session, config, "checkout", data.TODAY)
    assert (found.base_on, found.until) == (data.TODAY, data.TODAY + timedelta(days=1))
    assert [(c.key, c.title, c.outcomes) for c in found.completed] == [
        ("PAY-2", "Title of PAY-2", ["fast-pay"])
    ]
    assert [c.key for c in found.added] == ["PAY-8"]
    assert found.removed == []


async def test_changes_need_a_snapshot(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    async with sessionmaker() as session:
        with pytest.raises(lookup.NotFound, match="no snapshots yet"):
            await changes.changes_since(session, data.config(), "checkout", data.TODAY)


async def test_scope_growth_is_measured_from_the_first_snapshot(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    config = data.config()
    await recompute(sessionmaker, config, now=data.NOW)
    tomorrow = data.NOW + timedelta(days=1)
    added = [data.story(f"PAY-{n}", updated_at=tomorrow) for n in range(50, 56)]
    async with session_scope(sessionmaker) as session:
        await records.save_page(session, seeded, Page("PAY", added), now=tomorrow)
    await recompute(sessionmaker, config, now=tomorrow)
    async with sessionmaker() as session:
        rules = set(await session.scalars(select(RiskRow.rule).where(RiskRow.closed_at.is_(None))))
        status = await lookup.read_outcome(session, config, "checkout", "fast-pay")
    assert "scope_creep" in rules
    assert status.scope_growth == pytest.approx(6 / 41, abs=1e-4)
    assert "scope_growth" in [r.rule for r in status.rag.reasons]


async def test_a_program_without_outcomes_is_grey_with_nothing_to_judge(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    config = parse_config("server: {auth: none}\nprograms:\n  - {key: empty, name: Empty}\n")
    async with session_scope(sessionmaker) as session:
        await catalog.apply_config(session, config, now=data.NOW)
    result = await recompute(sessionmaker, config, now=data.NOW)
    assert result.programs == ["empty"]
    async with sessionmaker() as session:
        status = await lookup.read_status(session, config, "empty", now=data.NOW)
    assert (status.rag.color, status.rag.reasons[0].rule) == ("grey", "no_work")
    assert status.forecast.basis == "no_work"


async def test_a_change_in_a_linked_tracker_recomputes_the_programs_on_the_other_side(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    blocker = make_item(
        "1201",
        source="asana",
        project="900",
        links=(LinkRef("asana", "1201", "jira", "PAY-4"),),
    )
    async with session_scope(sessionmaker) as session:
        asana = await records.get_source(session, "asana")
        assert asana is not None
        await records.save_page(session, asana.id, Page("900", [blocker]), now=data.NOW)
    result = await recompute(sessionmaker, data.config(), now=data.NOW, sources={"asana"})
    assert result.programs == ["checkout", "mobile"]
    async with sessionmaker() as session:
        deps = await lookup.read_dependencies(session, data.config(), "checkout")
    crossing = [e for e in deps.edges if e.from_ == "1201"]
    assert [(e.to, e.cross_tracker) for e in crossing] == [("PAY-4", True)]


async def test_a_week_later_the_stored_forecast_says_why_it_moved(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    config = data.config()
    await recompute(sessionmaker, config, now=data.NOW)
    week_later = data.NOW + timedelta(days=7)
    added = [data.story(f"PAY-{n}", updated_at=week_later) for n in range(50, 62)]
    async with session_scope(sessionmaker) as session:
        await records.save_page(session, seeded, Page("PAY", added), now=week_later)
    await recompute(sessionmaker, config, now=week_later)
    async with sessionmaker() as session:
        kept = await session.scalar(
            select(SnapshotRow.forecast).where(
                SnapshotRow.outcome_key == "fast-pay", SnapshotRow.taken_on == data.TODAY
            )
        )
        status = await lookup.read_outcome(session, config, "checkout", "fast-pay")
    assert kept is not None
    assert kept["basis"] == "monte_carlo"
    assert kept["inputs"]["scope"] == 41
    movement = status.forecast.movement
    assert movement is not None
    assert movement.since == data.TODAY
    assert "scope grew by 12 items" in movement.text
    assert status.forecast.on_time is not None
    assert status.forecast.on_time.meaning == "target"


async def _stored(sessionmaker: async_sessionmaker[AsyncSession]) -> ProgramStatusRow:
    async with sessionmaker() as session:
        row = await session.scalar(select(ProgramStatusRow))
        assert row is not None
        return row


async def test_an_unchanged_roll_up_rewrites_no_document_and_says_when_it_was_computed(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    config = data.config()
    # The first run has no snapshot of the day before it; the second is the baseline.
    await recompute(sessionmaker, config, now=data.NOW, sources={"jira"})
    await recompute(sessionmaker, config, now=data.NOW + timedelta(minutes=1), sources={"jira"})
    first = await _stored(sessionmaker)
    # Forecasts move with the clock (the week's elapsed part): a second later, they do not.
    later = data.NOW + timedelta(minutes=1, seconds=1)
    await recompute(sessionmaker, config, now=later, sources={"jira"})
    again = await _stored(sessionmaker)
    assert first.digests is not None
    assert again.digests is not None
    # The portfolio's inputs keep the week's elapsed share unrounded: only they moved.
    assert {n for n in first.digests if first.digests[n] != again.digests[n]} == {"portfolio"}
    assert again.status == first.status, "the stored document was not rewritten"
    assert again.computed_at == later
    async with sessionmaker() as session:
        read = await lookup.read_status(session, config, "checkout", now=later)
    assert read.freshness.computed_at == later, "computed_at is the last recomputation's"


async def test_a_changed_roll_up_rewrites_its_documents_and_counts_a_revision(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: int
) -> None:
    config = data.config()
    await recompute(sessionmaker, config, now=data.NOW, sources={"jira"})
    first = await _stored(sessionmaker)
    async with session_scope(sessionmaker) as session:
        await data.seed_more(session, data.NOW + timedelta(minutes=1))
    await recompute(sessionmaker, config, now=data.NOW + timedelta(minutes=2), sources={"jira"})
    again = await _stored(sessionmaker)
    assert again.revision == first.revision + 1
    assert again.digests is not None
    assert first.digests is not None
    assert again.digests["status"] != first.digests["status"]
    assert again.status["progress"] != first.status["progress"]
