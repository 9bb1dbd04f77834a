"""A report's forms: the standalone HTML page, Markdown, and Confluence storage format.

All three are Jinja templates under ``templates/report/``. HTML and Confluence's XHTML
are autoescaped; the Markdown environment escapes every value it prints the same way
(``text.escape_markdown``), so tracker text can never become markup in any of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from app.render.burnup import BurnupPoint, burnup_svg
from app.render.style import CHART_CSS
from app.reports import text
from app.reports.schemas import WeeklyReport

LISTED = 25
"""Items listed by name per section of a page; the JSON form has them all."""


def templates_dir() -> Path:
    """``templates/`` beside the source tree (a checkout), else in the working directory
    (the container image copies it there)."""
    beside = Path(__file__).resolve().parents[2] / "templates"
    return beside if beside.is_dir() else Path.cwd() / "templates"


def _day(value: date | str | None, style: str = "%d %b %Y") -> str:
    if value is None:
        return "—"
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return day.strftime(style).lstrip("0")


def _moment(value: datetime | None) -> str:
    return value.strftime("%a %d %b %Y %H:%M %Z") if value else "—"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%" if value >= 10 else f"{value:.1f}%"


def _probability(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _shift(after: date | None, before: date | None) -> str:
    """How far a date moved: ``+7 d`` later, ``−3 d`` earlier, blank when unchanged."""
    if after is None or before is None or after == before:
        return ""
    days = (after - before).days
    return f"+{days} d" if days > 0 else f"−{-days} d"


def _points(value: float | None, before: float | None) -> str:
    if value is None or before is None or round(value - before, 1) == 0:
        return ""
    delta = value - before
    return f"+{delta:.1f} pts" if delta > 0 else f"−{-delta:.1f} pts"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


_FILTERS: Mapping[str, Any] = {
    "day": _day,
    "moment": _moment,
    "percent": _percent,
    "probability": _probability,
    "shift": _shift,
    "points": _points,
    "number": _number,
    "safe_url": text.safe_url,
}


@cache
def _html() -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(_FILTERS)
    return env


def _finalize_markdown(value: object) -> str:
    return value if isinstance(value, text.Markdown) else text.escape_markdown(value)


@cache
def _markdown() -> Environment:
    # Not HTML: ``finalize`` escapes every printed value for Markdown instead.
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=False,  # noqa: S701
        finalize=_finalize_markdown,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(_FILTERS)
    env.filters["link"] = text.markdown_link
    env.filters["notes"] = text.markdown_notes
    env.filters["item"] = text.markdown_item
    return env


def chart(report: WeeklyReport) -> Markup:
    """The burnup of the program up to the report's day, as inline SVG."""
    return burnup_svg(
        [BurnupPoint(p.on, p.scope, p.done) for p in report.burnup],
        title=f"{report.program.name}: burnup to {report.period_end.isoformat()}",
        unit="items" if report.standing.progress.basis == "count" else "points",
        target=report.standing.target,
        p50=report.standing.forecast.p50,
        p85=report.standing.forecast.p85,
        today=report.period_end,
    )


def context(report: WeeklyReport, *, links: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "r": report,
        "listed": LISTED,
        "links": links or {},
        "chart": chart(report),
        "chart_css": Markup(CHART_CSS),  # noqa: S704 (our own constant stylesheet)
    }


def html(report: WeeklyReport, *, links: Mapping[str, str] | None = None) -> str:
    """The standalone page: inline CSS, no scripts, fit for mail clients and A4 print."""
    return _html().get_template("report/report.html").render(context(report, links=links))


def markdown(report: WeeklyReport, *, links: Mapping[str, str] | None = None) -> str:
    return (
        _markdown()
        .get_template("report/report.md")
        .render({"r": report, "listed": LISTED, "links": links or {}})
    )


def storage(report: WeeklyReport, *, links: Mapping[str, str] | None = None) -> str:
    """The Confluence storage-format (XHTML) body of the report."""
    return (
        _html()
        .get_template("report/confluence.xml")
        .render({"r": report, "listed": LISTED, "links": links or {}})
    )


def page(name: str, values: Mapping[str, Any]) -> str:
    """Any other page under ``templates/report/`` (archive, static-site index)."""
    return _html().get_template(f"report/{name}").render({"chart_css": "", **values})
