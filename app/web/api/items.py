"""Items: the list behind every figure (filters, cursor paging, CSV export) and one item.

Reads need a viewer token. ``GET /api/items`` answers CSV to ``Accept: text/csv``, as
``/api/items.csv`` does; the export holds every matching item, not one page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from app.programs import documents, item_detail, items
from app.programs.documents import examples
from app.web import csv_export
from app.web.deps import ConfigDep, SessionDep, StateDep, ViewerDep, client_of
from app.web.item_filters import invalid, item_query

router = APIRouter(prefix="/api/items", tags=["items"])

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The page as JSON, or every matching item as CSV",
        "content": {"text/csv": {"schema": {"type": "string"}, "example": examples.ITEMS_CSV}},
    },
    404: {"description": "No such program"},
    429: {"description": "The client is already streaming as many exports as it may"},
}


QueryDep = Annotated[items.ItemQuery, Depends(item_query)]


async def _page(
    session: SessionDep,
    config: ConfigDep,
    query: items.ItemQuery,
    limit: int,
    cursor: str | None,
) -> documents.ItemPage:
    try:
        return await items.list_items(session, config, query, limit=limit, cursor=cursor)
    except items.InvalidQuery as exc:
        raise invalid(exc.field, str(exc)) from None


def _export(
    request: Request, state: StateDep, config: ConfigDep, query: items.ItemQuery
) -> StreamingResponse:
    """The export, if the client is not already streaming as many as it may (else 429)."""
    slots: csv_export.ExportSlots = request.app.state.exports
    release = slots.take(client_of(request))
    if release is None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"This address is already downloading {slots.per_client} export(s); "
            "wait for one to finish.",
            headers={"Retry-After": "10"},
        )
    return csv_export.SlottedStream(
        csv_export.iter_csv(
            items.iter_batches(state.read_sessionmaker, config, query, gate=slots.reads),
            tuple(documents.Item.model_fields),
        ),
        release=release,
        media_type=csv_export.MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="items.csv"'},
    )


@router.get(
    "",
    summary="Items, filtered and paged",
    response_model=documents.ItemPage,
    responses=CSV_RESPONSE,
)
async def list_items(
    request: Request,
    session: SessionDep,
    config: ConfigDep,
    state: StateDep,
    _: ViewerDep,
    query: QueryDep,
    limit: Annotated[int, Query(ge=1, le=items.MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> documents.ItemPage | StreamingResponse:
    page = await _page(session, config, query, limit, cursor)
    if csv_export.wants_csv(accept):
        return _export(request, state, config, query)
    return page


@router.get(
    ".csv",
    summary="Every item the filters select, as CSV",
    response_class=Response,
    responses=CSV_RESPONSE,
)
async def export_items(
    request: Request,
    session: SessionDep,
    config: ConfigDep,
    state: StateDep,
    _: ViewerDep,
    query: QueryDep,
) -> Response:
    await _page(session, config, query, 1, None)
    return _export(request, state, config, query)


@router.get(
    "/{source}/{key}",
    summary="One item: its links, status history and the outcomes it feeds",
    responses={404: {"description": "No such item"}},
)
async def read_item(
    source: str,
    key: str,
    session: SessionDep,
    config: ConfigDep,
    _: ViewerDep,
    program: Annotated[
        str | None, Query(description="Show times in this program's time zone")
    ] = None,
) -> documents.ItemDetail:
    return await item_detail.read_item(session, config, source, key, program=program)
