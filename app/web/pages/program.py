"""A program's page and its outcomes' pages: status, burnup, what threatens it, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from markupsafe import Markup
from starlette.responses import Response

from app.programs import documents, lookup, risks, team_updates, track_record
from app.render.bar import progress_bar
from app.render.burnup import BurnupPoint, burnup_svg
from app.web.deps import ConfigDep, ReadsDep, SessionDep
from app.web.pages.context import PageDep
from app.web.pages.links import external, item_url, items_url
from rollup import figures

router = APIRouter(include_in_schema=False)
TOP_RISKS, LATE_LISTED, UNMAPPED_LISTED, CONTRIBUTORS_LISTED = 5, 10, 10, 100


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    outcome: documents.OutcomeStatus
    bar: Markup
    scope_url: str
    done_url: str
    late: bool


def outcome_row(program: str, outcome: documents.OutcomeStatus) -> OutcomeRow:
    progress = outcome.progress
    target, p85 = outcome.target, outcome.forecast.p85
    return OutcomeRow(
        outcome=outcome,
        bar=progress_bar(
            progress.percent, color=outcome.rag.color, label=f"{progress.percent:.0f} % done"
        ),
        scope_url=items_url(program=program, outcome=outcome.key),
        done_url=items_url(program=program, outcome=outcome.key, status_category="done"),
        late=bool(target and p85 and p85 > target),
    )


def burnup(
    points: list[documents.BurnupPoint],
    *,
    title: str,
    basis: str,
    target: date | None,
    forecast: documents.Forecast,
    today: date | None,
) -> Markup:
    return burnup_svg(
        [BurnupPoint(p.on, p.scope, p.done) for p in points],
        title=title,
        unit="items" if basis == "count" else "points",
        target=target,
        p50=forecast.p50,
        p85=forecast.p85,
        today=today,
    )


def document_parts(status: documents.ProgramStatus) -> dict[str, object]:
    """What the parts of a program's page drawn from its stored document are rendered from."""
    return {
        "s": status,
        "bar": progress_bar(
            status.progress.percent,
            color=status.rag.color,
            label=f"{status.progress.percent:.0f} % done",
        ),
        "burnup": burnup(
            status.burnup,
            title=f"{status.name}: done and scope over time",
            basis=status.progress.basis,
            target=status.target,
            forecast=status.forecast,
            today=status.freshness.as_of,
        ),
        "outcomes": [outcome_row(status.key, o) for o in status.outcomes],
        "milestones": sorted(
            (m for m in status.milestones if m.status_category != "done"),
            key=lambda m: (m.due_on is None, m.due_on, m.key),
        ),
        "late": status.late[:LATE_LISTED],
        "unmapped": status.unmapped.items[:UNMAPPED_LISTED],
        "items_url": items_url,
        "item_url": item_url,
        "external": external,
    }


@router.get("/programs/{key}", name="program_page")
async def program_page(
    key: str, page: PageDep, session: SessionDep, config: ConfigDep, reads: ReadsDep
) -> Response:
    async def build() -> Response:
        found = await lookup.read_stored_status(
            session, config, key, now=datetime.now(UTC), reads=reads
        )
        program = found.program
        parts = reads.find(program.id, "program.html", found.digest)
        if parts is None:
            parts = page.renderer.parts("program_document.html", document_parts(found.document))
            reads.keep(program.id, "program.html", found.digest, parts)
        top = await risks.top_open(session, program.id, TOP_RISKS)
        return page.render(
            "program.html",
            {
                "status": found.today(),
                "parts": parts,
                "risks": [risks.to_out(r, program.zone) for r in top],
                "updates": await team_updates.list_for_program(
                    session, program.id, program.config, program.zone
                ),
                "items_url": items_url,
                "teams": {t.key: t.name for t in config.teams},
            },
        )

    return await page.cached(build)


def edge_case(outcome: documents.OutcomeStatus) -> str | None:
    """An outcome the usual figures do not describe — finished, finished late, without
    work, without a target, without enough history — explained in words."""
    forecast, target = outcome.forecast, outcome.target
    why = next((r.detail for r in outcome.rag.reasons if r.rule in ("no_work", "no_forecast")), "")
    if forecast.basis == "done":
        when = f" on {figures.day(outcome.finished_on)}" if outcome.finished_on else ""
        if outcome.done_late and target is not None and outcome.finished_on is not None:
            late = (outcome.finished_on - target).days
            return (
                f"All its work is done: it finished{when}, {late} day(s) after its target "
                f"{figures.day(target)} — done late. It is green because nothing is left to "
                "do, and it no longer counts in the program's chance to be on time."
            )
        against = f", by its target {figures.day(target)}" if target else ""
        return (
            f"All its work is done: it finished{when}{against}. A finished outcome is green, "
            "whatever its scope did on the way."
        )
    if forecast.basis == "no_work":
        return (
            f"Nothing to judge: {why or 'no work is selected'}. Check its selectors "
            "(match) in the configuration, or break its epics down; until then it is grey."
        )
    if forecast.basis == "insufficient_history":
        return (
            f"No forecast yet: {why or 'too little history'}. Until then its colour comes from "
            "the rules about the work itself."
        )
    if target is None:
        return (
            "It has no target date, so there is no chance to be on time to state: its P50 "
            "and P85 say when it is likely done. Set a target in the configuration to judge it."
        )
    return None


ContributorOrder = Literal["share", "key", "status"]


@router.get("/programs/{key}/outcomes/{outcome}", name="outcome_page")
async def outcome_page(
    key: str,
    outcome: str,
    page: PageDep,
    session: SessionDep,
    config: ConfigDep,
    sort: Annotated[ContributorOrder, Query()] = "share",
) -> Response:
    async def build() -> Response:
        program = await lookup.get_program(session, config, key)
        found = await lookup.read_outcome(session, config, key, outcome)
        contributors = list(found.explain.contributors if found.explain else [])
        order = {"todo": 0, "in_progress": 1, "done": 2}
        contributors.sort(
            key=lambda c: (
                (-c.share, c.key)
                if sort == "share"
                else (c.key,)
                if sort == "key"
                else (order[c.status_category], c.key)
            )
        )
        return page.render(
            "outcome.html",
            {
                "program": program.config,
                "outcome": found,
                "row": outcome_row(key, found),
                "burnup": burnup(
                    found.burnup,
                    title=f"{found.name}: done and scope over time",
                    basis=found.progress.basis,
                    target=found.target,
                    forecast=found.forecast,
                    today=found.burnup[-1].on if found.burnup else None,
                ),
                "edge": edge_case(found),
                "titles": {c.key: c.title for c in contributors},
                "contributors": contributors[:CONTRIBUTORS_LISTED],
                "contributor_count": len(contributors),
                "sort": sort,
                "items_url": items_url,
                "item_url": item_url,
                "external": external,
            },
        )

    return await page.cached(build)


@router.get("/programs/{key}/calibration", name="calibration_page")
async def calibration_page(
    key: str, page: PageDep, session: SessionDep, config: ConfigDep
) -> Response:
    async def build() -> Response:
        program = await lookup.get_program(session, config, key)
        found = await track_record.read_track_record(session, config, key)
        return page.render("calibration.html", {"program": program.config, "record": found})

    return await page.cached(build)
