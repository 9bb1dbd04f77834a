"""Reading a site's figures back: every headline figure a page shows against the API value
it was drawn from, and every count link against the items it lists.

Pages mark each headline figure with ``data-figure`` (``app.render.figures``) inside rows
marked with ``data-outcome``; this reads them with the standard library's HTML parser and
compares them with what ``/api/programs/{key}`` (and its outcomes) say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import httpx

from rollup.figures import day, percent

COUNT = re.compile(r"^(\d+)(?: items?)?$")
ITEM_ROW = '<tr>\n    <td class="tl-title">'


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    text: str
    outcome: str | None
    """The ``data-outcome`` of the row it sits in (None: the page's own subject)."""


@dataclass(slots=True)
class _Open:
    tag: str
    figure: str | None = None
    outcome: str | None = None
    href: str | None = None
    text: list[str] = field(default_factory=list)


class PageReader(HTMLParser):
    """The marked figures and the links of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: list[Figure] = []
        self.links: list[tuple[str, str]] = []
        self._stack: list[_Open] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("br", "img", "input", "meta", "link", "hr"):
            return
        self._stack.append(
            _Open(tag, found.get("data-figure"), found.get("data-outcome"), found.get("href"))
        )

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            closed = self._stack.pop()
            text = " ".join("".join(closed.text).split())
            if closed.figure is not None:
                self.figures.append(Figure(closed.figure, text, self._outcome()))
            if closed.tag == "a" and closed.href is not None:
                self.links.append((closed.href, text))
            if self._stack:
                self._stack[-1].text.append("".join(closed.text))
            if closed.tag == tag:
                return

    def handle_data(self, data: str) -> None:
        if self._stack:
            self._stack[-1].text.append(data)

    def _outcome(self) -> str | None:
        return next((o.outcome for o in reversed(self._stack) if o.outcome), None)


def read(html: str) -> PageReader:
    reader = PageReader()
    reader.feed(html)
    reader.close()
    return reader


def expected_of(part: dict[str, Any], *, program: bool) -> dict[str, str]:
    """What a page must show of a program's or an outcome's figures, by figure name."""
    forecast, target = part["forecast"], part["target"]
    found = {"progress": part["progress"]["text"]}
    found["target"] = day_text(target, "—" if program else "no target")
    if forecast["p50"] or forecast["p85"]:
        found["p50"], found["p85"] = day_text(forecast["p50"]), day_text(forecast["p85"])
    if forecast["basis"] == "done" and not program:
        finished = part.get("finished_on")
        found["finished"] = f"done {day_text(finished)}" if finished else "done"
    on_time = forecast.get("on_time")
    if on_time:
        found["on-time"] = on_time["text"]
    if forecast["probability_on_time"] is not None and target and not program:
        found["on-time-share"] = percent(forecast["probability_on_time"])
        found["on-time-against"] = day_text(target)
    if forecast.get("movement"):
        found["movement"] = forecast["movement"]["text"]
        if forecast["movement"]["probability_text"]:
            found["movement-chance"] = forecast["movement"]["probability_text"]
    return found


def expected_of_report(report: dict[str, Any]) -> dict[str, str]:
    """What a weekly report's page must show: the words its JSON keeps for the day."""
    explained = report.get("explained") or {}
    found = {"progress": explained.get("progress", "")}
    if explained.get("on_time"):
        found["on-time"] = explained["on_time"]["text"]
    if explained.get("movement"):
        found["movement"] = explained["movement"]["text"]
    return found


def day_text(value: str | None, empty: str = "—") -> str:
    from datetime import date

    return day(date.fromisoformat(value)) if value else empty


def check_figures(
    page: str, figures: list[Figure], expected: dict[str | None, dict[str, str]]
) -> int:
    """Every figure shown equals its API value; returns how many were checked."""
    for shown in figures:
        wanted = expected.get(shown.outcome)
        assert wanted is not None, f"{page}: a figure for unknown {shown.outcome!r}"
        assert shown.name in wanted, (
            f"{page}: {shown.name} shown for {shown.outcome!r} but the API has none"
        )
        assert shown.text == wanted[shown.name], (page, shown.outcome, shown.name)
    return len(figures)


async def listed(client: httpx.AsyncClient, href: str) -> int:
    """How many items the items page at ``href`` lists, across its pages."""
    count, url = 0, href
    while url:
        html = (await client.get(url)).text
        count += html.count(ITEM_ROW)
        more = re.search(r'<a href="([^"]+)">Next \d+ →</a>', html)
        url = urljoin(url, more.group(1).replace("&amp;", "&")) if more else ""
    return count


async def check_count_links(client: httpx.AsyncClient, page: str, reader: PageReader) -> int:
    """Every link whose text is a count leads to exactly that many items."""
    checked = 0
    for href, text in reader.links:
        found = COUNT.match(text)
        if found is None or not href.startswith("/items?"):
            continue
        assert await listed(client, href) == int(found.group(1)), (page, text, href)
        checked += 1
    return checked
