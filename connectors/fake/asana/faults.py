"""What can go wrong on purpose: latency, Asana's rate and concurrency limits, server errors,
expiring offsets and sync tokens, refusals of huge listings, and edits while a sync runs.

Everything is off (or generous) by default and set through ``Faults`` fields, from Python
or from ``POST /_fake/faults``.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields


@dataclass(slots=True)
class Faults:
    latency: float = 0.0
    """Seconds added to every API request."""
    requests_per_minute: int | None = None
    """Asana's per-token quota (150 free, 1,500 paid); None = unlimited."""
    max_concurrent_reads: int = 50
    error_rate: float = 0.0
    """Share of requests answered with ``error_status`` (seeded, so repeatable)."""
    error_status: int = 503
    fail_next: list[int] = field(default_factory=list)
    """Statuses to answer the next requests with, in order (e.g. ``[429, 500]``)."""
    retry_after: int | None = None
    """``Retry-After`` for ``fail_next`` 429s; quota 429s compute their own."""
    offset_ttl: float = 900.0
    """Seconds an offset stays valid (real offsets were seen to last 15 minutes)."""
    sync_token_ttl: float = 86_400.0
    too_large: int | None = 20_000
    """A listing this long answers 400 "too large" on the page that reaches it."""
    edit_every: int = 0
    """Every n-th task listing request edits a task first (edit-while-syncing); 0 = off."""
    story_errors: list[str] = field(default_factory=list)
    """Task gids whose story listings answer 500 (a history that cannot be read)."""
    drop_events: int = 0
    """The next N events of any kind (changes, stories, deletions) are lost: never in the
    Events API, never delivered. Asana designs its events for at-most-once delivery."""

    def update(self, values: dict[str, object]) -> None:
        names = {f.name for f in fields(self)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        for name, value in values.items():
            setattr(self, name, value)


class QuotaWindow:
    """Requests of the last minute; rejected ones count too, as at Asana."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._times: deque[float] = deque()

    def admit(self, per_minute: int | None) -> int | None:
        """None when the request may proceed, else the seconds to wait (Retry-After)."""
        now = self._clock()
        while self._times and self._times[0] <= now - 60:
            self._times.popleft()
        full = per_minute is not None and len(self._times) >= per_minute
        self._times.append(now)
        if not full:
            return None
        return max(1, math.ceil(self._times[0] + 60 - now))
