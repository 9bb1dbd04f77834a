"""What every channel is handed, and how a channel tells a failure it may retry.

A message carries each form a channel needs, already rendered: the e-mail's subject, HTML
and plain text, the Slack payload, the Confluence page (for weekly reports and the
portfolio digest), the JSON event a generic webhook receives. Channels know nothing of
reports, digests or alerts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Page:
    """A Confluence page: its name and week make its title (``confluence.page_title``)."""

    name: str
    week: str
    storage: str


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    html: str
    text: str
    slack: Mapping[str, Any]
    links: Mapping[str, str] = field(default_factory=dict)
    page: Page | None = None
    event: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Sent:
    """A delivery that went out: where it can be read, and anything worth noting."""

    url: str | None = None
    note: str | None = None


class DeliveryError(Exception):
    """A channel could not deliver. ``transient`` failures (network, 429, 5xx) are worth
    retrying at once; every failure is retried later, with backoff.

    The message is shown on the report page: it never holds a secret (a webhook URL,
    a token, a password).
    """

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def http_failure(service: str, status: int, body: str) -> DeliveryError:
    """A failed HTTP answer in words: 429 and 5xx are transient, other codes are not."""
    detail = " ".join(body.split())[:200]
    return DeliveryError(
        f"{service} answered {status}{': ' + detail if detail else ''}",
        transient=status == 429 or status >= 500,
    )


def unreachable(service: str, exc: Exception) -> DeliveryError:
    # The exception's own text can quote the URL, and a Slack webhook URL is a secret.
    return DeliveryError(f"could not reach {service} ({type(exc).__name__})", transient=True)
