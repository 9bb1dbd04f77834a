"""A program's roadmap (the Gantt chart and its table) and its resources (who carries the
work): pages over the same services as ``/api/programs/{key}/roadmap`` and ``/resources``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from markupsafe import Markup
from starlette.responses import Response

from app.programs import documents, lookup, plans, portfolio
from app.programs.documents import portfolio as across
from app.programs.lookup import StoredReads
from app.render.gantt import GanttLink, gantt_svg
from app.render.timeline import ZOOMS, Diamond, GanttBar, GanttGroup, GanttSection, Zoom
from app.web.deps import ConfigDep, ReadsDep, SessionDep
from app.web.pages.context import PageDep
from app.web.pages.links import external, item_url, items_url
from rollup import figures

router = APIRouter(include_in_schema=False)


def _bar_label(bar: documents.RoadmapBar) -> str:
    if bar.kind == "epic":
        return f"{bar.key} {bar.title}"
    return f"{bar.project_name or bar.title} (work under no epic)"


def _bar_href(bar: documents.RoadmapBar, program: str) -> str:
    if bar.key is not None:
        return item_url(bar.source, bar.key, program)
    return items_url(program=program, outcome=bar.outcome, source=bar.source)


def _decided_by(outcome: documents.RoadmapOutcome) -> str:
    teams = outcome.teams
    if teams is None or teams.deciding is None:
        return ""
    share = next(s for s in teams.shares if s.key == teams.deciding)
    return f"decided by {share.name} ({100 * (share.decides or 0):.0f} % of trials)"


def gantt_groups(
    found: documents.Roadmap, program: str
) -> tuple[list[GanttGroup], list[GanttLink]]:
    """The roadmap document as the chart's groups (outcome → project → bars) and arrows."""
    names = {b.id: _bar_label(b) for b in found.bars}
    groups = []
    for outcome in found.outcomes:
        bars = [b for b in found.bars if b.outcome == outcome.key]
        projects = list(dict.fromkeys((b.source, b.project, b.project_name) for b in bars))
        sections = tuple(
            GanttSection(
                f"{source} · {name or project or '(no project)'}",
                tuple(
                    _gantt_bar(b, found, program)
                    for b in bars
                    if (b.source, b.project) == (source, project)
                ),
            )
            for source, project, name in projects
        )
        detail = ", ".join(
            part
            for part in (
                f"target {figures.day(outcome.target)}" if outcome.target else "",
                f"P85 {figures.day(outcome.p85)}" if outcome.p85 else "",
                _decided_by(outcome),
            )
            if part
        )
        groups.append(
            GanttGroup(
                label=outcome.name,
                detail=detail,
                href=f"/programs/{program}/outcomes/{outcome.key}",
                target=outcome.target,
                p50=outcome.p50,
                p85=outcome.p85,
                sections=sections,
                milestones=tuple(
                    _diamond(m, program)
                    for m in found.milestones
                    if m.outcome == outcome.key and m.bar is None
                ),
            )
        )
    links = [
        GanttLink(
            link.from_,
            link.to,
            link.late > 0,
            f"{names.get(link.from_, link.from_)} → {names.get(link.to, link.to)}: "
            f"{link.count} dependenc{'y' if link.count == 1 else 'ies'}"
            + (f", {link.late} late" if link.late else ""),
        )
        for link in found.links
    ]
    return groups, links


def _diamond(m: documents.RoadmapMilestone, program: str) -> Diamond:
    return Diamond(f"{m.key} {m.title}", m.due_on, m.done, item_url(m.source, m.key, program))


def _gantt_bar(bar: documents.RoadmapBar, found: documents.Roadmap, program: str) -> GanttBar:
    base = bar.baseline
    return GanttBar(
        id=bar.id,
        label=_bar_label(bar),
        detail=f"{bar.done} of {bar.scope} done"
        + (f", slipped {bar.slip_days} days since the baseline" if bar.slip_days else ""),
        href=_bar_href(bar, program),
        start=bar.start,
        due=bar.due,
        finished_on=bar.finished_on,
        p50=bar.p50,
        p85=bar.p85,
        late=bar.late,
        critical=bar.critical,
        baseline=(base.start, base.p85 or base.due) if base else None,
        milestones=tuple(_diamond(m, program) for m in found.milestones if m.bar == bar.id),
    )


