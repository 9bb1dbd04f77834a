"""Finding out what kind of Jira a site is and what it calls things.

Story points, start dates and Epic Link are custom fields whose ids differ per site, so
they are looked up by name in ``/field``; status categories come from ``/status`` so that
history entries (which carry only status ids and names) get a category too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

from connectors.http import TrackerClient
from connectors.jira.mapping import CATEGORIES, Site
from connectors.jira.schemas import FieldInfo, ServerInfo, StatusInfo
from vocabulary import StatusCategory

ESTIMATE_NAMES = ("story point estimate", "story points")
"""Team-managed projects use the first, company-managed the second; a site may have both."""
START_DATE_NAMES = ("start date", "target start")
EPIC_LINK_SCHEMA = "com.pyxis.greenhopper.jira:gh-epic-link"


async def discover_site(
    client: TrackerClient,
    *,
    deployment: Literal["auto", "cloud", "datacenter"],
    estimate_field: str | None,
    dependency_link_types: Sequence[str],
) -> tuple[Site, bool]:
    """The site's description and whether it is Cloud (``serverInfo`` decides on ``auto``)."""
    # Version 2 of these three answers alike on Cloud and Data Center, so they are asked
    # together: one round trip before the first search, not two.
    info_response, field_response, status_response = await asyncio.gather(
        client.get("/rest/api/2/serverInfo"),
        client.get("/rest/api/2/field"),
        client.get("/rest/api/2/status"),
    )
    info = ServerInfo.model_validate(info_response.json())
    cloud = (
        deployment == "cloud"
        if deployment != "auto"
        else (info.deploymentType or "").casefold() == "cloud"
    )
    fields = [FieldInfo.model_validate(f) for f in field_response.json()]
    statuses = [StatusInfo.model_validate(s) for s in status_response.json()]
    base = str(client.http.base_url).rstrip("/")
    browse = info.baseUrl.rstrip("/") if info.baseUrl and info.baseUrl.startswith("http") else base
    site = Site(
        source=client.source,
        browse_url=browse,
        estimate_fields=_estimate_fields(fields, estimate_field),
        start_date_fields=_named(fields, START_DATE_NAMES),
        epic_link_field=None if cloud else _epic_link(fields),
        status_categories=_categories(statuses),
        dependency_link_types=frozenset(t.casefold() for t in dependency_link_types),
    )
    return site, cloud


def _estimate_fields(fields: Sequence[FieldInfo], configured: str | None) -> tuple[str, ...]:
    if configured:
        # A configured id is used even if /field hides it (field-level security).
        matches = [f.id for f in fields if f.name.casefold() == configured.casefold()]
        return tuple(matches) or (configured,)
    return _named(fields, ESTIMATE_NAMES)


def _named(fields: Sequence[FieldInfo], names: Sequence[str]) -> tuple[str, ...]:
    """Ids of the custom fields with these names, in the order the names are given."""
    return tuple(f.id for name in names for f in fields if f.custom and f.name.casefold() == name)


def _epic_link(fields: Sequence[FieldInfo]) -> str | None:
    for f in fields:
        schema = f.schema_.custom if f.schema_ else None
        if schema == EPIC_LINK_SCHEMA or (f.custom and f.name.casefold() == "epic link"):
            return f.id
    return None


def _categories(statuses: Sequence[StatusInfo]) -> dict[str, StatusCategory]:
    return {
        s.id: CATEGORIES[s.statusCategory["key"]]
        for s in statuses
        if s.statusCategory["key"] in CATEGORIES
    }
