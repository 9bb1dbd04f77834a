"""Asana's Events API for one project: what changed since a sync token, deletions included.

``modified_since`` cannot see deleted tasks, moves out of a project or edits to subtasks
(a subtask's change does not mark its parent modified, and subtasks are not in project
listings). A project's event stream names all of them. Tokens die after at most a day: an
expired or missing token answers 412 with a fresh one, and the project must then be read
in full, which the caller does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from connectors.asana.schemas import EventsPage
from connectors.base import ConnectorDataError, TrackerRequestError
from connectors.http import TrackerClient

log = logging.getLogger(__name__)

MAX_EVENT_PAGES = 200
"""100 events a page: past 20,000 changes a full read of the project is cheaper anyway."""


@dataclass(slots=True)
class Changes:
    """What a project's event stream said since the stored token.

    ``expired`` means the stream could not say (no token yet, or a 412): the caller reads
    the whole project instead. ``touched`` maps each task gid to the last action seen and
    ``deleted_at`` gives when each task that ended deleted was deleted.
    """

    token: str
    expired: bool = False
    touched: dict[str, str] = field(default_factory=dict)
    deleted_at: dict[str, datetime] = field(default_factory=dict)


async def read_changes(client: TrackerClient, project: str, token: str | None) -> Changes:
    """Read the project's events since ``token``; a fresh token when there is none."""
    if token is None:
        return Changes(await _fresh_token(client, project), expired=True)
    changes = Changes(token)
    for _ in range(MAX_EVENT_PAGES):
        try:
            response = await client.get("/events", params={"resource": project, "sync": token})
        except TrackerRequestError as exc:
            if exc.status_code != 412:
                raise
            log.info(
                "%s: sync token of project %s expired; reading it in full", client.source, project
            )
            return Changes(_token_from(exc, client.source, project), expired=True)
        page = _parse(response.json(), client.source, project)
        _note(changes, page)
        token = changes.token = page.sync
        if not page.has_more:
            return changes
    return Changes(await _fresh_token(client, project), expired=True)


async def _fresh_token(client: TrackerClient, project: str) -> str:
    try:
        response = await client.get("/events", params={"resource": project})
    except TrackerRequestError as exc:
        if exc.status_code == 412:
            return _token_from(exc, client.source, project)
        raise
    return _parse(response.json(), client.source, project).sync


def _token_from(exc: TrackerRequestError, source: str, project: str) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    token = body.get("sync")
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise ConnectorDataError(source, project, "412 from /events without a sync token")
    return token


def _parse(body: object, source: str, project: str) -> EventsPage:
    try:
        return EventsPage.model_validate(body)
    except ValidationError as exc:
        raise ConnectorDataError(source, project, f"malformed events page: {exc}") from exc


def _note(changes: Changes, page: EventsPage) -> None:
    for event in page.data:
        if event.resource.resource_type == "task":
            gid, action = event.resource.gid, event.action
        elif event.parent is not None and event.parent.resource_type == "task":
            # A story or attachment on a task: the task itself may have changed.
            gid, action = event.parent.gid, "changed"
        else:
            continue
        changes.touched[gid] = action
        if action == "deleted" and event.created_at is not None:
            changes.deleted_at[gid] = event.created_at
        else:
            changes.deleted_at.pop(gid, None)
