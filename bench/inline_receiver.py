"""The webhooks benchmark's baseline: a receiver that applies each delivery in its request.

Verify the signature, map the embedded issue exactly as the worker does, upsert it
(newer-wins) and commit before answering — the roll-up is not even recomputed. Run as
``python -m bench.inline_receiver PORT`` with the same environment as ``throughline serve``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.config import JiraSourceConfig, load_config, resolve_secret
from app.config.settings import Settings
from app.store import records
from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.sync import trackers
from connectors.base import Page
from connectors.jira import webhook
from connectors.jira.connector import JiraConnector
from connectors.jira.mapping import parse_issue, to_item


def build() -> Starlette:
    settings = Settings()
    config = load_config(settings.config, environ=os.environ)
    source = next(s for s in config.sources if isinstance(s, JiraSourceConfig))
    secret_env = source.webhook.secret_env if source.webhook else None
    assert secret_env, "the benchmark's source names a webhook secret"
    secret = resolve_secret(secret_env).get_secret_value()
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    client = trackers.build_http_client(source)
    connector = trackers.build_connector(source, client)
    assert isinstance(connector, JiraConnector)
    source_id: list[int] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await connector.site()
        async with session_scope(sessionmaker) as session:
            row = await records.get_source(session, source.name)
            assert row is not None
            source_id.append(row.id)
        yield
        await client.aclose()
        await engine.dispose()

    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        if not webhook.is_signed_by(secret, body, request.headers.get("x-hub-signature")):
            return JSONResponse({"detail": "bad signature"}, status_code=401)
        site, _ = await connector.site()
        item = to_item(parse_issue(json.loads(body)["issue"], source.name), site)
        async with session_scope(sessionmaker) as session:
            await records.save_page(
                session, source_id[0], Page("webhook", [item]), now=datetime.now(UTC)
            )
        return JSONResponse({"status": "applied"})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/webhooks/jira/{source}", receive, methods=["POST"]),
            Route("/healthz", health),
        ],
        lifespan=lifespan,
    )


if __name__ == "__main__":
    uvicorn.run(build(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
