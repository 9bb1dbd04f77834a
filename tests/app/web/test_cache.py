"""The response cache: kept for a while, built once for a crowd, stale while rebuilding,
cleared by edits, and never keeping what an edit overtook."""

from __future__ import annotations

import asyncio

from starlette.responses import Response

from app.web.cache import ResponseCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def builder(texts: list[str], gate: asyncio.Event | None = None):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    async def build() -> Response:
        calls["n"] += 1
        if gate is not None:
            await gate.wait()
        return Response(texts[min(calls["n"], len(texts)) - 1], headers={"X-A": "1"})

    return build, calls


async def test_a_response_is_kept_for_its_seconds() -> None:
    clock = Clock()
    cache = ResponseCache(2, clock=clock)
    build, calls = builder(["one", "two"])
    assert (await cache.get("k", build)).body == b"one"
    clock.now = 1.9
    kept = await cache.get("k", build)
    assert (kept.body, kept.headers["x-a"], calls["n"]) == (b"one", "1", 1)
    clock.now = 2.1
    assert (await cache.get("k", build)).body == b"two"


async def test_a_crowd_waits_for_one_build() -> None:
    cache = ResponseCache(2, clock=Clock())
    gate = asyncio.Event()
    build, calls = builder(["one"], gate)
    waiting = [asyncio.create_task(cache.get("k", build)) for _ in range(20)]
    await asyncio.sleep(0)
    gate.set()
    assert {r.body for r in await asyncio.gather(*waiting)} == {b"one"}
    assert calls["n"] == 1


async def test_others_get_the_old_answer_while_one_rebuilds() -> None:
    clock = Clock()
    cache = ResponseCache(2, clock=clock)
    first, _ = builder(["old"])
    await cache.get("k", first)
    clock.now = 5
    gate = asyncio.Event()
    slow, _ = builder(["new"], gate)
    rebuilding = asyncio.create_task(cache.get("k", slow))
    await asyncio.sleep(0)
    assert (await cache.get("k", slow)).body == b"old", "no queue behind a rebuild"
    gate.set()
    assert (await rebuilding).body == b"new"
    assert (await cache.get("k", slow)).body == b"new"


async def test_an_edit_clears_and_overtakes_a_build_in_progress() -> None:
    cache = ResponseCache(2, clock=Clock())
    gate = asyncio.Event()
    slow, calls = builder(["before the edit", "after the edit"], gate)
    building = asyncio.create_task(cache.get("k", slow))
    await asyncio.sleep(0)
    cache.clear()
    gate.set()
    await building
    assert (await cache.get("k", slow)).body == b"after the edit"
    assert calls["n"] == 2


async def test_errors_and_other_statuses_are_not_kept() -> None:
    cache = ResponseCache(2, clock=Clock())
    calls = {"n": 0}

    async def missing() -> Response:
        calls["n"] += 1
        return Response("no", status_code=404)

    await cache.get("k", missing)
    await cache.get("k", missing)
    assert calls["n"] == 2


async def test_zero_seconds_turns_it_off() -> None:
    cache = ResponseCache(0)
    build, _ = builder(["one", "two"])
    await cache.get("k", build)
    assert (await cache.get("k", build)).body == b"two"


async def test_a_new_store_version_clears_it() -> None:
    versions = iter([1, 1, 2])

    async def version() -> int:
        return next(versions)

    cache = ResponseCache(60, clock=Clock(), version=version)
    build, calls = builder(["before", "after"])
    assert (await cache.get("k", build)).body == b"before"
    assert (await cache.get("k", build)).body == b"before"
    assert (await cache.get("k", build)).body == b"after", "recomputed: built again"
    assert calls["n"] == 2


async def test_reads_arriving_together_share_one_version_look() -> None:
    looks = {"n": 0}
    gate = asyncio.Event()

    async def version() -> int:
        looks["n"] += 1
        await gate.wait()
        return 1

    cache = ResponseCache(60, clock=Clock(), version=version)
    build, _ = builder(["one"])
    waiting = [asyncio.create_task(cache.get("k", build)) for _ in range(20)]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*waiting)
    assert looks["n"] == 1
