"""Roll-ups still owed: the sources whose recompute failed, retried with backoff.

A sync or a webhook batch that changed a source stores its data first and recomputes the
programs reading it after. If that recompute fails (the database went away for a moment,
a defect in one program's data), the data is safe but the roll-ups are stale, and nothing
would look at them again until the next change or the daily refresh. ``PendingRollups``
keeps the changed sources instead and recomputes them after ``first`` seconds, then
twice that, … up to ``cap``, until a recompute of them succeeds; a later successful
recompute of the same sources settles them too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection

log = logging.getLogger(__name__)


class PendingRollups:
    """Sources owed a recompute, and when to try next."""

    def __init__(
        self,
        *,
        first: float = 5.0,
        cap: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.first, self.cap = first, cap
        self._clock = clock
        self._sources: set[str] = set()
        self._failures = 0
        self._due: float | None = None
        self._changed = asyncio.Event()

    @property
    def sources(self) -> frozenset[str]:
        return frozenset(self._sources)

    def failed(self, sources: Collection[str]) -> float:
        """Keep ``sources`` for a retry; return the delay before it (doubling each time)."""
        self._sources |= set(sources)
        self._failures += 1
        delay = min(self.cap, self.first * float(2 ** (self._failures - 1)))
        self._due = self._clock() + delay
        self._changed.set()
        return delay

    def succeeded(self, sources: Collection[str]) -> None:
        """A recompute of ``sources`` went through: they are owed nothing any more."""
        self._sources -= set(sources)
        if not self._sources:
            self._failures, self._due = 0, None
        self._changed.set()

    def due_in(self) -> float | None:
        """Seconds until the next retry (0: now), or None when nothing is owed."""
        if not self._sources or self._due is None:
            return None
        return max(0.0, self._due - self._clock())

    async def run(
        self, recompute: Callable[[set[str]], Awaitable[object]], stop: asyncio.Event
    ) -> None:
        """Retry what is owed when it is due, until ``stop`` is set. ``recompute`` is
        expected to report its own outcome (``failed``/``succeeded``)."""
        while not stop.is_set():
            wait = self.due_in()
            if wait == 0:
                owed = set(self._sources)
                log.info("recomputing the roll-ups of %s again", ", ".join(sorted(owed)))
                try:
                    await recompute(owed)
                except Exception:
                    log.exception("retrying the roll-ups of %s failed", ", ".join(sorted(owed)))
                continue
            self._changed.clear()
            waiters = [asyncio.ensure_future(e.wait()) for e in (stop, self._changed)]
            await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
