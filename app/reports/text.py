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
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]#|<>~$])")
# An underscore inside a word ("fast_pay") never makes emphasis; at a word's edge it can.
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9_])_+|_+(?![A-Za-z0-9_])")
# "&" matters only where it starts an entity ("&amp;", "&#35;"); elsewhere it is text.
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# Block markers count only at the start of a line and only when a space (or the end)
# follows: "- x" and "1. x" make lists, a line of "=" or "-" a heading, but "+4.6 pts",
# "-3 d" and "2026-W47" are plain text and are left as they are.
_LIST_START = re.compile(r"^(\d+)([.)])(?=\s|$)")
_BULLET_START = re.compile(r"^([-+])(?=\s|$)")
_RULE_LINE = re.compile(r"^[=\-\s]+$")


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
    escaped = _UNDERSCORE.sub(lambda m: "\\_" * len(m[0]), escaped)
    escaped = _ENTITY.sub(r"\\&", escaped)
    escaped = _LIST_START.sub(r"\1\\\2", escaped)
    escaped = _BULLET_START.sub(r"\\\1", escaped)
    if escaped and _RULE_LINE.match(escaped):
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
