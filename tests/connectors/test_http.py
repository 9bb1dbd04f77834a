"""The shared HTTP path: classification, retries, Retry-After, pacing and URL bounds."""

from __future__ import annotations

import asyncio
import bisect
import random
import time
from datetime import UTC, datetime

import httpx
import pytest
import respx

from connectors.base import TrackerAuthError, TrackerRequestError, TrackerUnavailable
from connectors.http import OutsideTracker, RateLimiter, TrackerClient, retry_after_seconds

BASE = "https://tracker.test"


class Sleeps:
    """Records each sleep; with ``clock``, a sleep moves that clock on as time would."""

    def __init__(self, clock: list[float] | None = None) -> None:
        self.calls: list[float] = []
        self._clock = clock

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self._clock is not None:
            self._clock[0] += seconds


def make_client(sleep: Sleeps, **kwargs: object) -> TrackerClient:
    return TrackerClient(
        httpx.AsyncClient(base_url=BASE), source="acme", sleep=sleep, rng=random.Random(1), **kwargs
    )  # type: ignore[arg-type]


@respx.mock(assert_all_mocked=True)
async def test_429_waits_retry_after_then_succeeds(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/x").side_effect = [
        httpx.Response(429, headers={"Retry-After": "7"}, json={"errorMessages": ["slow down"]}),
        httpx.Response(200, json={"ok": True}),
    ]
    sleeps = Sleeps()
    client = make_client(sleeps)
    response = await client.get("/x")
    assert response.json() == {"ok": True}
    assert 7 <= sleeps.calls[0] <= 7.7
    assert (client.stats.requests, client.stats.retries, client.stats.rate_limited) == (2, 1, 1)


@respx.mock(assert_all_mocked=True)
async def test_5xx_is_retried_with_growing_backoff_up_to_a_bound(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.get(f"{BASE}/x").mock(return_value=httpx.Response(503, text="down"))
    sleeps = Sleeps()
    client = make_client(sleeps, max_retries=4)
    with pytest.raises(TrackerUnavailable, match="gave up after 4 retries"):
        await client.get("/x")
    assert len(sleeps.calls) == 4
    assert sleeps.calls[-1] > sleeps.calls[0]


@respx.mock(assert_all_mocked=True)
async def test_timeout_is_retried(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/x").side_effect = [
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={}),
    ]
    client = make_client(Sleeps())
    assert (await client.get("/x")).status_code == 200


@respx.mock(assert_all_mocked=True)
async def test_401_stops_at_once_naming_the_source(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"{BASE}/x").mock(
        return_value=httpx.Response(401, json={"errorMessages": ["bad token"]})
    )
    with pytest.raises(TrackerAuthError, match=r"acme: .*bad token"):
        await make_client(Sleeps()).get("/x")
    assert route.call_count == 1


@respx.mock(assert_all_mocked=True)
async def test_other_4xx_carries_the_trackers_message(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/x").mock(
        return_value=httpx.Response(400, json={"errors": [{"message": "project: Missing input"}]})
    )
    with pytest.raises(TrackerRequestError, match="project: Missing input") as caught:
        await make_client(Sleeps()).get("/x")
    assert caught.value.status_code == 400


async def test_urls_outside_the_tracker_are_refused() -> None:
    with pytest.raises(TrackerRequestError, match="outside the configured tracker URL"):
        await make_client(Sleeps()).get("https://evil.test/steal")


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.test/rest/api/2/issue/1",  # another host
        "http://tracker.test/rest/api/2/issue/1",  # the same host without TLS
        "https://tracker.test:8443/rest/api/2/issue/1",  # another port
        "https://tracker.test.evil.test/rest/api/2/issue/1",  # a host that starts alike
        "https://tracker.test@evil.test/rest/api/2/issue/1",  # userinfo trick
        "https://user@tracker.test/rest/api/2/issue/1",  # credentials in the URL
        "//evil.test/rest/api/2/issue/1",  # scheme-relative
        "https://tracker.test/jira-evil/rest",  # beside the base path, not under it
        "https://tracker.test/jira/../admin",  # climbing out of it
        "https://tracker.test/jira/%2e%2e/admin",  # the same, encoded
    ],
)
@respx.mock(assert_all_mocked=True)
async def test_payload_urls_off_the_configured_base_are_never_requested(
    url: str, respx_mock: respx.MockRouter
) -> None:
    """A Jira ``self`` link or an Asana ``uri`` is data: one that points anywhere but the
    configured tracker is refused with a clear error and no request is sent."""
    client = TrackerClient(httpx.AsyncClient(base_url=f"{BASE}/jira"), source="acme")
    with pytest.raises(OutsideTracker, match=r"acme: refusing to request .* outside the config"):
        await client.get(url)
    assert respx_mock.calls.call_count == 0
    assert client.stats.requests == 0


