"""Jira Cloud's dynamic webhook API (``/rest/api/3/webhook``) and the fake's admin page.

Only OAuth 2.0 and Connect apps may register dynamic webhooks; this fake treats a Bearer
token as an app's and answers basic auth (an API token) with 403. The exact wording of
that refusal on a real site is not documented; the status is what a client acts on.
``/_fake/webhooks`` stands in for the admin page (System → WebHooks), where a webhook
can be saved with a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.fake.jira.wire import ApiError

if TYPE_CHECKING:
    from connectors.fake.jira.app import FakeJira

Guard = Callable[[Callable[[Request], Any]], Callable[[Request], Any]]
DYNAMIC_EVENTS = frozenset(
    {
        "jira:issue_created",
        "jira:issue_updated",
        "jira:issue_deleted",
        "comment_created",
        "comment_updated",
        "comment_deleted",
        "issue_property_set",
        "issue_property_deleted",
    }
)
"""The official document's enum for dynamic webhooks (``WebhookDetails.events``): no
``issuelink_*``, so the fake refuses them there, as the document allows."""
KNOWN_EVENTS = DYNAMIC_EVENTS | {"issuelink_created", "issuelink_deleted"}
"""What an admin webhook may ask for."""


def routes(fake: FakeJira, guard: Guard) -> list[Route]:
    def app_only(request: Request) -> None:
        scheme = request.headers.get("Authorization", "").partition(" ")[0].lower()
        if scheme != "bearer" or not fake.cloud:
            raise ApiError(403, "Only Connect and OAuth 2.0 apps can use dynamic webhooks.")

    async def register(request: Request) -> dict[str, Any]:
        app_only(request)
        body = await request.json()
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url:
            raise ApiError(400, "url is required.")
        results: list[dict[str, Any]] = []
        for spec in body.get("webhooks") or []:
            events = spec.get("events") or []
            unknown = [e for e in events if e not in DYNAMIC_EVENTS]
            if not events or unknown or not isinstance(spec.get("jqlFilter"), str):
                results.append({"errors": [f"Invalid webhook: events {unknown or events}"]})
                continue
            hook = fake.webhooks.register(url, events, jql=spec["jqlFilter"], dynamic=True)
            results.append({"createdWebhookId": hook.id})
        fake.webhooks.start()
        return {"webhookRegistrationResult": results}

    async def listing(request: Request) -> dict[str, Any]:
        app_only(request)
        if request.method == "DELETE":
            ids = (await request.json()).get("webhookIds") or []
            for hook_id in ids:
                fake.webhooks.registrations.pop(int(hook_id), None)
            return {}
        hooks = [h.describe() for h in fake.webhooks.registrations.values() if h.dynamic]
        return {
            "startAt": 0,
            "maxResults": 100,
            "total": len(hooks),
            "isLast": True,
            "values": hooks,
        }

    async def refresh(request: Request) -> dict[str, Any]:
        app_only(request)
        ids = [int(i) for i in (await request.json()).get("webhookIds") or []]
        expires = fake.webhooks.refresh(ids)
        return {"expirationDate": int(expires.timestamp() * 1000)}

    async def admin_hooks(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(
                {
                    "webhooks": [h.describe() for h in fake.webhooks.registrations.values()],
                    "queued": len(fake.webhooks.queue),
                    "delivered": len(fake.webhooks.delivered),
                    "dropped": len(fake.webhooks.dropped),
                }
            )
        body = await request.json()
        hook = fake.webhooks.register(
            body["url"],
            list(body.get("events") or KNOWN_EVENTS),
            secret=body.get("secret"),
            jql=body.get("jql"),
        )
        fake.webhooks.start()
        return JSONResponse({"id": hook.id}, status_code=201)

    api = "/rest/api/{version:str}"
    return [
        Route(f"{api}/webhook", guard(register), methods=["POST"]),
        Route(f"{api}/webhook", guard(listing), methods=["GET", "DELETE"]),
        Route(f"{api}/webhook/refresh", guard(refresh), methods=["PUT"]),
        Route("/_fake/webhooks", admin_hooks, methods=["GET", "POST"]),
    ]
