"""The concurrent loading behind a Cloud fetch: bounded, failure-preserving, cancellable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from connectors.base import Page, TrackerUnavailable
from connectors.jira.pipeline import READY_PAGES, pipeline


async def chunks(count: int, started: list[int] | None = None) -> AsyncIterator[list[str]]:
    for n in range(count):
        if started is not None:
            started.append(n)
        yield [str(n)]


async def test_every_chunk_becomes_one_page_with_at_most_the_window_loading() -> None:
    running, peak = 0, 0

    async def load(ids: list[str]) -> Page:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1
        return Page(ids[0])

    pages = [p async for p in pipeline(chunks(20), load, slots=asyncio.Semaphore(3))]
    assert sorted(int(p.scope) for p in pages) == list(range(20))
    assert peak == 3


async def test_loads_go_on_while_the_caller_is_busy_but_stop_at_the_bound() -> None:
    started: list[int] = []

    async def load(ids: list[str]) -> Page:
        return Page(ids[0])

    pages = pipeline(chunks(50, started), load, slots=asyncio.Semaphore(2))
    first = await anext(pages)
    await asyncio.sleep(0.05)  # the caller "stores" a page for a while
    assert first.scope == "0"
    # Ready pages and running loads are bounded, so the sweep did not run ahead.
    assert len(started) <= 1 + READY_PAGES + 2 + 1
    await pages.aclose()


async def test_a_failed_load_reaches_the_caller_as_itself() -> None:
    async def load(ids: list[str]) -> Page:
        if ids == ["3"]:
            raise TrackerUnavailable("gave up after 6 retries")
        return Page(ids[0])

    with pytest.raises(TrackerUnavailable, match="gave up"):
        async for _ in pipeline(chunks(10), load, slots=asyncio.Semaphore(2)):
            pass


async def test_leaving_early_cancels_loads_still_running() -> None:
    cancelled: list[str] = []

    async def load(ids: list[str]) -> Page:
        if ids != ["0"]:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                cancelled.append(ids[0])
                raise
        return Page(ids[0])

    pages = pipeline(chunks(5), load, slots=asyncio.Semaphore(3))
    assert (await anext(pages)).scope == "0"
    await pages.aclose()
    assert cancelled, "loads in flight were cancelled, not left running"
