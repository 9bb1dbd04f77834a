"""The one Jinja environment the pages and the reports share, and its formatting filters.

Autoescaping is on for every HTML template (and SVG) and undefined names fail loudly, so
a typo is a test failure rather than a blank on a page. Tracker text reaches templates as
plain strings and is escaped there; only charts built with ``Markup.format`` (which
escapes every argument) are inserted as markup.

Markdown is not HTML: its environment prints every value through a ``finalize`` that
escapes it for Markdown instead, with the same loader and the same filters, so a date or
a figure reads the same in every form of every page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2

from app.config import install

NONE = "—"


def templates_dir() -> Path:
    """The installed ``templates/`` (see ``app.config.install``)."""
    return install.resource_path("templates")


def _as_day(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def day(value: date | str | None, style: str = "%-d %b %Y") -> str:
    """``3 Nov 2026``: the way a date is written (a heading may spell it out in full)."""
    found = _as_day(value)
    return found.strftime(style) if found else NONE


def short_day(value: date | str | None) -> str:
    found = _as_day(value)
    return found.strftime("%-d %b") if found else NONE


def moment(value: datetime | None) -> str:
    """A time as the program's reader sees it (the services have put it in their zone)."""
    return value.strftime("%a %-d %b %Y, %H:%M %Z").strip() if value else NONE


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
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def pct(value: float | None) -> str:
    """A probability (0–1) as a whole percentage."""
    return NONE if value is None else f"{100 * value:.0f}%"


def percent(value: float | None) -> str:
    """A percentage (0–100): whole from 10 up, one decimal below."""
    return NONE if value is None else f"{value:.0f}%" if value >= 10 else f"{value:.1f}%"


def label(value: str | None) -> str:
    """A rule, check or state name as words: ``late_dependency`` → ``Late dependency``."""
    return value.replace("_", " ").capitalize() if value else NONE


def shift(after: date | None, before: date | None) -> str:
    """How far a date moved: ``+7 d`` later, ``−3 d`` earlier, blank when unchanged."""
    if after is None or before is None or after == before:
        return ""
    days = (after - before).days
    return f"+{days} d" if days > 0 else f"−{-days} d"


def points(value: float | None, before: float | None) -> str:
    if value is None or before is None or round(value - before, 1) == 0:
        return ""
    delta = value - before
    return f"+{delta:.1f} pts" if delta > 0 else f"−{-delta:.1f} pts"


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an http(s) URL or a path on this server, else None: nothing else
    (``javascript:``, ``data:``) becomes a link."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    relative = not parts.scheme and not parts.netloc and url.startswith("/")
    if not relative and (parts.scheme.lower() not in ("http", "https") or not parts.netloc):
        return None
    # Characters that could end a link in Markdown or Slack are percent-encoded.
    return quote(url.strip(), safe=":/?#[]@!$&'*+,;=%~-._")


FILTERS: Mapping[str, Callable[..., str | None]] = {
    "day": day,
    "short_day": short_day,
    "moment": moment,
    "ago": ago,
    "num": num,
    "number": num,
    "pct": pct,
    "probability": pct,
    "percent": percent,
    "label": label,
    "shift": shift,
    "points": points,
    "safe_url": safe_url,
}


def _environment(*, autoescape: bool, **options: Any) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=autoescape,  # noqa: S701  (off only for Markdown, escaped by finalize)
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        **options,
    )
    environment.filters.update(FILTERS)
    return environment


@cache
def html() -> jinja2.Environment:
    """The HTML (and SVG and XHTML) environment: pages, reports, e-mail, Confluence."""
    return _environment(autoescape=True)


@cache
def markdown(finalize: Callable[[object], str]) -> jinja2.Environment:
    """The Markdown environment: ``finalize`` escapes every printed value for Markdown."""
    # Not HTML: escaping is ``finalize``'s, so autoescape is off on purpose.
    return _environment(autoescape=False, finalize=finalize, keep_trailing_newline=True)
