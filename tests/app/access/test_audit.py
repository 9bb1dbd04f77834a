"""The audit log: every write through the API, the pages' forms and the command line is
recorded with who, when, what and the before and after; admins list it with filters;
it never holds a secret."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.cli import tokens as tokens_cmd
from app.store.audit import WITHHELD, clean, record_audit
from app.store.engine import make_sessionmaker, session_scope
from app.store.tables import ApiTokenRow, AuditRow
from tests.app.access.conftest import ADMIN, VIEWER_A, Org
from tests.app.conftest import make_settings


async def _log(org: Org, **params: str) -> list[dict[str, object]]:
    answer = await org.client.get("/api/audit", headers=ADMIN, params=params)
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, object]] = answer.json()["entries"]
    return entries


async def test_risk_register_changes_are_recorded_with_before_and_after(org: Org) -> None:
    url = f"/api/programs/platform/risks/{org.risk_id}"
    changed = await org.client.patch(url, headers=ADMIN, json={"owner": "Bo Chen", "impact": 5})
    assert changed.status_code == 200, changed.text
    assert (await org.client.delete(url, headers=ADMIN)).status_code == 204

    entries = await _log(org, what="risk", program="platform")
    assert [e["action"] for e in entries] == ["risk.delete", "risk.update", "risk.create"]
    assert {e["actor"] for e in entries} == {"ops"}
    update = entries[1]
    assert update["subject"] == f"risk {org.risk_id}"
    assert update["before"]["owner"] is None  # type: ignore[index]
    assert update["after"]["owner"] == "Bo Chen"  # type: ignore[index]
    assert update["before"]["impact"] == 4  # type: ignore[index]
    assert update["after"]["impact"] == 5  # type: ignore[index]
    assert entries[0]["after"] is None
    assert entries[0]["before"]["title"] == "Vault API audit by Bo Chen"  # type: ignore[index]


async def test_notes_release_and_a_manual_sync_are_recorded(org: Org) -> None:
    notes = await org.client.put(
        "/api/programs/checkout/reports/2026-W48/notes",
        headers=ADMIN,
        json={"notes": "Card vault slips a week."},
    )
    assert notes.status_code == 200, notes.text
    sent = await org.client.post("/api/programs/checkout/reports/2026-W48/send", headers=ADMIN)
    assert sent.status_code == 200, sent.text
    synced = await org.client.post("/api/sources/jira/sync", headers=ADMIN)
    assert synced.status_code == 202, synced.text

    entries = await _log(org, who="ops")
    actions = [e["action"] for e in entries]
    assert actions[:3] == ["sync.start", "report.release", "report.notes"]
    assert entries[2]["after"] == {"notes": "Card vault slips a week.", "released": False}
    assert entries[2]["program"] == "checkout"
    assert entries[2]["subject"] == "2026-W48"
    assert entries[1]["before"] == {"released_at": None}


async def test_the_log_filters_by_who_what_and_time(org: Org) -> None:
    everything = await _log(org)
    assert len(everything) == 2  # the two risks the fixture added
    assert await _log(org, who="nobody") == []
    assert len(await _log(org, what="risk.create")) == 2
    assert await _log(org, what="report") == []
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert await _log(org, since=later) == []
    assert len(await _log(org, until=later)) == 2
    assert (await org.client.get("/api/audit", headers=VIEWER_A)).status_code == 403
    page = await org.client.get("/audit?what=risk", headers={**ADMIN, "Accept": "text/html"})
    assert page.status_code == 200
    assert "risk.create" in page.text
    assert "Vault API audit by Bo Chen" in page.text


def test_secret_fields_are_never_kept() -> None:
    cleaned = clean(
        {
            "token": "tl_abc",
            "name": "ci",
            "nested": {"client_secret": "s3cret", "webhook_secret_env": "HOOK", "ok": 1},
            "list": [{"password": "pw"}],
        }
    )
    assert cleaned == {
        "token": WITHHELD,
        "name": "ci",
        "nested": {"client_secret": WITHHELD, "webhook_secret_env": WITHHELD, "ok": 1},
        "list": [{"password": WITHHELD}],
    }


async def test_record_audit_is_there_for_later_writes(org: Org, database_url: str) -> None:
    sessionmaker = make_sessionmaker(org.app.state.throughline.engine)
    async with session_scope(sessionmaker) as session:
        await record_audit(
            session,
            actor="ana",
            action="scenario.save",
            program="checkout",
            subject="plan b",
            before=None,
            after={"name": "plan b", "api_token": "tl_zzz"},
        )
    entries = await _log(org, what="scenario")
    assert entries[0]["after"] == {"name": "plan b", "api_token": WITHHELD}


async def test_named_tokens_work_until_revoked_or_expired_and_only_digests_are_kept(
    org: Org, database_url: str
) -> None:
    settings = make_settings(database_url)
    token = await tokens_cmd.create(
        settings, name="ci", role="viewer", groups=["platform-team"], lifetime=timedelta(days=1)
    )
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await org.client.get("/api/programs/platform", headers=bearer)).status_code == 200
    other = await tokens_cmd.create(
        settings, name="outsider", role="viewer", groups=[], lifetime=None
    )
    outsider = {"Authorization": f"Bearer {other}"}
    assert (await org.client.get("/api/programs/platform", headers=outsider)).status_code == 404
    assert (await org.client.get("/api/programs/checkout", headers=outsider)).status_code == 200
    assert (await org.client.get("/api/audit", headers=bearer)).status_code == 403

    lines = await tokens_cmd.listing(settings)
    assert [line.split("\t")[0] for line in lines] == ["ci", "outsider"]
    assert all(token not in line and other not in line for line in lines)

    await tokens_cmd.revoke(settings, "ci")
    assert (await org.client.get("/api/programs/checkout", headers=bearer)).status_code == 401
    assert "revoked" in (await tokens_cmd.listing(settings))[0]

    expired = await tokens_cmd.create(
        settings,
        name="old",
        role="admin",
        groups=[],
        lifetime=timedelta(hours=1),
        now=datetime.now(UTC) - timedelta(hours=2),
    )
    old = {"Authorization": f"Bearer {expired}"}
    assert (await org.client.get("/api/programs", headers=old)).status_code == 401

    sessionmaker = make_sessionmaker(org.app.state.throughline.engine)
    async with session_scope(sessionmaker) as session:
        rows = (await session.scalars(select(ApiTokenRow))).all()
        stored = json.dumps(
            [[r.name, r.role, r.groups, r.digest] for r in rows]
            + [[a.before, a.after, a.subject] for a in (await session.scalars(select(AuditRow)))]
        )
    for secret in (token, other, expired):
        assert secret not in stored
    entries = await _log(org, what="token")
    assert [e["action"] for e in entries] == [
        "token.create",
        "token.revoke",
        "token.create",
        "token.create",
    ]
    assert entries[1]["after"]["revoked_at"] is not None  # type: ignore[index]
