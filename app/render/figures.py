"""Headline figures as pages and reports print them: the words of ``rollup.figures``, each
count linked to exactly the items it counts, each figure marked with what it is.

Every figure is wrapped in an element carrying ``data-figure`` (``progress``, ``on-time``,
``p50``, ``p85``, ``target``), so what a page says can be checked against the API value it
was drawn from — a test does exactly that for every page.
"""

from __future__ import annotations

from datetime import date

from markupsafe import Markup

from rollup import figures, movement
from rollup.model import ProgressBasis

_FIGURE = Markup('<span class="tl-figure-text" data-figure="{}">{}</span>')
_LINK = Markup('<a href="{}">{}</a>')


def figure(name: str, text: str | Markup) -> Markup:
    """A figure's text, marked with its name."""
    return _FIGURE.format(name, text)


def progress(
    done: float,
    total: float,
    basis: str,
    *,
    done_count: int,
    scope_count: int,
    done_url: str | None = None,
    scope_url: str | None = None,
) -> Markup:
    """ "32 of 57 items done (56 %)", the counts linked to their items; by estimate, the
    points, then the items they are counted over ("… · 5 of 12 items")."""
    chosen = ProgressBasis(basis)
    done_text, total_text, share = figures.progress_parts(done, total, chosen)

    def linked(url: str | None, text: str) -> Markup:
        return _LINK.format(url, text) if url else Markup.escape(text)

    if chosen is ProgressBasis.COUNT:
        text = Markup("{} of {} done ({})").format(
            linked(done_url, done_text), linked(scope_url, total_text), share
        )
        return figure("progress", text)
    items = figures.amount(scope_count, ProgressBasis.COUNT)
    counted = Markup(' <span class="tl-basis">{} of {} done</span>').format(
        linked(done_url, str(done_count)), linked(scope_url, items)
    )
    return figure("progress", f"{done_text} of {total_text} done ({share})") + counted


def day(name: str, on: date | None, empty: str = "—") -> Markup:
    """A date figure ("10 Apr 2027"), marked with its name."""
    return figure(name, figures.day(on) if on is not None else empty)


def moved(days: float) -> str:
    """How far a date moved: "+2 w", "−3 d" (``rollup.movement``)."""
    return movement.weeks(days)


def chance_moved(change: float) -> str:
    """How far a chance moved: "+12 pts"."""
    return movement.points(change)
