"""What every channel is handed, and how a channel tells a failure it may retry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.reports.schemas import WeeklyReport


@dataclass(frozen=True, slots=True)
class Message:
    """A report ready to send: its JSON form, its rendered forms and its links."""

    report: WeeklyReport
    html: str
    markdown: str
    links: Mapping[str, str]

    @property
    def subject(self) -> str:
        r = self.report
        return f"[{r.rag.color.upper()}] {r.program.name} — weekly status {r.week}"


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
