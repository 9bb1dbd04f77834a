"""Webhooks from Jira and Asana: store first, answer fast, apply in the background.

- ``intake``: checks a delivery (size, signature, shape) and stores it in the inbox in its
  own transaction before the answer; the Asana handshake.
- ``inbox``: the ``webhook_event`` queries — store deduplicated, claim, settle, replay.
- ``apply``: what a batch of events means for the store (records, deletions, re-fetches).
- ``worker``: ``WebhookWorker`` drains the inbox per source in arrival order.
- ``subscriptions``: sealed secrets, registrations, heartbeats, silence and freshness.
- ``sealing``: the server key that seals tracker-issued secrets.
- ``register``: ``throughline webhooks register`` and the refresh of Jira dynamic webhooks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from app.runtime.state import AppState
from app.telemetry.metrics import Backlog, BacklogProvider

log = logging.getLogger(__name__)

_INTAKE, _WORKER, _TASK, _STOP = "webhook_intake", "webhook_worker", "webhook_task", "webhook_stop"


def start(state: AppState, environ: Mapping[str, str], *, worker: bool | None = None) -> None:
    """Attach the intake to the app and, unless turned off, start a worker task.

    ``worker`` overrides ``THROUGHLINE_WEBHOOKS__WORKER`` (a process that only serves
    requests leaves draining to another).
    """
    from app.webhooks.intake import Intake
    from app.webhooks.sealing import Sealer
    from app.webhooks.worker import WebhookWorker

    settings = state.settings.webhooks
    key = settings.secret_key.get_secret_value() if settings.secret_key else None
    intake = Intake(
        state.sessionmaker,
        state.config,
        sealer=Sealer(key),
        max_body_bytes=settings.max_body_bytes,
        environ=environ,
        metrics=state.metrics,
    )
    state.services[_INTAKE] = intake
    if not (settings.worker if worker is None else worker):
        return
    drainer = WebhookWorker(
        state.sessionmaker,
        state.config,
        settings=settings,
        environ=environ,
        metrics=state.metrics,
        wakeup=intake.wakeup,
        read_sessionmaker=state.read_sessionmaker,
        busy=intake.busy,
    )
    stop_event = asyncio.Event()
    state.services[_WORKER], state.services[_STOP] = drainer, stop_event
    state.services[_TASK] = asyncio.create_task(drainer.run(stop_event), name="webhook-worker")


async def stop(state: AppState, *, grace_seconds: float = 10.0) -> None:
    """Let the worker finish its batch (or cancel it after ``grace_seconds``), then close it.

    A batch cut short is not lost: its events stay pending and the next worker applies
    them.
    """
    task = state.services.pop(_TASK, None)
    if task is not None:
        state.services.pop(_STOP).set()
        try:
            await asyncio.wait_for(task, grace_seconds)
        except (TimeoutError, asyncio.CancelledError):
            log.warning("webhook worker did not stop within %.0fs; cancelled", grace_seconds)
    drainer = state.services.pop(_WORKER, None)
    if drainer is not None:
        await drainer.aclose()


def request_stop(state: AppState) -> None:
    """Called on SIGTERM: the worker finishes the batch in hand and takes no other."""
    stop_event: asyncio.Event | None = state.services.get(_STOP)
    if stop_event is not None:
        stop_event.set()


def backlog_provider(state: AppState) -> BacklogProvider:
    """What ``/metrics`` reads: pending events per source and when the oldest arrived."""

    async def read() -> dict[str, Backlog]:
        from sqlalchemy import func, select

        from app.store.tables import SourceRow, WebhookEventRow
        from app.webhooks import inbox

        async with state.read_sessionmaker() as session:
            rows = await session.execute(
                select(SourceRow.name, func.count(), func.min(WebhookEventRow.received_at))
                .join(SourceRow, SourceRow.id == WebhookEventRow.source_id)
                .where(WebhookEventRow.state == inbox.PENDING)
                .group_by(SourceRow.name)
            )
            return {str(name): Backlog(int(count), oldest) for name, count, oldest in rows}

    return read
