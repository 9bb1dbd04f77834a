"""One HTTP path for every tracker: classification, retry with backoff, pacing, bounds.

``TrackerClient`` wraps the ``httpx.AsyncClient`` that ``app`` built (base URL, auth,
timeout). It classifies responses (429/5xx/transport → retried ``TrackerUnavailable``,
401/403 → ``TrackerAuthError``, other 4xx → ``TrackerRequestError``), honours
``Retry-After``, paces requests to a rate and bounds the number in flight. A 429 pauses
every request of the client, not just the one that saw it: the limit is the tracker's,
shared by all of them.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.base import (
    FetchStats,
    TrackerAuthError,
    TrackerRequestError,
    TrackerUnavailable,
)

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
ErrorMessage = Callable[[httpx.Response], str]


def default_error_message(response: httpx.Response) -> str:
    """The tracker's own words for an error, from the common JSON shapes, else the text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict):
        messages: list[str] = []
        for entry in body.get("errorMessages") or []:
            messages.append(str(entry))
        errors = body.get("errors")
        if isinstance(errors, dict):
            messages.extend(f"{k}: {v}" for k, v in errors.items())
        elif isinstance(errors, list):
            messages.extend(str(e.get("message", e)) for e in errors if isinstance(e, dict))
        if body.get("message"):
            messages.append(str(body["message"]))
        if messages:
            return "; ".join(messages)[:1000]
    return response.text[:500] or response.reason_phrase


