"""Sending released reports to their channels, each on its own, with retries recorded.

A delivery run claims the channels that are due (marking them ``sending`` in a short
transaction, so a second run skips them), sends them concurrently with no database
transaction open, and records each outcome in another short transaction. A transient
failure is retried at once a few times; any failure is retried by later runs with
growing waits, up to ``MAX_ATTEMPTS``. One channel failing never stops another.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import DeliveryConfig, ThroughlineConfig
from app.programs.lookup import get_program
from app.reports import render, service
from app.reports.delivery import slack
from app.reports.delivery.confluence import ConfluenceChannel
from app.reports.delivery.email import EmailChannel
from app.reports.delivery.message import DeliveryError, Message, Page, Sent
from app.reports.delivery.slack import SlackChannel
from app.reports.schemas import WeeklyReport
from app.reports.weeks import Week
from app.store.engine import session_scope
from app.store.tables import ProgramRow, ReportRow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=5)
"""The wait before a failed channel's next run; it grows fourfold each time (5 min,
20 min, 80 min, 5 h 20 min)."""
IMMEDIATE_TRIES = 3
IMMEDIATE_BACKOFF = 2.0
STALE_CLAIM = timedelta(minutes=15)
"""A channel left ``sending`` this long (its process died) is claimed again."""
RECENT = timedelta(days=35)

Sleep = Callable[[float], Awaitable[None]]


class Channel(Protocol):
    name: str

    async def send(self, message: Message) -> Sent: ...


def build_channels(deliver: DeliveryConfig, environ: Mapping[str, str]) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    if deliver.slack:
        channels["slack"] = SlackChannel(deliver.slack, environ)
    if deliver.confluence:
        channels["confluence"] = ConfluenceChannel(deliver.confluence, environ)
    if deliver.email:
        channels["email"] = EmailChannel(deliver.email, environ)
    return channels


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def is_due(entry: Mapping[str, Any], now: datetime) -> bool:
    status = entry.get("status")
    if status == "pending":
        return True
    if status == "failed":
        due = _when(entry.get("next_attempt_at"))
        return due is not None and due <= now
    if status == "sending":
        claimed = _when(entry.get("claimed_at"))
        return claimed is None or claimed <= now - STALE_CLAIM
    return False


async def _claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    key: str,
    week: Week,
    *,
    now: datetime,
    public_url: str | None,
) -> tuple[list[str], Message | None]:
    async with session_scope(sessionmaker) as session:
        program = await get_program(session, config, key)
        row = await session.scalar(
            select(ReportRow)
            .where(ReportRow.program_id == program.id, ReportRow.week == str(week))
            .with_for_update()
        )
        if row is None or row.generated_at is None or row.released_at is None:
            return [], None
        entries = [dict(d) for d in row.deliveries or []]
        claimed = []
        for entry in entries:
            if is_due(entry, now):
                entry.update(status="sending", claimed_at=now.isoformat())
                claimed.append(entry["channel"])
        if not claimed:
            return [], None
        row.deliveries = entries
        report = service.assemble(row, public_url=public_url, key=key)
        links = service.links(public_url, key, row.week)
        return claimed, report_message(report, row.html or "", links)


def report_message(report: WeeklyReport, html: str, links: Mapping[str, str]) -> Message:
    """A weekly report in every form a channel takes."""
    covers = report.covers.text if report.covers else report.week
    return Message(
        subject=f"[{report.rag.color.upper()}] {report.program.name} — weekly status {covers}",
        html=html,
        text=render.text(report, links=links),
        slack=slack.payload(report, links),
        links=links,
        page=Page(report.program.name, report.week, render.storage(report, links=links)),
        event={
            "kind": "weekly_report",
            "program": report.program.key,
            "week": report.week,
            "covers": covers,
            "rag": report.rag.color,
            "summary": report.summary,
            "links": dict(links),
        },
    )


async def _attempt(channel: Channel, message: Message, sleep: Sleep) -> Sent | DeliveryError:
    for attempt in range(IMMEDIATE_TRIES):
        try:
            return await channel.send(message)
        except DeliveryError as exc:
            if not exc.transient or attempt == IMMEDIATE_TRIES - 1:
                return exc
            await sleep(IMMEDIATE_BACKOFF * 4**attempt)
        except Exception as exc:
            # A fault in one channel must not stop the others; it is recorded and retried.
            log.exception("delivery to %s failed unexpectedly", channel.name)
            return DeliveryError(f"unexpected error ({type(exc).__name__})", transient=False)
    raise AssertionError("unreachable: the last try returns")


async def send_all(
    available: Mapping[str, Channel], claimed: Sequence[str], message: Message, sleep: Sleep
) -> dict[str, Sent | DeliveryError]:
    """Send ``message`` to each claimed channel at once, each on its own."""
    missing = DeliveryError("the channel is no longer configured", transient=False)

    async def run(name: str) -> Sent | DeliveryError:
        channel = available.get(name)
        return missing if channel is None else await _attempt(channel, message, sleep)

    return dict(zip(claimed, await asyncio.gather(*(run(n) for n in claimed)), strict=True))


def record_outcome(entry: dict[str, Any], result: Sent | DeliveryError, now: datetime) -> None:
    attempts = int(entry.get("attempts", 0)) + 1
    entry.update(attempts=attempts, last_attempt_at=now.isoformat(), claimed_at=None)
    if isinstance(result, Sent):
        entry.update(
            status="sent",
            sent_at=now.isoformat(),
            url=result.url,
            error=result.note,
            next_attempt_at=None,
        )
        return
    retry = now + FIRST_RETRY * 4 ** (attempts - 1) if attempts < MAX_ATTEMPTS else None
    entry.update(
        status="failed",
        error=str(result),
        next_attempt_at=retry.isoformat() if retry else None,
    )


async def deliver(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    key: str,
    week: Week,
    *,
    now: datetime,
    public_url: str | None = None,
    environ: Mapping[str, str],
    sleep: Sleep = asyncio.sleep,
) -> dict[str, str]:
    """Send a released report to each channel that is due; returns channel → status."""
    program_config = config.program(key)
    if program_config is None:
        return {}
    claimed, message = await _claim(sessionmaker, config, key, week, now=now, public_url=public_url)
    if message is None:
        return {}
    available = build_channels(program_config.report.deliver, environ)
    results = await send_all(available, claimed, message, sleep)
    async with session_scope(sessionmaker) as session:
        program = await get_program(session, config, key)
        row = await session.scalar(
            select(ReportRow)
            .where(ReportRow.program_id == program.id, ReportRow.week == str(week))
            .with_for_update()
        )
        if row is None:
            return {}
        entries = [dict(d) for d in row.deliveries or []]
        for entry in entries:
            if entry["channel"] in results:
                record_outcome(entry, results[entry["channel"]], now)
        row.deliveries = entries
    for name, result in results.items():
        if isinstance(result, DeliveryError):
            log.warning("report %s %s: %s delivery failed: %s", key, week, name, result)
        else:
            log.info("report %s %s: delivered to %s", key, week, name)
    return {n: "sent" if isinstance(r, Sent) else "failed" for n, r in results.items()}


async def retry_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    *,
    now: datetime,
    public_url: str | None = None,
    environ: Mapping[str, str],
    sleep: Sleep = asyncio.sleep,
) -> int:
    """Deliver every recent released report with a channel due; returns how many."""
    async with session_scope(sessionmaker) as session:
        rows = await session.execute(
            select(ProgramRow.key, ReportRow.week, ReportRow.deliveries)
            .join(ProgramRow, ProgramRow.id == ReportRow.program_id)
            .where(ReportRow.released_at.is_not(None), ReportRow.released_at >= now - RECENT)
        )
        due = [(k, w) for k, w, entries in rows if any(is_due(e, now) for e in entries or [])]
    for key, week in due:
        if config.program(key) is not None:
            await deliver(
                sessionmaker,
                config,
                key,
                Week.parse(week),
                now=now,
                public_url=public_url,
                environ=environ,
                sleep=sleep,
            )
    return len(due)
