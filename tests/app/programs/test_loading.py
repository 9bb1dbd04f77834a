"""From stored rows and configuration to the roll-up's values."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import parse_config
from app.programs import loading
from app.store import records
from connectors.base import Deletion, Page
from rollup.model import Color, ProgressBasis
from tests.app import rollup_data as data
from tests.builders import make_item, make_source
from vocabulary import ItemKind, StatusCategory

POLICY = """
sources:
  - {name: jira, kind: jira, url: "https://jira.test", auth: {token_env: T}}
server: {auth: none}
programs:
  - key: p
    name: P
    progress_basis: estimate
    rag: {green_at: 0.9, late_dependency: amber, stale_work: "off"}
    forecast: {trials: 500, history_weeks: 8, scope_growth: true}
    risks: {scope_creep_percent: 25, stale_after_days: 5}
    outcomes:
      - {key: a, name: A, progress_basis: count, match: [{source: jira, labels: [x]}]}
      - {key: b, name: B, match: [{source: jira, custom_fields: {Team: [Pay]}}]}
"""


def test_program_configuration_becomes_a_policy() -> None:
    program = loading.to_program(parse_config(POLICY).programs[0])
    rag, forecast, risks = program.policy.rag, program.policy.forecast, program.policy.risks
    assert (rag.green_at, rag.late_dependency, rag.stale_work) == (0.9, Color.AMBER, None)
    assert (forecast.trials, forecast.history_weeks, forecast.scope_growth) == (500, 8, True)
    assert (risks.scope_creep, risks.stale_after_days) == (0.25, 5)
    assert [o.basis for o in program.outcomes] == [ProgressBasis.COUNT, ProgressBasis.ESTIMATE]
    assert program.outcomes[1].selectors[0].custom_fields == (("Team", ("Pay",)),)


def test_only_the_facets_selectors_use_are_read() -> None:
    assert loading.Facets.of(parse_config(POLICY).programs) == loading.Facets(
        labels=True, components=False, custom_fields=True
    )
    assert loading.Facets.of(data.config().programs) == loading.Facets(False, False, False)


async def test_items_carry_their_history_and_deleted_ones_are_left_out(
    session: AsyncSession,
) -> None:
    source = await make_source(session)
    reopened = data.story("PAY-2", started_days_ago=9, done_days_ago=4)
    again = data.moved("PAY-2", data.NOW - timedelta(days=2), StatusCategory.IN_PROGRESS, 3)
    items = [
        dataclasses.replace(reopened, transitions=(*(reopened.transitions or ()), again)),
        make_item("PAY-3", labels=("x", "y"), custom_fields=(("Team", "Pay"),)),
        make_item("PAY-4"),
    ]
    await records.save_page(session, source.id, Page("PAY", items), now=data.NOW)
    await records.save_page(
        session,
        source.id,
        Page("PAY", deletions=[Deletion("jira", "id-PAY-4", data.NOW)]),
        now=data.NOW,
    )
    names = await loading.source_names(session)
    loaded = {i.key: i for i in await loading.load_items(session, names, [source.id])}
    assert set(loaded) == {"PAY-2", "PAY-3"}
    assert loaded["PAY-2"].started_at == data.NOW - timedelta(days=9)
    assert loaded["PAY-2"].done_at == data.NOW - timedelta(days=4)
    assert loaded["PAY-3"].labels == ("x", "y")
    assert loaded["PAY-3"].custom_fields == (("Team", "Pay"),)
    assert loaded["PAY-3"].kind is ItemKind.STORY
    bare = await loading.load_items(
        session, names, [source.id], loading.Facets(False, False, False)
    )
    assert {i.key: i.labels for i in bare}["PAY-3"] == ()