def _json_or_none(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def retry_after_seconds(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """Seconds the tracker asked us to wait, from ``Retry-After`` (seconds or HTTP date).

    Without it, a 429's ``X-RateLimit-Reset`` (Jira: the ISO instant the limit resets) is
    the answer: retrying before then only spends the retry budget.
    """
    value = response.headers.get("Retry-After")
    if value is None:
        return _rate_limit_reset(response, now=now) if response.status_code == 429 else None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _rate_limit_reset(response: httpx.Response, *, now: datetime | None) -> float | None:
    value = response.headers.get("X-RateLimit-Reset")
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RateLimiter:
    """Paces calls to at most ``rate`` per second (evenly spaced, a small burst allowed).

    A slot is taken only when it is due, by the caller about to send: a caller that wakes
    late (the event loop was busy parsing a page) takes the next slot then, instead of one
    reserved before it slept. Slots reserved ahead would all fall due together after such
    a stall and leave at once, a burst the tracker's own limiter answers with 429s; taken
    when due, no stall lets more than ``burst`` go out together.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / rate
        self._burst = max(1, burst)
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        while True:
            async with self._lock:
                now = self._clock()
                earliest = now - self._interval * (self._burst - 1)
                start = max(self._next, earliest)
                wait = start - now
                if wait <= 0:
                    self._next = start + self._interval
                    return
            await self._sleep(wait)


class Pacing:
    """What every request to one tracker shares: the rate, the in-flight bound and a pause.

    One per source and process (``app.sync.trackers.TrackerPool``): a sync, the webhook
    worker's re-reads and a registration then stay together within the source's rate. A
    429 pauses every client of the pacing, not just the one that saw it.
    """

    def __init__(
        self,
        *,
        max_in_flight: int = 8,
        requests_per_second: float | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.in_flight = asyncio.Semaphore(max_in_flight)
        # A twentieth of a second's worth of burst: when the event loop was busy (parsing
        # a page, binding a batch), the slots it missed are caught up instead of lost, and
        # no second ever carries more than the rate plus that twentieth. The tracker's own
        # limiter allows about a tenth (Jira's burst limiter); the other half is room for
        # requests that reach it closer together than they left (its latency varies).
        self.limiter = (
            RateLimiter(
                requests_per_second,
                burst=max(1, round(requests_per_second / 20)),
                sleep=sleep,
            )
            if requests_per_second
            else None
        )
        self.paused_until = 0.0


class TrackerClient:
    """Classified, retried, paced requests to one tracker's base URL.

    Several clients may share one ``Pacing`` (and one ``httpx.AsyncClient``): each keeps
    its own ``stats``, so a sync run records its own requests, retries and 429s.

    Only paths under the configured base URL are requested: a URL taken from a payload
    (``self`` links, ``next_page.uri``) that points elsewhere is refused, never followed.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        source: str,
        max_in_flight: int = 8,
        requests_per_second: float | None = None,
        pacing: Pacing | None = None,
        max_retries: int = 6,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        error_message: ErrorMessage = default_error_message,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.http = client
        self.source = source
        self.stats = FetchStats()
        self.pacing = pacing or Pacing(
            max_in_flight=max_in_flight, requests_per_second=requests_per_second, sleep=sleep
        )
        self._max_retries = max_retries
        self._backoff_base, self._backoff_cap = backoff_base, backoff_cap
        self._error_message = error_message
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311  (jitter, not secrets)

    async def get(self, path: str, *, params: Mapping[str, Any] | None = None) -> httpx.Response:
        return await self.request("GET", path, params=params)

    async def post(
        self, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        return await self.request("POST", path, json=json, params=params)

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request, retrying what is worth retrying; return a 2xx response or raise."""
        self._check_target(path)
        attempt = 0
        while True:
            try:
                return await self._send_once(method, path, **kwargs)
            except TrackerUnavailable as exc:
                attempt += 1
                if attempt > self._max_retries:
                    raise TrackerUnavailable(
                        f"{self.source}: gave up after {self._max_retries} retries: {exc}",
                        retry_after=exc.retry_after,
                    ) from exc
                delay = self._delay(attempt, exc.retry_after)
                self.stats.retries += 1
                log.warning("%s: %s; retry %d in %.1fs", self.source, exc, attempt, delay)
                if exc.retry_after is not None:
                    pacing = self.pacing
                    pacing.paused_until = max(pacing.paused_until, time.monotonic() + delay)
                await self._sleep(delay)

    async def _send_once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        pacing = self.pacing
        pause = pacing.paused_until - time.monotonic()
        if pause > 0:
            await self._sleep(pause)
        async with pacing.in_flight:
            # The rate's slot is taken last, just before sending: taken before waiting for
            # an in-flight slot, requests held there would leave together once freed.
            if pacing.limiter is not None:
                await pacing.limiter.acquire()
            self.stats.requests += 1
            try:
                response = await self.http.request(method, path, **kwargs)
            except httpx.TimeoutException as exc:
                raise TrackerUnavailable(f"{method} {path} timed out") from exc
            except httpx.TransportError as exc:
                raise TrackerUnavailable(f"{method} {path} failed: {exc!r}") from exc
        return self._classify(method, path, response)

    def _classify(self, method: str, path: str, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        what = f"{method} {path} → {status}"
        if 300 <= status < 400:
            target = httpx.URL(response.headers.get("Location", ""))
            raise TrackerRequestError(
                f"{self.source}: {what}: the tracker redirects to "
                f"{target.host or 'another path'}{target.path}; redirects are never followed "
                "(check the source's url: scheme, host and context path)",
                status_code=status,
            )
        if status < 400:
            return response
        if status == 429 or status >= 500:
            if status == 429:
                self.stats.rate_limited += 1
            raise TrackerUnavailable(
                f"{what}: {self._error_message(response)}",
                retry_after=retry_after_seconds(response),
            )
        if status in (401, 403):
            raise TrackerAuthError(
                f"{self.source}: the tracker refused our credentials ({what}): "
                f"{self._error_message(response)}"
            )
        raise TrackerRequestError(
            f"{what}: {self._error_message(response)}",
            status_code=status,
            body=_json_or_none(response),
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            # A little jitter keeps clients that were refused together from returning together.
            return retry_after + self._rng.uniform(0, 0.1 * max(retry_after, 1.0))
        ceiling = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(ceiling / 2, ceiling)

    def _check_target(self, path: str) -> None:
        """Refuse any request that would leave the configured tracker.

        A relative path is joined under the base URL by httpx (it cannot change the host).
        An absolute URL, as found in payloads (Jira ``self`` links, Asana ``uri`` and
        ``next_page.uri``), must have the base URL's scheme, host and port, and a path
        under the base URL's path (``/wiki`` does not admit ``/wiki-evil`` or ``/``). No
        redirect is ever followed either: httpx clients do not unless told to.
        """
        url = httpx.URL(path)
        if url.is_relative_url and not path.startswith("//"):
            return
        base = self.http.base_url
        prefix = base.raw_path.rstrip(b"/") + b"/"
        inside = (
            url.scheme == base.scheme
            and url.host == base.host
            and url.port == base.port
            and not url.userinfo
            and (url.raw_path + b"/").startswith(prefix)
            and b"/../" not in url.raw_path + b"/"
            and b"%2e" not in url.raw_path.lower()
        )
        if not inside:
            raise OutsideTracker(
                f"{self.source}: refusing to request {url.scheme}://{url.host}"
                f"{':' + str(url.port) if url.port else ''}{url.path}, outside the configured "
                f"tracker URL {base.scheme}://{base.host}{base.path.rstrip('/')} (a URL taken "
                "from the tracker's answer is never followed off its site)"
            )


class OutsideTracker(TrackerRequestError):
    """A request that would leave the configured tracker base URL."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status_code=0)
