"""Webhook intake: what is refused, what is stored, and that nothing forged gets in."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config.settings import WebhookSettings
from app.store.engine import make_sessionmaker, session_scope
from app.store.tables import SourceRow, WebhookEventRow, WebhookSubscriptionRow
from app.webhooks import subscriptions

JIRA_SECRET = "jira-webhook-secret"
CONFIG = """
server: {auth: none}
sources:
  - name: acme-jira
    kind: jira
    url: https://acme.atlassian.net
    auth: {email_env: WH_EMAIL, token_env: WH_TOKEN}
    webhook: {secret_env: WH_JIRA_SECRET}
  - name: hints-jira
    kind: jira
    url: https://hints.atlassian.net
    auth: {email_env: WH_EMAIL, token_env: WH_TOKEN}
    webhook: {allow_unsigned: true}
  - name: closed-jira
    kind: jira
    url: https://closed.atlassian.net
    auth: {email_env: WH_EMAIL, token_env: WH_TOKEN}
  - name: mixed-jira
    kind: jira
    url: https://mixed.atlassian.net
    auth: {email_env: WH_EMAIL, token_env: WH_TOKEN}
    webhook: {secret_env: WH_JIRA_SECRET, allow_unsigned: true}
  - name: acme-asana
    kind: asana
    workspace: "1"
    projects: ["42", "43", "44"]
    auth: {token_env: WH_TOKEN}
