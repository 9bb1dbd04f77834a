"""Forged requests from the outside: another site, another host name, a viewer reaching
for raw payloads, a scraper without a token, numbers past any row id. Each is refused
plainly; nothing reaches the store or answers a 5xx."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs.recompute import recompute
from app.store.engine import make_sessionmaker, session_scope
from app.web.metrics_listener import metrics_listener
from app.webhooks import inbox
from tests.app import rollup_data as data
from tests.app.web.api.conftest import ADMIN, TOKENS, VIEWER
from tests.builders import make_source

EVIL = {"Origin": "https://evil.test"}
STATE_CHANGING = [
    pytest.param("POST", "/api/sources/jira/sync", id="start-a-sync"),
    pytest.param("POST", "/api/programs/checkout/reports/2026-W47/send", id="send-a-report"),
    pytest.param("POST", "/api/webhooks/events/1/replay", id="replay-an-event"),
    pytest.param("DELETE", "/api/programs/checkout/risks/1", id="delete-a-risk"),
    pytest.param("POST", "/programs/checkout/risks", id="a-page-form"),
]


async def _client(app: FastAPI, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        sessionmaker = make_sessionmaker(engine)
        async with session_scope(sessionmaker) as session:
            await data.seed(session)
        await recompute(sessionmaker, app.state.throughline.config, now=data.NOW)
        yield client


@pytest.fixture
async def open_site(
    app_factory: Callable[..., FastAPI], committed_engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    """``auth: none``: whoever reaches the server is an admin, so forgery matters most."""
    async for client in _client(app_factory(data.CONFIG), committed_engine):
        yield client


@pytest.fixture
async def token_site(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("T_VIEWER", "viewer-secret")
    monkeypatch.setenv("T_ADMIN", "admin-secret")
    app = app_factory(data.CONFIG.replace("server: {auth: none}", TOKENS))
    async for client in _client(app, committed_engine):
        yield client


class TestOrigin:
    @pytest.mark.parametrize(("method", "path"), STATE_CHANGING)
    async def test_a_change_sent_from_another_site_is_refused(
        self, open_site: httpx.AsyncClient, method: str, path: str
    ) -> None:
        answer = await open_site.request(method, path, headers=EVIL)
        assert answer.status_code == 403
        assert "sent from https://evil.test" in answer.text

    async def test_a_referer_from_another_site_is_refused_too(
        self, open_site: httpx.AsyncClient
    ) -> None:
        answer = await open_site.post(
            "/api/sources/jira/sync", headers={"Referer": "https://evil.test/page"}
        )
        assert answer.status_code == 403

    async def test_an_opaque_origin_is_refused(self, open_site: httpx.AsyncClient) -> None:
        answer = await open_site.post("/api/sources/jira/sync", headers={"Origin": "null"})
        assert answer.status_code == 403

    async def test_the_sites_own_origin_and_non_browser_clients_pass(
        self, open_site: httpx.AsyncClient
    ) -> None:
        own = await open_site.post(
            "/api/webhooks/events/1/replay", headers={"Origin": "http://test"}
        )
        plain = await open_site.post("/api/webhooks/events/1/replay")
        assert (own.status_code, plain.status_code) == (404, 404)

    async def test_a_bearer_token_needs_no_origin(self, token_site: httpx.AsyncClient) -> None:
        answer = await token_site.post("/api/webhooks/events/1/replay", headers={**ADMIN, **EVIL})
        assert answer.status_code == 404

    async def test_a_signed_in_browser_cannot_be_made_to_change_anything(
        self, token_site: httpx.AsyncClient
    ) -> None:
        form = await token_site.get("/sign-in")
        marker = 'name="csrf_token" value="'
        csrf = form.text.split(marker, 1)[1].split('"', 1)[0]
        await token_site.post("/sign-in", data={"token": "admin-secret", "csrf_token": csrf})
        assert (await token_site.get("/api/sources")).status_code == 200
        answer = await token_site.post("/api/sources/jira/sync", headers=EVIL)
        assert answer.status_code == 403


class TestHost:
    async def test_a_request_for_another_host_name_is_refused(
        self, open_site: httpx.AsyncClient
    ) -> None:
        """DNS rebinding: a page of evil.test whose name now points at this server."""
        for method, path in (
            ("GET", "/api/programs"),
            ("GET", "/"),
            ("POST", "/api/sources/jira/sync"),
        ):
            answer = await open_site.request(
                method, path, headers={"Host": "evil.test", "Origin": "http://evil.test"}
            )
            assert answer.status_code == 400, path
        assert (
            await open_site.get("/healthz", headers={"Host": "10.0.0.7:8000"})
        ).status_code == 200

    async def test_without_configuration_the_loopback_names_on_its_port_are_answered(
        self, app_factory: Callable[..., FastAPI]
    ) -> None:
        app = app_factory(data.CONFIG, server={"allowed_hosts": (), "port": 8123})
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app), base_url="http://127.0.0.1:8123"
            ) as client,
        ):
            assert (await client.get("/api/programs")).status_code == 200
            assert (
                await client.get("/api/programs", headers={"Host": "localhost:8123"})
            ).status_code == 200
            assert (await client.get("/api/programs", headers={"Host": "test"})).status_code == 400

    async def test_the_public_url_names_the_host_and_the_origin(
        self, app_factory: Callable[..., FastAPI]
    ) -> None:
        app = app_factory(
            data.CONFIG,
            server={"allowed_hosts": (), "public_url": "https://throughline.example.com"},
        )
        base = "https://throughline.example.com"
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=base) as client,
        ):
            assert (await client.get("/api/programs")).status_code == 200
            replay = await client.post("/api/webhooks/events/1/replay", headers={"Origin": base})
            assert replay.status_code == 404
            forged = await client.post(
                "/api/webhooks/events/1/replay", headers={"Origin": "http://127.0.0.1:9999"}
            )
            assert forged.status_code == 403


class TestPrivateAnswers:
    @pytest.mark.parametrize(
        "path",
        [
            "/api/programs",
            "/api/programs/checkout",
            "/api/items",
            "/api/items.csv",
            "/api/programs/checkout/reports",
            "/programs/checkout",
        ],
    )
    async def test_authenticated_answers_are_never_stored_by_a_cache(
        self, token_site: httpx.AsyncClient, path: str
    ) -> None:
        answer = await token_site.get(path, headers=VIEWER)
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == "private, no-store"

    async def test_the_stylesheet_may_be_cached(self, token_site: httpx.AsyncClient) -> None:
        answer = await token_site.get("/static/throughline.css")
        assert answer.headers["cache-control"].startswith("public")


class TestWebhookPayloads:
    async def test_only_admins_see_a_deliverys_raw_payload(
        self, token_site: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        async with session_scope(make_sessionmaker(committed_engine)) as session:
            source = await make_source(session, "hooks")
            row = inbox.event_row(
                source_id=source.id,
                delivery_id="d-1",
                event_type="jira:issue_updated",
                body='{"secret-ish": "what a viewer may not read"}',
                headers={"user-agent": "Atlassian"},
                trusted=True,
                now=datetime.now(UTC),
            )
            await inbox.store_events(session, [row])
        seen = (await token_site.get("/api/webhooks/events", headers=VIEWER)).json()["events"]
        raw = (await token_site.get("/api/webhooks/events", headers=ADMIN)).json()["events"]
        assert (seen[0]["body"], seen[0]["headers"]) == (None, None)
        assert seen[0]["event_type"] == "jira:issue_updated"
        assert "what a viewer may not read" in raw[0]["body"]


class TestMetrics:
    async def test_metrics_need_a_token_when_the_api_does(
        self, token_site: httpx.AsyncClient
    ) -> None:
        assert (await token_site.get("/metrics")).status_code == 401
        assert (
            await token_site.get("/metrics", headers={"Authorization": "Bearer guess"})
        ).status_code == 401
        answer = await token_site.get("/metrics", headers=VIEWER)
        assert answer.status_code == 200
        assert "throughline_http_request_seconds" in answer.text

    async def test_a_metrics_token_is_the_only_key_when_one_is_set(
        self, app_factory: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("T_VIEWER", "viewer-secret")
        monkeypatch.setenv("T_ADMIN", "admin-secret")
        app = app_factory(
            data.CONFIG.replace("server: {auth: none}", TOKENS), metrics={"token": "scrape-me"}
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
        ):
            assert (await client.get("/metrics", headers=VIEWER)).status_code == 401
            scraped = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
            assert scraped.status_code == 200

    async def test_metrics_on_their_own_listener_leave_the_main_one(
        self, app_factory: Callable[..., FastAPI]
    ) -> None:
        app = app_factory(data.CONFIG, metrics={"port": 0, "token": "scrape-me"})
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
        ):
            assert (await client.get("/metrics")).status_code == 404
            state = app.state.throughline
            async with metrics_listener(state) as port:
                assert port is not None
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as scraper:
                    refused = await scraper.get("/metrics")
                    scraped = await scraper.get(
                        "/metrics", headers={"Authorization": "Bearer scrape-me"}
                    )
                    other = await scraper.get("/api/programs")
            assert (refused.status_code, scraped.status_code, other.status_code) == (401, 200, 404)
            assert "throughline_webhook_backlog_events" in scraped.text


class TestOutOfRangeNumbers:
    async def test_a_risk_id_past_any_row_is_a_404_in_the_api_and_the_pages(
        self, open_site: httpx.AsyncClient
    ) -> None:
        huge = 2**70
        api = await open_site.patch(f"/api/programs/checkout/risks/{huge}", json={"owner": "x"})
        delete = await open_site.delete(f"/api/programs/checkout/risks/{huge}")
        page = await open_site.get(f"/programs/checkout/risks/{huge}/edit")
        assert (api.status_code, delete.status_code, page.status_code) == (404, 404, 404)

    async def test_a_scenario_id_past_any_row_is_a_404(self, open_site: httpx.AsyncClient) -> None:
        for huge in (2**70, -(2**60), 2**31):
            gone = await open_site.delete(f"/api/programs/checkout/scenarios/{huge}")
            assert gone.status_code == 404, (huge, gone.text)

    async def test_a_cursor_past_any_row_is_a_422_naming_the_cursor(
        self, open_site: httpx.AsyncClient
    ) -> None:
        first = await open_site.get("/api/items", params={"limit": 1})
        cursor = first.json()["next_cursor"]
        _, fingerprint = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        forged = base64.urlsafe_b64encode(json.dumps([2**70, fingerprint]).encode()).decode()
        answer = await open_site.get("/api/items", params={"limit": 1, "cursor": forged})
        assert answer.status_code == 422
        assert "cursor" in answer.text
