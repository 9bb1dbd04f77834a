"""The webhook inbox is trimmed: applied and rejected events go after the retention period
(14 days by default), by a nightly job the webhooks feature plans; pending and failed
events stay until they are applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import parse_config
from app.config.settings import Settings, WebhookSettings
from app.store.engine import make_sessionmaker, session_scope
from app.store.schedule import PlanContext
from app.store.tables import WebhookEventRow
from app.webhooks import inbox, schedule
from tests.builders import make_source
from vocabulary import EventState

NOW = datetime(2026, 11, 20, 3, 45, tzinfo=UTC)


async def seed(engine: AsyncEngine, now: datetime = NOW) -> None:
    sessionmaker = make_sessionmaker(engine)
    async with session_scope(sessionmaker) as session:
        source_id = (await make_source(session)).id
        rows = []
        for n, (state, age) in enumerate(
            [
                (EventState.APPLIED, 30),
                (EventState.APPLIED, 15),
                (EventState.APPLIED, 13),
                (EventState.REJECTED, 20),
                (EventState.FAILED, 40),
                (EventState.PENDING, 40),
            ]
        ):
            row = inbox.event_row(
                source_id=source_id,
                delivery_id=f"{state}-{age}-{n}",
                event_type="jira:issue_updated",
                body="{}",
                headers={},
                trusted=True,
                now=now - timedelta(days=age),
                state=state,
            )
            row["processed_at"] = None if state == EventState.PENDING else row["received_at"]
            rows.append(row)
        await inbox.store_events(session, rows)


async def kept(engine: AsyncEngine) -> list[str]:
    async with session_scope(make_sessionmaker(engine)) as session:
        return sorted((await session.scalars(select(WebhookEventRow.delivery_id))).all(), key=str)


async def test_settled_events_past_the_retention_period_are_trimmed(
    committed_engine: AsyncEngine,
) -> None:
    await seed(committed_engine)
    trimmed = await schedule.trim_inbox(
        make_sessionmaker(committed_engine), keep=timedelta(days=14), now=NOW
    )
    assert trimmed == 3
    assert await kept(committed_engine) == ["applied-13-2", "failed-40-4", "pending-40-5"]


async def test_the_nightly_retention_job_trims_with_the_configured_period(
    committed_engine: AsyncEngine,
) -> None:
    await seed(committed_engine, datetime.now(UTC))
    sessionmaker = make_sessionmaker(committed_engine)
    settings = Settings(_env_file=None, webhooks=WebhookSettings(retention_days=20.5))
    ctx = PlanContext(sessionmaker, parse_config("server: {auth: none}\n"), settings, {})
    [job] = [spec for spec in schedule.plan(ctx) if spec.id == "webhooks:retention"]
    assert "20.5 days" in job.name
    await job.run()
    assert await kept(committed_engine) == [
        "applied-13-2",
        "applied-15-1",
        "failed-40-4",
        "pending-40-5",
        "rejected-20-3",
    ]


def test_the_default_retention_is_fourteen_days() -> None:
    assert WebhookSettings().retention_days == 14
