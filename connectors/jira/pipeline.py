"""Loading a sweep's chunks concurrently while the caller stores what is already loaded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

READY_PAGES = 1
"""Mapped pages kept ready for the writer, besides the one it is storing: one next in line
per project read (with eight projects at once, the writer always has another waiting)."""


async def chunked(batches: AsyncIterator[list[str]], size: int) -> AsyncIterator[list[str]]:
    """Regroup batches of ids into lists of ``size`` (the last one may be shorter)."""
    pending: list[str] = []
    async for batch in batches:
        pending += batch
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending


async def pipeline(
    chunks: AsyncIterator[T],
    load: Callable[[T], Coroutine[Any, Any, R]],
    *,
    slots: asyncio.Semaphore,
) -> AsyncIterator[R]:
    """Load chunks concurrently and yield their pages as they finish.

    A producer walks the chunks and starts a load whenever one of the shared ``slots`` is
    free, whatever the caller is doing, so the tracker is kept busy while the caller
    stores a page; up to ``READY_PAGES`` finished pages wait for it. Memory is bounded by
    those two numbers, however large the site. A failure is raised to the caller as it
    was raised; leaving early cancels everything still running.
    """
    queue: asyncio.Queue[R | Exception | None] = asyncio.Queue(maxsize=READY_PAGES)
    loads: set[asyncio.Task[None]] = set()

    async def load_one(chunk: T) -> None:
        try:
            result: R | Exception = await load(chunk)
        except Exception as exc:  # handed to the caller through the queue
            result = exc
        try:
            await queue.put(result)
        finally:
            slots.release()

    async def produce() -> None:
        try:
            async for chunk in chunks:
                await slots.acquire()
                task = asyncio.create_task(load_one(chunk))
                loads.add(task)
                task.add_done_callback(loads.discard)
            await asyncio.gather(*loads)
        except Exception as exc:  # the sweep itself failed
            await queue.put(exc)
        else:
            await queue.put(None)

    producer = asyncio.create_task(produce())
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        for task in (producer, *loads):
            task.cancel()
        await asyncio.gather(producer, *loads, return_exceptions=True)
