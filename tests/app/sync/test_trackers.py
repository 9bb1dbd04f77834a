"""Turning a configured source into an HTTP client and a connector."""

from __future__ import annotations

import asyncio
import bisect
import time

import pytest

from app.config import parse_config
from app.sync.trackers import TrackerPool, build_connector, build_http_client
from connectors.fake.server import serve_in_thread
from connectors.jira import JiraConnector
from tests.jira_fakes import EMAIL, TOKEN, make_fake

CONFIG = """
server: {auth: none}
sources:
  - name: cloud
    kind: jira
    url: https://acme.atlassian.net
    auth: {email_env: E, token_env: T}
    projects: [PAY]
    timeout_seconds: 7
  - name: dc
    kind: jira
    url: https://jira.example.com
    auth: {token_env: T}
    deployment: datacenter
    verify_tls: false
"""
ENV = {"E": "pm@example.com", "T": "s3cret-token"}


def test_cloud_sources_use_basic_auth_with_email_and_token() -> None:
    source = parse_config(CONFIG).source("cloud")
    assert source is not None
    client = build_http_client(source, environ=ENV)
    assert client.headers["Authorization"] == "Basic cG1AZXhhbXBsZS5jb206czNjcmV0LXRva2Vu"
    assert client.timeout.read == 7
    assert str(client.base_url) == "https://acme.atlassian.net"


def test_sources_without_an_email_send_a_bearer_token() -> None:
    source = parse_config(CONFIG).source("dc")
    assert source is not None
    client = build_http_client(source, environ=ENV)
    assert client.headers["Authorization"] == "Bearer s3cret-token"


def test_a_missing_secret_names_the_variable_not_the_value() -> None:
    source = parse_config(CONFIG).source("cloud")
    assert source is not None
    with pytest.raises(KeyError, match="environment variable E is not set"):
        build_http_client(source, environ={"T": "x"})


def test_jira_sources_get_a_jira_connector_with_their_options() -> None:
    source = parse_config(CONFIG).source("cloud")
    assert source is not None
    connector = build_connector(source, build_http_client(source, environ=ENV))
    assert isinstance(connector, JiraConnector)
    assert connector.source == "cloud"


def test_tls_verification_is_on_unless_a_source_turns_it_off_loudly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = parse_config(CONFIG)
    cloud, dc = config.source("cloud"), config.source("dc")
    assert cloud is not None
    assert dc is not None
    build_http_client(cloud, environ=ENV)
    assert "TLS" not in caplog.text
    build_http_client(dc, environ=ENV)
    assert "TLS VERIFICATION IS OFF for source dc (https://jira.example.com" in caplog.text
    assert caplog.records[-1].levelname == "WARNING"
    assert "s3cret-token" not in caplog.text


class _Counting:
    """An ASGI wrapper that notes when each request reached the tracker."""

    def __init__(self, app: object) -> None:
        self.app = app
        self.times: list[float] = []

    async def __call__(self, scope: dict[str, object], receive: object, send: object) -> None:
        if scope["type"] == "http":
            self.times.append(time.monotonic())
        await self.app(scope, receive, send)  # type: ignore[operator]


def _busiest_second(times: list[float]) -> int:
    ordered = sorted(times)
    return max(
        (bisect.bisect_right(ordered, start + 1.0) - i for i, start in enumerate(ordered)),
        default=0,
    )


RATE = 20


async def _sync_beside_rereads(pools: tuple[TrackerPool, TrackerPool], base: str) -> None:
    """A full read of the project through one pool while the other re-reads issues one
    by one, as the webhook worker does during a burst."""
    reader, rereader = pools
    connector = reader.connector("acme")
    keys = [f"PAY-{n}" for n in range(1, 11)]

    async def sync() -> None:
        async for _ in connector.fetch("PAY", None):
            pass

    async def rereads() -> None:
        for key in keys:
            await rereader.connector("acme").fetch_items([key])

    await asyncio.gather(sync(), rereads())


@pytest.mark.parametrize("shared", [True, False], ids=["one pool", "a pool each"])
async def test_a_sync_and_webhook_rereads_together_keep_to_the_source_rate(
    shared: bool,
) -> None:
    counting = _Counting(make_fake(60))
    with serve_in_thread(counting) as base:
        config = parse_config(
            "server: {auth: none}\nsources:\n"
            f"  - {{name: acme, kind: jira, url: '{base}', projects: [PAY], "
            f"requests_per_second: {RATE}, deployment: cloud, "
            "auth: {email_env: E, token_env: T}}\n"
        )
        env = {"E": EMAIL, "T": TOKEN}
        first = TrackerPool(config.sources, environ=env)
        second = first if shared else TrackerPool(config.sources, environ=env)
        try:
            await _sync_beside_rereads((first, second), base)
        finally:
            await first.aclose()
            await second.aclose()
    # The pacing allows a tenth of a second's burst on top of the rate.
    allowed = RATE + max(1, RATE // 10) + 1
    if shared:
        assert _busiest_second(counting.times) <= allowed
    else:
        # Without one pacing per source, the two uses together go past the rate: what the
        # shared pool exists to prevent.
        assert _busiest_second(counting.times) > allowed
