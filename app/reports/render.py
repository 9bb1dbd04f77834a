"""A report's forms: the standalone HTML page, Markdown, and Confluence storage format.

All three are Jinja templates under ``templates/report/``. HTML and Confluence's XHTML
are autoescaped; the Markdown environment escapes every value it prints the same way
(``text.escape_markdown``), so tracker text can never become markup in any of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from app.render import templates
from app.render.burnup import BurnupPoint, burnup_svg
from app.render.style import CHART_CSS
from app.reports import text
from app.reports.schemas import WeeklyReport

LISTED = 25
"""Items listed by name per section of a page; the JSON form has them all."""


_MARKDOWN_FILTERS: Mapping[str, Any] = {
    "link": text.markdown_link,
    "notes": text.markdown_notes,
    "item": text.markdown_item,
}


def _html() -> Environment:
    return templates.html()


def _finalize_markdown(value: object) -> str:
    return value if isinstance(value, text.Markdown) else text.escape_markdown(value)


def _markdown() -> Environment:
    env = templates.markdown(_finalize_markdown)
    env.filters.update(_MARKDOWN_FILTERS)
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
