"""What a batch of one source's events means for the store.

Jira issue events carry the issue: it is mapped exactly as a pulled issue is, and the
newer-wins upsert decides against what is stored. A deletion stores the issue's last
state and then its tombstone, so an update that arrives late can never bring it back.
Link events (ids only), unsigned hints and every Asana event (ids only) name items to
read back from the tracker; those reads are coalesced into one ``fetch_items`` per batch.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.store.tables import WebhookEventRow
from connectors.asana import webhook as asana_webhook
from connectors.base import Connector, ConnectorError, Deletion, Page, TrackerItem
from connectors.jira import webhook as jira_webhook
from connectors.jira.connector import JiraConnector
from connectors.jira.mapping import parse_issue, to_item

YIELD_EVERY = 20


@dataclass(slots=True)
class Plan:
    """The records a batch writes, and the events that could not be applied (with why)."""

    items: dict[str, TrackerItem] = field(default_factory=dict)
    deletions: dict[str, Deletion] = field(default_factory=dict)
    undeleted: set[str] = field(default_factory=set)
    errors: dict[int, str] = field(default_factory=dict)
    read_ids: set[str] = field(default_factory=set)
    """Items read back from the tracker (not taken from a payload), read after ``read_at``:
    they exist now, so they lift a tombstone set before then."""
    read_at: datetime | None = None

    def keep(self, item: TrackerItem) -> None:
        seen = self.items.get(item.external_id)
        if seen is None or item.updated_at >= seen.updated_at:
            self.items[item.external_id] = item

    def absorb(self, page: Page) -> None:
        for item in page.items:
            self.keep(item)
        for deletion in page.deletions:
            self.deletions.setdefault(deletion.external_id, deletion)

    def limit_to(self, projects: Sequence[str], source: str) -> None:
        """Keep only items of the configured projects: one that left them (moved away)
        is tombstoned like a deleted one, as the next census would."""
        if not projects:
            return
        for external_id, item in list(self.items.items()):
            if item.project not in projects:
                del self.items[external_id]
                self.read_ids.discard(external_id)
                self.deletions[external_id] = Deletion(source, external_id, item.updated_at)

    def page(self, scope: str) -> Page:
        return Page(scope, list(self.items.values()), list(self.deletions.values()))

    def changed_at(self) -> list[datetime]:
        """The tracker times of the changes the batch carries (for freshness)."""
        return [i.updated_at for i in self.items.values()] + [
            d.at for d in self.deletions.values() if d.external_id not in self.items
        ]


async def plan_jira(
    events: Sequence[WebhookEventRow],
    connector: JiraConnector,
    source: str,
    projects: Sequence[str] = (),
) -> Plan:
    plan = Plan()
    refetch: dict[str, list[int]] = {}
    site, _ = await connector.site()
    for count, event in enumerate(events):
        if count % YIELD_EVERY == 0:
            # Mapping is CPU work on the serving loop: let intake answer in between.
            await asyncio.sleep(0)
        try:
            delivery = jira_webhook.read_delivery(_payload(event))
            if not event.trusted:
                # An unsigned delivery is a hint: it only names what to read back.
                for issue_id in (delivery.issue_id, *delivery.refetch):
                    if issue_id:
                        refetch.setdefault(issue_id, []).append(event.id)
                continue
            if delivery.issue is not None:
                plan.keep(to_item(parse_issue(delivery.issue, source), site))
            if delivery.deleted and delivery.issue_id:
                at = delivery.at or event.received_at
                plan.deletions[delivery.issue_id] = Deletion(source, delivery.issue_id, at)
            for issue_id in delivery.refetch:
                refetch.setdefault(issue_id, []).append(event.id)
        except (ValueError, ConnectorError) as exc:
            plan.errors[event.id] = f"{type(exc).__name__}: {exc}"
    await _refetch(plan, connector, refetch)
    plan.limit_to(projects, source)
    return plan


async def plan_asana(events: Sequence[WebhookEventRow], connector: Connector) -> Plan:
    plan = Plan()
    refetch: dict[str, list[int]] = {}
    last_action: dict[str, str] = {}
    for event in events:
        try:
            touched = asana_webhook.touched_tasks(_payload(event)["events"])
        except (ValueError, KeyError, TypeError) as exc:
            plan.errors[event.id] = f"{type(exc).__name__}: {exc}"
            continue
        for gid, action in touched.items():
            refetch.setdefault(gid, []).append(event.id)
            last_action[gid] = action
    plan.undeleted = {gid for gid, action in last_action.items() if action == "undeleted"}
    await _refetch(plan, connector, refetch)
    return plan


async def _refetch(plan: Plan, connector: Connector, wanted: dict[str, list[int]]) -> None:
    """Read the named items back in one go; if that fails, only the events that needed it
    fail (and are retried), the rest of the batch is applied."""
    if not wanted:
        return
    started = datetime.now(UTC)
    try:
        page = await connector.fetch_items(sorted(wanted))
    except ConnectorError as exc:
        for ids in wanted.values():
            for event_id in ids:
                plan.errors.setdefault(event_id, f"re-fetch failed: {exc}")
        return
    plan.absorb(page)
    plan.read_ids |= {i.external_id for i in page.items}
    plan.read_at = started


def _payload(event: WebhookEventRow) -> dict[str, Any]:
    payload = json.loads(event.body)
    if not isinstance(payload, dict):
        raise ValueError("the stored body is not a JSON object")
    return payload
