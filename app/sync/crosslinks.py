"""Cross-tracker links: mentions of another tracker's item become dependency edges.

Connectors report mentions (``TrackerItem.references``: a Jira key, a Jira browse URL, an
Asana task URL) with the direction their wording gives. Here each is matched against the
configured sources — a Jira key against the Jira sources that read its project, a Jira URL
against the Jira source at that site, an Asana task URL against the Asana source of its
workspace — and kept as a ``blocks`` link of the mentioning item, so a re-sync of that item
replaces its mention links with the current ones like any other link it reports.
Mentions of the item's own source are left alone: a tracker's own links say that better.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.config import AsanaSourceConfig, JiraSourceConfig, ThroughlineConfig
from connectors.base import LinkRef, Page, Reference, TrackerItem

MENTION = "mention"
"""``LinkRef.link_type`` of a link that comes from a mention in text."""

_JIRA_KEY = re.compile(r"^([A-Z][A-Z0-9_]{1,9})-[1-9]\d{0,8}$")
_JIRA_BROWSE = re.compile(
    r"^(?P<site>https?://.+?)/browse/(?P<key>[A-Z][A-Z0-9_]{1,9}-[1-9]\d{0,8})$"
)
# https://app.asana.com/0/{project}/{task}[/f]  and  /1/{workspace}/[project/{p}/]task/{task}
_ASANA_OLD = re.compile(r"^https?://app\.asana\.com/0/(?P<project>\d+)/(?P<task>\d+)(?:/\w+)?/?$")
_ASANA_NEW = re.compile(
    r"^https?://app\.asana\.com/1/(?P<workspace>\d+)/(?:project/(?P<project>\d+)/)?task/(?P<task>\d+)"
)


@dataclass(frozen=True, slots=True)
class _Jira:
    source: str
    url: str
    projects: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Asana:
    source: str
    workspace: str
    projects: frozenset[str]


class ReferenceResolver:
    """Turns references into links, given which sources are configured."""

    def __init__(
        self,
        jira: Sequence[_Jira],
        asana: Sequence[_Asana],
        directions: Mapping[str, str],
    ) -> None:
        self._jira, self._asana, self._directions = tuple(jira), tuple(asana), directions

    @classmethod
    def from_config(cls, config: ThroughlineConfig) -> ReferenceResolver:
        jira = [
            _Jira(s.name, s.url.rstrip("/").casefold(), frozenset(s.projects))
            for s in config.sources
            if isinstance(s, JiraSourceConfig)
        ]
        asana = [
            _Asana(s.name, s.workspace, frozenset(s.projects))
            for s in config.sources
            if isinstance(s, AsanaSourceConfig)
        ]
        return cls(jira, asana, {s.name: s.cross_link_direction for s in config.sources})

    def target(self, reference: Reference) -> tuple[str, str] | None:
        """The (source, key) a reference names among the configured sources, if any."""
        text = reference.target
        if match := _JIRA_KEY.match(text):
            site = next((j for j in self._jira if match.group(1) in j.projects), None)
            return (site.source, text) if site else None
        if match := _JIRA_BROWSE.match(text):
            url = match.group("site").rstrip("/").casefold()
            site = next((j for j in self._jira if j.url == url), None)
            return (site.source, match.group("key")) if site else None
        match = _ASANA_NEW.match(text) or _ASANA_OLD.match(text)
        if match is None:
            return None
        groups = match.groupdict()
        asana = self._asana_for(groups.get("workspace"), groups.get("project"))
        return (asana.source, groups["task"]) if asana else None

    def _asana_for(self, workspace: str | None, project: str | None) -> _Asana | None:
        if workspace is not None:
            return next((a for a in self._asana if a.workspace == workspace), None)
        by_project = next((a for a in self._asana if project in a.projects), None)
        if by_project is not None or len(self._asana) != 1:
            return by_project
        return self._asana[0]

    def resolve(self, item: TrackerItem) -> TrackerItem:
        """The item with a link for each of its references that names another source."""
        added: list[LinkRef] = []
        for reference in item.references:
            found = self.target(reference)
            if found is None or found[0] == item.source:
                continue
            blocks = reference.blocks
            if blocks is None:
                default = self._directions.get(item.source, "blocked_by")
                if default == "ignore":
                    continue
                blocks = default == "blocks"
            here, there = (item.source, item.key), found
            start, end = (here, there) if blocks else (there, here)
            added.append(LinkRef(start[0], start[1], end[0], end[1], link_type=MENTION))
        if not added:
            return item
        links = tuple(dict.fromkeys((*item.links, *added)))
        return dataclasses.replace(item, links=links)

    def resolve_page(self, page: Page) -> Page:
        if not any(item.references for item in page.items):
            return page
        return dataclasses.replace(page, items=[self.resolve(i) for i in page.items])
