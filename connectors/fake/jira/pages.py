"""The fake Jira's browse pages: ``/browse/KEY`` as plain, read-only HTML.

Jira's issue links (``{site}/browse/PAY-12``) point at the site's pages, not at its API;
the fake serves a page there too, so every link a client builds from ``serverInfo`` opens:
an issue's summary, type, status, assignee, dates, parent, links and description, and
``/browse/PAY`` (a project key) lists the project's issues, as Jira's does. Every value
from the site is escaped. An old key (an issue moved to another project) redirects to the
new one, as Jira does.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from connectors.fake.jira.model import Issue

if TYPE_CHECKING:
    from connectors.fake.jira.app import FakeJira

LISTED = 500
"""Issues listed on a project's page (a generated site can hold 100,000)."""
DESCRIPTION_CHARS = 20_000

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Jira</title>
<style>body{{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;
color:#172b4d}}a{{color:#0052cc}}dt{{font-weight:600}}dd{{margin:0 0 .5rem}}
pre{{white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f5f7;padding:.6rem}}
li{{overflow-wrap:anywhere}}</style></head>
<body><p>Jira (a fake site, read-only) &middot; <a href="/browse/{project}">{project_name}</a></p>
{body}</body></html>"""


def routes(fake: FakeJira) -> list[Route]:
    async def browse(request: Request) -> Response:
        return page(fake, request.path_params["key"])

    return [Route("/browse/{key:str}", browse, methods=["GET"])]


def page(fake: FakeJira, key: str) -> Response:
    """The page of an issue or a project, or a 404 page naming what was asked for."""
    project = fake.data.projects.get(key.upper())
    if project is not None:
        return _project(fake, project.key)
    issue = fake.data.get(key)
    if issue is None or key.isdigit():
        return HTMLResponse(
            f"<!doctype html><title>Not found - Jira</title><h1>Not found</h1>"
            f"<p>There is no issue {escape(key)} on this site.</p>",
            status_code=404,
        )
    if issue.key != key.upper():
        return RedirectResponse(f"/browse/{issue.key}", status_code=301)
    return _issue(fake, issue)


def _link(issue: Issue) -> str:
    return f'<a href="/browse/{escape(issue.key)}">{escape(issue.key)}</a> {escape(issue.summary)}'


def _issue(fake: FakeJira, issue: Issue) -> Response:
    data = fake.data
    parent = data.issues.get(issue.parent_id) if issue.parent_id is not None else None
    facts = [
        ("Type", escape(issue.type.name)),
        ("Status", escape(issue.status.name)),
        ("Assignee", escape(issue.assignee.display_name) if issue.assignee else "Unassigned"),
        ("Start date", issue.start.isoformat() if issue.start else "None"),
        ("Due date", issue.due.isoformat() if issue.due else "None"),
        ("Story points", f"{issue.points:g}" if issue.points is not None else "None"),
        ("Labels", escape(", ".join(issue.labels)) or "None"),
        ("Created", issue.created.isoformat(timespec="minutes")),
        ("Updated", issue.updated.isoformat(timespec="minutes")),
    ]
    if parent is not None:
        facts.insert(0, ("Parent", _link(parent)))
    links = []
    for link in data.links_of(issue):
        outward = link.outward_id == issue.id
        other = data.issues.get(link.inward_id if outward else link.outward_id)
        if other is not None:
            verb = link.type.outward if outward else link.type.inward
            links.append(f"<li>{escape(verb)} {_link(other)}</li>")
    children = [i for i in data.in_projects(None) if i.parent_id == issue.id][:LISTED]
    body = [
        f"<h1>{escape(issue.key)}: {escape(issue.summary)}</h1>",
        "<dl>" + "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts) + "</dl>",
    ]
    if links:
        body.append("<h2>Issue links</h2><ul>" + "".join(links) + "</ul>")
    if children:
        items = "".join(f"<li>{_link(c)} ({escape(c.status.name)})</li>" for c in children)
        body.append(f"<h2>Child issues</h2><ul>{items}</ul>")
    if issue.description:
        text = escape(issue.description[:DESCRIPTION_CHARS])
        body.append(f"<h2>Description</h2><pre>{text}</pre>")
    return _html(f"[{issue.key}] {issue.summary}", issue.project.key, issue.project.name, body)


def _project(fake: FakeJira, key: str) -> Response:
    project = fake.data.projects[key]
    issues = list(fake.data.in_projects([key]))
    rows = "".join(f"<li>{_link(i)} ({escape(i.status.name)})</li>" for i in issues[:LISTED])
    more = f"<p>and {len(issues) - LISTED} more</p>" if len(issues) > LISTED else ""
    body = [
        f"<h1>{escape(project.name)} ({escape(project.key)})</h1>",
        f"<p>{len(issues)} issues</p><ul>{rows}</ul>{more}",
    ]
    return _html(project.name, project.key, project.name, body)


def _html(title: str, project: str, project_name: str, body: list[str]) -> Response:
    return HTMLResponse(
        _PAGE.format(
            title=escape(title),
            project=escape(project),
            project_name=escape(project_name),
            body="\n".join(body),
        )
    )
