"""The what-if page: a form of changes, the forecast before and after them, and the
scenarios kept by name. Asking changes nothing (a GET); keeping a scenario is an admin's
form post."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from app.programs import lookup, whatif
from app.web.deps import ConfigDep, SessionDep
from app.web.pages import csrf
from app.web.pages.context import AdminPageDep, PageContext, PageDep

router = APIRouter(include_in_schema=False)
FIELDS = ("remove_keys", "add_items", "pace_factor")


def form_of(values: Mapping[str, str], outcomes: list[str]) -> dict[str, str]:
    """The form's fields as typed (blank ones left out)."""
    names = [*FIELDS, *(f"target_{k}" for k in outcomes), "name"]
    return {n: values[n].strip() for n in names if values.get(n, "").strip()}


def changes_of(form: Mapping[str, str], outcomes: list[str]) -> tuple[whatif.Changes, list[str]]:
    """The changes a form asks for, and what it got wrong (in words)."""
    problems: list[str] = []
    data: dict[str, Any] = {
        "remove_keys": form.get("remove_keys", "").replace(",", " ").split(),
        "add_items": form.get("add_items") or 0,
        "pace_factor": form.get("pace_factor") or 1.0,
        "targets": {},
    }
    for key in outcomes:
        typed = form.get(f"target_{key}")
        if typed:
            try:
                data["targets"][key] = date.fromisoformat(typed)
            except ValueError:
                problems.append(f"target of {key}: a date such as 2027-03-31")
    try:
        changes = whatif.Changes.model_validate(data)
    except ValidationError as exc:
        problems += [f"{e['loc'][0]}: {e['msg']}" for e in exc.errors()]
        return whatif.Changes(), problems
    problems += [f"{f}: {m}" for f, m in changes.problems(outcomes)]
    return changes, problems


async def _render(
    page: PageContext,
    session: SessionDep,
    program: lookup.ConfiguredProgram,
    form: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    outcomes = [o.key for o in program.config.outcomes]
    changes, problems = changes_of(form, outcomes)
    asked = bool(set(form) - {"name"}) and not problems
    result = (
        await whatif.what_if(session, program, changes, now=datetime.now(UTC)) if asked else None
    )
    return page.render(
        "what_if.html",
        {
            "program": program.config,
            "form": form,
            "problems": problems,
            "result": result,
            "names": {o.key: o.name for o in program.config.outcomes},
            "scenarios": (await whatif.list_scenarios(session, program.id)).scenarios,
            "csrf_token": csrf.token(page.request),
        },
        status_code=422 if problems else status_code,
    )


@router.get("/programs/{key}/what-if", name="what_if_page")
async def what_if_page(key: str, page: PageDep, session: SessionDep, config: ConfigDep) -> Response:
    program = await lookup.get_program(session, config, key)
    outcomes = [o.key for o in program.config.outcomes]
    form = form_of(dict(page.request.query_params), outcomes)
    return await _render(page, session, program, form)


@router.post("/programs/{key}/scenarios", name="save_scenario_page")
async def save_scenario_page(
    key: str, page: AdminPageDep, session: SessionDep, config: ConfigDep
) -> Response:
    posted = await page.request.form()
    csrf.verify(page.request, posted.get(csrf.FIELD))
    program = await lookup.get_program(session, config, key)
    outcomes = [o.key for o in program.config.outcomes]
    form = form_of({k: v for k, v in posted.items() if isinstance(v, str)}, outcomes)
    changes, problems = changes_of(form, outcomes)
    name = form.get("name", "")
    if not name or len(name) > 128:
        problems.append("name: 1 to 128 characters")
    if problems:
        return await _render(page, session, program, form, status_code=422)
    now = datetime.now(UTC)
    result = await whatif.what_if(session, program, changes, now=now)
    await whatif.save(session, program.id, name, changes, result, now=now, by=page.viewer.name)
    page.cache.clear()
    return RedirectResponse(f"/programs/{key}/what-if#saved", status_code=303)
