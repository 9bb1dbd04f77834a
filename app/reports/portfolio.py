"""The weekly portfolio digest: every program on one page and in one message, for the
person above the program managers.

For each program it reads the snapshot of the day the digest covers and the one a week
before (as a weekly report does, so writing a week again gives the same page): colour
and last week's, the safe date against the target and why it moved, the top risk and
its owner. Programs that changed colour come first; dependencies between programs that
are late are listed apart. One row per ISO week (``digest``), delivered through the same
channels as reports, on its own schedule (``digest.cron``).
"""

from __future__ import annotations

import asyncio
import zoneinfo
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import DigestConfig, ThroughlineConfig
from app.programs import documents, snapshots
from app.programs.lookup import NotFound
from app.render import templates
from app.reports import executive, render, text
from app.reports.delivery import (
    Sleep,
    build_channels,
    is_due,
    record_outcome,
    send_all,
)
from app.reports.delivery.message import Message, Page, Sent
from app.reports.delivery.slack import DOTS
from app.reports.weeks import Week, covered_day, scheduled_run
from app.store.engine import session_scope
from app.store.tables import DigestRow, ProgramRow, SnapshotRow

RANK = {"red": 0, "amber": 1, "grey": 2, "green": 3}


class ProgramLine(BaseModel):
    key: str
    name: str
    rag: documents.RagColor
    previous_rag: documents.RagColor | None = None
    changed: bool = False
    target: date | None = None
    p85: date | None = None
    previous_p85: date | None = None
    movement: str | None = None
    top_risk: str | None = None
    top_risk_owner: str | None = None
    snapshot_on: date | None = None


