"""A report's forms: the standalone HTML page, Markdown, and Confluence storage format.

All three are Jinja templates under ``templates/report/``. HTML and Confluence's XHTML
are autoescaped; the Markdown environment escapes every value it prints the same way
(``text.escape_markdown``), so tracker text can never become markup in any of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import css_inline
from jinja2 import Environment
from markupsafe import Markup

from app.render import templates
from app.render.burnup import BurnupPoint, burnup_svg
from app.render.style import CHART_CSS
from app.reports import text as escaping
from app.reports.schemas import WeeklyReport

PUBLIC_URL_NEEDED = (
    "Links back to Throughline are left out: set THROUGHLINE_SERVER__PUBLIC_URL to the "
    "address readers reach it at (https://throughline.example.com) so reports link to it."
)

LISTED = 25
"""Items listed by name per section of a page; the JSON form has them all."""


_MARKDOWN_FILTERS: Mapping[str, Any] = {
    "link": escaping.markdown_link,
    "notes": escaping.markdown_notes,
    "item": escaping.markdown_item,
}


def _html() -> Environment:
    return templates.html()


def _finalize_markdown(value: object) -> str:
    return value if isinstance(value, escaping.Markdown) else escaping.escape_markdown(value)


def _markdown() -> Environment:
    env = templates.markdown(_finalize_markdown)
    env.filters.update(_MARKDOWN_FILTERS)
    return env


def markdown_environment() -> Environment:
    """The Markdown environment the reports use (tracker text escaped, links built safe)."""
    return _markdown()


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


def _values(report: WeeklyReport, links: Mapping[str, str] | None) -> dict[str, Any]:
    return {
        "r": report,
        "listed": LISTED,
        "links": links or {},
        "public_url_needed": PUBLIC_URL_NEEDED,
    }


def context(report: WeeklyReport, *, links: Mapping[str, str] | None = None) -> dict[str, Any]:
    return _values(report, links) | {
        "chart": chart(report),
        "chart_css": Markup(CHART_CSS),  # noqa: S704 (our own constant stylesheet)
    }


def inline_styles(page: str) -> str:
    """``page`` with its stylesheet moved onto each element, as mail clients need (many
    drop a ``<style>`` block); media rules (print, narrow screens) stay in the head."""
    return css_inline.CSSInliner(keep_at_rules=True).inline(page)


def html(report: WeeklyReport, *, links: Mapping[str, str] | None = None) -> str:
    """The standalone page: styles inline, one column that fits a phone, no scripts, fit
    for mail clients and A4 print."""
    page = _html().get_template("report/report.html").render(context(report, links=links))
    return inline_styles(page)


def markdown(report: WeeklyReport, *, links: Mapping[str, str] | None = None) -> str:
    return _markdown().get_template("report/report.md").render(_values(report, links))


def text(report: WeeklyReport, *, links: Mapping[str, str] | None = None) -> str:
    """Plain text, for the e-mail's alternative part: no markup of any kind."""
    return templates.plain().get_template("report/report.txt").render(_values(report, links))


def storage(report: WeeklyReport, *, links: Mapping[str, str] | None = None) -> str:
    """The Confluence storage-format (XHTML) body of the report."""
    return _html().get_template("report/confluence.xml").render(_values(report, links))


def page(name: str, values: Mapping[str, Any]) -> str:
    """Any other page under ``templates/report/`` (archive, static-site index)."""
    return _html().get_template(f"report/{name}").render({"chart_css": "", **values})
