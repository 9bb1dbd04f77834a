"""The weekly portfolio digest: every program in one table, changed colours first,
delivered on its own schedule through the report channels."""

from __future__ import annotations

import respx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import parse_config
from app.config.settings import Settings
from app.reports import portfolio, schedule
from app.store.engine import session_scope
from app.store.schedule import PlanContext
from tests.app import rollup_data as data
from tests.app.reports import history
from tests.app.reports.standins import WIKI, Confluence, Receiver

SLACK = "https://hooks.slack.test/services/T/B/digest"
ENV = {"SLACK_URL": SLACK, "WIKI_TOKEN": "t"}
DIGEST = f"""
digest:
  cron: "0 9 * * MON"
  timezone: Europe/Berlin
  title: Northwind portfolio
  deliver:
    slack: {{webhook_url_env: SLACK_URL}}
    confluence: {{url: "{WIKI}", space: PM, auth: {{token_env: WIKI_TOKEN}}}}
"""


async def test_the_digest_lists_every_program_changed_colours_first_and_is_delivered(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = parse_config(data.CONFIG + DIGEST)
    await history.build(sessionmaker, cfg)
    async with session_scope(sessionmaker) as session:
        row = await portfolio.generate(
            session, cfg, history.WEEK, now=history.MONDAY, public_url="https://tl.test"
        )
    digest = portfolio.PortfolioDigest.model_validate(row.data)
    assert digest.covers == "2026-W47, 9–15 Nov, issued Mon 16 Nov"
    first = digest.programs[0]
    assert (first.key, first.rag, first.previous_rag, first.changed) == (
        "checkout",
        "red",
        "grey",
        True,
    )
    assert first.top_risk is not None
    assert "Northwind portfolio" in row.html
    assert 'style="' in row.html
    slack, wiki = Receiver(), Confluence()
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(SLACK).mock(side_effect=slack)
        wiki.mount(mock)
        sent = await portfolio.deliver(
            sessionmaker,
            cfg,
            history.WEEK,
            now=history.MONDAY,
            environ=ENV,
            public_url="https://tl.test",
        )
        assert sent == {"slack": "sent", "confluence": "sent"}
        again = await portfolio.deliver(
            sessionmaker, cfg, history.WEEK, now=history.MONDAY, environ=ENV
        )
        assert again == {}
    text = slack.bodies[0]["blocks"][0]["text"]["text"]
    assert text.index("Checkout v2") < text.index("Mobile relaunch")
    assert "RED (was GREY)" in text
    assert [p.title for p in wiki.pages.values()] == ["Northwind portfolio — status 2026-W47"]


def test_the_digest_has_its_own_scheduled_job(tmp_path: object) -> None:
    cfg = parse_config(data.CONFIG + DIGEST)
    ctx = PlanContext(None, cfg, Settings(_env_file=None), {})  # type: ignore[arg-type]
    jobs = {j.id: j for j in schedule.plan(ctx)}
    assert "digest:portfolio" in jobs
    assert "Europe/Berlin" in jobs["digest:portfolio"].name
