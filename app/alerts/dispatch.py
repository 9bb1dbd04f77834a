"""Sending the alerts that are due: one short message per program and channel.

Run every few seconds (``alerts:send``): it first checks the sources' health, then, per
program outside its quiet hours, gathers the alerts not yet sent to each channel — all of
them at once, or on a digest schedule's beat — and sends them as one message. Each
alert records every channel's delivery like a report does: a failure is retried with the
reports' backoff, a channel that was sent is never sent again.
"""

from __future__ import annotations

import asyncio
import logging
import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts import sources
from app.alerts.webhook import WebhookChannel
from app.config import ProgramConfig, ThroughlineConfig
from app.config.cron import crontab_trigger
from app.render import templates
from app.reports import render, text
from app.reports.delivery import Channel, Sleep, is_due, record_outcome, send_all
from app.reports.delivery.email import EmailChannel
from app.reports.delivery.message import Message, Sent
from app.reports.delivery.slack import SlackChannel
from app.store.engine import session_scope
from app.store.tables import AlertRow, ProgramRow

log = logging.getLogger(__name__)

_DOT = {"critical": ":red_circle:", "high": ":red_circle:", "medium": ":large_orange_circle:"}


def channels(
    program: ProgramConfig, environ: Mapping[str, str], *, now: datetime
) -> dict[str, Channel]:
    """The program's alert channels: its own, else the weekly report's Slack and e-mail."""
    deliver = program.alerts.deliver
    slack = deliver.slack if deliver else program.report.deliver.slack
    email = deliver.email if deliver else program.report.deliver.email
    found: dict[str, Channel] = {}
    if slack:
        found["slack"] = SlackChannel(slack, environ)
    if email:
        found["email"] = EmailChannel(email, environ)
    if deliver and deliver.webhook:
        found["webhook"] = WebhookChannel(deliver.webhook, environ, now=now)
    return found


def quiet(program: ProgramConfig, now: datetime) -> bool:
    """Whether ``now`` falls in the program's quiet hours (in its time zone)."""
    span = program.alerts.quiet_hours
    if span is None:
        return False
    start_text, end_text = span.split("-")
    start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
    local = now.astimezone(zoneinfo.ZoneInfo(program.timezone)).time()
    return start <= local < end if start <= end else local >= start or local < end


def digest_due(program: ProgramConfig, raised_at: datetime, now: datetime) -> bool:
    """With a digest schedule, an alert waits for the schedule's next beat after it."""
    if program.alerts.digest is None:
        return True
    trigger = crontab_trigger(program.alerts.digest, zoneinfo.ZoneInfo(program.timezone))
    beat: datetime | None = trigger.get_next_fire_time(None, raised_at)
    return beat is not None and beat <= now


def message(program: ProgramConfig, alerts: Sequence[AlertRow], public_url: str | None) -> Message:
    """The alerts of one program as one short message in every form."""
    link = f"{public_url.rstrip('/')}/programs/{program.key}/alerts" if public_url else None
    zone = zoneinfo.ZoneInfo(program.timezone)
    subject = (
        f"[Throughline] {program.name}: {alerts[0].title}"
        if len(alerts) == 1
        else f"[Throughline] {program.name}: {len(alerts)} alerts"
    )
    lines = [f"{a.title}" + (f" — {a.detail}" if a.detail else "") for a in alerts]
    plain = "\n".join([subject, "", *(f"* {line}" for line in lines)])
    if link:
        plain += f"\n\nEvery alert: {link}\n"
    slack_lines = [
        f"{_DOT.get(a.severity, ':white_circle:')} {text.escape_slack(line)}"
        for a, line in zip(alerts, lines, strict=True)
    ]
    head = f"*{text.escape_slack(program.name)}*"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join([head, *slack_lines])}}
    ]
    if link:
        context = {"type": "mrkdwn", "text": text.slack_link("Every alert", link)}
        blocks.append({"type": "context", "elements": [context]})
    page = (
        templates.html()
        .get_template("alerts/message.html")
        .render(program=program, alerts=alerts, link=link, zone=zone)
    )
    event = {
        "kind": "alerts",
        "delivery": f"{program.key}:" + ",".join(str(a.id) for a in alerts),
        "program": program.key,
        "alerts": [
            {
                "id": a.id,
                "kind": a.kind,
                "subject": a.subject,
                "severity": a.severity,
                "title": a.title,
                "detail": a.detail,
                "items": list(a.items or []),
                "raised_at": a.raised_at.astimezone(zone).isoformat(),
            }
            for a in alerts
        ],
        "link": link,
    }
    return Message(
        subject=subject,
        html=render.inline_styles(page),
        text=plain,
        slack={"text": text.escape_slack(subject), "blocks": blocks},
        links={"page": link} if link else {},
        event=event,
    )


