"""The fake's search and bulk endpoints, with the page caps and errors the reference gives.

Cloud: ``/search/jql`` (token paging, ids unless fields are named, 5,000 ids or 100
issues a page), ``/issue/bulkfetch`` (100 issues, or 1,000 for a narrow field list),
``/changelog/bulkfetch`` (1,000 issues, 1,000 histories a page) and 410 Gone on the
removed ``/search``. Data Center: ``/search`` by ``startAt`` (default 50, cap 1,000,
nothing past 10,000).
"""

from __future__ import annotations

import bisect
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from connectors.fake.jira.faults import take
from connectors.fake.jira.model import History, Issue
from connectors.fake.jira.render import requested_fields
from connectors.fake.jira.rendered import json_response, raw_array
from connectors.fake.jira.wire import (
    ApiError,
    as_list,
    decode_token,
    encode_token,
    json_of,
    params_of,
)

if TYPE_CHECKING:
    from connectors.fake.jira.app import FakeJira

REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
ID_ONLY_CAP, RICH_CAP, DEFAULT_PAGE = 5_000, 100, 50
DC_CAP, DC_WINDOW = 1_000, 10_000
BULK_CAP, BULK_NARROW_CAP, CHANGELOG_ISSUES, CHANGELOG_PAGE = 100, 1_000, 1_000, 1_000
SEARCH_CHANGELOG_CAP, BULK_CHANGELOG_CAP = 20, 40
RECONCILE_CAP = 50
CHANGELOG_ORDERS = 64
"""Sorted history lists kept for paging changelog chains (one per chain in progress)."""
HEAVY_EXPANDS = {
    "changelog",
    "editmeta",
    "operations",
    "renderedFields",
    "transitions",
    "versionedRepresentations",
}
MULTI_VALUED = {"comment", "worklog", "attachment"}


async def search_jql(fake: FakeJira, request: Request) -> Response:
    if not fake.cloud:
        raise ApiError(404, "null for uri: " + request.url.path)
    params = await params_of(request)
    text = str(params.get("jql") or "")
    if not fake.parse(text).bounded:
        raise ApiError(
            400,
            "Unbounded JQL queries are not allowed here. "
            "Please add a search restriction to your query.",
        )
    fields = requested_fields(params.get("fields"), ["id"])
    cap = ID_ONLY_CAP if fields <= {"id", "key"} else RICH_CAP
    size = max(1, min(int(params.get("maxResults") or DEFAULT_PAGE), cap))
    keys, issues = fake.evaluate(text)
    reconcile = {int(i) for i in as_list(params.get("reconcileIssues"))}
    if len(reconcile) > RECONCILE_CAP:
        raise ApiError(400, f"reconcileIssues accepts at most {RECONCILE_CAP} issue ids.")
    if fake.faults.search_lag or fake.faults.unindexed:
        keys, issues = _indexed(fake, keys, issues, reconcile)
    after = decode_token(params.get("nextPageToken"), text)
    start = 0 if after is None else bisect.bisect_right(keys, after)
    page = issues[start : start + size]
    more = start + size < len(issues)
    expand = str(params.get("expand") or "")
    renderer = fake.renderer(request)
    rendered = raw_array(
        renderer.issue_json(
            i, fields, changelog_cap=SEARCH_CHANGELOG_CAP, expand_changelog="changelog" in expand
        )
        for i in page
    )
    body: list[tuple[str, Any]] = [("issues", rendered), ("isLast", not more)]
    if more:
        body.append(("nextPageToken", encode_token(text, keys[start + size - 1])))
    return json_response(body)


async def search(fake: FakeJira, request: Request) -> dict[str, Any]:
    if fake.cloud:
        raise ApiError(410, REMOVED_SEARCH)
    params = await params_of(request)
    text = str(params.get("jql") or "")
    start = int(params.get("startAt") or 0)
    asked = params.get("maxResults")
    size = max(0, min(DEFAULT_PAGE if asked is None else int(asked), fake.dc_page_cap))
    if start + size > DC_WINDOW:
        raise ApiError(
            400,
            "Result window is too large, from + size must be less than or equal to: "
            f"[{DC_WINDOW}] but was [{start + size}].",
        )
    _, matches = fake.evaluate(text)
    fields = requested_fields(params.get("fields"), ["*navigable"])
    expand = as_list(params.get("expand"))
    renderer = fake.renderer(request)
    return {
        "expand": "schema,names",
        "startAt": start,
        "maxResults": size,
        "total": len(matches),
        "issues": [
            renderer.issue(i, fields, expand_changelog="changelog" in expand)
            for i in matches[start : start + size]
        ],
    }


async def bulkfetch(fake: FakeJira, request: Request) -> Response:
    if not fake.cloud:
        raise ApiError(404, "null for uri: " + request.url.path)
    body = await json_of(request)
    wanted = [str(k) for k in body.get("issueIdsOrKeys") or []]
    fields = requested_fields(body.get("fields"), ["*navigable"])
    expand = set(as_list(body.get("expand")))
    narrow = (
        fake.narrow_bulkfetch
        and "*all" not in fields
        and len(fields) <= 100
        and not fields & MULTI_VALUED
        and not expand & HEAVY_EXPANDS
    )
    cap = BULK_NARROW_CAP if narrow else BULK_CAP
    if not wanted or len(wanted) > cap:
        raise ApiError(400, f"issueIdsOrKeys must contain between 1 and {cap} issues.")
    found: dict[int, Issue] = {}
    errors: list[dict[str, str]] = []
    faults = fake.faults
    for key in wanted:
        issue = fake.data.get(key)
        if issue is None or not fake.visible(issue):
            continue  # not found or not visible: left out, in neither list
        ident = str(issue.id)
        if ident in faults.unreadable or take(faults.issue_errors, ident):
            errors.append({"id": ident, "errorMessage": "Retrieving the issue timed out."})
        elif not take(faults.left_out, ident):
            found[issue.id] = issue
    renderer = fake.renderer(request)
    issues = raw_array(
        renderer.issue_json(
            found[i],
            fields,
            changelog_cap=BULK_CHANGELOG_CAP,
            expand_changelog="changelog" in expand,
        )
        for i in sorted(found)
    )
    return json_response([("issues", issues), ("issueErrors", errors)])


