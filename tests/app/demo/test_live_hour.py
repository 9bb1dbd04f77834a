"""The demo's story holds: an hour of the organisation's live changes, simulated fast on
the fakes' clock, synced by the real connectors and recomputed every few minutes, keeps
each program's colour and shape.

The fakes serve on loopback as in the demo; the clock moves three seconds a step (the
demo's tick) and the syncs and roll-ups run as of the fakes' clock.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import sync
from app.config import ThroughlineConfig, load_config
from app.demo import config as demo_config
from app.demo import live
from app.programs import lookup, recompute
from app.store import catalog
from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.sync import trackers
from app.sync.crosslinks import ReferenceResolver
from connectors.fake.org import Flow, Organisation

pytestmark = pytest.mark.slow

TICK = 3.0
HOUR = 3600
MEASURE_EVERY = 600
STORY = {"checkout": "red", "mobile": "green", "onboarding": "amber"}


@dataclass(frozen=True, slots=True)
class Standing:
    color: str
    done: int
    scope: int
    p85: date | None
    late_across_trackers: int


@dataclass
class Stage:
    org: Organisation
    flow: Flow
    fakes: live.FakeTrackers
    config: ThroughlineConfig
    sessionmaker: async_sessionmaker[AsyncSession]
    environ: dict[str, str]

    async def measure(self) -> dict[str, Standing]:
        """Sync both fakes and recompute, as of the fakes' clock; each program's standing."""
        clock = self.org.clock
        async with session_scope(self.sessionmaker) as session:
            rows = await catalog.apply_config(session, self.config, now=clock.now())
        references = ReferenceResolver.from_config(self.config)
        for source in self.config.sources:
            async with trackers.build_http_client(source, environ=self.environ) as client:
                outcome = await sync.run_sync(
                    self.sessionmaker,
                    trackers.build_connector(source, client),
                    source_id=rows[source.name].id,
                    overlap=source.overlap,
                    now=clock.now,
                    references=references,
                )
                assert outcome.status == "succeeded", outcome.errors
        await recompute.recompute(self.sessionmaker, self.config, now=clock.now())
        found = {}
        async with session_scope(self.sessionmaker) as session:
            for program in self.config.programs:
                status = await lookup.read_status(
                    session, self.config, program.key, now=clock.now()
                )
                found[program.key] = Standing(
                    status.rag.color,
                    status.progress.done_count,
                    status.progress.scope_count,
                    status.forecast.p85,
                    sum(1 for d in status.late if d.cross_tracker),
                )
        return found


@pytest.fixture(scope="module")
async def stage(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stage]:
    today = datetime.now(UTC).date()
    environ = {**demo_config.ENVIRON, demo_config.JIRA_WEBHOOK_SECRET_ENV: "s" * 24}
    for name, value in environ.items():
        os.environ.setdefault(name, value)
    org = Organisation()
    flow = Flow(org, today=today, seed=7)
    fakes = live.FakeTrackers(org, "127.0.0.1")
    workdir: Path = tmp_path_factory.mktemp("demo-hour")
    try:
        jira, asana = await fakes.start()
        settings = await live.prepare(
            live.Options(workdir=workdir, port=0), fakes, flow, jira, asana, today, environ
        )
        # The demo starts in the working day, whenever the test runs.
        await fakes.change(lambda: _set_clock(org, datetime.combine(today, time(10), UTC)))
        engine = make_engine(settings.database_url)
        try:
            yield Stage(
                org,
                flow,
                fakes,
                load_config(settings.config, environ=environ),
                make_sessionmaker(engine),
                environ,
            )
        finally:
            await engine.dispose()
    finally:
        await fakes.stop()


def _set_clock(org: Organisation, moment: datetime) -> None:
    org.clock.offset = 0.0
    org.clock.advance((moment - org.clock.now()).total_seconds())


async def test_an_hour_of_live_changes_keeps_every_programs_colour_and_shape(
    stage: Stage,
) -> None:
    start = await stage.measure()
    assert {k: s.color for k, s in start.items()} == STORY
    assert start["onboarding"].late_across_trackers >= 1, "an Asana task waits on late Jira work"

    def tick() -> int:
        stage.org.clock.advance(TICK)
        return len(stage.flow.step())

    changes, seen = 0, [start]
    for n in range(1, int(HOUR / TICK) + 1):
        changes += await stage.fakes.change(tick)
        if (n * TICK) % MEASURE_EVERY == 0:
            seen.append(await stage.measure())

    assert changes >= 10, "the organisation kept working"
    end = seen[-1]
    assert sum(s.done for s in end.values()) > sum(s.done for s in start.values())
    for key, colour in STORY.items():
        assert [m[key].color for m in seen] == [colour] * len(seen), key
        first, last = start[key], end[key]
        assert abs(last.scope - first.scope) <= max(3, first.scope // 10), key
        assert 0 <= last.done - first.done <= max(3, first.scope // 10), key
        if first.p85 is not None and last.p85 is not None:
            horizon = (first.p85 - stage.org.clock.now().date()).days
            # Work finished in the hour brings the date forward in proportion: two of seven
            # remaining items done move a 53-day forecast by about 15 days on top of the
            # drift the hour may cause (the demo's world follows the calendar, so some days
            # leave a program only a few items from done).
            remaining = max(1, first.scope - first.done)
            finished = horizon * abs(last.done - first.done) // remaining
            assert abs((last.p85 - first.p85).days) <= max(14, horizon // 3) + finished, key
    assert end["onboarding"].late_across_trackers >= 1
