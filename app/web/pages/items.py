"""The items behind every figure, and one item's page with its links and history."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.config import ThroughlineConfig
from app.programs import item_detail, items
from app.web.deps import ConfigDep, SessionDep
from app.web.item_filters import item_query
from app.web.pages.context import PageDep
from app.web.pages.links import external, item_url, items_url

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100


def describe(query: items.ItemQuery, config: ThroughlineConfig) -> str:
    """The list's filters in words, for its heading."""
    words = {"todo": "To do", "in_progress": "In progress", "done": "Done"}
    parts = [f"{words[query.status_category]} items" if query.status_category else "Items"]
    program = config.program(query.program) if query.program else None
    if query.check:
        parts.append(f"flagged by “{query.check.replace('_', ' ')}”")
    if program is not None:
        outcome = next((o for o in program.outcomes if o.key == query.outcome), None)
        parts.append(f"of {outcome.name} in {program.name}" if outcome else f"of {program.name}")
    if query.source:
        parts.append(f"from {query.source}")
    if query.keys:
        parts.append(f"({', '.join(query.keys[:5])}{' …' if len(query.keys) > 5 else ''})")
    if query.q:
        parts.append(f"matching “{query.q}”")
    return " ".join(parts)


def _params(query: items.ItemQuery) -> list[tuple[str, str]]:
    pairs = [
        (name, value)
        for name, value in (
            ("program", query.program),
            ("outcome", query.outcome),
            ("check", query.check),
            ("source", query.source),
            ("status_category", query.status_category),
            ("q", query.q),
        )
        if value
    ]
    pairs += [("key", k) for k in query.keys]
    if query.deleted:
        pairs.append(("deleted", "true"))
    return pairs


@router.get("/items", name="items_page")
async def items_page(
    page: PageDep,
    session: SessionDep,
    config: ConfigDep,
    query: Annotated[items.ItemQuery, Depends(item_query)],
    cursor: Annotated[str | None, Query()] = None,
) -> Response:
    async def build() -> Response:
        problem = None
        try:
            found = await items.list_items(session, config, query, limit=PAGE_SIZE, cursor=cursor)
        except items.InvalidQuery as exc:
            problem, found = f"{exc.field}: {exc}", None
        params = _params(query)
        keep = [(n, v) for n, v in params if n not in ("q", "status_category")]
        return page.render(
            "items.html",
            {
                "heading": describe(query, config),
                "query": query,
                "found": found,
                "problem": problem,
                "keep": keep,
                "next_url": (
                    "/items?" + urlencode([*params, ("cursor", found.next_cursor)])
                    if found and found.next_cursor
                    else None
                ),
                "first_url": "/items" + (f"?{urlencode(params)}" if params else ""),
                "paged": bool(cursor),
                "csv_url": "/api/items.csv" + (f"?{urlencode(params)}" if params else ""),
                "program_key": query.program,
                "program_name": program.name
                if (program := config.program(query.program or ""))
                else None,
                "item_url": item_url,
                "external": external,
            },
            status_code=422 if problem else 200,
        )

    return await page.cached(build)


@router.get("/items/{source}/{key}", name="item_page")
async def item_page(
    source: str,
    key: str,
    page: PageDep,
    session: SessionDep,
    config: ConfigDep,
    program: Annotated[str | None, Query()] = None,
) -> Response:
    async def build() -> Response:
        detail = await item_detail.read_item(session, config, source, key, program=program)
        return page.render(
            "item.html",
            {
                "d": detail,
                "program": config.program(program) if program else None,
                "tracker_url": external(detail.item.url),
                "item_url": item_url,
                "items_url": items_url,
                "external": external,
            },
        )

    return await page.cached(build)
