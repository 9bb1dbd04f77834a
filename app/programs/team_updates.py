"""What the teams themselves say: the latest status update of each project in a program.

Asana projects carry status updates (on track, at risk, off track …) written by the team.
A program shows those of the projects its outcomes name and of the projects its counted
work sits in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ProgramConfig
from app.store.tables import ItemRow, ProgramItemRow, ProjectStatusRow, SourceRow

RAG = frozenset({"green", "amber", "red", "grey"})


@dataclass(frozen=True, slots=True)
class TeamUpdate:
    source: str
    project: str
    project_name: str | None
    status_type: str
    color: str
    """As RAG: green, amber, red or grey."""
    title: str | None
    text: str | None
    author: str | None
    posted_at: datetime


async def list_for_program(
    session: AsyncSession, program_id: int, config: ProgramConfig, zone: tzinfo
) -> list[TeamUpdate]:
    """The latest update of every project the program reads, newest first."""
    sources = sorted({m.source for o in config.outcomes for m in o.match})
    if not sources or not await session.scalar(
        select(func.count())
        .select_from(ProjectStatusRow)
        .join(SourceRow, SourceRow.id == ProjectStatusRow.source_id)
        .where(SourceRow.name.in_(sources))
    ):
        return []
    named = sorted({(m.source, p) for o in config.outcomes for m in o.match for p in m.projects})
    worked_in = (
        select(ItemRow.source_id, ItemRow.project)
        .join(
            ProgramItemRow,
            and_(ProgramItemRow.source_id == ItemRow.source_id, ProgramItemRow.key == ItemRow.key),
        )
        .where(ProgramItemRow.program_id == program_id, ItemRow.project.is_not(None))
        .distinct()
    )
    wanted = [tuple_(ProjectStatusRow.source_id, ProjectStatusRow.project).in_(worked_in)]
    if named:
        wanted.append(tuple_(SourceRow.name, ProjectStatusRow.project).in_(named))
    rows = await session.execute(
        select(ProjectStatusRow, SourceRow.name)
        .join(SourceRow, SourceRow.id == ProjectStatusRow.source_id)
        .where(or_(*wanted))
        .order_by(ProjectStatusRow.posted_at.desc(), ProjectStatusRow.id)
    )
    return [
        TeamUpdate(
            source=source,
            project=status.project,
            project_name=status.project_name,
            status_type=status.status_type,
            color=status.color if status.color in RAG else "grey",
            title=status.title,
            text=status.text,
            author=status.author,
            posted_at=status.posted_at.astimezone(zone),
        )
        for status, source in rows
    ]
