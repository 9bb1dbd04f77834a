"""Registering a source's webhooks with its tracker, and keeping Jira's dynamic ones alive.

Asana: one webhook per configured project, targeting
``{public_url}/webhooks/asana/{source}?resource={project}``. Asana completes a handshake
with that URL before it answers the creation call, so the **running server** must be
reachable; this process opens the handshake window in the database for exactly the
projects it is about to create webhooks for, the server takes one handshake per project
and seals its secret, and the window closes when the registration ends. A project that
already has a secret is skipped (``replace`` registers it anew).

Jira: admin webhooks can be signed with a secret but (as far as is documented) only be
given one on the admin page, so the command prints the exact steps and the secret. OAuth
2.0 apps (a Bearer token) may register dynamic webhooks through the REST API; those are
not signed, so they are used only for a source that opted in to unsigned hints, and they
expire after 30 days unless refreshed (``refresh_jira_webhooks``, a scheduled job).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import AsanaSourceConfig, JiraSourceConfig, ThroughlineConfig, WebhookConfig
from app.store import catalog
from app.store.engine import session_scope
from app.sync import trackers
from app.webhooks import subscriptions
from connectors.jira import jql as jql_text
from connectors.jira import webhook as jira_webhook

log = logging.getLogger(__name__)

HANDSHAKE_WINDOW = timedelta(minutes=2)
REFRESH_BEFORE = timedelta(days=10)
"""Refresh a dynamic webhook this long before it expires (they live 30 days)."""
ASANA_FILTERS = [
    *(
        {"resource_type": "task", "action": action}
        for action in ("added", "changed", "removed", "deleted", "undeleted")
    ),
    # A story on a task or a subtask (a comment, or the system's note of a change): the
    # task is read back, so a change whose own event was lost still arrives.
    {"resource_type": "story", "action": "added"},
]


@dataclass(slots=True)
class Registration:
    ok: bool
    lines: list[str] = field(default_factory=list)
    webhook_ids: list[str] = field(default_factory=list)


async def register(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    name: str,
    *,
    public_url: str,
    environ: Mapping[str, str] | None = None,
    pool: trackers.TrackerPool | None = None,
    replace: bool = False,
) -> Registration:
    """Register the webhooks of one configured source (see the module's docstring).

    Through the process's ``pool`` when given (its connections and pacing), else through
    a pool of this source opened for the call.
    """
    source = config.source(name)
    if source is None:
        return Registration(False, [f"no source named {name!r} in the configuration"])
    async with session_scope(sessionmaker) as session:
        source_id = (await catalog.apply_config(session, config, now=_now()))[name].id
    used = pool or trackers.TrackerPool([source], environ=environ)
    try:
        if isinstance(source, AsanaSourceConfig):
            return await _asana(sessionmaker, source, source_id, used, public_url, replace)
        return await _jira(sessionmaker, source, source_id, used, public_url, environ)
    finally:
        if pool is None:
            await used.aclose()


async def _asana(
    sessionmaker: async_sessionmaker[AsyncSession],
    source: AsanaSourceConfig,
    source_id: int,
    pool: trackers.TrackerPool,
    public_url: str,
    replace: bool,
) -> Registration:
    client = pool.http(source.name)
    projects = list(source.projects) or list(await pool.connector(source.name).scopes())
    async with session_scope(sessionmaker) as session:
        now = _now()
        row = await subscriptions.get(session, source_id)
        kept = set() if row is None or replace else set(row.secrets)
        creating = [p for p in projects if p not in kept]
        if replace:
            await subscriptions.forget_secrets(session, source_id, creating, now=now)
        await subscriptions.open_handshake(
            session, source_id, creating, until=now + HANDSHAKE_WINDOW, now=now
        )
    result = Registration(True)
    result.lines += [
        f"project {p}: already registered (its secret is kept; --replace registers it anew)"
        for p in projects
        if p not in creating
    ]
    try:
        for project in creating:
            target = f"{public_url.rstrip('/')}/webhooks/asana/{source.name}?resource={project}"
            answer = await client.post(
                "/webhooks",
                json={"data": {"resource": project, "target": target, "filters": ASANA_FILTERS}},
            )
            if answer.status_code != 201:
                result.ok = False
                result.lines.append(
                    f"project {project}: Asana answered {answer.status_code}: {_errors(answer)}"
                )
                continue
            gid = str(answer.json()["data"]["gid"])
            result.webhook_ids.append(gid)
            result.lines.append(f"project {project}: webhook {gid} → {target}")
    finally:
        # However it ended, the window closes with the registration.
        async with session_scope(sessionmaker) as session:
            await subscriptions.record_registration(
                session, source_id, result.webhook_ids, now=_now()
            )
    return result


async def _jira(
    sessionmaker: async_sessionmaker[AsyncSession],
    source: JiraSourceConfig,
    source_id: int,
    pool: trackers.TrackerPool,
    public_url: str,
    environ: Mapping[str, str] | None,
) -> Registration:
    client = pool.http(source.name)
    webhook = source.webhook or WebhookConfig()
    target = f"{public_url.rstrip('/')}/webhooks/jira/{source.name}"
    projects = list(source.projects) or list(await pool.connector(source.name).scopes())
    jql = jql_text.in_projects(projects)
    app_token = source.auth.email_env is None
    if app_token and webhook.allow_unsigned:
        events = [e for e in webhook.events if e in jira_webhook.DYNAMIC_EVENTS]
        answer = await client.post(
            "/rest/api/3/webhook",
            json={"url": target, "webhooks": [{"events": events, "jqlFilter": jql}]},
        )
        if answer.status_code < 300:
            return await _record_dynamic(sessionmaker, source_id, client, answer, target)
        log.info("dynamic webhook refused (%s); printing the admin steps", answer.status_code)
    return Registration(True, admin_steps(source, target, jql, environ))


async def _record_dynamic(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    client: httpx.AsyncClient,
    answer: httpx.Response,
    target: str,
) -> Registration:
    results = answer.json().get("webhookRegistrationResult") or []
    ids = [str(r["createdWebhookId"]) for r in results if "createdWebhookId" in r]
    errors = [e for r in results for e in r.get("errors", [])]
    expires = await _refresh(client, ids) if ids else None
    async with session_scope(sessionmaker) as session:
        await subscriptions.record_registration(
            session, source_id, ids, now=_now(), expires_at=expires
        )
    lines = [
        f"dynamic webhook {i} → {target} (unsigned: deliveries are re-read hints)" for i in ids
    ]
    if expires is not None:
        lines.append(f"expires {expires:%Y-%m-%d %H:%M} UTC; the scheduler refreshes it")
    lines += [f"refused: {e}" for e in errors]
    return Registration(bool(ids) and not errors, lines, ids)


def admin_steps(
    source: JiraSourceConfig, target: str, jql: str, environ: Mapping[str, str] | None
) -> list[str]:
    """What a Jira administrator does on the site, secret included."""
    webhook = source.webhook or WebhookConfig()
    env_name = webhook.secret_env or f"{source.name.upper().replace('-', '_')}_WEBHOOK_SECRET"
    secret = (environ or {}).get(env_name) if webhook.secret_env else None
    lines = [
        f"Jira source {source.name}: create an admin webhook on {source.url}",
        "  1. Settings (cog) → System → WebHooks → Create a WebHook",
        f"  2. Name: Throughline ({source.name})",
        f"  3. URL: {target}",
    ]
    if secret:
        lines.append(f"  4. Secret: {secret}   (the value of ${env_name})")
    else:
        secret = secrets.token_urlsafe(32)
        lines.append(f"  4. Secret: {secret}")
        lines.append(
            f"     then set {env_name}={secret} for the server and add "
            f"'webhook: {{secret_env: {env_name}}}' to the source in the configuration"
        )
    lines += [
        f"  5. Issue related events → JQL: {jql}",
        "     tick Issue: created, updated, deleted; Issue link: created, deleted",
        "  6. Leave 'Exclude body' unticked, and save.",
    ]
    return lines


async def refresh_jira_webhooks(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    *,
    now: datetime,
    environ: Mapping[str, str] | None = None,
    pool: trackers.TrackerPool | None = None,
) -> list[str]:
    """Extend every Jira dynamic webhook that expires within ``REFRESH_BEFORE``."""
    refreshed = []
    for source in config.sources:
        if not isinstance(source, JiraSourceConfig):
            continue
        async with session_scope(sessionmaker) as session:
            rows = await catalog.apply_config(session, config, now=now)
            row = await subscriptions.get(session, rows[source.name].id)
        if row is None or not row.webhook_ids or row.expires_at is None:
            continue
        if row.expires_at - now > REFRESH_BEFORE:
            continue
        used = pool or trackers.TrackerPool([source], environ=environ)
        try:
            expires = await _refresh(used.http(source.name), list(row.webhook_ids))
        finally:
            if pool is None:
                await used.aclose()
        async with session_scope(sessionmaker) as session:
            current = await subscriptions.get(session, row.source_id)
            if current is not None:
                current.expires_at, current.updated_at = expires, now
        log.info("refreshed Jira webhooks of %s until %s", source.name, expires)
        refreshed.append(source.name)
    return refreshed


async def _refresh(client: httpx.AsyncClient, ids: list[str]) -> datetime:
    answer = await client.put(
        "/rest/api/3/webhook/refresh", json={"webhookIds": [int(i) for i in ids]}
    )
    answer.raise_for_status()
    return jira_webhook.expiration(answer.json()["expirationDate"])


def _errors(answer: httpx.Response) -> str:
    try:
        return "; ".join(e.get("message", "?") for e in answer.json().get("errors", []))
    except ValueError:
        return answer.text[:200]


def _now() -> datetime:
    return datetime.now(UTC)
