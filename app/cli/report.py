"""What ``throughline report`` does, apart from parsing its options."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.config import ThroughlineConfig
from app.config.settings import Settings
from app.programs.lookup import NotFound
from app.reports import delivery, service, site
from app.reports.weeks import Week, latest_ready
from app.store import catalog
from app.store.engine import make_engine, make_sessionmaker, session_scope


@dataclass(frozen=True, slots=True)
class Request:
    keys: Sequence[str]
    week: str | None
    deliver: bool
    out: Path | None


async def run(
    settings: Settings,
    config: ThroughlineConfig,
    request: Request,
    *,
    environ: Mapping[str, str],
    now: datetime | None = None,
) -> tuple[list[str], bool]:
    """Generate (and optionally deliver) each program's report, then write the site.

    Returns the lines to print (problems start with ``!``) and whether all went well.
    """
    now = now or datetime.now(UTC)
    public_url = settings.server.public_url
    try:
        chosen = Week.parse(request.week) if request.week else None
    except ValueError as exc:
        return [f"! {exc}"], False
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    lines, ok = [], True
    try:
        async with session_scope(sessionmaker) as session:
            await catalog.apply_config(session, config, now=now)
        for key in request.keys:
            program = config.program(key)
            assert program is not None  # the command checked the keys
            zone = zoneinfo.ZoneInfo(program.timezone)
            week = chosen or latest_ready(now.astimezone(zone).date(), program.report.cron, zone)
            try:
                async with session_scope(sessionmaker) as session:
                    row, waiting = await service.generate(
                        session,
                        config,
                        key,
                        week,
                        now=now,
                        public_url=public_url,
                        deliver=request.deliver,
                    )
            except NotFound as exc:
                lines.append(f"! {key} {week}: {exc}")
                ok = False
                continue
            base = row.data.get("snapshot", {}).get("base_on")
            lines.append(
                f"{key} {week}: {str(row.rag).upper()}, from the snapshot of {row.snapshot_on}"
                + (f" (compared with {base})" if base else " (first report)")
            )
            if waiting:
                sent = await delivery.deliver(
                    sessionmaker,
                    config,
                    key,
                    week,
                    now=now,
                    public_url=public_url,
                    environ=environ,
                )
                failed = [n for n, status in sent.items() if status != "sent"]
                lines.append(f"  delivered: {', '.join(f'{n} {s}' for n, s in sent.items())}")
                ok &= not failed
            elif request.deliver:
                lines.append("  delivery waits for the program manager's review")
        if request.out is not None:
            async with session_scope(sessionmaker) as session:
                summary = await site.write_site(
                    session, config, request.out, written_at=now, programs=request.keys
                )
            lines.append(
                f"wrote {summary.reports} report(s) of {summary.programs} program(s) "
                f"({summary.files} files) to {request.out}"
            )
    finally:
        await engine.dispose()
    return lines, ok
