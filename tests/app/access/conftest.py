"""The portfolio organisation with the Platform program restricted to its own group, and
tokens for an admin, a viewer in that group and a viewer outside it; reports, a digest,
an alert and a risk are stored for every program so each kind of page has something to
show (or to hide)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs.recompute import recompute
from app.reports import portfolio as digests
from app.reports import service
from app.reports.weeks import Week
from app.store import catalog
from app.store.engine import make_sessionmaker, session_scope
from app.store.tables import AlertRow, ProgramRow
from tests.app import portfolio_data as data

TOKENS = """
server:
  auth: tokens
  tokens:
    - {name: ops, role: admin, token_env: T_ADMIN}
    - {name: platform-viewer, role: viewer, token_env: T_A, groups: [platform-team]}
    - {name: pm-viewer, role: viewer, token_env: T_B, groups: [pm]}
"""
CONFIG = (
    data.CONFIG.replace("server: {auth: none}", TOKENS)
    .replace("    name: Platform\n", "    name: Platform\n    visible_to: [platform-team]\n")
    .replace(
        "people:\n",
        "  - key: vault-first\n"
        "    name: Vault first\n"
        "    owner: Fay Green\n"
        "    period: 2027-Q1\n"
        "    contributors:\n"
        "      - {program: platform}\n"
        "people:\n",
    )
)
ANONYMOUS: dict[str, str] = {}
VIEWER_A = {"Authorization": "Bearer token-a-platform"}
VIEWER_B = {"Authorization": "Bearer token-b-elsewhere"}
ADMIN = {"Authorization": "Bearer token-admin"}
WEEK = Week(2026, 48)
RESTRICTED = (
    "Platform",
    "platform",
    "Bo Chen",
    "Card vault",
    "PLAT-",
    "Vault API",
    "Pia Platt",
)
"""What names the restricted program, its owner, outcome, items and its only people."""


@dataclass
class Org:
    client: httpx.AsyncClient
    app: FastAPI
    risk_id: int
    checkout_risk_id: int


@pytest.fixture
async def org(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Org]:
    monkeypatch.setenv("T_ADMIN", "token-admin")
    monkeypatch.setenv("T_A", "token-a-platform")
    monkeypatch.setenv("T_B", "token-b-elsewhere")
    app = app_factory(CONFIG)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        sessionmaker = make_sessionmaker(committed_engine)
        config = app.state.throughline.config
        async with session_scope(sessionmaker) as session:
            await catalog.apply_config(session, config, now=data.NOW)
            await data.seed(session)
        await recompute(sessionmaker, config, now=data.NOW)
        monday = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
        async with session_scope(sessionmaker) as session:
            for key in ("checkout", "platform"):
                await service.generate(session, config, key, WEEK, now=monday)
            await digests.generate(session, config, WEEK, now=monday)
            platform = await session.scalar(
                select(ProgramRow.id).where(ProgramRow.key == "platform")
            )
            assert platform is not None
            session.add(
                AlertRow(
                    program_id=platform,
                    kind="rag_change",
                    subject="",
                    fingerprint="rag_change::red",
                    severity="high",
                    title="Platform turned red: Card vault is late",
                    items=["PLAT-2"],
                    raised_at=data.NOW,
                    status="muted",
                    deliveries=[],
                )
            )
        created = await client.post(
            "/api/programs/platform/risks",
            headers=ADMIN,
            json={"title": "Vault API audit by Bo Chen", "probability": 3, "impact": 4},
        )
        assert created.status_code == 201, created.text
        other = await client.post(
            "/api/programs/checkout/risks",
            headers=ADMIN,
            json={"title": "Card fees may rise", "probability": 2, "impact": 3},
        )
        assert other.status_code == 201, other.text
        yield Org(client, app, created.json()["id"], other.json()["id"])
