"""The trackers a process talks to: one adapter per tracker kind, and one pool of clients.

``TrackerKind`` holds what differs between Jira and Asana for the rest of the service —
how a connector is built and paced, how many scopes a sync reads side by side, how long
its webhooks may stay quiet — so that nothing else branches on a source's kind.

``TrackerPool`` owns each configured source's HTTP client and pacing for the life of a
process: a sync, the webhook worker's re-reads and a registration all speak through it,
so together they stay within the source's rate and in-flight bound. Each use gets its
own ``TrackerClient`` (its own request, retry and 429 counts for its run record).

This is also where secrets are read (once, from the environment variables the
configuration names) and turned into an ``Authorization`` header; nothing else sees them.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import httpx

from app.config import AsanaSourceConfig, JiraSourceConfig, resolve_secret
from connectors.asana.connector import AsanaConnector
from connectors.base import Connector
from connectors.http import Pacing, TrackerClient
from connectors.jira.connector import JiraConnector

SourceConfig = JiraSourceConfig | AsanaSourceConfig
USER_AGENT = "throughline/0.1"

log = logging.getLogger(__name__)


def build_http_client(
    source: SourceConfig, *, environ: Mapping[str, str] | None = None
) -> httpx.AsyncClient:
    """The tracker's ``httpx.AsyncClient``: base URL, credentials, timeout, TLS, pool size.

    With ``email_env`` the token is sent as basic auth (Jira Cloud API tokens, including
    scoped tokens on ``api.atlassian.com/ex/jira/{cloudId}``); without it as a Bearer
    token (Jira Data Center personal access tokens, OAuth 2.0 access tokens, Asana).
    """
    token = resolve_secret(source.auth.token_env, environ).get_secret_value()
    if source.auth.email_env:
        email = resolve_secret(source.auth.email_env, environ).get_secret_value()
        credentials = base64.b64encode(f"{email}:{token}".encode()).decode()
        authorization = f"Basic {credentials}"
    else:
        # Asana takes personal access tokens and OAuth access tokens alike as Bearer tokens.
        authorization = f"Bearer {token}"
    if not source.verify_tls:
        log.warning(
            "TLS VERIFICATION IS OFF for source %s (%s, verify_tls: false): its certificate "
            "is not checked, so anyone on the network path can read its token and forge "
            "its data",
            source.name,
            source.url,
        )
    return httpx.AsyncClient(
        base_url=source.url,
        headers={
            "Authorization": authorization,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        },
        timeout=source.timeout_seconds,
        verify=source.verify_tls,
        limits=httpx.Limits(
            max_connections=source.max_in_flight, max_keepalive_connections=source.max_in_flight
        ),
    )


@dataclass(frozen=True, slots=True)
class TrackerKind:
    """What differs between tracker kinds, for everything above the connectors."""

    name: str
    connector: Callable[[SourceConfig, TrackerClient], Connector]
    requests_per_second: Callable[[SourceConfig], float | None]
    scope_concurrency: Callable[[SourceConfig], int]
    """How many scopes (projects) a sync reads side by side."""
    silent_after: timedelta
    """How long the tracker's webhooks may stay quiet (no delivery, no heartbeat) before
    they count as silent: Asana sends heartbeats every 8 hours, Jira none."""
    expiring_webhooks: Callable[[SourceConfig], bool]
    """Whether the source's webhooks expire and must be refreshed (Jira dynamic webhooks)."""


def _asana_connector(source: SourceConfig, tracker: TrackerClient) -> Connector:
    assert isinstance(source, AsanaSourceConfig)
    return AsanaConnector(
        tracker,
        workspace=source.workspace,
        projects=source.projects,
        team=source.team,
        portfolio=source.portfolio,
        sections=source.sections,
        estimate_field=source.estimate_field,
        reference_field=source.reference_field,
        max_listings=source.max_in_flight,
        status_history=source.status_history,
        # The periodic full listing reads the histories of tasks changed since the one
        # before it (a day's margin), not of every task again.
        history_window=source.full_listing_every + timedelta(days=1),
    )


