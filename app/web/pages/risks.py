"""A program's risks: the heat map, the register with its ROAM states, the derived risks
with their evidence and age, and (for admins) forms to add and change register entries.

Forms are validated by the API's own models and rules, so a form and a JSON client get
the same answers, field by field.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from app.programs import documents, lookup, risk_history, risks
from app.render.heatmap import heatmap_svg
from app.web import inputs
from app.web.deps import ConfigDep, SessionDep
from app.web.pages import csrf
from app.web.pages.context import AdminPageDep, PageContext, PageDep
from app.web.pages.links import item_url, items_url
from rollup import figures

router = APIRouter(include_in_schema=False)
ROAM = ("owned", "accepted", "mitigated", "resolved")
TEXT_FIELDS = ("title", "description", "owner", "mitigation")
Severity = Literal["critical", "high", "medium", "low"]


def form_values(form: FormData, names: tuple[str, ...]) -> dict[str, Any]:
    """The submitted fields among ``names``; an empty optional field means none."""
    values: dict[str, Any] = {}
    for name in names:
        if name not in form:
            continue
        raw = form.get(name)
        text = raw.strip() if isinstance(raw, str) else ""
        if name == "items":
            values[name] = [k for k in text.replace(",", " ").split() if k]
        elif name == "title":
            values[name] = text
        else:
            values[name] = text or None
    return values


def field_errors(exc: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "form"
        found.setdefault(name, error["msg"].removeprefix("Value error, "))
    return found


def _counts(found: list[documents.Risk]) -> Counter[tuple[int, int]]:
    return Counter(
        (r.probability, r.impact)
        for r in found
        if r.closed_at is None and r.probability and r.impact
    )


async def _render(
    page: PageContext,
    session: SessionDep,
    config: ConfigDep,
    key: str,
    *,
    state: Literal["open", "closed", "all"] = "open",
    severity: Severity | None = None,
    cell: tuple[int, int] | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    program = await lookup.get_program(session, config, key)
    rows = await risks.list_risks(session, program.id, state="all")
    history = await risk_history.history_of(session, program.id, [r.id for r in rows], program.zone)
    everything = [risks.to_out(r, program.zone, history.get(r.id, ())) for r in rows]
    shown = [
        r
        for r in everything
        if (state == "all" or (r.closed_at is None) == (state == "open"))
        and (severity is None or r.severity == severity)
        and (cell is None or (r.probability, r.impact) == cell)
    ]
    now = datetime.now(UTC)
    return page.render(
        "risks.html",
        {
            "program": program.config,
            "heatmap": heatmap_svg(
                _counts(everything),
                title=f"{program.config.name}: open risks by probability and impact",
                href=lambda p, i: f"?probability={p}&impact={i}#risks",
                selected=cell,
            ),
            "register": [r for r in shown if r.origin == "register"],
            "derived": [r for r in shown if r.origin == "derived"],
            "age": {r.id: (now - r.opened_at).days for r in shown},
            "state": state,
            "severity": severity,
            "cell": cell,
            "filtered": severity is not None or cell is not None,
            "outcomes": program.config.outcomes,
            "roam_states": ROAM,
            "form": form or {},
            "errors": errors or {},
            "csrf_token": csrf.token(page.request),
            "items_url": items_url,
            "item_url": item_url,
            "item_name": figures.item_name,
        },
        status_code=status_code,
    )


@router.get("/programs/{key}/risks", name="risks_page")
async def risks_page(
    key: str,
    page: PageDep,
    session: SessionDep,
    config: ConfigDep,
    state: Literal["open", "closed", "all"] = "open",
    severity: Severity | None = None,
    probability: Annotated[int | None, Query(ge=1, le=5)] = None,
    impact: Annotated[int | None, Query(ge=1, le=5)] = None,
) -> Response:
    cell = (probability, impact) if probability and impact else None
    return await _render(page, session, config, key, state=state, severity=severity, cell=cell)


@router.post("/programs/{key}/risks", name="add_risk")
async def add_risk(
    key: str, page: AdminPageDep, session: SessionDep, config: ConfigDep
) -> Response:
    form = await page.request.form()
    csrf.verify(page.request, form.get(csrf.FIELD))
    program = await lookup.get_program(session, config, key)
    values = form_values(
        form, (*TEXT_FIELDS, "probability", "impact", "roam", "due_on", "outcome", "items")
    )
    values["decision"] = form.get("decision") is not None
    errors: dict[str, str] = {}
    try:
        entry = inputs.RiskCreate.model_validate(values)
    except ValidationError as exc:
        errors = field_errors(exc)
    else:
        known = [o.key for o in program.config.outcomes]
        if entry.outcome is not None and entry.outcome not in known:
            errors["outcome"] = f"unknown outcome {entry.outcome!r}"
    if errors:
        return await _render(
            page, session, config, key, form=values, errors=errors, status_code=422
        )
    risk = await risks.create(
        session,
        program.id,
        risks.NewRisk(**entry.model_dump()),
        now=datetime.now(UTC),
        by=page.viewer.name,
    )
    page.cache.clear()
    return RedirectResponse(f"/programs/{key}/risks#risk-{risk.id}", status_code=303)


def _form_of(risk: documents.Risk) -> dict[str, Any]:
    """A risk's fields as its form starts: a derived risk's scores are the person's only
    (none selected: as the data says)."""
    values = risk.model_dump()
    if risk.origin == "derived":
        decided = risk.override
        values["probability"] = decided.probability if decided else None
        values["impact"] = decided.impact if decided else None
    return values


async def _edit_page(
    page: PageContext,
    key: str,
    program: lookup.ConfiguredProgram,
    risk: documents.Risk,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return page.render(
        "risk_edit.html",
        {
            "program": program.config,
            "risk": risk,
            "form": form or _form_of(risk),
            "errors": errors or {},
            "outcomes": program.config.outcomes,
            "roam_states": ROAM,
            "csrf_token": csrf.token(page.request),
        },
        status_code=status_code,
    )


async def _stored(
    session: SessionDep, config: ConfigDep, key: str, risk_id: int
) -> tuple[lookup.ConfiguredProgram, Any]:
    program = await lookup.get_program(session, config, key)
    risk = await risks.get_risk(session, program.id, risk_id)
    if risk is None:
        raise lookup.NotFound(f"Program {key!r} has no risk {risk_id}.")
    return program, risk


@router.get("/programs/{key}/risks/{risk_id}/edit", name="edit_risk_page")
async def edit_risk_page(
    key: str, risk_id: int, page: AdminPageDep, session: SessionDep, config: ConfigDep
) -> Response:
    program, risk = await _stored(session, config, key, risk_id)
    history = await risk_history.history_of(session, program.id, [risk.id], program.zone)
    out = risks.to_out(risk, program.zone, history.get(risk.id, ()))
    return await _edit_page(page, key, program, out)


@router.post("/programs/{key}/risks/{risk_id}", name="edit_risk")
async def edit_risk(
    key: str, risk_id: int, page: AdminPageDep, session: SessionDep, config: ConfigDep
) -> Response:
    form = await page.request.form()
    csrf.verify(page.request, form.get(csrf.FIELD))
    program, risk = await _stored(session, config, key, risk_id)
    editable = (
        tuple(sorted(risks.DERIVED_EDITABLE))
        if risk.origin == risks.DERIVED
        else (*TEXT_FIELDS, "probability", "impact", "roam", "due_on", "outcome", "items")
    )
    values = form_values(form, editable)
    try:
        changes = inputs.RiskUpdate.model_validate(values).model_dump(exclude_unset=True)
        errors = dict(
            risks.update_problems(risk, changes, [o.key for o in program.config.outcomes])
        )
    except ValidationError as exc:
        errors = field_errors(exc)
    if errors:
        out = risks.to_out(risk, program.zone)
        return await _edit_page(
            page, key, program, out, form=values, errors=errors, status_code=422
        )
    await risks.update(session, risk, changes, now=datetime.now(UTC), by=page.viewer.name)
    page.cache.clear()
    return RedirectResponse(f"/programs/{key}/risks?state=all#risk-{risk_id}", status_code=303)


@router.post("/programs/{key}/risks/{risk_id}/delete", name="delete_risk")
async def delete_risk(
    key: str, risk_id: int, page: AdminPageDep, session: SessionDep, config: ConfigDep
) -> Response:
    form = await page.request.form()
    csrf.verify(page.request, form.get(csrf.FIELD))
    program, risk = await _stored(session, config, key, risk_id)
    if risk.origin == risks.DERIVED:
        out = risks.to_out(risk, program.zone)
        problem = {"form": "A derived risk closes by itself when its signal clears."}
        return await _edit_page(page, key, program, out, errors=problem, status_code=409)
    await risks.delete(session, risk, now=datetime.now(UTC), by=page.viewer.name)
    page.cache.clear()
    return RedirectResponse(f"/programs/{key}/risks", status_code=303)