async def changelogs(fake: FakeJira, request: Request) -> Response:
    if not fake.cloud:
        raise ApiError(404, "null for uri: " + request.url.path)
    body = await json_of(request)
    wanted = [str(k) for k in body.get("issueIdsOrKeys") or []]
    field_ids = set(body.get("fieldIds") or [])
    if not wanted or len(wanted) > CHANGELOG_ISSUES or len(field_ids) > 10:
        raise ApiError(400, f"Provide 1 to {CHANGELOG_ISSUES} issues and at most 10 field ids.")
    size = max(1, min(int(body.get("maxResults") or CHANGELOG_PAGE), CHANGELOG_PAGE))
    marker = ",".join(wanted)
    entries = _changelog_order(fake, wanted, marker, frozenset(field_ids))
    after = decode_token(body.get("nextPageToken"), marker)
    # The position is the whole sort key: histories of several issues may share a time,
    # and a page boundary between them must skip none.
    start = 0 if after is None else bisect.bisect_right(entries, after, key=lambda e: e[0])
    remaining = entries[start:]
    page = remaining[:size]
    renderer = fake.renderer(request)
    grouped: dict[int, list[bytes]] = {}
    for (_, issue_id, _), history in page:
        grouped.setdefault(issue_id, []).append(renderer.history_json(history))
    logs = raw_array(
        b'{"issueId":"%d","changeHistories":%s}' % (i, raw_array(h)) for i, h in grouped.items()
    )
    result: list[tuple[str, Any]] = [("issueChangeLogs", logs)]
    if len(remaining) > size:
        result.append(("nextPageToken", encode_token(marker, page[-1][0])))
    return json_response(result)


def _changelog_order(
    fake: FakeJira, wanted: list[str], marker: str, field_ids: frozenset[str]
) -> list[tuple[tuple[int, int, int], History]]:
    """The histories of the asked-for issues in page order, sorted once per change of the
    site for each set of ids (a chain's later pages reuse it)."""
    stamp = fake.stamp()
    cached = fake.changelog_orders.get((marker, field_ids))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    issues = {
        i.id: i for key in wanted if (i := fake.data.get(key)) is not None and fake.visible(i)
    }
    entries = sorted(
        (
            ((int(h.at.timestamp() * 1_000_000), issue_id, h.id), h)
            for issue_id, issue in issues.items()
            for h in issue.histories
            if not field_ids or h.field in field_ids
        ),
        key=lambda e: e[0],
    )
    if len(fake.changelog_orders) >= CHANGELOG_ORDERS:
        fake.changelog_orders.pop(next(iter(fake.changelog_orders)))
    fake.changelog_orders[(marker, field_ids)] = (stamp, entries)
    return entries


async def issue(fake: FakeJira, request: Request) -> dict[str, Any]:
    issue = fake.data.get(request.path_params["key"])
    if issue is None or not fake.visible(issue):
        raise ApiError(404, "Issue does not exist or you do not have permission to see it.")
    if str(issue.id) in fake.faults.unreadable:
        raise ApiError(503, "Service Unavailable", headers={"Retry-After": "0"})
    fields = requested_fields(request.query_params.get("fields"), ["*all"])
    expand = as_list(request.query_params.get("expand"))
    return fake.renderer(request).issue(issue, fields, expand_changelog="changelog" in expand)


async def issue_changelog(fake: FakeJira, request: Request) -> dict[str, Any]:
    """``GET /issue/{key}/changelog``: the whole history, oldest first, offset-paged."""
    issue = fake.data.get(request.path_params["key"])
    if issue is None or not fake.visible(issue):
        raise ApiError(404, "Issue does not exist or you do not have permission to see it.")
    start = max(0, int(request.query_params.get("startAt") or 0))
    size = max(1, min(int(request.query_params.get("maxResults") or 100), 100))
    page = issue.histories[start : start + size]
    renderer = fake.renderer(request)
    last = start + size >= len(issue.histories)
    body: dict[str, Any] = {
        "self": str(request.url),
        "maxResults": size,
        "startAt": start,
        "total": len(issue.histories),
        "isLast": last,
        "values": [renderer.history(h) for h in page],
    }
    if not last:
        body["nextPage"] = str(request.url.include_query_params(startAt=start + size))
    return body


# Search visibility ----------------------------------------------------------------


def _indexed(
    fake: FakeJira, keys: list[tuple[int, ...]], issues: list[Issue], reconcile: set[int]
) -> tuple[list[tuple[int, ...]], list[Issue]]:
    """The matches search can see: a change younger than the lag is not indexed yet."""
    horizon = fake.data.now() - timedelta(seconds=fake.faults.search_lag)
    late = {int(i) for i in fake.faults.unindexed}
    kept = [
        (k, i)
        for k, i in zip(keys, issues, strict=True)
        if i.id in reconcile or (i.updated <= horizon and i.id not in late)
    ]
    return [k for k, _ in kept], [i for _, i in kept]
