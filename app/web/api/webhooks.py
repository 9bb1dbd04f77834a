"""Webhook intake (``/webhooks/{tracker}/{source}``) and the inbox API (``/api/webhooks``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.runtime.state import AppState
from app.store import records
from app.store.audit import record_audit
from app.store.tables import MAX_ROW_ID, SourceRow, WebhookEventRow
from app.web.auth import Role
from app.web.deps import AdminDep, SessionDep, StateDep, ViewerDep
from app.webhooks import inbox
from app.webhooks.intake import Intake
from vocabulary import EventState

router = APIRouter(tags=["webhooks"])

BODY_EXCERPT = 4_000
MAX_ID = MAX_ROW_ID
_INTAKE_RESPONSES: dict[int | str, dict[str, str]] = {
    200: {
        "description": "Stored (or a duplicate of a stored delivery), a heartbeat, or "
        "an Asana handshake (the X-Hook-Secret is echoed)"
    },
    400: {
        "description": "Not the tracker's JSON (signed: kept for inspection as rejected; "
        "unsigned: refused, never kept), or nested too deeply"
    },
    401: {"description": "Unsigned or wrongly signed; nothing stored"},
    403: {
        "description": "An Asana handshake for no webhook the registration under way is "
        "creating (or outside any registration)"
    },
    404: {"description": "No source of that tracker and name"},
    408: {"description": "The body did not arrive in time"},
    413: {"description": "The body is over the configured limit"},
    503: {"description": "Too many deliveries at once (Retry-After), or not stored"},
}


def intake_of(state: AppState) -> Intake:
    return state.webhooks.intake


@router.post(
    "/webhooks/jira/{source}",
    summary="Receive a Jira webhook delivery",
    responses=_INTAKE_RESPONSES,
    response_class=JSONResponse,
)
async def receive_jira_webhook(source: str, request: Request, state: StateDep) -> JSONResponse:
    answer = await intake_of(state).receive("jira", source, request)
    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)


@router.post(
    "/webhooks/asana/{source}",
    summary="Receive an Asana webhook delivery or handshake",
    responses=_INTAKE_RESPONSES,
    response_class=JSONResponse,
)
async def receive_asana_webhook(source: str, request: Request, state: StateDep) -> JSONResponse:
    answer = await intake_of(state).receive("asana", source, request)
    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)


class WebhookEventOut(BaseModel):
    id: int
    source: str
    delivery_id: str
    event_type: str | None
    received_at: datetime
    trusted: bool
    state: EventState
    attempts: int
    next_attempt_at: datetime | None
    processed_at: datetime | None
    error: str | None
    headers: dict[str, str] | None
    """The kept headers; admins only (null for viewers)."""
    body: str | None
    """The delivery as received (the first 4,000 characters); admins only (null for
    viewers: a tracker's payload may hold what their role does not show)."""


class WebhookEventsOut(BaseModel):
    events: list[WebhookEventOut]


@router.get("/api/webhooks/events", summary="Stored webhook deliveries, newest first")
async def list_webhook_events(
    session: SessionDep,
    principal: ViewerDep,
    state: EventState | None = None,
    source: str | None = None,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only events older than this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> WebhookEventsOut:
    names: dict[int, str] = {}
    source_id = None
    if source is not None:
        row = await records.get_source(session, source)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No source named {source!r}.")
        source_id = row.id
    events = await inbox.list_events(
        session, state=state, source_id=source_id, limit=limit, before_id=before
    )
    for event in events:
        if event.source_id not in names:
            found = await session.get(SourceRow, event.source_id)
            names[event.source_id] = found.name if found else "?"
    raw = principal.role >= Role.ADMIN
    return WebhookEventsOut(events=[_out(e, names[e.source_id], raw=raw) for e in events])


@router.post(
    "/api/webhooks/events/{event_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a stored event to be applied again (admin)",
    responses={404: {"description": "No such event"}, 409: {"description": "Not tracker JSON"}},
)
async def replay_webhook_event(
    event_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: SessionDep,
    state: StateDep,
    principal: AdminDep,
) -> WebhookEventOut:
    event = await session.get(WebhookEventRow, event_id)
    if event is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No webhook event {event_id}.")
    if event.state == EventState.REJECTED:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "A rejected delivery is not tracker JSON: nothing to apply."
        )
    before = {"state": event.state, "attempts": event.attempts}
    await inbox.replay(session, event_id, now=datetime.now(UTC))
    source = await session.get(SourceRow, event.source_id)
    await session.refresh(event)
    await record_audit(
        session,
        actor=principal.name,
        action="webhook.replay",
        subject=f"event {event_id} ({source.name if source else '?'})",
        before=before,
        after={"state": event.state, "attempts": event.attempts},
    )
    intake_of(state).wakeup.set()
    return _out(event, source.name if source else "?", raw=True)


def _out(event: WebhookEventRow, source: str, *, raw: bool) -> WebhookEventOut:
    return WebhookEventOut(
        id=event.id,
        source=source,
        delivery_id=event.delivery_id,
        event_type=event.event_type,
        received_at=event.received_at,
        trusted=event.trusted,
        state=event.state,
        attempts=event.attempts,
        next_attempt_at=event.next_attempt_at,
        processed_at=event.processed_at,
        error=event.error,
        headers={str(k): str(v) for k, v in (event.headers or {}).items()} if raw else None,
        body=event.body[:BODY_EXCERPT] if raw else None,
    )
