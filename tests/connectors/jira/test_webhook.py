"""Jira webhook helpers: what a dynamic webhook may ask for, and its expiry date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.fake.jira.hooks_api import DYNAMIC_EVENTS as FAKE_DYNAMIC_EVENTS
from connectors.jira import webhook

EXPIRES = datetime(2027, 1, 14, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [1_799_919_000_000, "1799919000000", "2027-01-14T09:30:00Z", "2027-01-14T10:30:00+01:00"],
    ids=["number", "digits", "iso-z", "iso-offset"],
)
def test_expiration_is_read_whether_a_number_or_a_string(value: object) -> None:
    assert webhook.expiration(value) == EXPIRES


def test_an_unreadable_expiration_is_a_payload_error() -> None:
    with pytest.raises(webhook.PayloadError):
        webhook.expiration(None)


def test_dynamic_webhooks_ask_only_for_events_of_the_official_enum() -> None:
    assert webhook.DYNAMIC_EVENTS == FAKE_DYNAMIC_EVENTS
    assert not webhook.DYNAMIC_EVENTS & webhook.LINK_EVENTS
