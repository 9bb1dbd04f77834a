"""The webhook intake and worker of a process: started with it, stopped with it.

Every process that serves requests takes deliveries (``Intake``); unless told otherwise
(``THROUGHLINE_WEBHOOKS__WORKER``, ``serve --no-worker``) it also runs a worker task that
applies them. Stopping lets the worker finish its batch; a batch cut short is not lost:
its events stay pending and the next worker applies them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import ThroughlineConfig
from app.config.settings import WebhookSettings
from app.programs.pending import PendingRollups
from app.store.tables import SourceRow, WebhookEventRow
from app.sync.trackers import TrackerPool
from app.telemetry.metrics import Backlog, BacklogProvider, Metrics
from app.webhooks.intake import Intake
from app.webhooks.sealing import Sealer
from app.webhooks.worker import WebhookWorker
from vocabulary import EventState

log = logging.getLogger(__name__)


class Webhooks:
    """The process's intake and, when it runs one, its worker task."""

    def __init__(self, intake: Intake, worker: WebhookWorker | None = None) -> None:
        self.intake = intake
        self.worker = worker
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def start(
        cls,
        sessionmaker: async_sessionmaker[AsyncSession],
        config: ThroughlineConfig,
        settings: WebhookSettings,
        *,
        environ: Mapping[str, str],
        metrics: Metrics,
        pool: TrackerPool,
        read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        worker: bool | None = None,
        body_seconds: float = 20.0,
        pending: PendingRollups | None = None,
    ) -> Webhooks:
        """Open the intake and, unless ``worker`` (or the settings) say no, start a worker."""
        key = settings.secret_key.get_secret_value() if settings.secret_key else None
        intake = Intake(
            sessionmaker,
            config,
            sealer=Sealer(key),
            max_body_bytes=settings.max_body_bytes,
            environ=environ,
            metrics=metrics,
            max_uploads=settings.max_concurrent_uploads,
            body_seconds=body_seconds,
        )
        if not (settings.worker if worker is None else worker):
            return cls(intake)
        drainer = WebhookWorker(
            sessionmaker,
            config,
            settings=settings,
            environ=environ,
            metrics=metrics,
            wakeup=intake.wakeup,
            read_sessionmaker=read_sessionmaker,
            busy=intake.busy,
            pool=pool,
            pending=pending,
        )
        started = cls(intake, drainer)
        started._task = asyncio.create_task(drainer.run(started._stop), name="webhook-worker")
        return started

    def request_stop(self) -> None:
        """The worker finishes the batch in hand and takes no other."""
        self._stop.set()

    async def aclose(self, *, grace: float = 10.0) -> None:
        """Let the worker finish its batch (or cancel it after ``grace`` seconds)."""
        task, self._task = self._task, None
        if task is not None:
            self._stop.set()
            try:
                await asyncio.wait_for(task, max(1.0, grace))
            except (TimeoutError, asyncio.CancelledError):
                log.warning("webhook worker did not stop within %.0fs; cancelled", grace)
        if self.worker is not None:
            await self.worker.aclose()


def backlog_provider(read_sessionmaker: async_sessionmaker[AsyncSession]) -> BacklogProvider:
    """What ``/metrics`` reads: pending events per source and when the oldest arrived."""

    async def read() -> dict[str, Backlog]:
        async with read_sessionmaker() as session:
            rows = await session.execute(
                select(SourceRow.name, func.count(), func.min(WebhookEventRow.received_at))
                .join(SourceRow, SourceRow.id == WebhookEventRow.source_id)
                .where(WebhookEventRow.state == EventState.PENDING)
                .group_by(SourceRow.name)
            )
            return {str(name): Backlog(int(count), oldest) for name, count, oldest in rows}

    return read
