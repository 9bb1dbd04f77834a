"""The roadmap and resources of a program: JSON lookups of what the last recomputation
stored, the roadmap with its baseline as of a chosen day."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from app.programs import documents, plans
from app.web.api.programs import NOT_FOUND
from app.web.deps import ConfigDep, SessionDep, ViewerDep

router = APIRouter(prefix="/api/programs", tags=["programs"])

BaselineQuery = Annotated[
    date | None,
    Query(
        description="Draw the baseline as of this day (its last snapshot on or before it); "
        "default: the program's configured baseline, else its first snapshot"
    ),
]


@router.get(
    "/{key}/roadmap",
    summary="The roadmap: bars per epic and project, milestones, dependencies, baseline",
    responses=NOT_FOUND,
)
async def read_roadmap(
    key: str, session: SessionDep, config: ConfigDep, _: ViewerDep, baseline: BaselineQuery = None
) -> documents.Roadmap:
    return await plans.read_roadmap(session, config, key, baseline_on=baseline)


@router.get(
    "/{key}/resources",
    summary="Who carries the work: people and teams, over-allocation, forecasts per team",
    responses=NOT_FOUND,
)
async def read_resources(
    key: str, session: SessionDep, config: ConfigDep, _: ViewerDep
) -> documents.Resources:
    return await plans.read_resources(session, config, key)
