"""The demo organisation: every page and the latest weekly report show each headline
figure as the API states it, and every count leads to exactly its items (the same check
as ``tests/app/test_figures_agree.py`` makes on a generated organisation)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.demo import Demo, Options, run
from tests.app.test_figures_agree import site_agrees_with_its_api

pytestmark = pytest.mark.slow

START_LIMIT = 120.0


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Demo]:
    """The demo, with nobody changing the trackers while the pages are read."""
    stop = asyncio.Event()
    ready: asyncio.Future[Demo] = asyncio.get_running_loop().create_future()
    options = Options(
        workdir=tmp_path_factory.mktemp("demo-figures"), port=0, life_every=3600, sync_every=3600
    )
    task = asyncio.create_task(run(options, stop=stop, ready=ready.set_result))
    waiting: set[asyncio.Future[Any]] = {task, ready}
    done, _ = await asyncio.wait(waiting, timeout=START_LIMIT, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
        pytest.fail("the demo stopped before it was ready")
    assert ready in done, "the demo was not ready in time"
    try:
        yield ready.result()
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_every_demo_page_and_report_show_each_figure_as_the_api_states_it(
    demo: Demo,
) -> None:
    async with httpx.AsyncClient(
        base_url=demo.url, headers={"Accept": "text/html"}, timeout=30
    ) as client:
        reports = (await client.get("/api/programs/checkout/reports")).json()["reports"]
        latest = max(r["week"] for r in reports)
        tally = await site_agrees_with_its_api(client, latest, report_is_today=False)
    assert tally["pages"] >= 3 * 9
    assert tally["figures"] >= 60, tally
    assert tally["links"] >= 40, tally


async def test_the_demos_asana_work_has_cycle_times_from_its_board_moves(demo: Demo) -> None:
    """The mobile program is all Asana: its flow times work from the section moves the
    organisation made over its six months (stories), not only from completion."""
    async with httpx.AsyncClient(base_url=demo.url, timeout=30) as client:
        found = (await client.get("/api/programs/mobile/flow", params={"weeks": 26})).json()
    assert found["cycle_time"]["count"] >= 20, found["cycle_time"]
    assert found["cycle_time"]["p85"] > found["cycle_time"]["p50"] >= 2
    assert len(found["done_without_start"]) < found["cycle_time"]["count"]
    assert any(row["wip"] > 0 for row in found["wip_daily"])
