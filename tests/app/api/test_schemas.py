"""The OpenAPI examples are valid instances of the models they illustrate."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from app.api import examples, schemas


@pytest.mark.parametrize(
    ("model", "example"),
    [
        (schemas.OutcomeStatus, examples.OUTCOME),
        (schemas.ProgramSummary, examples.SUMMARY),
        (schemas.ProgramStatus, examples.PROGRAM_STATUS),
        (schemas.ProgramList, examples.PROGRAM_LIST),
        (schemas.Dependencies, examples.DEPENDENCIES),
        (schemas.Risk, examples.RISK),
        (schemas.RiskList, examples.RISK_LIST),
        (schemas.Changes, examples.CHANGES),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_example_is_valid_and_complete(model: type[BaseModel], example: dict[str, object]) -> None:
    parsed = model.model_validate(example)
    assert parsed.model_dump(mode="json", by_alias=True).keys() == example.keys()
