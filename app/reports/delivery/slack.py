"""Slack: a short message to an incoming webhook — summary, colour, top changes, link.

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
from app.reports.schemas import WeeklyReport
from rollup import figures

TOP_CHANGES = 5
DOTS = {"green": ":large_green_circle:", "amber": ":large_orange_circle:", "red": ":red_circle:"}


def _changes(report: WeeklyReport) -> list[str]:
    c = report.changes
    if c is None:
        return ["First report: nothing to compare with yet."]
    lines = [
        f"*{len(c.completed)}* completed, *{len(c.added)}* added, *{len(c.removed)}* removed, "
        f"*{len(c.due_changes)}* date changes, *{len(c.risks_opened)}* risks opened, "
        f"*{len(report.new_late_dependencies)}* dependencies became late"
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


def payload(report: WeeklyReport, links: Mapping[str, str]) -> dict[str, Any]:
    """The weekly report's webhook body: the summary first, then the week's changes."""
    r = report
    color = r.rag.color
    was = f" (was {r.rag.previous.upper()})" if r.rag.previous and r.rag.previous != color else ""
    dot = DOTS.get(color, ":white_circle:")
    name = text.escape_slack(r.program.name)
    covers = r.covers.text if r.covers else r.week
    head = f"{dot} *{name}* — weekly status {text.escape_slack(covers)}: *{color.upper()}*{was}"
    summary = [text.escape_slack(s) for s in r.summary] or [
        f"• {text.escape_slack(x.detail)}" for x in r.rag.reasons[:3]
    ]
    link = text.slack_link("Read the full report", links.get("page"))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join([head, *summary])}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(_changes(r))}},
    ]
    if links.get("page"):
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": link}]})
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
                response = await client.post(url, json=dict(message.slack))
        except httpx.HTTPError as exc:
            raise unreachable("Slack", exc) from None
        if response.status_code != 200:
            raise http_failure("Slack", response.status_code, response.text)
        return Sent()