class CrossDependency(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    waiting_program: str
    blocking_program: str
    waiting: documents.LateEnd
    blocking: documents.LateEnd
    detail: str | None = None


class PortfolioDigest(BaseModel):
    title: str
    week: str
    covers: str
    period_end: date
    generated_at: datetime
    programs: list[ProgramLine] = Field(
        default=[], description="Programs that changed colour first, then worst colour first"
    )
    cross_program: list[CrossDependency] = Field(
        default=[], description="Late dependencies between programs"
    )
    restricted_dependencies: int = Field(
        default=0,
        description="Late dependencies on (or of) programs the reader may not see, not named",
    )


def seen_by(digest: PortfolioDigest, hidden: frozenset[str]) -> PortfolioDigest:
    """The digest without the programs in ``hidden``: their lines dropped, and late
    dependencies that involve them counted, never named."""
    if not hidden:
        return digest
    cross = [
        c
        for c in digest.cross_program
        if c.waiting_program not in hidden and c.blocking_program not in hidden
    ]
    involving = [
        c
        for c in digest.cross_program
        if (c.waiting_program in hidden) != (c.blocking_program in hidden)
    ]
    return digest.model_copy(
        update={
            "programs": [p for p in digest.programs if p.key not in hidden],
            "cross_program": cross,
            "restricted_dependencies": digest.restricted_dependencies + len(involving),
        }
    )


async def _line(
    session: AsyncSession, key: str, name: str, program_id: int, on: date
) -> tuple[ProgramLine, set[str], list[documents.SnapshotLate]] | None:
    day = await snapshots.last_day(session, program_id, on_or_before=on)
    if day is None:
        return None
    rows = await snapshots.day_rows(session, program_id, day)
    row = next(r for r in rows if r.outcome_key == "")
    before_day = await snapshots.last_day(session, program_id, on_or_before=day - timedelta(days=7))
    before: SnapshotRow | None = None
    if before_day is not None:
        before = next(
            r
            for r in await snapshots.day_rows(session, program_id, before_day)
            if r.outcome_key == ""
        )
    document = row.document or {}
    status = document.get("status") or {}
    top = ((document.get("risks") or {}).get("top") or [None])[0]
    line = ProgramLine(
        key=key,
        name=name,
        rag=row.rag,
        previous_rag=before.rag if before else None,
        changed=before is not None and before.rag != row.rag,
        target=status.get("target"),
        p85=row.forecast_p85_on,
        previous_p85=before.forecast_p85_on if before else None,
        movement=executive.plural(
            ((status.get("forecast") or {}).get("movement") or {}).get("text") or ""
        )
        or None,
        top_risk=executive.plural(top["title"]) if top else None,
        top_risk_owner=top.get("owner") if top else None,
        snapshot_on=day,
    )
    late = documents.LateList.model_validate(document.get("late_dependencies") or {})
    return line, set((row.data or {}).get("items", {})), list(late.items)


async def compose(
    session: AsyncSession, config: ThroughlineConfig, week: Week, *, now: datetime
) -> PortfolioDigest:
    """The digest of ``week`` from every program's snapshots up to the day it covers."""
    digest = config.digest or DigestConfig()
    zone = zoneinfo.ZoneInfo(digest.timezone)
    covered = covered_day(week, digest.cron, zone)
    if covered >= now.astimezone(zone).date():
        raise NotFound(f"The digest of {week} covers up to {covered}; it can be written after.")
    ids = dict((await session.execute(select(ProgramRow.key, ProgramRow.id))).all())
    lines: list[ProgramLine] = []
    members: dict[str, set[str]] = {}
    lates: dict[str, list[documents.SnapshotLate]] = {}
    for program in config.programs:
        if program.key not in ids:
            continue
        found = await _line(session, program.key, program.name, ids[program.key], covered)
        if found is None:
            continue
        lines.append(found[0])
        members[program.key], lates[program.key] = found[1], found[2]
    fire = scheduled_run(week, digest.cron, zone)
    issued = f", issued {fire:%a %-d %b}" if fire else ""
    return PortfolioDigest(
        title=digest.title,
        week=str(week),
        covers=f"{week}, {executive.span(covered - timedelta(days=6), covered)}{issued}",
        period_end=covered,
        generated_at=now.astimezone(zone),
        programs=sorted(lines, key=lambda p: (not p.changed, RANK.get(p.rag, 9), p.name)),
        cross_program=_cross(members, lates),
    )


def _cross(
    members: Mapping[str, set[str]], lates: Mapping[str, list[documents.SnapshotLate]]
) -> list[CrossDependency]:
    """Late dependencies whose blocking item belongs to another program, not this one."""
    found = []
    for key, late in lates.items():
        for d in late:
            ref = f"{d.from_.source}:{d.from_.key}"
            if ref in members.get(key, set()):
                continue
            owners = sorted(k for k, refs in members.items() if k != key and ref in refs)
            for other in owners[:1]:
                found.append(
                    CrossDependency(
                        waiting_program=key,
                        blocking_program=other,
                        waiting=d.to,
                        blocking=d.from_,
                        detail=d.detail,
                    )
                )
    return found


def links_of(public_url: str | None, week: str) -> dict[str, str]:
    if not public_url:
        return {}
    base = public_url.rstrip("/")
    return {"page": f"{base}/digests/{week}", "json": f"{base}/api/digests/{week}"}


def html(digest: PortfolioDigest, links: Mapping[str, str]) -> str:
    page = (
        templates.html()
        .get_template("report/digest.html")
        .render(d=digest, links=links, public_url_needed=render.PUBLIC_URL_NEEDED, chart_css="")
    )
    return render.inline_styles(page)


def markdown(digest: PortfolioDigest, links: Mapping[str, str]) -> str:
    env = render.markdown_environment()
    return env.get_template("report/digest.md").render(d=digest, links=links)


def message(digest: PortfolioDigest, page: str, links: Mapping[str, str]) -> Message:
    lines = []
    for p in digest.programs:
        was = f" (was {p.previous_rag.upper()})" if p.changed and p.previous_rag else ""
        risk = f" — top risk: {p.top_risk}" if p.top_risk else ""
        date_text = f" — P85 {templates.day(p.p85)}" if p.p85 else ""
        lines.append(
            f"{DOTS.get(p.rag, ':white_circle:')} *{text.escape_slack(p.name)}* "
            f"{p.rag.upper()}{was}{text.escape_slack(date_text + risk)}"
        )
    cross = len(digest.cross_program)
    if cross:
        lines.append(f"{cross} late dependenc{'y' if cross == 1 else 'ies'} between programs")
    if links.get("page"):
        lines.append(text.slack_link("Read the digest", links["page"]))
    head = f"*{text.escape_slack(digest.title)}* — weekly digest {text.escape_slack(digest.covers)}"
    plain = "\n".join(
        [f"{digest.title} — weekly digest {digest.covers}", ""]
        + [
            f"* {p.name}: {p.rag.upper()}"
            + (f" (was {p.previous_rag.upper()})" if p.changed and p.previous_rag else "")
            + (f"; P85 {templates.day(p.p85)}" if p.p85 else "")
            + (f"; top risk: {p.top_risk}" if p.top_risk else "")
            for p in digest.programs
        ]
        + ([f"\nRead it in full: {links['page']}"] if links.get("page") else [])
    )
    return Message(
        subject=f"{digest.title} — weekly digest {digest.covers}",
        html=page,
        text=plain + "\n",
        slack={
            "text": f"{text.escape_slack(digest.title)} — weekly digest {digest.week}",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join([head, *lines])}}
            ],
        },
        links=links,
        page=Page(digest.title, digest.week, _storage(digest, links)),
        event={"kind": "portfolio_digest", "week": digest.week, **digest.model_dump(mode="json")},
    )


