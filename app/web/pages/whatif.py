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

from app.config import ThroughlineConfig
from app.programs import lookup, plans, whatif
from app.web.deps import ConfigDep, SessionDep
from app.web.pages import csrf
from app.web.pages.context import AdminPageDep, PageContext, PageDep

router = APIRouter(include_in_schema=False)
FIELDS = (
    "remove_keys",
    "add_items",
    "pace_factor",
    "pace_team",
    "add_team_name",
    "add_team_like",
    "add_team_factor",
    "add_team_pace",
)


def form_of(values: Mapping[str, str], outcomes: list[str]) -> dict[str, str]:
    """The form's fields as typed (blank ones left out)."""
    names = [
        *FIELDS,
        *(f"target_{k}" for k in outcomes),
        *(f"add_team_on_{k}" for k in outcomes),
        "name",
    ]
    return {n: values[n].strip() for n in names if values.get(n, "").strip()}


def _added_team(form: Mapping[str, str], outcomes: list[str]) -> list[dict[str, Any]]:
    """The team the form adds, if it names a pace or a team to be like."""
    like, pace = form.get("add_team_like"), form.get("add_team_pace")
    if not like and not pace:
        return []
    team: dict[str, Any] = {"name": form.get("add_team_name") or "New team"}
    if like:
        team |= {"like": like, "factor": form.get("add_team_factor") or 1.0}
    if pace:
        team["pace_items_per_week"] = pace
        team["outcomes"] = [k for k in outcomes if form.get(f"add_team_on_{k}")]
    return [team]


def changes_of(
    form: Mapping[str, str], outcomes: list[str], teams: list[str] | None = None
) -> tuple[whatif.ScenarioChanges, list[str]]:
    """The changes a form asks for, and what it got wrong (in words); ``teams`` are the
    configured teams' keys."""
    problems: list[str] = []
    factor: Any = form.get("pace_factor") or 1.0
    if form.get("pace_team"):
        factor = {form["pace_team"]: factor}
    data: dict[str, Any] = {
        "remove_keys": form.get("remove_keys", "").replace(",", " ").split(),
        "add_items": form.get("add_items") or 0,
        "pace_factor": factor,
        "add_teams": _added_team(form, outcomes),
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
        changes = whatif.ScenarioChanges.model_validate(data)
    except ValidationError as exc:
        problems += [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        return whatif.ScenarioChanges(), problems
    problems += [f"{f}: {m}" for f, m in changes.problems(outcomes, teams or [])]
    return changes, problems


async def _render(
    page: PageContext,
    session: SessionDep,
    program: lookup.ConfiguredProgram,
    config: ThroughlineConfig,
    form: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    outcomes = [o.key for o in program.config.outcomes]
    changes, problems = changes_of(form, outcomes, [t.key for t in config.teams])
    asked = bool(set(form) - {"name"}) and not problems
    result = (
        await whatif.what_if(
            session, program, changes, now=datetime.now(UTC), staff=plans.Staff.of(config)
        )
        if asked
        else None
    )
    return page.render(
        "what_if.html",
        {
            "program": program.config,
            "form": form,
            "problems": problems,
            "result": result,
            "names": {o.key: o.name for o in program.config.outcomes},
            "teams": {t.key: t.name for t in config.teams},
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
    return await _render(page, session, program, config, form)


@router.post("/programs/{key}/scenarios", name="save_scenario_page")
async def save_scenario_page(
    key: str, page: AdminPageDep, session: SessionDep, config: ConfigDep
) -> Response:
    posted = await page.request.form()
    csrf.verify(page.request, posted.get(csrf.FIELD))
    program = await lookup.get_program(session, config, key)
    outcomes = [o.key for o in program.config.outcomes]
    form = form_of({k: v for k, v in posted.items() if isinstance(v, str)}, outcomes)
    changes, problems = changes_of(form, outcomes, [t.key for t in config.teams])
    name = form.get("name", "")
    if not name or len(name) > 128:
        problems.append("name: 1 to 128 characters")
    if problems:
        return await _render(page, session, program, config, form, status_code=422)
    now = datetime.now(UTC)
    result = await whatif.what_if(session, program, changes, now=now, staff=plans.Staff.of(config))
    await whatif.save(session, program.id, name, changes, result, now=now, by=page.viewer.name)
    page.cache.clear()
    return RedirectResponse(f"/programs/{key}/what-if#saved", status_code=303)
