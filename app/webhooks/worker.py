"""``WebhookWorker``: drains the inbox per source in arrival order, in batches.

A batch is claimed, planned (``app.webhooks.apply``: map embedded issues, read back what
events only name) and committed in one transaction with the events marked applied, so
an event's effect and its ``applied`` state are committed together: a process killed at
any point leaves the event pending and it is applied after the restart. On PostgreSQL
the claim is ``FOR UPDATE SKIP LOCKED``, so several workers (processes) can drain at once
and each event is applied by exactly one; on SQLite one process drains, and the batch
is read outside the write transaction so intake is never blocked by a tracker re-read.

While deliveries arrive at this process's intake (one in the last quarter second), or on
SQLite at any process's (the inbox grew within the last 5 seconds), batches are kept short:
each one's write transaction is steered to ``busy_batch_seconds`` from the time the
source's last ones took (``holds`` keeps them). SQLite has one write lock and intake waits
for it, so a delivery never waits behind a long batch; PostgreSQL locks rows, and a worker
in a process of its own applies full batches there. Sharing a process with intake, the
worker also takes at most ``busy_share`` of its time. Once the deliveries stop, batches
are ``batch_size`` again and the backlog is applied at full speed.

After each round, the programs reading the changed sources are recomputed once.
A failing event is retried with exponential backoff, then parked as ``failed``. A batch
whose commit the database refuses (a value it cannot store) is applied again in halves,
down to single events, so one bad event fails alone and the rest of its batch is applied.

Start it with ``await worker.run(stop_event)`` (a task) and stop it by setting the event;
``drain_once()`` does one round and returns how many events it settled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import ThroughlineConfig
from app.config.settings import WebhookSettings
from app.programs import recompute, scoping
from app.programs.pending import PendingRollups
from app.store import records
from app.store.engine import session_scope
from app.store.tables import SourceRow, WebhookEventRow
from app.sync import trackers
from app.sync.crosslinks import ReferenceResolver
from app.telemetry.metrics import Metrics
from app.webhooks import apply, inbox, subscriptions
from connectors.base import Connector
from connectors.jira.connector import JiraConnector
from vocabulary import EventState

log = logging.getLogger(__name__)

FIRST_BUSY_BATCH = 10
"""Events in a busy batch of a source whose time per event is not known yet."""
ARRIVING_SECONDS = 5.0
"""The inbox grew this recently: deliveries are arriving (to some process)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Applied:
    source: str
    events: int
    changed_at: list[datetime]
    keys: set[str] = field(default_factory=set)
    """The items stored (their keys): only the programs they touch are recomputed."""


class _Refused(Exception):
    """The database refused a batch's commit because of what some event in it carries."""

    def __init__(self, ids: Sequence[int], error: str) -> None:
        super().__init__(error)
        self.ids, self.error = list(ids), error


def _merged(source: str, outcomes: Sequence[_Applied]) -> _Applied | None:
    if not outcomes:
        return None
    return _Applied(
        source,
        sum(o.events for o in outcomes),
        [at for o in outcomes for at in o.changed_at],
        {k for o in outcomes for k in o.keys},
    )