def _settle(alert: AlertRow) -> None:
    entries = alert.deliveries or []
    if entries and all(e.get("status") == "sent" for e in entries):
        alert.status = "sent"
        alert.sent_at = max(datetime.fromisoformat(e["sent_at"]) for e in entries)
    elif any(e.get("status") == "failed" and not e.get("next_attempt_at") for e in entries):
        alert.status = "failed"


async def _due(
    session: AsyncSession, program: ProgramConfig, names: Sequence[str], now: datetime
) -> dict[str, list[AlertRow]]:
    """Per channel, the program's alerts due to it now."""
    rows = await session.scalars(
        select(AlertRow)
        .join(ProgramRow, ProgramRow.id == AlertRow.program_id)
        .where(ProgramRow.key == program.key, AlertRow.status == "pending")
        .order_by(AlertRow.raised_at, AlertRow.id)
    )
    due: dict[str, list[AlertRow]] = {}
    for alert in rows:
        if not digest_due(program, alert.raised_at, now):
            continue
        entries = {e["channel"]: dict(e) for e in alert.deliveries or []}
        for name in names:
            entries.setdefault(name, {"channel": name, "status": "pending", "attempts": 0})
        alert.deliveries = list(entries.values())
        for name in names:
            if is_due(entries[name], now):
                due.setdefault(name, []).append(alert)
    return due


async def deliver_program(
    sessionmaker: async_sessionmaker[AsyncSession],
    program: ProgramConfig,
    *,
    now: datetime,
    environ: Mapping[str, str],
    public_url: str | None = None,
    sleep: Sleep = asyncio.sleep,
) -> dict[str, int]:
    """Send a program's due alerts; returns, per channel, how many went out."""
    if quiet(program, now):
        return {}
    available = channels(program, environ, now=now)
    async with session_scope(sessionmaker) as session:
        due = await _due(session, program, list(available), now)
        prepared = {
            name: ([a.id for a in alerts], message(program, alerts, public_url))
            for name, alerts in due.items()
        }
    sent: dict[str, int] = {}
    for name, (ids, prepared_message) in prepared.items():
        result = (await send_all(available, [name], prepared_message, sleep))[name]
        async with session_scope(sessionmaker) as session:
            for alert in await session.scalars(select(AlertRow).where(AlertRow.id.in_(ids))):
                entries = [dict(e) for e in alert.deliveries or []]
                for entry in entries:
                    if entry["channel"] == name:
                        record_outcome(entry, result, now)
                alert.deliveries = entries
                _settle(alert)
        outcome = "sent" if isinstance(result, Sent) else f"failed: {result}"
        log.info("alerts of %s to %s: %d %s", program.key, name, len(ids), outcome)
        sent[name] = len(ids) if outcome == "sent" else 0
    return sent


async def run(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    *,
    now: datetime,
    environ: Mapping[str, str],
    public_url: str | None = None,
    sleep: Sleep = asyncio.sleep,
) -> int:
    """Check the sources, then send every program's due alerts; returns how many went out."""
    async with session_scope(sessionmaker) as session:
        await sources.check(session, config, now=now)
    total = 0
    for program in config.programs:
        sent = await deliver_program(
            sessionmaker, program, now=now, environ=environ, public_url=public_url, sleep=sleep
        )
        total += sum(sent.values())
    return total
