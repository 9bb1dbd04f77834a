"""A program's flow page: seven charts, each with its table and its CSV, and the
definitions they rest on."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from markupsafe import Markup
from starlette.responses import Response

from app.programs import flow, lookup
from app.render.flow import (
    Band,
    Dot,
    Ref,
    bands_svg,
    bars_svg,
    dots_svg,
    line_svg,
    status_bands,
)
from app.web.deps import ConfigDep, SessionDep
from app.web.pages.context import PageDep

router = APIRouter(include_in_schema=False)
HISTOGRAM_BINS = 12


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    """The CSV table behind the chart (``/api/programs/{key}/flow.csv?table=``)."""
    title: str
    svg: Markup


def _refs(doc: flow.FlowDocument) -> list[Ref]:
    p = doc.cycle_time
    names: dict[int, list[str]] = {}
    for value, name in ((p.p50, "P50"), (p.p85, "P85"), (p.p95, "P95")):
        if value is not None:
            names.setdefault(value, []).append(name)
    # Equal percentiles share one line and one label rather than three drawn on each other.
    return [Ref(float(v), f"{'/'.join(n)} {v} d") for v, n in names.items()]


def histogram(days: list[int]) -> list[tuple[str, int]]:
    """Cycle times in at most ``HISTOGRAM_BINS`` equal bins of whole days."""
    if not days:
        return []
    width = max(1, math.ceil(max(days) / HISTOGRAM_BINS))
    counts = [0] * (max(days) // width + 1)
    for d in days:
        counts[d // width] += 1
    return [
        (f"{n * width}" if width == 1 else f"{n * width}–{n * width + width - 1}", c)
        for n, c in enumerate(counts)
    ]


def charts(doc: flow.FlowDocument, name: str) -> list[Chart]:
    """Every chart of the flow page, drawn from the API's document."""
    days = [d.on for d in doc.cfd_daily]
    ct = doc.cycle_time
    weeks = [w.week_start.strftime("%d %b") for w in doc.throughput_weekly]
    done = [w.done for w in doc.throughput_weekly]
    slope = doc.throughput_trend_per_week
    start = sum(done) / len(done) - slope * (len(done) - 1) / 2 if done else 0.0
    bins = histogram([c.days for c in doc.cycle_times])
    by_status = (
        []
        if doc.cfd_status_daily is None
        else [
            Chart(
                "cfd_status",
                "Cumulative flow by status",
                bands_svg(
                    f"{name}: cumulative flow by status",
                    f"Items in each of the workflow's {len(doc.cfd_statuses)} statuses at the "
                    f"end of each day since {days[0]}.",
                    days,
                    status_bands(
                        [(s.name, s.category.value) for s in doc.cfd_statuses],
                        [d.counts for d in doc.cfd_status_daily],
                    ),
                ),
            )
        ]
    )
    return [
        Chart(
            "cfd",
            "Cumulative flow",
            bands_svg(
                f"{name}: cumulative flow by status category",
                f"Items to do, in progress and done at the end of each day since {days[0]}.",
                days,
                [
                    Band("tl-band-done", "done", tuple(d.done for d in doc.cfd_daily)),
                    Band(
                        "tl-band-in_progress",
                        "in progress",
                        tuple(d.in_progress for d in doc.cfd_daily),
                    ),
                    Band("tl-band-todo", "to do", tuple(d.todo for d in doc.cfd_daily)),
                ],
            ),
        ),
        *by_status,
        Chart(
            "cycle_times",
            "Cycle time scatter",
            dots_svg(
                f"{name}: cycle time of each finished item",
                f"{ct.count} items finished; P50 {ct.p50} d, P85 {ct.p85} d, P95 {ct.p95} d.",
                [
                    Dot(c.finished_on, c.days, f"{c.key} {c.title}: {c.days} d")
                    for c in doc.cycle_times
                ],
                _refs(doc),
                days=(days[0], days[-1]),
            ),
        ),
        Chart(
            "cycle_times",
            "Cycle time histogram",
            bars_svg(
                f"{name}: how many items took how long",
                "Finished items per cycle time in days.",
                [label for label, _ in bins],
                [("tl-bar-a", [float(c) for _, c in bins])],
            ),
        ),
        Chart(
            "throughput",
            "Weekly throughput",
            bars_svg(
                f"{name}: items finished per week",
                f"Items finished in each seven-day window; trend {slope:+.2f} items a week.",
                weeks,
                [("tl-bar-a", [float(d) for d in done])],
                trend=(start, slope),
            ),
        ),
        Chart(
            "aging",
            "Ageing work in progress",
            dots_svg(
                f"{name}: age of each open started item",
                f"{len(doc.aging)} items in progress, "
                f"{sum(a.past_p85 for a in doc.aging)} older than P85.",
                [
                    Dot(n, a.age_days, f"{a.key} {a.title}: {a.age_days} d", a.past_p85)
                    for n, a in enumerate(doc.aging)
                ],
                _refs(doc),
            ),
        ),
        Chart(
            "wip",
            "Work in progress over time",
            line_svg(
                f"{name}: items in progress each day",
                "Items in an in-progress category at the end of each day.",
                [(d.on, float(d.wip)) for d in doc.wip_daily],
                "tl-wip",
            ),
        ),
        Chart(
            "net_flow",
            "Net flow",
            bars_svg(
                f"{name}: arrivals and departures per week",
                "Items created (first bar) and finished (second bar) in each week.",
                weeks,
                [
                    ("tl-bar-b", [float(w.arrivals) for w in doc.net_flow_weekly]),
                    ("tl-bar-a", [float(w.departures) for w in doc.net_flow_weekly]),
                ],
            ),
        ),
    ]


@router.get("/programs/{key}/flow", name="flow_page")
async def flow_page(
    key: str,
    page: PageDep,
    session: SessionDep,
    config: ConfigDep,
    outcome: Annotated[str | None, Query()] = None,
    weeks: Annotated[int, Query(ge=1, le=104)] = 12,
) -> Response:
    async def build() -> Response:
        program = await lookup.get_program(session, config, key)
        doc = await flow.read_flow(
            session, program, outcome=outcome, weeks=weeks, now=datetime.now(UTC)
        )
        names = {o.key: o.name for o in program.config.outcomes}
        name = names[outcome] if outcome else program.config.name
        return page.render(
            "flow.html",
            {
                "program": program.config,
                "doc": doc,
                "name": name,
                "outcomes": names,
                "charts": charts(doc, name),
                "histogram": histogram([c.days for c in doc.cycle_times]),
            },
        )

    return await page.cached(build)
