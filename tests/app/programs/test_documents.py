"""Documents built without validation (``model_construct``) are exactly what their models
say: stored as JSON and read back, they validate and come out the same."""

from __future__ import annotations

import random
from datetime import UTC, timedelta

import pytest

from app.programs import documents
from rollup.status import ProgramRollup, evaluate
from rollup.trend import Trend
from tests.rollup.builders import AS_OF, dep, doing, item, outcome, program, steady_history, world


@pytest.fixture(scope="module")
def rolled_up() -> ProgramRollup:
    items = [
        *steady_history("PAY"),
        doing("PAY-1", due_on=AS_OF + timedelta(days=3)),
        item("PAY-2"),
        item("WEB-1", due_on=AS_OF + timedelta(days=30)),
    ]
    index, graph = world(
        items, [dep("PAY-1", "PAY-2"), dep("WEB-1", "PAY-2"), dep("GONE-1", "PAY-1")]
    )
    chosen = program(outcome("pay", target=AS_OF + timedelta(days=20)))
    return evaluate(chosen, index, graph, Trend(), as_of=AS_OF, zone=UTC, rng=random.Random(1))


def test_dependency_document_round_trips_through_its_model(rolled_up: ProgramRollup) -> None:
    stored = documents.dependencies_document(rolled_up).model_dump(mode="json", by_alias=True)
    parsed = documents.Dependencies.model_validate(stored)
    assert parsed.model_dump(mode="json", by_alias=True) == stored
    assert {(e.from_, e.to, e.late) for e in parsed.edges} == {
        ("PAY-1", "PAY-2", False),
        ("WEB-1", "PAY-2", True),
    }


def test_outcome_document_round_trips_through_its_model(rolled_up: ProgramRollup) -> None:
    built = documents.outcome_document(rolled_up.outcomes[0], [], as_of=AS_OF)
    stored = built.model_dump(mode="json", by_alias=True)
    parsed = documents.OutcomeStatus.model_validate(stored)
    assert parsed.model_dump(mode="json", by_alias=True) == stored
    assert parsed.explain is not None
    assert len(parsed.explain.contributors) == parsed.progress.scope_count
