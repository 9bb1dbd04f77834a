"""The OpenAPI examples are valid instances of the models they illustrate."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from app.programs import documents
from app.programs.documents import examples, portfolio_examples
from app.programs.documents import portfolio as portfolio_documents


@pytest.mark.parametrize(
    ("model", "example"),
    [
        (documents.OutcomeStatus, examples.OUTCOME),
        (documents.ProgramSummary, examples.SUMMARY),
        (documents.ProgramStatus, examples.PROGRAM_STATUS),
        (documents.ProgramList, examples.PROGRAM_LIST),
        (documents.Dependencies, examples.DEPENDENCIES),
        (documents.Risk, examples.RISK),
        (documents.RiskList, examples.RISK_LIST),
        (documents.Changes, examples.CHANGES),
        (portfolio_documents.GoalStatus, portfolio_examples.GOAL),
        (portfolio_documents.Portfolio, portfolio_examples.PORTFOLIO),
        (portfolio_documents.PortfolioDependencies, portfolio_examples.DEPENDENCIES),
        (portfolio_documents.PortfolioPeople, portfolio_examples.PEOPLE),
        (documents.TrackRecord, examples.TRACK_RECORD),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_example_is_valid_and_complete(model: type[BaseModel], example: dict[str, object]) -> None:
    parsed = model.model_validate(example)
    assert parsed.model_dump(mode="json", by_alias=True).keys() == example.keys()
