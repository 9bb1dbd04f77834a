"""Turning a configured source into an HTTP client and a connector."""

from __future__ import annotations

import pytest

from app.config import parse_config
from app.sync.trackers import build_connector, build_http_client
from connectors.jira import JiraConnector

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