def _storage(digest: PortfolioDigest, links: Mapping[str, str]) -> str:
    return templates.html().get_template("report/digest.xml").render(d=digest, links=links)


async def generate(
    session: AsyncSession,
    config: ThroughlineConfig,
    week: Week,
    *,
    now: datetime,
    public_url: str | None = None,
) -> DigestRow:
    """Write (or rewrite) a week's digest, keeping its delivery record."""
    digest = await compose(session, config, week, now=now)
    row = await session.scalar(select(DigestRow).where(DigestRow.week == str(week)))
    if row is None:
        row = DigestRow(week=str(week), deliveries=[])
        session.add(row)
    links = links_of(public_url, str(week))
    row.generated_at = now
    row.data = digest.model_dump(mode="json")
    row.html = html(digest, links)
    row.markdown = markdown(digest, links)
    await session.flush()
    return row


async def get(session: AsyncSession, week: Week) -> DigestRow:
    row = await session.scalar(select(DigestRow).where(DigestRow.week == str(week)))
    if row is None:
        raise NotFound(f"There is no portfolio digest for {week} yet.")
    return row


async def list_weeks(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(DigestRow.week).order_by(DigestRow.week.desc())))


async def deliver(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    week: Week,
    *,
    now: datetime,
    environ: Mapping[str, str],
    public_url: str | None = None,
    sleep: Sleep = asyncio.sleep,
) -> dict[str, str]:
    """Send the week's digest to each of its channels not yet sent; channel → status."""
    if config.digest is None:
        return {}
    available = build_channels(config.digest.deliver, environ)
    async with session_scope(sessionmaker) as session:
        row = await get(session, week)
        row.released_at = row.released_at or now
        entries = {e["channel"]: dict(e) for e in row.deliveries or []}
        for name in available:
            entries.setdefault(name, {"channel": name, "target": name, "status": "pending"})
        due = [n for n, e in entries.items() if n in available and is_due(e, now)]
        row.deliveries = list(entries.values())
        links = links_of(public_url, row.week)
        prepared = message(PortfolioDigest.model_validate(row.data), row.html, links)
    if not due:
        return {}
    results = await send_all(available, due, prepared, sleep)
    async with session_scope(sessionmaker) as session:
        row = await get(session, week)
        recorded = [dict(e) for e in row.deliveries or []]
        for entry in recorded:
            if entry["channel"] in results:
                record_outcome(entry, results[entry["channel"]], now)
        row.deliveries = recorded
    return {n: "sent" if isinstance(r, Sent) else "failed" for n, r in results.items()}


async def weekly(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    *,
    now: datetime,
    environ: Mapping[str, str],
    public_url: str | None = None,
) -> dict[str, str]:
    """The scheduled run: write the digest of the week of ``now`` and deliver it."""
    digest = config.digest or DigestConfig()
    week = Week.of(now.astimezone(zoneinfo.ZoneInfo(digest.timezone)).date())
    async with session_scope(sessionmaker) as session:
        await generate(session, config, week, now=now, public_url=public_url)
    return await deliver(
        sessionmaker, config, week, now=now, environ=environ, public_url=public_url
    )


async def retry_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    *,
    now: datetime,
    environ: Mapping[str, str],
    public_url: str | None = None,
) -> int:
    """Deliver again every released digest with a channel due (the reports' backoff)."""
    async with session_scope(sessionmaker) as session:
        rows = await session.execute(
            select(DigestRow.week, DigestRow.deliveries).where(DigestRow.released_at.is_not(None))
        )
        due = [w for w, entries in rows if any(is_due(e, now) for e in entries or [])]
    for week in due:
        await deliver(
            sessionmaker, config, Week.parse(week), now=now, environ=environ, public_url=public_url
        )
    return len(due)
