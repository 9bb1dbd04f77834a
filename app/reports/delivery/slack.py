"""Slack: a short message to an incoming webhook — headline, colour, top changes, link.

An incoming webhook takes a JSON body with a ``text`` fallback and Block Kit ``blocks``
and answers 200 ``ok``. Text in ``mrkdwn`` treats ``&``, ``<`` and ``>`` as control
characters, so every piece of tracker text is escaped (``text.escape_slack``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from app.config import SlackDeliveryConfig, resolve_secret
from app.reports import text
from app.reports.delivery.message import DeliveryError, Message, Sent, http_failure, unreachable
from rollup import figures

TOP_CHANGES = 5
_DOT = {"green": ":large_green_circle:", "amber": ":large_orange_circle:", "red": ":red_circle:"}


def _changes(message: Message) -> list[str]:
    c = message.report.changes
    if c is None:
        return ["First report: nothing to compare with yet."]
    lines = [
        f"*{len(c.completed)}* completed, *{len(c.added)}* added, *{len(c.removed)}* removed, "
        f"*{len(c.due_changes)}* date changes, *{len(c.risks_opened)}* risks opened, "
        f"*{len(message.report.new_late_dependencies)}* dependencies became late"
    ]
    for g in c.rag_changes[:TOP_CHANGES]:
        name = g.outcome_name or g.outcome or "Program"
        lines.append(f"• {text.escape_slack(name)}: {g.from_} → *{g.to.upper()}*")
    slips = sorted(
        (d for d in c.due_changes if d.days and d.days > 0), key=lambda d: -(d.days or 0)
    )
    for d in slips[:TOP_CHANGES]:
        link = text.slack_link(figures.key_label(d.key), d.url)
        lines.append(f"• {link} {text.escape_slack(d.title)} slipped {d.days} days")
    for k in c.risks_opened[:TOP_CHANGES]:
        lines.append(f"• Risk opened ({k.severity}): {text.escape_slack(k.title)}")
    return lines


def payload(message: Message) -> dict[str, Any]:
    """The webhook's JSON body."""
    r = message.report
    color = r.rag.color
    was = f" (was {r.rag.previous.upper()})" if r.rag.previous and r.rag.previous != color else ""
    dot = _DOT.get(color, ":white_circle:")
    name = text.escape_slack(r.program.name)
    head = f"{dot} *{name}* — weekly status {r.week}: *{color.upper()}*{was}"
    reasons = [f"• {text.escape_slack(x.detail)}" for x in r.rag.reasons[:3]]
    link = text.slack_link("Read the full report", message.links.get("page"))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join([head, *reasons])}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(_changes(message))}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": link}]},
    ]
    return {
        "text": f"{text.escape_slack(r.program.name)} — weekly status {r.week}: {color.upper()}",
        "blocks": blocks,
    }


class SlackChannel:
    name = "slack"

    def __init__(self, config: SlackDeliveryConfig, environ: Mapping[str, str]) -> None:
        self._config = config
        self._environ = environ

    async def send(self, message: Message) -> Sent:
        try:
            url = resolve_secret(self._config.webhook_url_env, self._environ).get_secret_value()
        except KeyError as exc:
            raise DeliveryError(str(exc.args[0]), transient=False) from None
        try:
            async with httpx.AsyncClient(timeout=20.0) as client:
                response = await client.post(url, json=payload(message))
        except httpx.HTTPError as exc:
            raise unreachable("Slack", exc) from None
        if response.status_code != 200:
            raise http_failure("Slack", response.status_code, response.text)
        return Sent()
