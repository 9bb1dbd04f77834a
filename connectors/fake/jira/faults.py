"""What can go wrong between a client and Jira, on demand: latency, 429s, 5xx, hangs.

The rate limiter is a token bucket per site, answering as Jira's burst limiter does: 429
with ``Retry-After`` in whole seconds, ``X-RateLimit-*`` and ``RateLimit-Reason``.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


class TokenBucket:
    """``rate`` requests a second with bursts of ``capacity``."""

    def __init__(self, rate: float, capacity: float | None = None) -> None:
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate / 10)
        self._tokens = self.capacity
        self._at = time.monotonic()

    def take(self) -> float:
        """Take a token; return 0 when granted, else the seconds until one is available."""
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate

    @property
    def remaining(self) -> int:
        return int(self._tokens)


@dataclass(slots=True)
class Faults:
    """The fault plan; change its fields at any time (tests, ``POST /_fake/faults``)."""

    latency: float = 0.0
    """Seconds added to every API answer, like a site across the internet."""
    rate_limit: float | None = None
    """Requests per second before 429s; None for no limit."""
    burst: float | None = None
    fail_next: deque[int] = field(default_factory=deque)
    """Status codes to answer the next requests with, one each (e.g. 503, 500, 429)."""
    error_rate: float = 0.0
    """Share of requests answered 503 at random (seeded)."""
    hang_next: int = 0
    """The next N requests stall for ``hang_seconds`` first (clients time out)."""
    hang_seconds: float = 30.0
    seed: int = 1
    issue_errors: dict[str, int] = field(default_factory=dict)
    """Issue id → how many more ``/issue/bulkfetch`` answers report it in ``issueErrors``
    (a retriable error or payload constraint) instead of returning it."""
    left_out: dict[str, int] = field(default_factory=dict)
    """Issue id → how many more ``/issue/bulkfetch`` answers silently leave it out (a short
    answer, as for an issue Jira could not see at that moment)."""
    unreadable: set[str] = field(default_factory=set)
    """Issue ids no read returns: always in ``issueErrors``, and ``GET /issue/{id}`` answers
    503 (with ``Retry-After: 0``, so a client's retries run out quickly)."""
    search_lag: float = 0.0
    """Seconds (of the site's clock) before a change shows in ``/search/jql``: an issue
    changed more recently is left out of search results unless named in
    ``reconcileIssues``. Reads by id are never late."""
    unindexed: set[str] = field(default_factory=set)
    """Issue ids whose latest change search has not indexed yet, whatever its age (the lag
    is not the same for every issue): left out of ``/search/jql`` unless reconciled."""
    _bucket: TokenBucket | None = None
    _rng: random.Random | None = None

    def bucket(self) -> TokenBucket | None:
        if self.rate_limit is None:
            self._bucket = None
        elif self._bucket is None or self._bucket.rate != self.rate_limit:
            self._bucket = TokenBucket(self.rate_limit, self.burst)
        return self._bucket

    def random_failure(self) -> bool:
        if self.error_rate <= 0:
            return False
        if self._rng is None:
            self._rng = random.Random(self.seed)
        return self._rng.random() < self.error_rate


def take(counts: dict[str, int], issue_id: str) -> bool:
    """Whether a counted fault applies to this issue now (and count it down)."""
    left = counts.get(issue_id, 0)
    if left <= 0:
        return False
    counts[issue_id] = left - 1
    return True


def rate_limited_headers(wait: float, limit: float) -> dict[str, str]:
    """Headers of a 429 from the burst limiter: wait at least ``wait`` seconds."""
    retry_after = max(1, math.ceil(wait))
    reset = datetime.now(UTC) + timedelta(seconds=retry_after)
    return {
        "Retry-After": str(retry_after),
        "X-RateLimit-Limit": str(int(limit)),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "RateLimit-Reason": "jira-burst-based",
    }
