"""The API fuzzed against its own OpenAPI document (schemathesis): whatever a client
sends, the answer is never a server error and always what the document promises."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs.recompute import recompute
from app.store.engine import make_sessionmaker, session_scope
from connectors.fake.server import serve_in_thread
from tests.app import rollup_data as data
from tests.app.web.api.conftest import ADMIN, TOKENS

pytestmark = pytest.mark.slow
EXAMPLES = 40
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
async def served(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[str]:
    monkeypatch.setenv("T_VIEWER", "viewer-secret")
    monkeypatch.setenv("T_ADMIN", "admin-secret")
    sessionmaker = make_sessionmaker(committed_engine)
    async with session_scope(sessionmaker) as session:
        await data.seed(session)
    app = app_factory(
        data.CONFIG.replace("server: {auth: none}", TOKENS), server={"cache_seconds": 0}
    )
    with serve_in_thread(app) as base:
        await recompute(sessionmaker, data.config(), now=data.NOW)
        yield base


def _real(base: str) -> dict[str, object]:
    """Path parameters that exist, so most cases reach the code behind a lookup."""
    risks = httpx.get(f"{base}/api/programs/checkout/risks", headers=ADMIN).json()["risks"]
    return {
        "key": "checkout",
        "outcome": "fast-pay",
        "source": "jira",
        "risk_id": risks[0]["id"],
    }


def fuzz(base: str) -> list[str]:
    """Run every /api operation's examples; return the failures, one line each.

    Half the cases keep their generated path parameters (mostly unknown names: 404s);
    the other half name a real program, outcome, item or risk.
    """
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json").include(path_regex="^/api/")
    real = _real(base)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), pinned=st.booleans())
        def run(case: schemathesis.Case, pinned: bool) -> None:
            if pinned and case.path_parameters:
                for name in case.path_parameters:
                    if name in real:
                        case.path_parameters[name] = real[name]
                if "/items/" in case.path:
                    case.path_parameters["key"] = "PAY-4"
            response = case.call(base_url=base, headers=ADMIN)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # every operation runs; the failures are asserted together
            failures.append(f"{operation.label}: {exc}")
    return failures


async def test_no_request_makes_the_api_fail(served: str) -> None:
    failures = await asyncio.to_thread(fuzz, served)
    assert failures == []
