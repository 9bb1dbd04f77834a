"""The archive as a static site: an index, a page per program, and every week's report
as HTML, Markdown and JSON, linked relatively so any web server (or a file browser) can
serve the directory as it is."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ThroughlineConfig
from app.reports import render, service
from app.reports import schemas as out
from app.store.tables import ProgramRow


@dataclass(frozen=True, slots=True)
class SiteSummary:
    programs: int
    reports: int
    files: int


def _week_links(week: str) -> dict[str, str]:
    return {"page": "", "html": f"{week}.html", "markdown": f"{week}.md", "json": f"{week}.json"}


async def site_files(
    session: AsyncSession,
    config: ThroughlineConfig,
    *,
    written_at: datetime,
    programs: Collection[str] | None = None,
) -> tuple[dict[str, str], int]:
    """Every file of the site by relative path, and how many reports it holds."""
    chosen = [p for p in config.programs if programs is None or p.key in programs]
    ids = dict(
        (
            await session.execute(
                select(ProgramRow.key, ProgramRow.id).where(
                    ProgramRow.key.in_([p.key for p in chosen])
                )
            )
        ).all()
    )
    rows = await service.generated_rows(session, list(ids.values()))
    by_program: dict[int, list[out.WeeklyReport]] = {}
    files: dict[str, str] = {}
    keys = {i: k for k, i in ids.items()}
    for row in rows:
        key = keys[row.program_id]
        report = service.assemble(row, public_url=None, key=key)
        report.links = None
        by_program.setdefault(row.program_id, []).append(report)
        files[f"{key}/{row.week}.html"] = render.html(report, links=_week_links(row.week))
        files[f"{key}/{row.week}.md"] = render.markdown(report, links=_week_links(row.week))
        files[f"{key}/{row.week}.json"] = report.model_dump_json(by_alias=True, indent=2)
    listed = []
    for program in chosen:
        reports = sorted(by_program.get(ids.get(program.key, -1), []), key=lambda r: r.week)
        reports.reverse()
        entries = [
            {
                "summary": out.ReportSummary(
                    week=r.week, generated_at=r.generated_at, rag=r.rag.color
                ),
                "href": f"{r.week}.html",
            }
            for r in reports
        ]
        files[f"{program.key}/index.html"] = render.page(
            "archive.html", {"program": program, "entries": entries, "site": True}
        )
        listed.append(
            {
                "key": program.key,
                "name": program.name,
                "latest": entries[0]["summary"] if entries else None,
            }
        )
    files["index.html"] = render.page(
        "site_index.html", {"programs": listed, "written_at": written_at}
    )
    return files, len(rows)


def _write(directory: Path, files: Mapping[str, str]) -> None:
    for relative, content in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


async def write_site(
    session: AsyncSession,
    config: ThroughlineConfig,
    directory: Path,
    *,
    written_at: datetime,
    programs: Collection[str] | None = None,
) -> SiteSummary:
    """Write the static site into ``directory`` (created if needed; other files kept)."""
    files, reports = await site_files(session, config, written_at=written_at, programs=programs)
    await asyncio.to_thread(_write, directory, files)
    count = sum(1 for f in files if f.endswith("/index.html"))
    return SiteSummary(programs=count, reports=reports, files=len(files))