@respx.mock(assert_all_mocked=True)
async def test_payload_urls_under_the_base_are_followed(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"{BASE}/jira/rest/api/2/issue/1").respond(200, json={})
    client = TrackerClient(httpx.AsyncClient(base_url=f"{BASE}/jira"), source="acme")
    await client.get(f"{BASE}/jira/rest/api/2/issue/1")
    await client.get("/rest/api/2/issue/1")
    assert route.call_count == 2


@respx.mock(assert_all_mocked=True)
async def test_redirects_are_not_followed(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/x").respond(302, headers={"Location": "https://evil.test/x"})
    with pytest.raises(
        TrackerRequestError, match=r"redirects to evil\.test/x; redirects are never"
    ):
        await make_client(Sleeps()).get("/x")
    assert respx_mock.calls.call_count == 1  # nothing went to evil.test


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "3"})) == 3
    dated = httpx.Response(429, headers={"Retry-After": "Sat, 21 Nov 2026 10:00:30 GMT"})
    from datetime import UTC, datetime

    assert retry_after_seconds(dated, now=datetime(2026, 11, 21, 10, 0, tzinfo=UTC)) == 30
    assert retry_after_seconds(httpx.Response(429)) is None


async def test_rate_limiter_spaces_calls_evenly() -> None:
    now = [0.0]
    sleeps = Sleeps(now)
    limiter = RateLimiter(10, clock=lambda: now[0], sleep=sleeps)
    for _ in range(5):
        await limiter.acquire()
    assert sleeps.calls == pytest.approx([0.1, 0.1, 0.1, 0.1])
    assert now[0] == pytest.approx(0.4)


def test_a_429_without_retry_after_waits_until_the_rate_limit_reset() -> None:
    now = datetime(2026, 6, 5, 5, 59, 50, tzinfo=UTC)
    response = httpx.Response(429, headers={"X-RateLimit-Reset": "2026-06-05T06:00Z"})
    assert retry_after_seconds(response, now=now) == 10.0
    assert retry_after_seconds(httpx.Response(503), now=now) is None
    garbled = httpx.Response(429, headers={"X-RateLimit-Reset": "soon"})
    assert retry_after_seconds(garbled, now=now) is None


async def test_pacing_with_a_burst_lets_missed_slots_go_at_once_then_spaces_the_rest() -> None:
    now = [100.0]
    sleeps = Sleeps(now)
    limiter = RateLimiter(10, burst=3, clock=lambda: now[0], sleep=sleeps)
    for _ in range(5):
        await limiter.acquire()
    assert [round(w, 2) for w in sleeps.calls] == [0.1, 0.1]


async def test_pacing_after_a_stall_lets_no_more_than_the_burst_go_at_once() -> None:
    """Callers that waited through a stall of the event loop (a page being parsed) do not
    all leave when it ends: each takes a slot when it is due, the burst at most at once."""
    limiter = RateLimiter(100, burst=2)
    sent: list[float] = []

    async def call() -> None:
        await limiter.acquire()
        sent.append(time.monotonic())

    waiting = [asyncio.create_task(call()) for _ in range(8)]
    await asyncio.sleep(0)  # the first two went at once; the rest sleep on their slots
    time.sleep(0.3)  # noqa: ASYNC251  (the stall: every slot asked for falls due meanwhile)
    await asyncio.gather(*waiting)
    sent.sort()
    # In any 5 ms, the burst and no more (slots are 10 ms apart).
    assert max(bisect.bisect_right(sent, t + 0.005) - i for i, t in enumerate(sent)) <= 2
