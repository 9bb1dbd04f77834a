"""Scheduled work as the features plan it, and each due time claimed once in ``job_run``.

Each feature contributes ``JobSpec``\\ s from its own planner (``Planner``): the sync and
census of every source, the daily snapshots, the weekly reports, the refresh of expiring
webhooks. ``app.runtime.scheduler`` runs whatever it is handed and knows no feature.

**Exactly once.** Every process may run a scheduler. A job fires in all of them at the
same due time; each tries the job's cross-process lock (``app.store.locks``) and skips
when it is busy. The winner then claims the due time here and skips when another process
already finished it. A claim left unfinished by a process that died is taken over by the
next process to fire.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import ThroughlineConfig
from app.config.settings import Settings
from app.store.engine import session_scope
from app.store.tables import JobRunRow

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Interval triggers start here, so every process computes the same due times."""
NIGHTLY_GRACE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class JobSpec:
    id: str
    name: str
    trigger: BaseTrigger
    run: Callable[[], Awaitable[object]]
    lock: str | None = None
    """The cross-process lock it runs under (default: its id). A source's sync and census
    share ``source:<name>`` with manual syncs, so none of them overlap."""
    once_per_due_time: bool = True
    """Claim each due time in ``job_run`` (off for the start-up catch-up, which every
    process computes from its own start and which is idempotent)."""
    misfire_grace: timedelta | None = None


@dataclass(frozen=True, slots=True)
class PlanContext:
    """What a feature's planner is given: the process's store, configuration and settings."""

    sessionmaker: async_sessionmaker[AsyncSession]
    config: ThroughlineConfig
    settings: Settings
    environ: Mapping[str, str]
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None


Planner = Callable[[PlanContext], list[JobSpec]]


def utcnow() -> datetime:
    return datetime.now(UTC)


def due_time(trigger: BaseTrigger, now: datetime, lookback: timedelta) -> datetime:
    """The latest time at or before ``now`` the trigger fired (looking back ``lookback``).

    APScheduler does not hand a job its scheduled time; every process computes the same
    one from the same trigger, which is what the claim in ``job_run`` compares. A job run
    later than ``lookback`` (or a one-off) is due at ``now``, to the second.
    """
    last = None
    fire = trigger.get_next_fire_time(None, now - lookback)
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return (last or now.replace(microsecond=0)).astimezone(UTC)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession], job_id: str, due_at: datetime
) -> bool:
    """Claim ``job_id``'s run due at ``due_at``; False when it is done or superseded.

    Called under the job's lock, so no other process reads or writes the row meanwhile.
    """
    async with session_scope(sessionmaker) as session:
        row = await session.get(JobRunRow, job_id)
        if row is not None:
            if row.due_at > due_at or (row.due_at == due_at and row.finished_at is not None):
                return False
            if row.due_at == due_at:
                log.warning(
                    "job %s due %s was left unfinished by %s; taking it over",
                    job_id,
                    due_at.isoformat(),
                    row.owner,
                )
        else:
            row = JobRunRow(job_id=job_id)
            session.add(row)
        row.due_at, row.started_at, row.finished_at = due_at, utcnow(), None
        row.owner = _owner()
    return True


async def finish(
    sessionmaker: async_sessionmaker[AsyncSession], job_id: str, due_at: datetime
) -> None:
    """Record ``job_id``'s run due at ``due_at`` as finished."""
    async with session_scope(sessionmaker) as session:
        row = await session.get(JobRunRow, job_id)
        if row is not None and row.due_at == due_at:
            row.finished_at = utcnow()
