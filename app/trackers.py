"""Building the HTTP client and the connector for a configured source.

The only place that turns configuration and secrets into a tracker connection: the
secret is read from the environment variable the configuration names, handed to httpx,
and never logged, stored or returned.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from app.config import AsanaSourceConfig, JiraSourceConfig, resolve_secret
from connectors import CONNECTORS
from connectors.base import Connector
from connectors.http import TrackerClient

USER_AGENT = "throughline/0.1"
SourceConfig = JiraSourceConfig | AsanaSourceConfig


class UnsupportedSource(Exception):
    """The configuration names a tracker kind this build has no connector for."""


def build_http_client(
    source: SourceConfig, *, environ: Mapping[str, str] | None = None
) -> httpx.AsyncClient:
    """An httpx client for the source: base URL, credentials, timeout and TLS settings.

    With ``email_env`` the token is sent as basic auth (Jira Cloud API tokens, including
    scoped tokens on ``api.atlassian.com/ex/jira/{cloudId}``); without it as a Bearer
    token (Data Center personal access tokens, OAuth 2.0 access tokens, Asana).
    """
    token = resolve_secret(source.auth.token_env, environ).get_secret_value()
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    auth: httpx.Auth | None = None
    if source.auth.email_env:
        email = resolve_secret(source.auth.email_env, environ).get_secret_value()
        auth = httpx.BasicAuth(email, token)
    else:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(
        base_url=source.url,
        auth=auth,
        headers=headers,
        timeout=httpx.Timeout(source.timeout_seconds),
        verify=source.verify_tls,
        limits=httpx.Limits(max_connections=source.max_in_flight * 2),
        follow_redirects=False,
    )


def build_connector(source: SourceConfig, http: httpx.AsyncClient) -> Connector:
    """A fresh connector over a shared HTTP client (its counters then describe one run)."""
    client = TrackerClient(
        http,
        source=source.name,
        max_in_flight=source.max_in_flight,
        requests_per_second=source.requests_per_second,
    )
    if isinstance(source, JiraSourceConfig):
        connector: Connector = CONNECTORS["jira"](
            client,
            projects=source.projects,
            deployment=source.deployment,
            estimate_field=source.estimate_field,
            dependency_link_types=source.dependency_link_types,
            chunks_in_flight=max(2, source.max_in_flight // 2),
        )
        return connector
    raise UnsupportedSource(f"{source.name}: {source.kind} sources are not supported yet")
