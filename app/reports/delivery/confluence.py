"""Confluence: the report as a page in storage format, created or updated under a parent.

Uses the content REST API (``/rest/api/content``), which Confluence Cloud serves under
``/wiki`` and Data Center at its context path, so one channel covers both. A page is
looked up by space and title first, so a retried create never makes a second page:
found, it is updated with the next version number; absent, it is created under the
parent page (``ancestors``). ``page: living`` rewrites one page every week; ``weekly``
writes one page per ISO week.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from app.config import ConfluenceDeliveryConfig, resolve_secret
from app.reports import render
from app.reports.delivery.message import DeliveryError, Message, Sent, http_failure, unreachable


def page_title(config: ConfluenceDeliveryConfig, message: Message) -> str:
    r = message.report
    name = config.title or r.program.name
    return f"{name} — weekly status" if config.page == "living" else f"{name} — status {r.week}"


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
        title = page_title(self._config, message)
        body = {
            "storage": {
                "value": render.storage(message.report, links=message.links),
                "representation": "storage",
            }
        }
        async with self._client() as client:
            try:
                existing = await self._find(client, title)
                if existing is None:
                    page = await self._create(client, title, body)
                else:
                    page = await self._update(client, existing, title, body)
            except httpx.HTTPError as exc:
                raise unreachable("Confluence", exc) from None
        return Sent(url=self._url(page))

    async def _find(self, client: httpx.AsyncClient, title: str) -> dict[str, Any] | None:
        response = await client.get(
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

    async def _create(
        self, client: httpx.AsyncClient, title: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": "page",
            "title": title,
            "space": {"key": self._config.space},
            "body": body,
        }
        if self._config.parent_page:
            document["ancestors"] = [{"id": self._config.parent_page}]
        response = await client.post("/rest/api/content", json=document)
        _check(response)
        created: dict[str, Any] = response.json()
        return created

    async def _update(
        self,
        client: httpx.AsyncClient,
        existing: dict[str, Any],
        title: str,
        body: dict[str, Any],
    ) -> dict[str, Any]:
        version = int(existing.get("version", {}).get("number", 0)) + 1
        response = await client.put(
            f"/rest/api/content/{existing['id']}",
            json={
                "id": existing["id"],
                "type": "page",
                "title": title,
                "space": {"key": self._config.space},
                "body": body,
                "version": {"number": version, "message": "Weekly status from Throughline"},
            },
        )
        _check(response)
        updated: dict[str, Any] = response.json()
        return updated

    def _url(self, page: Mapping[str, Any]) -> str:
        links = page.get("_links", {})
        if links.get("webui"):
            return f"{links.get('base') or self._config.url}{links['webui']}"
        return f"{self._config.url}/pages/viewpage.action?pageId={page.get('id')}"


def _check(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise http_failure("Confluence", response.status_code, response.text)
