"""The filters of an item list as a request states them, shared by the API and the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.exceptions import RequestValidationError

from app.programs import items
from vocabulary import StatusCategory


def invalid(field: str, message: str) -> RequestValidationError:
    """A 422 in FastAPI's own shape, naming the query parameter at fault."""
    return RequestValidationError(
        [{"loc": ("query", field), "msg": message, "type": "value_error"}]
    )


async def item_query(
    program: Annotated[str | None, Query(description="A program's key")] = None,
    outcome: Annotated[
        str | None, Query(description="An outcome's key (needs program): its units of work")
    ] = None,
    check: Annotated[
        str | None,
        Query(description="A data-quality check (needs program), e.g. missing_estimate"),
    ] = None,
    source: Annotated[str | None, Query(description="A source's name")] = None,
    status_category: Annotated[StatusCategory | None, Query()] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in the title or key, any case")
    ] = None,
    key: Annotated[
        list[str] | None, Query(max_length=200, description="Only these keys (repeatable)")
    ] = None,
    deleted: Annotated[bool, Query(description="List tombstoned items instead")] = False,
) -> items.ItemQuery:
    return items.ItemQuery(
        program=program,
        outcome=outcome,
        check=check,
        source=source,
        status_category=status_category,
        q=q or None,
        keys=tuple(key or ()),
        deleted=deleted,
    )
