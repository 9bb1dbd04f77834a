"""Sources that stop syncing, or whose webhooks fall silent, as alerts to the programs
reading them — and their recovery, so a report of a past week knows which problems stood.

A source counts as stale after three sync intervals (at least an hour) without a good
sync, as the weekly report's freshness warnings do; webhooks are silent after
``webhook.silent_after`` without a delivery or heartbeat, as the sources page says. A
source never synced yet raises nothing: a new install is not an exception.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ProgramConfig, ThroughlineConfig
from app.programs import watch
from app.render.templates import ago, moment
from app.reports.compose import stale_after
from app.store.tables import AlertStateRow, ProgramRow, SourceRow, SyncRunRow
from app.webhooks import inbox, subscriptions
from vocabulary import RunStatus


async def _health(
    session: AsyncSession, config: ThroughlineConfig, name: str, *, now: datetime
) -> dict[str, tuple[bool, str] | None]:
    """Per subject (``source:<name>``, ``webhooks:<name>``): whether it is in trouble and
    the sentence saying so; None when there is nothing to judge yet."""
    source = config.source(name)
    row = await session.scalar(select(SourceRow).where(SourceRow.name == name))
    if source is None or row is None:
        return {}
    last = await session.scalar(
        select(func.max(SyncRunRow.finished_at)).where(
            SyncRunRow.source_id == row.id,
            SyncRunRow.status.in_((RunStatus.SUCCEEDED, RunStatus.PARTIAL)),
        )
    )
    found: dict[str, tuple[bool, str] | None] = {}
    if last is None:
        found[f"source:{name}"] = None
    else:
        age = (now - last).total_seconds()
        stale = age > stale_after(source.sync_every).total_seconds()
        found[f"source:{name}"] = (
            stale,
            f"{name} has not synced for {ago(age).removesuffix(' ago')} (last good sync "
            f"{moment(last)})"
            if stale
            else f"{name} syncs again",
        )
    if source.webhook is not None:
        hooks = await subscriptions.get(session, row.id)
        times = (
            await inbox.last_received_at(session, row.id),
            hooks.last_heartbeat_at if hooks else None,
            hooks.registered_at if hooks else None,
        )
        latest = max((t for t in times if t is not None), default=None)
        if hooks is None or hooks.registered_at is None or latest is None:
            found[f"webhooks:{name}"] = None
        else:
            silent = now - latest > subscriptions.silent_after(source)
            found[f"webhooks:{name}"] = (
                silent,
                f"{name}'s webhooks have been silent since {moment(latest)}: changes arrive "
                "only with the scheduled pull"
                if silent
                else f"{name}'s webhooks deliver again",
            )
    return found


async def check(session: AsyncSession, config: ThroughlineConfig, *, now: datetime) -> int:
    """Raise an alert for each source that turned stale or silent, or recovered, since
    the last check; returns how many."""
    raised = 0
    ids = dict((await session.execute(select(ProgramRow.key, ProgramRow.id))).all())
    names = sorted({m.source for p in config.programs for o in p.outcomes for m in o.match})
    health = {n: await _health(session, config, n, now=now) for n in names}
    for program in config.programs:
        if program.key not in ids or not program.alerts.enabled:
            continue
        raised += await _program(session, ids[program.key], program, health, now=now)
    return raised


async def _program(
    session: AsyncSession,
    program_id: int,
    program: ProgramConfig,
    health: dict[str, dict[str, tuple[bool, str] | None]],
    *,
    now: datetime,
) -> int:
    states = {
        r.subject: r
        for r in await session.scalars(
            select(AlertStateRow).where(AlertStateRow.program_id == program_id)
        )
    }
    raised = 0
    mine = sorted({m.source for o in program.outcomes for m in o.match})
    for name in mine:
        for subject, judged in health.get(name, {}).items():
            if judged is None:
                continue
            trouble, sentence = judged
            value = "trouble" if trouble else "ok"
            state = states.get(subject)
            if state is None:
                state = AlertStateRow(
                    program_id=program_id, subject=subject, value="ok", updated_at=now
                )
                session.add(state)
            if state.value == value:
                continue
            kind = "source_recovered"
            if trouble:
                kind = "source_stale" if subject.startswith("source:") else "webhooks_silent"
            await watch.raise_alert(
                session,
                program_id,
                program,
                kind=kind,
                subject=subject,
                value=f"{value}:{now.isoformat()}",
                severity="high" if trouble else "low",
                title=sentence,
                now=now,
            )
            state.value, state.updated_at = value, now
            raised += 1
    return raised
