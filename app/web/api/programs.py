"""Programs, outcomes, dependencies, risks and changes: the JSON API of the roll-up.

Reads need a viewer token and are lookups of what the last recomputation stored; the
risk register needs an admin token.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from app.programs import changes as change_service
from app.programs import documents, lookup, risk_history, risks, track_record
from app.programs.documents import examples
from app.store.tables import RiskRow
from app.web import csv_export, inputs
from app.web.deps import (
    AdminDep,
    ConfigDep,
    ReadsDep,
    ResponseCacheDep,
    SessionDep,
    ViewerDep,
)

router = APIRouter(prefix="/api/programs", tags=["programs"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such program, outcome or risk"}
}


def _invalid(field: str, message: str) -> RequestValidationError:
    """A 422 in FastAPI's own shape, naming the field at fault."""
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


def _json(model: BaseModel) -> Response:
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")


@router.get("", summary="Every program, summarised", response_model=documents.ProgramList)
async def list_programs(
    session: SessionDep, config: ConfigDep, cache: ResponseCacheDep, _: ViewerDep
) -> Response:
    async def build() -> Response:
        return _json(await lookup.list_programs(session, config, now=datetime.now(UTC)))

    # One cached answer serves every reader who may see the same programs (the cache keys it so).
    return await cache.get(("api", "programs"), build)


@router.get(
    "/{key}",
    summary="A program's status",
    response_model=documents.ProgramStatus,
    responses=NOT_FOUND,
)
async def read_program(
    key: str,
    session: SessionDep,
    config: ConfigDep,
    reads: ReadsDep,
    cache: ResponseCacheDep,
    _: ViewerDep,
) -> Response:
    async def build() -> Response:
        body = await lookup.read_status_json(
            session, config, key, now=datetime.now(UTC), reads=reads
        )
        return Response(body, media_type="application/json")

    return await cache.get(("api", "program", key), build)


@router.get(
    "/{key}/outcomes/{outcome}",
    summary="An outcome's status, with every item behind its figures",
    responses=NOT_FOUND,
)
async def read_outcome(
    key: str, outcome: str, session: SessionDep, config: ConfigDep, _: ViewerDep
) -> documents.OutcomeStatus:
    return await lookup.read_outcome(session, config, key, outcome)


@router.get("/{key}/dependencies", summary="The dependency map", responses=NOT_FOUND)
async def read_dependencies(
    key: str, session: SessionDep, config: ConfigDep, _: ViewerDep
) -> documents.Dependencies:
    return await lookup.read_dependencies(session, config, key)


@router.get(
    "/{key}/calibration",
    summary="How past forecasts fared: P50 and P85 dates met, Brier score of the chances",
    responses=NOT_FOUND,
)
async def read_calibration(
    key: str, session: SessionDep, config: ConfigDep, _: ViewerDep
) -> documents.TrackRecord:
    return await track_record.read_track_record(session, config, key)


@router.get("/{key}/changes", summary="What changed since a date", responses=NOT_FOUND)
async def read_changes(
    key: str,
    since: Annotated[date, Query(description="A day in the program's time zone")],
    session: SessionDep,
    config: ConfigDep,
    _: ViewerDep,
) -> documents.Changes:
    return await change_service.changes_since(session, config, key, since)


RISKS_CSV_HEADER = (
    "id",
    "origin",
    "rule",
    "title",
    "severity",
    "probability",
    "impact",
    "score",
    "roam",
    "owner",
    "mitigation",
    "due_on",
    "outcome",
    "items",
    "opened_at",
    "closed_at",
)
RISKS_RESPONSES: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    200: {
        "description": "The risks as JSON, or as CSV",
        "content": {"text/csv": {"schema": {"type": "string"}, "example": examples.RISKS_CSV}},
    },
}
RiskState = Literal["open", "closed", "all"]


async def _risks(
    session: SessionDep, config: ConfigDep, key: str, state: RiskState
) -> documents.RiskList:
    program = await lookup.get_program(session, config, key)
    rows = await risks.list_risks(session, program.id, state=state)
    history = await risk_history.history_of(session, program.id, [r.id for r in rows], program.zone)
    return documents.RiskList(
        risks=[risks.to_out(r, program.zone, history.get(r.id, ())) for r in rows]
    )


async def _one_risk(
    session: SessionDep, program: lookup.ConfiguredProgram, risk: RiskRow
) -> documents.Risk:
    history = await risk_history.history_of(session, program.id, [risk.id], program.zone)
    return risks.to_out(risk, program.zone, history.get(risk.id, ()))


