"""The fake Asana's web pages: tasks and projects at their permalinks, as plain HTML.

Asana's records carry a ``permalink_url`` into its web app (``/1/{workspace}/task/{gid}``,
``/1/{workspace}/project/{gid}``; older links read ``/0/{project}/{task}``). When the
world's ``app_url`` is the fake's own address, those links come here: a read-only page
per task (name, state, assignee, dates, projects and sections, tags, parent, subtasks,
dependencies, notes) and per project (its sections and their tasks), every value escaped.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from connectors.fake.asana.model import Task
from connectors.fake.asana.world import World

if TYPE_CHECKING:
    from connectors.fake.asana.fake import FakeAsana

NOTES_CHARS = 20_000

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Asana</title>
<style>body{{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;
color:#1e1f21}}a{{color:#1f5fbf}}dt{{font-weight:600}}dd{{margin:0 0 .5rem}}
pre{{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f6f7;padding:.6rem}}
li{{overflow-wrap:anywhere}}</style></head>
<body><p>Asana (a fake workspace, read-only) &middot; {workspace}</p>
{body}</body></html>"""


def routes(fake: FakeAsana) -> list[Route]:
    world = fake.world

    async def task(request: Request) -> Response:
        return task_page(world, request.path_params["task"])

    async def project(request: Request) -> Response:
        return project_page(world, request.path_params["project"])

    return [
        Route("/1/{workspace}/task/{task}", task, methods=["GET"]),
        Route("/1/{workspace}/project/{project}/task/{task}", task, methods=["GET"]),
        Route("/1/{workspace}/project/{project}", project, methods=["GET"]),
        Route("/1/{workspace}/project/{project}/list", project, methods=["GET"]),
        Route("/0/{project}/list", project, methods=["GET"]),
        Route("/0/{project}/{task}", task, methods=["GET"]),
        Route("/0/{project}/{task}/f", task, methods=["GET"]),
    ]


def task_page(world: World, gid: str) -> Response:
    with world.lock:
        found = world.tasks.get(gid)
        if found is None:
            return _missing(world, f"There is no task {gid} in this workspace.")
        return _html(world, found.name, _task(world, found))


def project_page(world: World, gid: str) -> Response:
    with world.lock:
        found = world.projects.get(gid)
        if found is None:
            return _missing(world, f"There is no project {gid} in this workspace.")
        body = [f"<h1>{escape(found.name)}</h1>"]
        team = world.teams.get(found.team)
        if team is not None:
            body.append(f"<p>Team: {escape(team.name)}</p>")
        for section_gid in found.sections:
            section = world.sections[section_gid]
            tasks = [world.tasks[t] for t in world.section_tasks(section_gid)]
            rows = "".join(
                f"<li>{_task_link(world, t)}{' (completed)' if t.completed else ''}</li>"
                for t in tasks
            )
            body.append(f"<h2>{escape(section.name)}</h2><ul>{rows or '<li>No tasks</li>'}</ul>")
        return _html(world, found.name, body)


def _task(world: World, task: Task) -> list[str]:
    assignee = world.users.get(task.assignee) if task.assignee else None
    homes = [
        f"{_project_link(world, p)} &rsaquo; {escape(world.sections[s].name)}"
        for p, s in task.memberships
        if p in world.projects and s in world.sections
    ]
    facts = [
        ("Completed", "Yes" if task.completed else "No"),
        ("Assignee", escape(assignee.name) if assignee else "Unassigned"),
        ("Start date", task.start_on.isoformat() if task.start_on else "None"),
        ("Due date", task.due_on.isoformat() if task.due_on else "None"),
        ("Projects", ", ".join(homes) or "None"),
        ("Tags", escape(", ".join(world.tags[t].name for t in task.tags if t in world.tags))),
    ]
    if task.parent is not None and task.parent in world.tasks:
        facts.insert(0, ("Parent task", _task_link(world, world.tasks[task.parent])))
    body = [
        f"<h1>{escape(task.name)}</h1>",
        "<dl>" + "".join(f"<dt>{name}</dt><dd>{value or 'None'}</dd>" for name, value in facts),
        "</dl>",
    ]
    for heading, gids in (
        ("Subtasks", task.subtasks),
        ("Blocked by", task.dependencies),
        ("Blocking", task.dependents),
    ):
        linked = [world.tasks[g] for g in gids if g in world.tasks]
        if linked:
            items = "".join(f"<li>{_task_link(world, t)}</li>" for t in linked)
            body.append(f"<h2>{heading}</h2><ul>{items}</ul>")
    if task.notes:
        body.append(f"<h2>Description</h2><pre>{escape(task.notes[:NOTES_CHARS])}</pre>")
    return body


def _task_link(world: World, task: Task) -> str:
    return f'<a href="/1/{escape(world.workspace)}/task/{escape(task.gid)}">{escape(task.name)}</a>'


def _project_link(world: World, gid: str) -> str:
    name = world.projects[gid].name
    return f'<a href="/1/{escape(world.workspace)}/project/{escape(gid)}">{escape(name)}</a>'


def _html(world: World, title: str, body: list[str]) -> Response:
    return HTMLResponse(
        _PAGE.format(
            title=escape(title), workspace=escape(world.workspace_name), body="\n".join(body)
        )
    )


def _missing(world: World, message: str) -> Response:
    response = _html(world, "Not found", ["<h1>Not found</h1>", f"<p>{escape(message)}</p>"])
    response.status_code = 404
    return response
