"""Every route of the app, with its path filled in for the restricted program."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


def walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(full path, route) for every route, through included routers."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            yield from walk(original.routes, prefix + (route.include_context.prefix or ""))
        else:
            yield prefix + route.path, route


def every_route(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route the app answers."""
    found = []
    for path, route in walk(app.routes):
        methods = sorted(route.methods - {"HEAD"}) if isinstance(route, APIRoute) else ["GET"]
        found.extend((method, path) for method in methods)
    return sorted(set(found))