def _risks_csv(found: documents.RiskList, key: str) -> Response:
    return Response(
        csv_export.of_models(found.risks, RISKS_CSV_HEADER, with_header=True),
        media_type=csv_export.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{key}-risks.csv"'},
    )


@router.get(
    "/{key}/risks",
    summary="Derived and register risks",
    response_model=documents.RiskList,
    responses=RISKS_RESPONSES,
)
async def list_risks(
    key: str,
    session: SessionDep,
    config: ConfigDep,
    _: ViewerDep,
    state: RiskState = "open",
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> documents.RiskList | Response:
    found = await _risks(session, config, key, state)
    return _risks_csv(found, key) if csv_export.wants_csv(accept) else found


@router.get(
    "/{key}/risks.csv",
    summary="Derived and register risks, as CSV",
    response_class=Response,
    responses=RISKS_RESPONSES,
)
async def export_risks(
    key: str, session: SessionDep, config: ConfigDep, _: ViewerDep, state: RiskState = "open"
) -> Response:
    return _risks_csv(await _risks(session, config, key, state), key)


def _check_outcome(program: lookup.ConfiguredProgram, outcome: str | None) -> None:
    known = [o.key for o in program.config.outcomes]
    if outcome is not None and outcome not in known:
        raise _invalid("outcome", f"unknown outcome {outcome!r}; known: {', '.join(known)}")


@router.post(
    "/{key}/risks",
    summary="Add a register risk",
    status_code=status.HTTP_201_CREATED,
    responses=NOT_FOUND,
)
async def create_risk(
    key: str,
    entry: inputs.RiskCreate,
    session: SessionDep,
    config: ConfigDep,
    cache: ResponseCacheDep,
    principal: AdminDep,
) -> documents.Risk:
    program = await lookup.get_program(session, config, key)
    _check_outcome(program, entry.outcome)
    risk = await risks.create(
        session,
        program.id,
        risks.NewRisk(**entry.model_dump()),
        now=datetime.now(UTC),
        by=principal.name,
    )
    cache.clear()
    return await _one_risk(session, program, risk)


@router.get(
    "/{key}/risks/{risk_id}",
    summary="One risk, with every change people made to it",
    responses=NOT_FOUND,
)
async def read_risk(
    key: str, risk_id: int, session: SessionDep, config: ConfigDep, _: ViewerDep
) -> documents.Risk:
    program = await lookup.get_program(session, config, key)
    risk = await risks.get_risk(session, program.id, risk_id)
    if risk is None:
        raise lookup.NotFound(f"Program {key!r} has no risk {risk_id}.")
    return await _one_risk(session, program, risk)


@router.patch(
    "/{key}/risks/{risk_id}",
    summary="Change a register risk, or decide on a derived one",
    responses=NOT_FOUND,
)
async def update_risk(
    key: str,
    risk_id: int,
    entry: inputs.RiskUpdate,
    session: SessionDep,
    config: ConfigDep,
    cache: ResponseCacheDep,
    principal: AdminDep,
) -> documents.Risk:
    program = await lookup.get_program(session, config, key)
    risk = await risks.get_risk(session, program.id, risk_id)
    if risk is None:
        raise lookup.NotFound(f"Program {key!r} has no risk {risk_id}.")
    changes = entry.model_dump(exclude_unset=True)
    outcomes = [o.key for o in program.config.outcomes]
    for name, message in risks.update_problems(risk, changes, outcomes):
        raise _invalid(name, message)
    updated = await risks.update(session, risk, changes, now=datetime.now(UTC), by=principal.name)
    cache.clear()
    return await _one_risk(session, program, updated)


@router.delete(
    "/{key}/risks/{risk_id}",
    summary="Remove a register risk",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND, 409: {"description": "Derived risks close when their signal does"}},
)
async def delete_risk(
    key: str,
    risk_id: int,
    session: SessionDep,
    config: ConfigDep,
    cache: ResponseCacheDep,
    principal: AdminDep,
) -> Response:
    program = await lookup.get_program(session, config, key)
    risk = await risks.get_risk(session, program.id, risk_id)
    if risk is None:
        raise lookup.NotFound(f"Program {key!r} has no risk {risk_id}.")
    if risk.origin == risks.DERIVED:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "A derived risk closes by itself when its signal clears; "
            "set its roam state to accepted instead.",
        )
    await risks.delete(session, risk, now=datetime.now(UTC), by=principal.name)
    cache.clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