def _drawn(
    reads: StoredReads,
    program_id: int,
    groups: list[GanttGroup],
    links: list[GanttLink],
    title: str,
    today: date,
    zoom: Zoom,
) -> Markup:
    """The roadmap's drawing, drawn once for the same bars, links, day and zoom."""
    inputs = (tuple(groups), tuple(links), title, today, zoom)
    svg: Markup | None = reads.find(program_id, "roadmap.svg", inputs)
    if svg is None:
        svg = gantt_svg(groups, links, title=title, today=today, zoom=zoom)
        reads.keep(program_id, "roadmap.svg", inputs, svg)
    return svg


@router.get("/programs/{key}/roadmap", name="roadmap_page")
async def roadmap_page(
    key: str,
    page: PageDep,
    session: SessionDep,
    config: ConfigDep,
    reads: ReadsDep,
    zoom: Annotated[Zoom, Query()] = "fit",
    baseline: Annotated[date | None, Query()] = None,
) -> Response:
    async def build() -> Response:
        program = await lookup.get_program(session, config, key, reads)
        found = await plans.read_roadmap(session, config, key, baseline_on=baseline)
        today = found.as_of or datetime.now(program.zone).date()
        title = f"{program.config.name}: roadmap " + (
            "around today" if zoom == "fit" else f"by {zoom}"
        )
        return page.render_kept(
            "roadmap.html",
            lambda: {
                "program": program.config,
                "roadmap": found,
                "svg": _drawn(reads, program.id, *gantt_groups(found, key), title, today, zoom),
                "zoom": zoom,
                "zooms": ZOOMS,
                "baseline": baseline,
                "names": {b.id: _bar_label(b) for b in found.bars},
                "outcome_names": {o.key: o.name for o in found.outcomes},
                "bar_href": lambda b: _bar_href(b, key),
                "item_url": item_url,
                "external": external,
            },
            reads=reads,
            program_id=program.id,
            inputs=(found.model_dump_json(), zoom, baseline, today),
        )

    return await page.cached(build)


def _spark(weeks: Sequence[int]) -> str:
    """Throughput per week as block characters, for a glance (the numbers are beside)."""
    blocks = " ▁▂▃▄▅▆▇█"
    top = max(weeks, default=0)
    return "".join(blocks[round(8 * w / top)] if top else blocks[0] for w in weeks)


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """A person's open work in the other programs they work in."""

    person: across.PersonAcross
    share: float
    """Their open items outside this program over all their open items."""
    shares: list[across.ProgramShare]


def elsewhere(found: across.PortfolioPeople, program: str) -> dict[str, Elsewhere]:
    """Per person id on this program's resources page: their work in other programs."""
    found_here = {}
    for person in found.people:
        mine = next((s for s in person.shares if s.program == program), None)
        rest = [s for s in person.shares if s.program != program]
        if mine is None or not rest or not person.remaining:
            continue
        share = (person.remaining - mine.remaining) / person.remaining
        found_here[mine.person] = Elsewhere(person, round(share, 4), rest)
    return found_here


@router.get("/programs/{key}/resources", name="resources_page")
async def resources_page(
    key: str, page: PageDep, session: SessionDep, config: ConfigDep, reads: ReadsDep
) -> Response:
    async def build() -> Response:
        program = await lookup.get_program(session, config, key, reads)
        found = await plans.read_resources(session, config, key, reads)
        people = await portfolio.read_people(
            session, config, now=datetime.now(UTC), program=key, reads=reads
        )
        return page.render(
            "resources.html",
            {
                "program": program.config,
                "resources": found,
                "elsewhere": elsewhere(people, key),
                "outcome_names": {o.key: o.name for o in program.config.outcomes},
                "team_names": {t.key: t.name for t in config.teams},
                "targets": {o.key: o.target for o in program.config.outcomes},
                "spark": _spark,
                "items_url": items_url,
            },
        )

    return await page.cached(build)
