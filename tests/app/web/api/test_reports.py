"""The reports API and pages over HTTP: the archive's contract, the three forms, notes
with their roles, and the notes form's CSRF protection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
import respx
import time_machine
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import ThroughlineConfig, parse_config
from app.reports import service
from app.store.engine import make_sessionmaker, session_scope
from app.web.pages import csrf
from tests.app.reports import history
from tests.app.web.api.conftest import ADMIN, TOKENS, VIEWER

SLACK = "https://hooks.slack.test/services/T/B/X"
BASE = "/api/programs/checkout/reports"


def _config(review: bool) -> ThroughlineConfig:
    report = "{review: true, deliver: {slack: {webhook_url_env: SLACK_URL}}}" if review else ""
    return parse_config(history.config_text(report).replace("server: {auth: none}", TOKENS))


@pytest.fixture
def review() -> bool:
    return False


@pytest.fixture
async def api(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    review: bool,
) -> AsyncIterator[httpx.AsyncClient]:
    """The service with two weeks of snapshots and the report of 2026-W47 written."""
    monkeypatch.setenv("T_VIEWER", "viewer-secret")
    monkeypatch.setenv("T_ADMIN", "admin-secret")
    monkeypatch.setenv("SLACK_URL", SLACK)
    cfg = _config(review)
    sessionmaker = make_sessionmaker(committed_engine)
    await history.build(sessionmaker, cfg)
    async with session_scope(sessionmaker) as session:
        await service.generate(
            session, cfg, "checkout", history.WEEK, now=history.MONDAY, deliver=True
        )
    app = app_factory(cfg)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        yield client


async def test_the_archive_lists_weeks_with_their_colour(api: httpx.AsyncClient) -> None:
    body = (await api.get(BASE, headers=VIEWER)).json()
    assert body == {
        "reports": [{"week": "2026-W47", "generated_at": "2026-11-16T08:00:00+01:00", "rag": "red"}]
    }


async def test_a_report_is_served_as_json_markdown_and_html(api: httpx.AsyncClient) -> None:
    report = (await api.get(f"{BASE}/2026-W47", headers=VIEWER)).json()
    assert report["week"] == "2026-W47"
    assert report["snapshot"]["on"] == "2026-11-13"
    assert report["changes"]["completed"][0]["key"] == "PAY-5"
    assert report["links"] is None  # no public URL: no link that would lead nowhere
    assert report["covers"]["text"] == "2026-W47, 7–13 Nov, issued Mon 16 Nov"
    assert report["summary"][0].startswith("Checkout v2 is RED")
    markdown = await api.get(f"{BASE}/2026-W47.md", headers=VIEWER)
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.text.startswith("# Checkout v2 — weekly status 2026-W47")
    page = await api.get(f"{BASE}/2026-W47.html", headers=VIEWER)
    assert page.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)" not in page.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param(f"{BASE}/2026-W30", 404, id="no-report"),
        pytest.param(f"{BASE}/2026-W60", 422, id="no-such-week"),
        pytest.param(f"{BASE}/last-week", 422, id="not-a-week"),
        pytest.param("/api/programs/nope/reports", 404, id="no-program"),
    ],
)
async def test_missing_and_malformed_reports_say_so(
    api: httpx.AsyncClient, path: str, status: int
) -> None:
    assert (await api.get(path, headers=VIEWER)).status_code == status


async def test_notes_need_an_admin_and_rewrite_the_report(api: httpx.AsyncClient) -> None:
    url = f"{BASE}/2026-W47/notes"
    assert (await api.put(url, json={"notes": "x"})).status_code == 401
    assert (await api.put(url, json={"notes": "x"}, headers=VIEWER)).status_code == 403
    answer = await api.put(url, json={"notes": "Vendor SDK is late."}, headers=ADMIN)
    assert answer.status_code == 200
    assert answer.json()["notes"] == "Vendor SDK is late."
    assert answer.json()["generated"] is True
    markdown = (await api.get(f"{BASE}/2026-W47.md", headers=VIEWER)).text
    assert "Vendor SDK is late." in markdown


async def test_notes_for_a_week_not_written_yet_wait_for_it(api: httpx.AsyncClient) -> None:
    answer = await api.put(f"{BASE}/2026-W48/notes", json={"notes": "Early."}, headers=ADMIN)
    assert answer.json()["generated"] is False
    assert (await api.get(f"{BASE}/2026-W48", headers=VIEWER)).status_code == 404


@pytest.mark.parametrize("review", [True])
async def test_in_review_mode_notes_send_the_report(api: httpx.AsyncClient) -> None:
    # The app is reached through its ASGI transport, which respx leaves alone.
    with respx.mock(assert_all_mocked=True) as mock:
        slack = mock.post(SLACK).respond(200, text="ok")
        before = (await api.get(f"{BASE}/2026-W47", headers=VIEWER)).json()
        assert before["deliveries"][0]["status"] == "waiting"
        page = (await api.get("/programs/checkout/reports/2026-W47", headers=VIEWER)).text
        assert "Waiting for review:" in page
        assert '<span class="tl-waiting">waiting</span>' in page
        answer = await api.put(f"{BASE}/2026-W47/notes", json={"notes": "Go."}, headers=ADMIN)
        assert answer.json()["released"] is True
        assert slack.call_count == 1
    after = (await api.get(f"{BASE}/2026-W47", headers=VIEWER)).json()
    assert after["deliveries"][0]["status"] == "sent"
    page = (await api.get("/programs/checkout/reports/2026-W47", headers=VIEWER)).text
    assert '<span class="tl-sent">sent</span>' in page
    assert SLACK not in page


async def test_the_report_page_carries_a_csrf_protected_notes_form(
    api: httpx.AsyncClient,
) -> None:
    page = await api.get("/programs/checkout/reports/2026-W47", headers=ADMIN)
    assert page.status_code == 200
    token = page.cookies[csrf.COOKIE]
    assert f'name="csrf_token" value="{token}"' in page.text
    url = "/programs/checkout/reports/2026-W47/notes"
    forged = await api.post(url, data={"notes": "x", "csrf_token": "guess"}, headers=ADMIN)
    assert forged.status_code == 403
    elsewhere = await api.post(
        url,
        data={"notes": "x", "csrf_token": token},
        headers={**ADMIN, "Origin": "https://evil.test"},
    )
    assert elsewhere.status_code == 403
    saved = await api.post(
        url, data={"notes": "From the form.", "csrf_token": token}, headers=ADMIN
    )
    assert saved.status_code == 303
    report = (await api.get(f"{BASE}/2026-W47", headers=VIEWER)).json()
    assert report["notes"] == "From the form."


async def test_the_archive_page_links_every_week(api: httpx.AsyncClient) -> None:
    page = await api.get("/programs/checkout/reports", headers=VIEWER)
    assert page.status_code == 200
    assert 'href="/programs/checkout/reports/2026-W47"' in page.text


@pytest.mark.parametrize("review", [True])
async def test_send_releases_a_report_without_notes(api: httpx.AsyncClient) -> None:
    url = f"{BASE}/2026-W47/send"
    assert (await api.post(url, headers=VIEWER)).status_code == 403
    with respx.mock(assert_all_mocked=True) as mock:
        slack = mock.post(SLACK).respond(200, text="ok")
        answer = await api.post(url, headers=ADMIN)
        assert answer.json()["released"] is True
        assert slack.call_count == 1
        again = await api.post(url, headers=ADMIN)
        assert [d["status"] for d in again.json()["deliveries"]] == ["sent"]
        assert slack.call_count == 1


async def test_the_week_so_far_is_previewed_in_every_form_and_never_archived(
    api: httpx.AsyncClient,
) -> None:
    with time_machine.travel(datetime(2026, 11, 18, 12, 0, tzinfo=UTC), tick=False):
        report = (await api.get(f"{BASE}/preview", headers=VIEWER)).json()
        markdown = await api.get(f"{BASE}/preview.md", headers=VIEWER)
        page = await api.get("/programs/checkout/reports/preview", headers=VIEWER)
    assert report["preview"] is True
    assert report["week"] == "2026-W47"
    assert report["covers"]["text"] == "2026-W47 to date, 7–13 Nov, a preview"
    assert report["summary"]
    assert report["deliveries"] == []
    assert markdown.text.startswith("# Checkout v2 — weekly status 2026-W47")
    assert "Preview of the week so far" in markdown.text
    assert "Preview of the week so far" in page.text
    archive = (await api.get(BASE, headers=VIEWER)).json()
    assert [r["week"] for r in archive["reports"]] == ["2026-W47"]
    assert (await api.get(f"{BASE}/preview")).status_code == 401
