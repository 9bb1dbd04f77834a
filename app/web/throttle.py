"""Failed-token throttling: a client address that keeps presenting wrong tokens is made
to wait.

Past ``per_minute`` wrong tokens (Bearer tokens, or tokens pasted on the sign-in page)
within a minute, every token that address presents is refused with 429 and
``Retry-After`` until the oldest failure is a minute old, without being checked: guessing
costs a minute per ``per_minute`` guesses. Counted per process (each replica counts its
own), in memory bounded by ``MAX_CLIENTS`` addresses.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
MAX_CLIENTS = 10_000


class FailedTokens:
    """Wrong tokens per client address over the last minute."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> float | None:
        """Seconds ``client`` must wait before a token of theirs is checked, or None."""
        window = self._window(client, self._clock())
        if window is None or len(window) < self.per_minute:
            return None
        return max(1.0, window[0] + WINDOW_SECONDS - self._clock())

    def failed(self, client: str) -> None:
        """Count a wrong token from ``client``."""
        now = self._clock()
        window = self._window(client, now)
        if window is None:
            if len(self._failures) >= MAX_CLIENTS:
                self._forget_stale(now)
            window = self._failures[client] = deque(maxlen=self.per_minute)
        window.append(now)

    def _window(self, client: str, now: float) -> deque[float] | None:
        window = self._failures.get(client)
        if window is not None:
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
        return window

    def _forget_stale(self, now: float) -> None:
        for client in [
            c for c, w in self._failures.items() if not w or w[-1] <= now - WINDOW_SECONDS
        ]:
            del self._failures[client]
        while len(self._failures) >= MAX_CLIENTS:
            del self._failures[next(iter(self._failures))]
