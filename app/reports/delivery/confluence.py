"""Confluence: a page in storage format, created or updated under a parent page.

Confluence Cloud's v2 REST API (``/api/v2`` under ``/wiki``) is used first: the space's
id is looked up by its key (``GET /api/v2/spaces?keys=``), the page by space and title
(``GET /api/v2/pages?space-id=&title=&status=current``), then it is created
(``POST /api/v2/pages`` with ``spaceId``, ``parentId`` and a ``storage`` body) or updated
with the next version number (``PUT /api/v2/pages/{id}``). Where the v2 API is not served
(Data Center answers 404 there) the v1 content API (``/rest/api/content``) does the same,
and ``api: v1`` skips the probe. Looking the page up by title first means a retried
create never makes a second page. ``page: living`` rewrites one page every week;
``weekly`` writes one page per ISO week.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from app.config import ConfluenceDeliveryConfig, resolve_secret
from app.reports.delivery.message import (
    DeliveryError,
    Message,
    Page,
    Sent,
    http_failure,
    unreachable,
)

VERSION_MESSAGE = "Weekly status from Throughline"


def page_title(config: ConfluenceDeliveryConfig, page: Page) -> str:
    name = config.title or page.name
    return f"{name} — weekly status" if config.page == "living" else f"{name} — status {page.week}"


class _NoV2(Exception):
    """The site does not serve the v2 API (Data Center, or an older Cloud gateway)."""


class ConfluenceChannel:
    name = "confluence"

    def __init__(self, config: ConfluenceDeliveryConfig, environ: Mapping[str, str]) -> None:
        self._config = config
        self._environ = environ

    def _client(self) -> httpx.AsyncClient:
        auth = self._config.auth
        try:
            token = resolve_secret(auth.token_env, self._environ).get_secret_value()
            email = (
                resolve_secret(auth.email_env, self._environ).get_secret_value()
                if auth.email_env
                else None
            )
        except KeyError as exc:
            raise DeliveryError(str(exc.args[0]), transient=False) from None
        return httpx.AsyncClient(
            base_url=self._config.url,
            auth=httpx.BasicAuth(email, token) if email else None,
            headers={"Accept": "application/json"}
            | ({} if email else {"Authorization": f"Bearer {token}"}),
            timeout=self._config.timeout_seconds,
        )

    async def send(self, message: Message) -> Sent:
        if message.page is None:
            raise DeliveryError("this message has no Confluence page", transient=False)
        title = page_title(self._config, message.page)
        body = message.page.storage
        async with self._client() as client:
            try:
                if self._config.api != "v1":
                    try:
                        return Sent(url=await _V2(client, self._config).publish(title, body))
                    except _NoV2:
                        if self._config.api == "v2":
                            raise DeliveryError(
                                "Confluence does not serve the v2 API at this URL "
                                "(set api: v1 for Data Center)",
                                transient=False,
                            ) from None
                return Sent(url=await _V1(client, self._config).publish(title, body))
            except httpx.HTTPError as exc:
                raise unreachable("Confluence", exc) from None


class _V2:
    """The v2 pages API (Confluence Cloud)."""

    def __init__(self, client: httpx.AsyncClient, config: ConfluenceDeliveryConfig) -> None:
        self._client = client
        self._config = config

    async def publish(self, title: str, storage: str) -> str:
        space_id = await self._space_id()
        existing = await self._find(space_id, title)
        body = {"representation": "storage", "value": storage}
        if existing is None:
            document: dict[str, Any] = {
                "spaceId": space_id,
                "status": "current",
                "title": title,
                "body": body,
            }
            if self._config.parent_page:
                document["parentId"] = self._config.parent_page
            response = await self._client.post("/api/v2/pages", json=document)
        else:
            version = int((existing.get("version") or {}).get("number", 0)) + 1
            response = await self._client.put(
                f"/api/v2/pages/{existing['id']}",
                json={
                    "id": existing["id"],
                    "status": "current",
                    "title": title,
                    "body": body,
                    "version": {"number": version, "message": VERSION_MESSAGE},
                },
            )
        _check(response)
        return _url(self._config, response.json())

    async def _space_id(self) -> str:
        response = await self._client.get("/api/v2/spaces", params={"keys": self._config.space})
        if response.status_code == 404:
            raise _NoV2
        _check(response)
        results: list[dict[str, Any]] = response.json().get("results", [])
        if not results:
            raise DeliveryError(
                f"Confluence has no space with the key {self._config.space!r} "
                "(or the account cannot see it)",
                transient=False,
            )
        return str(results[0]["id"])

    async def _find(self, space_id: str, title: str) -> dict[str, Any] | None:
        response = await self._client.get(
            "/api/v2/pages",
            params={"space-id": space_id, "title": title, "status": "current"},
        )
        _check(response)
        results: list[dict[str, Any]] = response.json().get("results", [])
        return results[0] if results else None


class _V1:
    """The v1 content API (Data Center, and Cloud while Atlassian still serves it)."""

    def __init__(self, client: httpx.AsyncClient, config: ConfluenceDeliveryConfig) -> None:
        self._client = client
        self._config = config

    async def publish(self, title: str, storage: str) -> str:
        body = {"storage": {"value": storage, "representation": "storage"}}
        existing = await self._find(title)
        if existing is None:
            document: dict[str, Any] = {
                "type": "page",
                "title": title,
                "space": {"key": self._config.space},
                "body": body,
            }
            if self._config.parent_page:
                document["ancestors"] = [{"id": self._config.parent_page}]
            response = await self._client.post("/rest/api/content", json=document)
        else:
            version = int(existing.get("version", {}).get("number", 0)) + 1
            response = await self._client.put(
                f"/rest/api/content/{existing['id']}",
                json={
                    "id": existing["id"],
                    "type": "page",
                    "title": title,
                    "space": {"key": self._config.space},
                    "body": body,
                    "version": {"number": version, "message": VERSION_MESSAGE},
                },
            )
        _check(response)
        return _url(self._config, response.json())

    async def _find(self, title: str) -> dict[str, Any] | None:
        response = await self._client.get(
            "/rest/api/content",
            params={
                "spaceKey": self._config.space,
                "title": title,
                "type": "page",
                "expand": "version",
            },
        )
        _check(response)
        results: list[dict[str, Any]] = response.json().get("results", [])
        return results[0] if results else None


def _url(config: ConfluenceDeliveryConfig, page: Mapping[str, Any]) -> str:
    links = page.get("_links", {})
    if links.get("webui"):
        return f"{links.get('base') or config.url}{links['webui']}"
    return f"{config.url}/pages/viewpage.action?pageId={page.get('id')}"


def _check(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise http_failure("Confluence", response.status_code, response.text)
