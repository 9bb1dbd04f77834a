"""Reading Asana list endpoints: ``limit=100`` offset paging that survives expired offsets.

Pages within one listing are strictly sequential (each needs the previous offset), so
speed comes from running independent listings side by side; ``as_completed`` does that
under a bound and cancels what is left if its reader stops early.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from typing import Any, TypeVar

from connectors.base import TrackerRequestError
from connectors.http import TrackerClient
from connectors.pagination import OffsetPaginator, decode_json, iter_pages

log = logging.getLogger(__name__)
T = TypeVar("T")

PAGE_SIZE = 100
MAX_RESTARTS = 3
"""Offsets expire (about 15 minutes observed); a listing that keeps losing them is failing."""


class ListingTooLarge(Exception):
    """Asana refused the listing as too large (400): split it into smaller ones."""


def is_too_large(exc: TrackerRequestError) -> bool:
    """Asana's 400 for a result set it will not serve, paginated or not."""
    text = str(exc).casefold()
    return exc.status_code == 400 and ("too large" in text or "truncated" in text)


async def iter_records(
    client: TrackerClient, path: str, params: Mapping[str, Any]
) -> AsyncIterator[list[Any]]:
    """Yield the ``data`` list of each page of a listing.

    A 400 on a later page means the offset expired: the listing starts again from the
    first page (what was yielded is yielded again; callers' writes are idempotent). A 400
    saying the result is too large raises ``ListingTooLarge``.
    """
    for attempt in range(MAX_RESTARTS + 1):
        pages = 0
        try:
            async for body in iter_pages(
                client,
                path,
                paginator=OffsetPaginator(),
                decode=decode_json,
                params={**params, "limit": PAGE_SIZE},
            ):
                data = body.get("data")
                pages += 1
                yield data if isinstance(data, list) else []
            return
        except TrackerRequestError as exc:
            if is_too_large(exc):
                raise ListingTooLarge(str(exc)) from exc
            if exc.status_code != 400 or pages == 0 or attempt == MAX_RESTARTS:
                raise
            log.warning("%s: %s lost its offset (%s); starting it again", client.source, path, exc)


async def list_all(client: TrackerClient, path: str, params: Mapping[str, Any]) -> list[Any]:
    """Every record of a (small) listing."""
    records: list[Any] = []
    async for data in iter_records(client, path, params):
        records.extend(data)
    return records


async def as_completed(work: Iterable[Awaitable[T]], *, limit: int) -> AsyncIterator[T]:
    """Run awaitables at most ``limit`` at a time; yield each result as it arrives."""
    gate = asyncio.Semaphore(limit)

    async def gated(item: Awaitable[T]) -> T:
        async with gate:
            return await item

    tasks = [asyncio.ensure_future(gated(item)) for item in work]
    try:
        for done in asyncio.as_completed(tasks):
            yield await done
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