"""


def jira_body(issue_id: str = "10001", event: str = "jira:issue_updated") -> bytes:
    return json.dumps(
        {"timestamp": 1_763_700_000_000, "webhookEvent": event, "issue": {"id": issue_id}}
    ).encode()


def jira_signature(body: bytes, secret: str = JIRA_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def asana_signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
async def api(
    app_factory: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("WH_EMAIL", "pm@example.com")
    monkeypatch.setenv("WH_TOKEN", "token")
    monkeypatch.setenv("WH_JIRA_SECRET", JIRA_SECRET)
    app = app_factory(
        CONFIG,
        webhooks=WebhookSettings(
            secret_key="server-sealing-key", worker=False, max_body_bytes=4096
        ),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        yield client


async def count_events(engine: AsyncEngine, **where: object) -> int:
    async with session_scope(make_sessionmaker(engine)) as session:
        stmt = select(func.count()).select_from(WebhookEventRow)
        for column, value in where.items():
            stmt = stmt.where(getattr(WebhookEventRow, column) == value)
        return int(await session.scalar(stmt) or 0)


async def post_jira(
    api: httpx.AsyncClient, body: bytes, *, source: str = "acme-jira", **headers: str
) -> httpx.Response:
    return await api.post(f"/webhooks/jira/{source}", content=body, headers=headers)


class TestJiraIntake:
    async def test_signed_delivery_is_stored_once_when_retried(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        body = jira_body()
        headers = {
            "X-Hub-Signature": jira_signature(body),
            "X-Atlassian-Webhook-Identifier": "delivery-1",
        }
        first = await post_jira(api, body, **headers)
        again = await post_jira(api, body, **headers, **{"X-Atlassian-Webhook-Retry": "1"})
        assert (first.status_code, first.json()["status"]) == (200, "stored")
        assert (again.status_code, again.json()["status"]) == (200, "duplicate")
        assert await count_events(committed_engine, state="pending", trusted=True) == 1

    @pytest.mark.parametrize(
        "signature",
        [
            pytest.param(None, id="unsigned"),
            pytest.param(jira_signature(jira_body(), "wrong-secret"), id="other-secret"),
            pytest.param(jira_signature(jira_body("10002")), id="signature-of-another-body"),
            pytest.param("sha256=", id="empty"),
            pytest.param("md5=abc", id="other-scheme"),
        ],
    )
    async def test_forged_delivery_is_401_and_stores_nothing(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine, signature: str | None
    ) -> None:
        headers = {"X-Hub-Signature": signature} if signature else {}
        answer = await post_jira(api, jira_body(), **headers)
        assert answer.status_code == 401
        assert await count_events(committed_engine) == 0

    async def test_truncated_body_fails_its_signature(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        body = jira_body()
        answer = await post_jira(api, body[:-5], **{"X-Hub-Signature": jira_signature(body)})
        assert answer.status_code == 401
        assert await count_events(committed_engine) == 0

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            pytest.param(b'{"webhookEvent": "jira:issue_upd', "not JSON", id="truncated-json"),
            pytest.param(b"\xff\xfe", "not UTF-8", id="binary"),
            pytest.param(b'{"events": []}', "not a Jira webhook", id="asana-shaped"),
            pytest.param(b"[1, 2]", "not a Jira webhook", id="array"),
        ],
    )
    async def test_signed_body_that_is_not_jira_json_is_400_and_kept(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine, body: bytes, message: str
    ) -> None:
        answer = await post_jira(api, body, **{"X-Hub-Signature": jira_signature(body)})
        assert answer.status_code == 400
        assert message in answer.json()["detail"]
        assert await count_events(committed_engine, state="rejected") == 1
        assert await count_events(committed_engine, state="pending") == 0

    async def test_body_over_the_limit_is_413_whether_declared_or_streamed(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        big = b"x" * 5000

        async def stream() -> AsyncIterator[bytes]:
            for start in range(0, len(big), 1000):
                yield big[start : start + 1000]

        declared = await post_jira(api, big, **{"X-Hub-Signature": jira_signature(big)})
        streamed = await api.post(
            "/webhooks/jira/acme-jira",
            content=stream(),
            headers={"X-Hub-Signature": jira_signature(big)},
        )
        assert (declared.status_code, streamed.status_code) == (413, 413)
        assert await count_events(committed_engine) == 0

    async def test_unknown_source_or_wrong_tracker_is_404(self, api: httpx.AsyncClient) -> None:
        assert (await post_jira(api, jira_body(), source="nope")).status_code == 404
        assert (await post_jira(api, jira_body(), source="acme-asana")).status_code == 404

    async def test_unsigned_delivery_is_a_hint_only_where_the_operator_opted_in(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        assert (await post_jira(api, jira_body(), source="closed-jira")).status_code == 401
        answer = await post_jira(api, jira_body(), source="hints-jira")
        assert answer.status_code == 200
        assert await count_events(committed_engine, trusted=False) == 1
        assert await count_events(committed_engine, trusted=True) == 0

    async def test_without_identifier_the_body_hash_dedupes(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        body = jira_body()
        for _ in range(3):
            await post_jira(api, body, **{"X-Hub-Signature": jira_signature(body)})
        assert await count_events(committed_engine) == 1


async def open_registration(engine: AsyncEngine, *resources: str, name: str = "acme-asana") -> None:
    """As ``throughline webhooks register`` does while it creates webhooks for ``resources``."""
    now = datetime.now(UTC)
    async with session_scope(make_sessionmaker(engine)) as session:
        source = await session.scalar(select(SourceRow).where(SourceRow.name == name))
        assert source is not None
        await subscriptions.open_handshake(
            session, source.id, resources or ("42",), until=now + timedelta(minutes=1), now=now
        )


class TestAsanaIntake:
    async def test_handshake_outside_a_registration_is_refused(
        self, api: httpx.AsyncClient
    ) -> None:
        answer = await api.post("/webhooks/asana/acme-asana", headers={"X-Hook-Secret": "s3cr3t"})
        assert answer.status_code == 403
        assert "X-Hook-Secret" not in answer.headers

    async def test_handshake_echoes_and_seals_the_secret_then_deliveries_verify(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        await open_registration(committed_engine)
        url = "/webhooks/asana/acme-asana?resource=42"
        shake = await api.post(url, headers={"X-Hook-Secret": "s3cr3t-value"})
        assert shake.status_code == 200
        assert shake.headers["X-Hook-Secret"] == "s3cr3t-value"
        async with session_scope(make_sessionmaker(committed_engine)) as session:
            row = await session.scalar(select(WebhookSubscriptionRow))
        assert row is not None
        assert "s3cr3t-value" not in json.dumps(row.secrets)

        body = json.dumps(
            {"events": [{"action": "changed", "resource": {"gid": "7", "resource_type": "task"}}]}
        ).encode()
        good = await api.post(
            url, content=body, headers={"X-Hook-Signature": asana_signature(body, "s3cr3t-value")}
        )
        forged = await api.post(
            url, content=body, headers={"X-Hook-Signature": asana_signature(body, "guess")}
        )
        other_resource = await api.post(
            "/webhooks/asana/acme-asana?resource=43",
            content=body,
            headers={"X-Hook-Signature": asana_signature(body, "s3cr3t-value")},
        )
        assert (good.status_code, forged.status_code, other_resource.status_code) == (
            200,
            401,
            401,
        )
        again = await api.post(
            url, content=body, headers={"X-Hook-Signature": asana_signature(body, "s3cr3t-value")}
        )
        assert again.json()["status"] == "duplicate"
        assert await count_events(committed_engine) == 1

    async def test_heartbeat_is_recorded_not_queued(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        await open_registration(committed_engine)
        url = "/webhooks/asana/acme-asana?resource=42"
        await api.post(url, headers={"X-Hook-Secret": "beat"})
        body = b'{"events": []}'
        answer = await api.post(
            url, content=body, headers={"X-Hook-Signature": asana_signature(body, "beat")}
        )
        assert answer.json()["status"] == "heartbeat"
        assert await count_events(committed_engine) == 0
        async with session_scope(make_sessionmaker(committed_engine)) as session:
            row = await session.scalar(select(WebhookSubscriptionRow))
        assert row is not None
        assert row.last_heartbeat_at is not None


async def test_asana_handshake_is_refused_without_a_sealing_key(
    app_factory: Callable[..., FastAPI],
    monkeypatch: pytest.MonkeyPatch,
    committed_engine: AsyncEngine,
) -> None:
    monkeypatch.setenv("WH_EMAIL", "pm@example.com")
    monkeypatch.setenv("WH_TOKEN", "token")
    monkeypatch.setenv("WH_JIRA_SECRET", JIRA_SECRET)
    app = app_factory(CONFIG, webhooks=WebhookSettings(worker=False))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        await open_registration(committed_engine)
        answer = await client.post("/webhooks/asana/acme-asana", headers={"X-Hook-Secret": "x"})
    assert answer.status_code == 503


async def stored_bodies(engine: AsyncEngine) -> list[str]:
    async with session_scope(make_sessionmaker(engine)) as session:
        return list((await session.scalars(select(WebhookEventRow.body))).all())


class TestHostileDeliveries:
    async def test_a_captured_signed_body_sent_again_under_a_new_identifier_is_a_duplicate(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        body = jira_body()
        answers = [
            await post_jira(
                api,
                body,
                **{"X-Hub-Signature": jira_signature(body), "X-Atlassian-Webhook-Identifier": n},
            )
            for n in ("original", "replayed-1", "replayed-2")
        ]
        assert [a.json()["status"] for a in answers] == ["stored", "duplicate", "duplicate"]
        assert await count_events(committed_engine) == 1

    async def test_an_unsigned_delivery_cannot_shadow_a_signed_one_by_taking_its_identifier(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        identifier = {"X-Atlassian-Webhook-Identifier": "delivery-77"}
        forged = await post_jira(api, jira_body("10009"), source="mixed-jira", **identifier)
        body = jira_body("10001")
        real = await post_jira(
            api,
            body,
            source="mixed-jira",
            **identifier,
            **{"X-Hub-Signature": jira_signature(body)},
        )
        assert (forged.json()["status"], real.json()["status"]) == ("stored", "stored")
        assert await count_events(committed_engine, trusted=True) == 1
        assert await count_events(committed_engine, trusted=False) == 1

    async def test_an_unsigned_hint_keeps_only_the_ids_it_names(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        body = json.dumps(
            {
                "timestamp": 1_763_700_000_000,
                "webhookEvent": "jira:issue_updated",
                "issue": {"id": "10001", "fields": {"summary": "x" * 3000}},
                "changelog": {"items": ["y" * 500]},
            }
        ).encode()
        answer = await post_jira(api, body, source="hints-jira")
        assert answer.json()["status"] == "stored"
        [kept] = await stored_bodies(committed_engine)
        assert json.loads(kept) == {
            "webhookEvent": "jira:issue_updated",
            "timestamp": 1_763_700_000_000,
            "issue": {"id": "10001"},
        }

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(b"x" * 3000, id="not-json"),
            pytest.param(b'{"webhookEvent": "jira:issue_updated"}', id="names-no-issue"),
        ],
    )
    async def test_an_unusable_unsigned_body_is_refused_and_never_kept(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine, body: bytes
    ) -> None:
        answer = await post_jira(api, body, source="hints-jira")
        assert answer.status_code == 400
        assert await count_events(committed_engine) == 0

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(b"[" * 2000 + b"]" * 2000, id="past-the-recursion-limit"),
            pytest.param(
                b'{"webhookEvent": "x", "a": ' + b"[" * 100 + b"]" * 100 + b"}", id="deep"
            ),
        ],
    )
    async def test_deeply_nested_json_is_a_400_not_a_server_error(
        self, api: httpx.AsyncClient, body: bytes
    ) -> None:
        answer = await post_jira(api, body, **{"X-Hub-Signature": jira_signature(body)})
        assert answer.status_code == 400
        assert "nested deeper" in answer.json()["detail"]

    async def test_a_non_ascii_signature_is_a_401(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        await open_registration(committed_engine)
        await api.post("/webhooks/asana/acme-asana?resource=42", headers={"X-Hook-Secret": "s"})
        body = b'{"events": []}'
        garbled = "sig-é-ü".encode()
        asana = await api.post(
            "/webhooks/asana/acme-asana?resource=42",
            content=body,
            headers={"X-Hook-Signature": garbled},
        )
        jira = await api.post(
            "/webhooks/jira/acme-jira", content=jira_body(), headers={"X-Hub-Signature": garbled}
        )
        assert (asana.status_code, jira.status_code) == (401, 401)

    async def test_a_body_streamed_in_small_chunks_is_verified_as_it_arrives(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        body = jira_body("10042")

        async def drip() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 7):
                yield body[start : start + 7]

        answer = await api.post(
            "/webhooks/jira/acme-jira",
            content=drip(),
            headers={"X-Hub-Signature": jira_signature(body)},
        )
        assert answer.json()["status"] == "stored"


class TestAsanaHandshakePlanting:
    async def test_a_handshake_for_a_resource_the_registration_is_not_creating_is_refused(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        await open_registration(committed_engine, "42")
        other = await api.post(
            "/webhooks/asana/acme-asana?resource=43", headers={"X-Hook-Secret": "planted"}
        )
        unknown = await api.post(
            "/webhooks/asana/acme-asana?resource=999", headers={"X-Hook-Secret": "planted"}
        )
        nameless = await api.post("/webhooks/asana/acme-asana", headers={"X-Hook-Secret": "x"})
        assert (other.status_code, unknown.status_code, nameless.status_code) == (403, 403, 403)
        assert "X-Hook-Secret" not in other.headers

    async def test_a_second_handshake_for_the_same_resource_never_replaces_the_secret(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        await open_registration(committed_engine, "42")
        url = "/webhooks/asana/acme-asana?resource=42"
        first = await api.post(url, headers={"X-Hook-Secret": "the-real-one"})
        planted = await api.post(url, headers={"X-Hook-Secret": "an-attackers"})
        assert (first.status_code, planted.status_code) == (200, 403)
        body = json.dumps(
            {"events": [{"action": "changed", "resource": {"gid": "7", "resource_type": "task"}}]}
        ).encode()
        real = await api.post(
            url, content=body, headers={"X-Hook-Signature": asana_signature(body, "the-real-one")}
        )
        forged = await api.post(
            url, content=body, headers={"X-Hook-Signature": asana_signature(body, "an-attackers")}
        )
        assert (real.status_code, forged.status_code) == (200, 401)

    async def test_a_new_registration_of_other_resources_cannot_replace_a_kept_secret(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        await open_registration(committed_engine, "42")
        await api.post("/webhooks/asana/acme-asana?resource=42", headers={"X-Hook-Secret": "kept"})
        await open_registration(committed_engine, "42", "43")
        again = await api.post(
            "/webhooks/asana/acme-asana?resource=42", headers={"X-Hook-Secret": "new"}
        )
        assert again.status_code == 403

    async def test_the_window_closes_when_the_registration_ends(
        self, api: httpx.AsyncClient, committed_engine: AsyncEngine
    ) -> None:
        await open_registration(committed_engine, "42", "43")
        async with session_scope(make_sessionmaker(committed_engine)) as session:
            source = await session.scalar(select(SourceRow).where(SourceRow.name == "acme-asana"))
            assert source is not None
            await subscriptions.record_registration(
                session, source.id, ["1"], now=datetime.now(UTC)
            )
        late = await api.post(
            "/webhooks/asana/acme-asana?resource=43", headers={"X-Hook-Secret": "late"}
        )
        assert late.status_code == 403