def _jira_connector(source: SourceConfig, tracker: TrackerClient) -> Connector:
    assert isinstance(source, JiraSourceConfig)
    return JiraConnector(
        tracker,
        projects=source.projects,
        deployment=source.deployment,
        estimate_field=source.estimate_field,
        dependency_link_types=source.dependency_link_types,
        # A chunk is a thousand ids: ten bulk fetches of the documented hundred plus a
        # changelog chain. Four keep 16 requests in flight busy, and chunks (with one
        # finished page a project) are the memory a sync holds, however large the site.
        chunks_in_flight=max(2, source.max_in_flight // 4),
    )


def _asana_rate(source: SourceConfig) -> float | None:
    assert isinstance(source, AsanaSourceConfig)
    return source.request_rate()


JIRA = TrackerKind(
    name="jira",
    connector=_jira_connector,
    requests_per_second=lambda source: source.requests_per_second,
    # Eight projects at once: each one's sweep (5,000 ids a page) feeds the chunk slots,
    # which all projects share, so the tracker's load stays what the slots allow; each
    # project read holds two mapped pages at most. With fewer, a project waiting for a
    # turn waits for the writer to finish storing another's pages while the tracker's
    # quota goes unused (six projects at four at once: a third of a sync's time).
    scope_concurrency=lambda source: 8,
    silent_after=timedelta(days=1),
    expiring_webhooks=lambda source: source.webhook is not None and source.webhook.allow_unsigned,
)
ASANA = TrackerKind(
    name="asana",
    connector=_asana_connector,
    requests_per_second=_asana_rate,
    # Asana pages are strictly sequential within a project, so keeping its quota busy takes
    # several projects at once; the client's in-flight bound still caps the requests.
    scope_concurrency=lambda source: max(1, min(16, source.max_in_flight)),
    silent_after=timedelta(hours=9),
    expiring_webhooks=lambda source: False,
)
KINDS: Mapping[str, TrackerKind] = {kind.name: kind for kind in (JIRA, ASANA)}


def kind_of(source: SourceConfig) -> TrackerKind:
    """The adapter of a configured source's tracker kind."""
    found = KINDS.get(source.kind)
    if found is None:
        raise ValueError(f"source {source.name!r}: no connector for kind {source.kind!r} yet")
    return found


def pacing_for(source: SourceConfig) -> Pacing:
    """A fresh pacing at the source's configured rate and in-flight bound."""
    return Pacing(
        max_in_flight=source.max_in_flight,
        requests_per_second=kind_of(source).requests_per_second(source),
    )


def build_connector(source: SourceConfig, client: httpx.AsyncClient | TrackerClient) -> Connector:
    """The connector for a configured source, speaking through ``client``.

    Given a bare ``httpx.AsyncClient`` the connector gets a pacing of its own; the
    service's own work goes through ``TrackerPool``, which shares one per source.
    """
    tracker = (
        client
        if isinstance(client, TrackerClient)
        else TrackerClient(client, source=source.name, pacing=pacing_for(source))
    )
    return kind_of(source).connector(source, tracker)


class TrackerPool:
    """One HTTP client and one pacing per configured source, for the life of a process."""

    def __init__(
        self,
        sources: Sequence[SourceConfig],
        *,
        environ: Mapping[str, str] | None = None,
        http_clients: Mapping[str, httpx.AsyncClient] | None = None,
    ) -> None:
        self._sources = {s.name: s for s in sources}
        self._environ = environ
        self._given = dict(http_clients or {})
        self._owned: dict[str, httpx.AsyncClient] = {}
        self._pacing: dict[str, Pacing] = {}

    def source(self, name: str) -> SourceConfig:
        found = self._sources.get(name)
        if found is None:
            raise KeyError(f"no source named {name!r} in the configuration")
        return found

    def http(self, name: str) -> httpx.AsyncClient:
        """The source's pooled HTTP client (built on first use)."""
        client = self._given.get(name) or self._owned.get(name)
        if client is None:
            client = self._owned[name] = build_http_client(self.source(name), environ=self._environ)
        return client

    def tracker(self, name: str) -> TrackerClient:
        """A client for one use (a run, a batch of re-reads) with its own counts, sharing
        the source's HTTP connections, rate and in-flight bound with every other use."""
        source = self.source(name)
        pacing = self._pacing.get(name)
        if pacing is None:
            pacing = self._pacing[name] = pacing_for(source)
        return TrackerClient(self.http(name), source=name, pacing=pacing)

    def connector(self, name: str) -> Connector:
        """A connector for one use, paced with every other use of the source."""
        return kind_of(self.source(name)).connector(self.source(name), self.tracker(name))

    async def aclose(self) -> None:
        """Close the clients the pool built (clients handed in belong to their owner)."""
        owned, self._owned = self._owned, {}
        for client in owned.values():
            await client.aclose()