class WebhookWorker:
    """Applies stored webhook events; one per process, as many processes as wanted on
    PostgreSQL."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        config: ThroughlineConfig,
        *,
        settings: WebhookSettings | None = None,
        environ: Mapping[str, str] | None = None,
        metrics: Metrics | None = None,
        wakeup: asyncio.Event | None = None,
        read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        pool: trackers.TrackerPool | None = None,
        clock: Callable[[], datetime] = _utcnow,
        busy: Callable[[], bool] | None = None,
        pending: PendingRollups | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._read_sessionmaker = read_sessionmaker or sessionmaker
        self._config = config
        self._settings = settings or WebhookSettings()
        self._environ = environ
        self._metrics = metrics
        self.wakeup = wakeup or asyncio.Event()
        # Re-reads go through the process's pool (paced with its syncs); a worker made
        # without one (tests, tools) opens its own and closes it.
        self._own_pool = pool is None
        self._pool = pool or trackers.TrackerPool(config.sources, environ=environ)
        self._connectors: dict[str, Connector] = {}
        self._names: dict[int, str] = {}
        self._references = ReferenceResolver.from_config(config)
        self._clock = clock
        self._dirty: list[_Applied] = []
        self._busy = busy
        self._pending = pending
        self._sizes: dict[int, int] = {}
        """Each source's next busy batch size, steered by its last write transactions."""
        self._floors: dict[int, deque[float]] = {}
        self._newest: int | None = None
        self._grew_at = 0.0
        self.holds: deque[tuple[int, float]] = deque(maxlen=1_000)
        """(events, seconds) of the last write transactions that applied a batch."""

    # Running ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Drain until ``stop`` is set: at once when intake signals, else every poll.

        While events keep coming, the roll-up is recomputed at most every
        ``recompute_seconds`` (the store is up to date after every batch), and at once
        when the inbox runs dry; a wake-up waits ``gather_seconds`` first so that a burst
        is applied in a few large batches rather than many small ones.
        """
        log.info("webhook worker started")
        loop = asyncio.get_running_loop()
        # Whether deliveries are arriving is not known yet: as if they were, for a second.
        self._grew_at = time.monotonic()
        last_recompute = 0.0
        while not stop.is_set():
            try:
                started = loop.time()
                settled, applied = await self._round()
                await self._give_way(loop.time() - started)
                self._dirty.extend(applied)
                # A recompute holds the loop and the write lock a while: while events keep
                # coming (a burst, a backlog) the store stays current after every batch and
                # the roll-up follows at most every ``recompute_seconds``.
                due = loop.time() - last_recompute >= self._settings.recompute_seconds
                if self._dirty and (not settled or due):
                    dirty, self._dirty = self._dirty, []
                    await self._recompute(dirty)
                    last_recompute = loop.time()
            except Exception:
                log.exception("webhook worker round failed; retrying shortly")
                settled = 0
            if settled:
                continue
            self.wakeup.clear()
            waiters = [asyncio.ensure_future(e.wait()) for e in (stop, self.wakeup)]
            await asyncio.wait(
                waiters,
                timeout=self._settings.poll_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            for waiter in waiters:
                waiter.cancel()
            if self.wakeup.is_set() and not stop.is_set():
                await asyncio.sleep(self._settings.gather_seconds)
        if self._dirty:
            dirty, self._dirty = self._dirty, []
            await self._recompute(dirty)
        log.info("webhook worker stopped")

    async def _give_way(self, spent: float) -> None:
        """While deliveries stream into this process, keep the worker to its share of the
        loop: answering them fast matters more than applying them a moment sooner, and
        the backlog is applied at full speed as soon as the burst is over."""
        share = self._settings.busy_share
        if share < 1 and self._is_busy():
            await asyncio.sleep(spent * (1 - share) / share)

    def _is_busy(self) -> bool:
        """Whether deliveries are arriving at this process's intake (sharing its loop)."""
        return self._busy is not None and self._busy()

    def _short_batches(self) -> bool:
        """Whether batches must be short: deliveries arrive at this process's intake, or
        (on SQLite, whose one write lock intake waits for) at another process's."""
        if self._is_busy():
            return True
        sqlite = self._sessionmaker.kw["bind"].dialect.name == "sqlite"
        return sqlite and time.monotonic() - self._grew_at < ARRIVING_SECONDS

    def batch_size(self, source_id: int) -> int:
        """Events to claim next: ``batch_size``, or while deliveries arrive as many as keep
        the source's write transactions to ``busy_batch_seconds`` (1 to
        ``busy_batch_size``)."""
        if not self._short_batches():
            return self._settings.batch_size
        return self._sizes.get(source_id, min(FIRST_BUSY_BATCH, self._settings.busy_batch_size))

    def _held(self, source_id: int, events: int, seconds: float) -> None:
        """Steer the source's busy batch size by the write transaction just taken.

        Doubled while transactions end within the budget, cut in proportion when one
        overran it. A transaction costs something however few events it applies (on a
        loaded machine, more than the budget): the budget is stretched to twice the shortest
        of the last ones, at most five times over, so batches stay short without shrinking
        to nothing.
        """
        self.holds.append((events, seconds))
        floors = self._floors.setdefault(source_id, deque(maxlen=20))
        floors.append(seconds)
        settings = self._settings
        budget = min(5, max(1, 2 * min(floors) / settings.busy_batch_seconds))
        budget *= settings.busy_batch_seconds
        if seconds <= budget:
            size = min(settings.busy_batch_size, max(events, 1) * 2)
        else:
            size = max(1, int(events * budget / seconds))
        self._sizes[source_id] = size

    async def aclose(self) -> None:
        """Close the HTTP clients the worker opened for re-reading (not the process's)."""
        if self._own_pool:
            await self._pool.aclose()
        self._connectors.clear()

    async def drain_once(self) -> int:
        """One batch of every source with due events; recompute what changed once."""
        settled, applied = await self._round()
        if applied:
            await self._recompute(applied)
        return settled

    async def _round(self) -> tuple[int, list[_Applied]]:
        now = self._clock()
        async with session_scope(self._read_sessionmaker) as session:
            source_ids = await inbox.sources_with_work(session, now=now)
            newest = await inbox.newest_id(session)
        if self._newest is not None and newest > self._newest:
            self._grew_at = time.monotonic()
        self._newest = newest
        applied: list[_Applied] = []
        settled = 0
        for source_id in source_ids:
            outcome, count = await self._drain_source(source_id, now)
            settled += count
            if outcome is not None:
                applied.append(outcome)
        if self._metrics is not None:
            await self._report_backlog()
        return settled, applied

    # One source ---------------------------------------------------------------------------

    async def _drain_source(self, source_id: int, now: datetime) -> tuple[_Applied | None, int]:
        name = await self._name(source_id)
        if name is None or self._config.source(name) is None:
            return None, 0
        # Short write transactions while deliveries arrive: on SQLite intake waits for the
        # same lock.
        limit = self.batch_size(source_id)

        async def next_batch(session: AsyncSession, skip_locked: bool) -> Sequence[WebhookEventRow]:
            return await inbox.claim(
                session, source_id, limit=limit, now=now, skip_locked=skip_locked
            )

        try:
            return await self._apply(source_id, name, next_batch)
        except _Refused as refused:
            log.warning(
                "webhook batch of %s (%d event(s)) refused by the database (%s); applying it "
                "in halves down to single events",
                name,
                len(refused.ids),
                refused.error,
            )
            outcomes = await self._bisect(source_id, name, refused.ids)
            return _merged(name, outcomes), len(refused.ids)

    async def _bisect(self, source_id: int, name: str, ids: Sequence[int]) -> list[_Applied]:
        """Apply a refused batch in halves, then halves of the refused halves: every good
        event is applied, and exactly the events the database refuses fail."""
        outcomes: list[_Applied] = []
        middle = len(ids) // 2
        for part in (ids[:middle], ids[middle:]):

            async def these(
                session: AsyncSession, skip_locked: bool, part: Sequence[int] = part
            ) -> Sequence[WebhookEventRow]:
                return await inbox.claim_ids(session, part, skip_locked=skip_locked)

            try:
                outcome, _ = await self._apply(source_id, name, these)
            except _Refused as refused:
                outcomes += await self._bisect(source_id, name, refused.ids)
            else:
                if outcome is not None:
                    outcomes.append(outcome)
        return outcomes

    async def _apply(
        self,
        source_id: int,
        name: str,
        claim: Callable[[AsyncSession, bool], Awaitable[Sequence[WebhookEventRow]]],
    ) -> tuple[_Applied | None, int]:
        """Claim events, plan them and commit their effect with their ``applied`` state.

        A batch the database refuses at the commit raises ``_Refused`` (the caller splits
        it); any other failure counts a failed try of every event in it.
        """
        # Ids read up front: a rollback expires the rows, and the failure is recorded after.
        ids: list[int] = []
        committing = False
        skip_locked = self._sessionmaker.kw["bind"].dialect.name == "postgresql"
        clock = time.perf_counter
        started = clock()
        try:
            if skip_locked:
                async with session_scope(self._sessionmaker) as session:
                    events = await claim(session, True)
                    if not events:
                        return None, 0
                    ids = [e.id for e in events]
                    claimed = clock()
                    plan = await self._plan(name, events)
                    planned = clock()
                    committing = True
                    outcome = await self._commit(session, source_id, name, events, plan)
                committed = clock()
            else:
                async with session_scope(self._read_sessionmaker) as session:
                    events = await claim(session, False)
                if not events:
                    return None, 0
                ids = [e.id for e in events]
                claimed = clock()
                plan = await self._plan(name, events)
                planned = clock()
                committing = True
                async with session_scope(self._sessionmaker) as session:
                    outcome = await self._commit(session, source_id, name, events, plan)
                committed = clock()
        except Exception as exc:
            if not ids:
                raise
            error = f"{type(exc).__name__}: {exc}"
            if committing and len(ids) > 1 and records.is_record_fault(exc):
                raise _Refused(ids, error) from exc
            await self._fail(name, ids, error)
            return None, len(ids)
        # The write transaction (on SQLite: the write lock) lasted from the plan to here.
        self._held(source_id, len(ids), committed - planned)
        log.debug(
            "webhook batch of %s: %d event(s), claim %.1f ms, plan %.1f ms, commit %.1f ms",
            name,
            len(ids),
            (claimed - started) * 1000,
            (planned - claimed) * 1000,
            (committed - planned) * 1000,
        )
        return outcome, len(ids)

    async def _plan(self, name: str, events: Sequence[WebhookEventRow]) -> apply.Plan:
        connector = self._connector(name)
        if isinstance(connector, JiraConnector):
            source = self._config.source(name)
            projects = source.projects if source is not None else ()
            return await apply.plan_jira(events, connector, name, projects)
        return await apply.plan_asana(events, connector)

    async def _commit(
        self,
        session: AsyncSession,
        source_id: int,
        name: str,
        events: Sequence[WebhookEventRow],
        plan: apply.Plan,
    ) -> _Applied | None:
        now = self._clock()
        if plan.undeleted:
            await records.undelete(session, source_id, plan.undeleted)
        page = self._references.resolve_page(plan.page("webhook"))
        await records.save_page(session, source_id, page, now=now)
        if plan.read_at is not None:
            await records.lift_tombstones(session, source_id, plan.read_ids, before=plan.read_at)
        done = [e.id for e in events if e.id not in plan.errors]
        count = await inbox.settle_applied(session, done, now=now)
        if plan.errors:
            await self._settle_failed(session, name, plan.errors, now)
        changed_at = plan.changed_at()
        stored = self._clock()
        lag = _worst_lag(changed_at, stored)
        await subscriptions.record_freshness(
            session, source_id, store_lag=lag, rollup_lag=None, now=stored
        )
        if self._metrics is not None:
            self._metrics.webhook_events_applied.labels(name).inc(count)
            histogram = self._metrics.webhook_freshness_seconds.labels(name, "store")
            for at in changed_at:
                histogram.observe(max(0.0, (stored - at).total_seconds()))
        if not count:
            return None
        keys = {i.key for i in page.items} | set(
            await scoping.keys_of(
                session, source_id, [*(d.external_id for d in page.deletions), *plan.undeleted]
            )
        )
        return _Applied(name, count, changed_at, keys)

    async def _settle_failed(
        self, session: AsyncSession, name: str, errors: Mapping[int, str], now: datetime
    ) -> None:
        parked = await inbox.settle_failed(
            session,
            errors,
            now=now,
            max_attempts=self._settings.max_attempts,
            retry_seconds=self._settings.retry_seconds,
        )
        if self._metrics is not None:
            self._metrics.webhook_events_failed.labels(name).inc(len(errors))
        for event_id in parked:
            log.warning(
                "webhook event %d of %s failed for good: %s", event_id, name, errors[event_id]
            )

    async def _fail(self, name: str, ids: Sequence[int], error: str) -> None:
        log.warning("webhook batch of %s (%d event(s)) failed: %s", name, len(ids), error)
        async with session_scope(self._sessionmaker) as session:
            await self._settle_failed(session, name, dict.fromkeys(ids, error), self._clock())

    async def _recompute(self, rounds: list[_Applied]) -> None:
        merged: dict[str, _Applied] = {}
        for outcome in rounds:
            into = merged.setdefault(outcome.source, _Applied(outcome.source, 0, []))
            into.events += outcome.events
            into.changed_at.extend(outcome.changed_at)
            into.keys |= outcome.keys
        applied = list(merged.values())
        sources = set(merged)
        started = time.perf_counter()
        result = await recompute.refresh_rollups(
            self._sessionmaker,
            self._config,
            sources,
            changed=True,
            keys={o.source: o.keys for o in applied},
            read_sessionmaker=self._read_sessionmaker,
            metrics=self._metrics,
            pending=self._pending,
        )
        if result is None:
            return  # failed, and owed to ``pending``: its retry brings the roll-up up to date
        visible = self._clock()
        log.debug(
            "roll-up of %s recomputed after %d event(s) in %.1f ms",
            ", ".join(sorted(sources)),
            sum(o.events for o in applied),
            (time.perf_counter() - started) * 1000,
        )
        async with session_scope(self._sessionmaker) as session:
            for outcome in applied:
                source_id = next(i for i, n in self._names.items() if n == outcome.source)
                await subscriptions.record_freshness(
                    session,
                    source_id,
                    store_lag=None,
                    rollup_lag=_worst_lag(outcome.changed_at, visible),
                    now=visible,
                )
                if self._metrics is not None:
                    histogram = self._metrics.webhook_freshness_seconds.labels(
                        outcome.source, "rollup"
                    )
                    for at in outcome.changed_at:
                        histogram.observe(max(0.0, (visible - at).total_seconds()))

    async def _report_backlog(self) -> None:
        assert self._metrics is not None
        async with session_scope(self._read_sessionmaker) as session:
            rows = dict(
                (
                    await session.execute(
                        select(WebhookEventRow.source_id, func.count())
                        .where(WebhookEventRow.state == EventState.PENDING)
                        .group_by(WebhookEventRow.source_id)
                    )
                ).all()
            )
        for source_id, name in self._names.items():
            self._metrics.webhook_backlog.labels(name).set(int(rows.get(source_id, 0)))

    # Helpers ---------------------------------------------------------------------------

    async def _name(self, source_id: int) -> str | None:
        if source_id not in self._names:
            async with session_scope(self._read_sessionmaker) as session:
                row = await session.get(SourceRow, source_id)
            if row is None:
                return None
            self._names[source_id] = row.name
        return self._names[source_id]

    def _connector(self, name: str) -> Connector:
        connector = self._connectors.get(name)
        if connector is None:
            connector = self._connectors[name] = self._pool.connector(name)
        return connector


def _worst_lag(changed_at: Sequence[datetime], now: datetime) -> float | None:
    if not changed_at:
        return None
    return max(0.0, (now - min(changed_at)).total_seconds())
