"""What-if: a program's forecast re-run with changes (nothing in any tracker changes),
and scenarios kept by name for the weekly report."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ConfigDict, Field

from app.config import ThroughlineConfig
from app.programs import lookup, plans, whatif
from app.web.deps import AdminDep, ConfigDep, ResponseCacheDep, SessionDep, ViewerDep

router = APIRouter(prefix="/api/programs", tags=["what-if"])

NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"description": "No such program or scenario"}
}


class NamedChanges(whatif.ScenarioChanges):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Defer 3-D Secure", **e}
                for e in whatif.CHANGES_EXAMPLES
                if isinstance(e, dict)
            ]
        }
    )

    name: str = Field(min_length=1, max_length=128, description="What to call the scenario")


def check(
    program: lookup.ConfiguredProgram, changes: whatif.ScenarioChanges, config: ThroughlineConfig
) -> None:
    """A 422 naming the field when the program cannot take a value."""
    problems = changes.problems(
        [o.key for o in program.config.outcomes], [t.key for t in config.teams]
    )
    if problems:
        raise RequestValidationError(
            [{"loc": ("body", f), "msg": m, "type": "value_error"} for f, m in problems]
        )


@router.post(
    "/{key}/what-if",
    summary="The forecast before and after a change of scope, pace or targets",
    responses=NOT_FOUND,
)
async def run_what_if(
    key: str, changes: whatif.ScenarioChanges, session: SessionDep, config: ConfigDep, _: ViewerDep
) -> whatif.WhatIfResult:
    program = await lookup.get_program(session, config, key)
    check(program, changes, config)
    return await whatif.what_if(
        session, program, changes, now=datetime.now(UTC), staff=plans.Staff.of(config)
    )


@router.get("/{key}/scenarios", summary="Saved what-if scenarios", responses=NOT_FOUND)
async def list_scenarios(
    key: str, session: SessionDep, config: ConfigDep, _: ViewerDep
) -> whatif.ScenarioList:
    program = await lookup.get_program(session, config, key)
    return await whatif.list_scenarios(session, program.id)


@router.post(
    "/{key}/scenarios",
    summary="Run a what-if and keep it by name (a scenario of that name is replaced)",
    status_code=status.HTTP_201_CREATED,
    responses=NOT_FOUND,
)
async def save_scenario(
    key: str,
    entry: NamedChanges,
    session: SessionDep,
    config: ConfigDep,
    cache: ResponseCacheDep,
    principal: AdminDep,
) -> whatif.SavedScenario:
    program = await lookup.get_program(session, config, key)
    check(program, entry, config)
    now = datetime.now(UTC)
    changes = whatif.ScenarioChanges.model_validate(entry.model_dump(exclude={"name"}))
    result = await whatif.what_if(session, program, changes, now=now, staff=plans.Staff.of(config))
    saved = await whatif.save(
        session, program.id, entry.name, changes, result, now=now, by=principal.name
    )
    cache.clear()
    return saved


@router.delete(
    "/{key}/scenarios/{scenario_id}",
    summary="Forget a saved scenario",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NOT_FOUND,
)
async def delete_scenario(
    key: str,
    scenario_id: int,
    session: SessionDep,
    config: ConfigDep,
    cache: ResponseCacheDep,
    principal: AdminDep,
) -> Response:
    program = await lookup.get_program(session, config, key)
    if not await whatif.delete_scenario(session, program.id, scenario_id, by=principal.name):
        raise lookup.NotFound(f"Program {key!r} has no scenario {scenario_id}.")
    cache.clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
