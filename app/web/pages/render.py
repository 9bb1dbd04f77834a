"""Rendering pages: the Jinja environment, its formatting filters, and ``render``.

Autoescaping is on for every template (HTML and SVG alike) and undefined names fail
loudly, so a typo is a test failure rather than a blank on a page. Tracker text reaches
templates as plain strings and is escaped there; only charts built with ``Markup.format``
(which escapes every argument) are inserted as markup.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

import app
from app.render.style import CHART_CSS

NONE = "—"


def templates_dir() -> Path:
    """``templates/`` beside the installed package, else in the working directory (the
    container copies it there)."""
    for root in (Path(app.__file__).resolve().parents[1], Path.cwd()):
        if (root / "templates" / "base.html").is_file():
            return root / "templates"
    raise FileNotFoundError("the templates/ directory is not installed")


def day(value: date | None) -> str:
    return value.strftime("%-d %b %Y") if value else NONE


def short_day(value: date | None) -> str:
    return value.strftime("%-d %b") if value else NONE


def moment(value: datetime | None) -> str:
    """A time as the program's reader sees it (the services have put it in their zone)."""
    return value.strftime("%-d %b %Y, %H:%M %Z").strip() if value else NONE


def ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 90:
        return "just now"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min ago"
    hours = minutes / 60
    if hours < 36:
        return f"{hours:.0f} h ago"
    return f"{hours / 24:.0f} days ago"


def num(value: float | None) -> str:
    if value is None:
        return NONE
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def pct(value: float | None) -> str:
    """A probability (0–1) as a whole percentage."""
    return NONE if value is None else f"{100 * value:.0f} %"


def label(value: str | None) -> str:
    """A rule, check or state name as words: ``late_dependency`` → ``Late dependency``."""
    return value.replace("_", " ").capitalize() if value else NONE


class Stylesheet:
    """The one stylesheet: the site's rules followed by the charts' (served by the app)."""

    def __init__(self, directory: Path) -> None:
        self.body = (directory / "static" / "throughline.css").read_text(encoding="utf-8")
        self.body += CHART_CSS
        self.version = hashlib.sha256(self.body.encode()).hexdigest()[:10]


class Renderer:
    """Templates and the stylesheet, loaded once when the app is built."""

    def __init__(self, directory: Path | None = None) -> None:
        directory = directory or templates_dir()
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.filters.update(
            day=day, short_day=short_day, moment=moment, ago=ago, num=num, pct=pct, label=label
        )
        self.stylesheet = Stylesheet(directory)
        environment.globals["stylesheet_version"] = self.stylesheet.version
        self.templates = Jinja2Templates(env=environment)

    def page(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        *,
        status_code: int = 200,
    ) -> HTMLResponse:
        """A page from its template and a small explicit context."""
        response = self.templates.TemplateResponse(
            request=request, name=name, context=context, status_code=status_code
        )
        response.headers["Cache-Control"] = "private, no-cache"
        return response
