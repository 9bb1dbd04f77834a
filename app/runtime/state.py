"""What a process shares between its requests and jobs: one typed object.

Every field is opened by ``app.runtime.lifecycle.service_state`` and closed there, in the
reverse order, so nothing outlives the process's store or its tracker clients.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import ThroughlineConfig
from app.config.settings import Settings
from app.programs.lookup import StoredReads
from app.programs.pending import PendingRollups
from app.runtime.scheduler import Scheduler
from app.runtime.syncs import Syncs
from app.runtime.webhooks import Webhooks
from app.store.locks import Locks
from app.sync.trackers import TrackerPool
from app.telemetry.metrics import Metrics


@dataclass(slots=True)
class AppState:
    settings: Settings
    config: ThroughlineConfig
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    read_sessionmaker: async_sessionmaker[AsyncSession]
    metrics: Metrics
    locks: Locks
    trackers: TrackerPool
    syncs: Syncs
    webhooks: Webhooks
    rollups: PendingRollups
    """Roll-ups owed by recomputes that failed, retried with backoff."""
    scheduler: Scheduler | None = None
    reads: StoredReads = field(default_factory=StoredReads)
    """Program ids and stored documents as parsed, kept per digest for the reads."""
    stop_requested_at: float | None = None
    """When the process was asked to stop (monotonic clock), if it was."""

    def time_left(self) -> float:
        """What remains of the shutdown bound since the stop was asked for (all of it if
        it was not), less a second for closing connections."""
        since = self.stop_requested_at
        spent = time.monotonic() - since if since is not None else 0.0
        return max(0.0, self.settings.shutdown_seconds - spent - 1.0)

    def request_stop(self) -> None:
        """Called on SIGTERM before the server stops: take no new job from now on."""
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
        if self.scheduler is not None:
            self.scheduler.request_stop()
        self.webhooks.request_stop()
