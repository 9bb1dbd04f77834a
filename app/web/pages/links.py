"""Addresses the pages link to: the item lists behind figures, and trackers' own pages."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode, urlsplit


def items_url(
    *,
    program: str | None = None,
    outcome: str | None = None,
    check: str | None = None,
    status_category: str | None = None,
    source: str | None = None,
    keys: Iterable[str] = (),
) -> str:
    """The items page listing exactly what these filters select."""
    params: list[tuple[str, str]] = [
        (name, value)
        for name, value in (
            ("program", program),
            ("outcome", outcome),
            ("check", check),
            ("status_category", status_category),
            ("source", source),
        )
        if value
    ]
    params += [("key", k) for k in keys]
    return "/items" + (f"?{urlencode(params)}" if params else "")


def item_url(source: str, key: str, program: str | None = None) -> str:
    path = f"/items/{source}/{key}"
    return path + (f"?{urlencode({'program': program})}" if program else "")


def external(url: str | None) -> str | None:
    """A tracker's link, only if it is plain http(s): never ``javascript:`` or ``data:``."""
    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None
