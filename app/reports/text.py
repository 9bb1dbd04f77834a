"""Escaping tracker text for each format a report is written in.

Titles, names and keys come from trackers and are untrusted: in HTML Jinja's autoescape
covers them; Markdown, Slack and links need their own rules, kept here in one place.
"""

from __future__ import annotations

import re

from app.render.templates import safe_url
from rollup import figures

__all__ = [
    "Markdown",
    "escape_markdown",
    "markdown_item",
    "markdown_link",
    "markdown_notes",
    "safe_url",
]

# Characters CommonMark (with GitHub's tables, strikethrough and maths) gives a meaning
# anywhere in a line; a backslash makes each literal. With "[" and "]" escaped no link or
# image can form, so parentheses and "!" stay as they are. Block markers matter only at
# the start of a line and are handled there.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|<>~&$])")
_LIST_START = re.compile(r"^(\d+)([.)])")


class Markdown(str):
    """Markdown that is already safe to insert: escaped text or links built here."""

    __slots__ = ()


def escape_markdown(text: object) -> Markdown:
    """``text`` as literal Markdown on one line: no emphasis, link, HTML or block marker.

    Line breaks become spaces so a title cannot end a table row or start a heading.
    """
    if isinstance(text, Markdown):
        return text
    flat = " ".join(str(text).split())
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", flat)
    escaped = _LIST_START.sub(r"\1\\\2", escaped)
    if escaped.startswith(("-", "+", "=")):
        escaped = "\\" + escaped
    return Markdown(escaped)


def markdown_link(text: object, url: str | None) -> Markdown:
    """A Markdown link to an http(s) URL, or the escaped text alone."""
    label = escape_markdown(text)
    target = safe_url(url)
    if target is None:
        return label
    return Markdown(f"[{label}](<{target}>)")


def markdown_item(item: object) -> Markdown:
    """An item as a Markdown list entry: its key linked to the tracker, its title, and
    the outcomes it feeds."""
    key, title = getattr(item, "key", ""), getattr(item, "title", "")
    line = f"{markdown_link(figures.key_label(key), getattr(item, 'url', None))} "
    line += escape_markdown(title)
    outcomes = getattr(item, "outcomes", None)
    if outcomes:
        line += f" ({escape_markdown(', '.join(outcomes))})"
    return Markdown(line)


def markdown_notes(text: str) -> Markdown:
    """The program manager's notes: their Markdown kept, raw HTML shown as text."""
    return Markdown(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def escape_slack(text: object) -> str:
    """Slack's control characters as the entities Slack asks for (``&``, ``<``, ``>``)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(text: object, url: str | None) -> str:
    """A Slack link ``<url|text>``, or the escaped text alone."""
    label = escape_slack(" ".join(str(text).split())).replace("|", "¦")
    target = safe_url(url)
    if target is None:
        return label
    return f"<{target.replace('|', '%7C')}|{label}>"
