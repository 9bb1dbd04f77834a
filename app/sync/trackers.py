"""Building the HTTP client and the connector of a configured source.

This is where secrets are read (once, from the environment variables the configuration
names) and turned into an ``Authorization`` header; nothing else sees them.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping

import httpx

import connectors
from app.config import AsanaSourceConfig, JiraSourceConfig, resolve_secret
from connectors.asana.connector import AsanaConnector
from connectors.base import Connector
from connectors.http import TrackerClient
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


def _asana(source: AsanaSourceConfig, client: httpx.AsyncClient) -> AsanaConnector:
    tracker = TrackerClient(
        client,
        source=source.name,
        max_in_flight=source.max_in_flight,
        requests_per_second=source.request_rate(),
    )
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
    )


def _jira(source: JiraSourceConfig, client: httpx.AsyncClient) -> JiraConnector:
    tracker = TrackerClient(
        client,
        source=source.name,
        max_in_flight=source.max_in_flight,
        requests_per_second=source.requests_per_second,
    )
    return JiraConnector(
        tracker,
        projects=source.projects,
        deployment=source.deployment,
        estimate_field=source.estimate_field,
        dependency_link_types=source.dependency_link_types,
        # A chunk is one bulk fetch plus a changelog chain: this many keep the in-flight
        # bound busy, and they are all the memory a sync holds, however large the site.
        chunks_in_flight=max(2, source.max_in_flight // 2),
    )


_BUILDERS: dict[str, Callable[..., Connector]] = {"asana": _asana, "jira": _jira}


def build_connector(source: SourceConfig, client: httpx.AsyncClient) -> Connector:
    """The connector for a configured source, speaking through ``client``."""
    builder = _BUILDERS.get(source.kind)
    if builder is None or source.kind not in connectors.KINDS:
        raise ValueError(f"source {source.name!r}: no connector for kind {source.kind!r} yet")
    return builder(source, client)


def scope_concurrency(source: SourceConfig) -> int:
    """How many scopes (projects) a sync reads side by side.

    Asana pages are strictly sequential within a project, so keeping its quota busy takes
    several projects at once; the client's in-flight bound still caps the requests.
    """
    if isinstance(source, AsanaSourceConfig):
        return max(1, min(16, source.max_in_flight))
    return 4
