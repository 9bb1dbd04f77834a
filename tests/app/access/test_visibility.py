"""Who may see which program: every route for an anonymous client, a viewer who may see
the restricted Platform program, a viewer who may not and an admin; and nothing that
names Platform (its name, key, owner, outcome, items or its only people) in any answer
the second viewer gets — pages, API, CSV, reports, the digest, alerts, metrics."""

from __future__ import annotations

import re

import pytest

from app.programs import access
from app.web.auth import Principal, Role
from tests.app.access.conftest import ADMIN, ANONYMOUS, RESTRICTED, VIEWER_A, VIEWER_B, Org
from tests.app.access.routes import every_route

# (anonymous, viewer of Platform, viewer of other programs, admin), for each route with
# its path filled in for Platform. A page sends an anonymous visitor to sign in (303);
# writes need an admin, whatever the program (403 before any lookup); a form without its
# CSRF token is refused (403); an admin's write with an empty body is refused as invalid
# (422), past every check of who may make it.
EXPECTED: dict[tuple[str, str], tuple[int, int, int, int]] = {
    ("GET", "/"): (303, 200, 200, 200),
    ("GET", "/api/alerts"): (401, 200, 200, 200),
    ("GET", "/api/audit"): (401, 403, 403, 200),
    ("GET", "/audit"): (303, 403, 403, 200),
    ("GET", "/api/digests"): (401, 200, 200, 200),
    ("GET", "/api/digests/{week}"): (401, 200, 200, 200),
    ("GET", "/api/goals/{key}"): (401, 200, 404, 200),
    ("GET", "/api/goals/{key}.csv"): (401, 200, 404, 200),
    ("GET", "/api/items"): (401, 200, 200, 200),
    ("GET", "/api/items.csv"): (401, 200, 200, 200),
    ("GET", "/api/items/{source}/{key}"): (401, 200, 404, 200),
    ("GET", "/api/portfolio"): (401, 200, 200, 200),
    ("GET", "/api/portfolio.csv"): (401, 200, 200, 200),
    ("GET", "/api/portfolio/dependencies"): (401, 200, 200, 200),
    ("GET", "/api/portfolio/dependencies.csv"): (401, 200, 200, 200),
    ("GET", "/api/portfolio/people"): (401, 200, 200, 200),
    ("GET", "/api/portfolio/people.csv"): (401, 200, 200, 200),
    ("GET", "/api/portfolio/programs.csv"): (401, 200, 200, 200),
    ("GET", "/api/programs"): (401, 200, 200, 200),
    ("GET", "/api/programs/{key}"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/alerts"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/calibration"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/changes"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/dependencies"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/outcomes/{outcome}"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/reports"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/reports/preview"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/reports/preview.md"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/reports/{week}"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/reports/{week}.html"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/reports/{week}.md"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/resources"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/risks"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/risks.csv"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/risks/{risk_id}"): (401, 200, 404, 200),
    ("GET", "/api/programs/{key}/roadmap"): (401, 200, 404, 200),
    ("GET", "/api/sources"): (401, 200, 200, 200),
    ("GET", "/api/sync-runs"): (401, 200, 200, 200),
    ("GET", "/api/webhooks/events"): (401, 200, 200, 200),
    ("GET", "/digests/{week}"): (401, 200, 200, 200),
    ("GET", "/docs"): (200, 200, 200, 200),
    ("GET", "/docs/docs.css"): (200, 200, 200, 200),
    ("GET", "/docs/docs.js"): (200, 200, 200, 200),
    ("GET", "/docs/{name}"): (200, 200, 200, 200),
    ("GET", "/favicon.ico"): (200, 200, 200, 200),
    ("GET", "/healthz"): (200, 200, 200, 200),
    ("GET", "/items"): (303, 200, 200, 200),
    ("GET", "/items/{source}/{key}"): (303, 200, 404, 200),
    ("GET", "/metrics"): (401, 200, 200, 200),
    ("GET", "/openapi.json"): (200, 200, 200, 200),
    ("GET", "/portfolio"): (303, 200, 200, 200),
    ("GET", "/portfolio/dependencies"): (303, 200, 200, 200),
    ("GET", "/portfolio/goals/{key}"): (303, 200, 404, 200),
    ("GET", "/portfolio/people"): (303, 200, 200, 200),
    ("GET", "/programs/{key}"): (303, 200, 404, 200),
    ("GET", "/programs/{key}/alerts"): (303, 200, 404, 200),
    ("GET", "/programs/{key}/calibration"): (303, 200, 404, 200),
    ("GET", "/programs/{key}/dependencies"): (303, 200, 404, 200),
    ("GET", "/programs/{key}/outcomes/{outcome}"): (303, 200, 404, 200),
    ("GET", "/programs/{key}/reports"): (303, 200, 404, 200),
    ("GET", "/programs/{key}/reports/preview"): (303, 200, 404, 200),
    ("GET", "/programs/{key}/reports/{week}"): (303, 200, 404, 200),
    ("GET", "/programs/{key}/resources"): (303, 200, 404, 200),
    ("GET", "/programs/{key}/risks"): (303, 200, 404, 200),
    ("GET", "/programs/{key}/risks/{risk_id}/edit"): (303, 403, 403, 200),
    ("GET", "/programs/{key}/roadmap"): (303, 200, 404, 200),
    ("GET", "/readyz"): (200, 200, 200, 200),
    ("GET", "/sign-in"): (200, 200, 200, 200),
    ("GET", "/sign-out"): (200, 200, 200, 200),
    ("GET", "/sources"): (303, 200, 200, 200),
    ("GET", "/static/throughline.css"): (200, 200, 200, 200),
    ("PATCH", "/api/programs/{key}/risks/{risk_id}"): (401, 403, 403, 422),
    ("POST", "/api/programs/{key}/reports/{week}/send"): (401, 403, 403, 200),
    ("POST", "/api/programs/{key}/risks"): (401, 403, 403, 422),
    ("POST", "/api/sources/{name}/sync"): (401, 403, 403, 202),
    ("POST", "/api/webhooks/events/{event_id}/replay"): (401, 403, 403, 404),
    ("POST", "/programs/{key}/reports/{week}/notes"): (401, 403, 403, 422),
    ("POST", "/programs/{key}/reports/{week}/send"): (401, 403, 403, 422),
    ("POST", "/programs/{key}/risks"): (303, 403, 403, 403),
    ("POST", "/programs/{key}/risks/{risk_id}"): (303, 403, 403, 403),
    ("POST", "/programs/{key}/risks/{risk_id}/delete"): (303, 403, 403, 403),
    ("POST", "/sign-in"): (403, 403, 403, 403),
    ("POST", "/sign-out"): (403, 403, 403, 403),
    ("POST", "/sources/{name}/sync"): (303, 403, 403, 403),
    ("POST", "/webhooks/asana/{source}"): (404, 404, 404, 404),
    ("POST", "/webhooks/jira/{source}"): (401, 401, 401, 401),
    ("PUT", "/api/programs/{key}/reports/{week}/notes"): (401, 403, 403, 422),
    ("DELETE", "/api/programs/{key}/risks/{risk_id}"): (401, 403, 403, 204),
}
WHO = {"anonymous": ANONYMOUS, "viewer A": VIEWER_A, "viewer B": VIEWER_B, "admin": ADMIN}


def _url(path: str, org: Org, *, program: str, goal: str, item: str) -> str:
    if path.startswith(("/api/items/", "/items/")):
        path = path.replace("{key}", item)
    if "goals/" in path:
        path = path.replace("{key}", goal)
    url = (
        path.replace("{key}", program)
        .replace("{outcome}", {"platform": "vault", "checkout": "fast-pay"}.get(program, "app"))
        .replace("{risk_id}", str(org.risk_id))
        .replace("{week}", "2026-W48")
        .replace("{source}", "jira")
        .replace("{name}", "swagger-ui.css" if path.startswith("/docs/") else "jira")
        .replace("{event_id}", "1")
    )
    return url + ("?since=2026-11-01" if path.endswith("/changes") else "")


def _accept(path: str) -> dict[str, str]:
    return {"Accept": "application/json" if path.startswith("/api") else "text/html"}


async def test_every_route_answers_each_kind_of_reader_as_expected(org: Org) -> None:
    routes = every_route(org.app)
    assert sorted(EXPECTED) == sorted(routes), "a route without an expectation (or one gone)"
    # The register's deletion last: the other routes read the risk it removes.
    ordered = sorted(routes, key=lambda r: r[0] == "DELETE")
    wrong = []
    for method, path in ordered:
        url = _url(path, org, program="platform", goal="vault-first", item="PLAT-2")
        for (who, headers), expected in zip(WHO.items(), EXPECTED[method, path], strict=True):
            answer = await org.client.request(method, url, headers={**headers, **_accept(path)})
            if answer.status_code != expected:
                wrong.append(f"{method} {url} as {who}: {answer.status_code}, not {expected}")
    assert not wrong, "\n".join(wrong)


def _leaks(text: str) -> list[str]:
    return [word for word in RESTRICTED if word in text]


async def test_nothing_restricted_reaches_a_viewer_without_access(org: Org) -> None:
    """Every GET route for the programs, goals and items the viewer sees, and the lists
    and views across programs, searched for any word that names Platform."""
    seen: list[str] = []
    leaks = []
    for method, path in every_route(org.app):
        if method != "GET" or path.startswith("/docs") or path == "/openapi.json":
            continue
        if EXPECTED[method, path][2] == 403:  # for admins only
            continue
        for program, goal, item in (
            ("checkout", "revenue", "PAY-3"),
            ("mobile", "mobile-first", "WEB-2"),
        ):
            if program == "mobile" and ("/reports/{week}" in path or "{risk_id}" in path):
                continue  # the report and the risk stored are Checkout's and Platform's
            url = _url(path, org, program=program, goal=goal, item=item)
            if "{risk_id}" in path:
                url = url.replace(f"/{org.risk_id}", f"/{org.checkout_risk_id}")
            for accept in (
                {"Accept": "text/html"},
                {"Accept": "application/json"},
                {"Accept": "text/csv"},
            ):
                answer = await org.client.get(url, headers={**VIEWER_B, **accept})
                if answer.status_code != 200:
                    leaks.append(f"{url}: {answer.status_code} {answer.text[:200]}")
                seen.append(url)
                if found := _leaks(answer.text):
                    leaks.append(f"{url} ({accept['Accept']}): {found}")
    for url in (
        "/api/items?q=vault",
        "/api/items?q=PLAT",
        "/items?q=PLAT",
        "/api/items.csv?q=PLAT",
        "/api/items?source=jira&limit=500",
    ):
        answer = await org.client.get(url, headers=VIEWER_B)
        assert answer.status_code == 200
        if found := _leaks(answer.text):
            leaks.append(f"{url}: {found}")
    assert not leaks, "\n".join(leaks)
    assert "/api/portfolio/people" in seen


async def test_work_a_visible_program_waits_on_is_counted_not_named(org: Org) -> None:
    deps = (await org.client.get("/api/portfolio/dependencies", headers=VIEWER_B)).json()
    assert deps["restricted"] == [
        {
            "program": "checkout",
            "direction": "waits_on",
            "count": 1,
            "text": "1 item in a restricted program",
        }
    ]
    assert [p["key"] for p in deps["programs"]] == ["checkout", "mobile"]
    goal = (await org.client.get("/api/goals/revenue", headers=VIEWER_B)).json()
    assert goal["restricted_contributors"] == 1
    assert [c["program"] for c in goal["contributors"]] == ["checkout"]
    # The viewer of Platform sees it all, named.
    deps = (await org.client.get("/api/portfolio/dependencies", headers=VIEWER_A)).json()
    assert deps["restricted"] == []
    assert any(d["from"]["key"] == "PLAT-2" for d in deps["dependencies"])


async def test_items_search_leaves_out_restricted_work(org: Org) -> None:
    for headers, expected in ((VIEWER_A, True), (VIEWER_B, False), (ADMIN, True)):
        found = (await org.client.get("/api/items?q=PLAT-", headers=headers)).json()["items"]
        assert bool(found) is expected


@pytest.mark.parametrize(
    ("principal", "sees"),
    [
        pytest.param(Principal("ops", Role.ADMIN), True, id="admin"),
        pytest.param(Principal("x", Role.VIEWER, frozenset({"platform-team"})), True, id="group"),
        pytest.param(Principal("platform-team", Role.VIEWER), True, id="token-name"),
        pytest.param(Principal("x", Role.VIEWER, frozenset({"pm"})), False, id="other-group"),
    ],
)
def test_a_program_names_who_may_see_it(principal: Principal, sees: bool) -> None:
    from app.config import parse_config
    from tests.app.access.conftest import CONFIG

    config = parse_config(CONFIG)
    platform = config.program("platform")
    assert platform is not None
    assert principal.audience.can_see(platform) is sees
    with access.seen_by(principal.audience):
        assert ("platform" in {p.key for p in access.visible(config.programs)}) is sees
    assert re.fullmatch(r"[a-z-]+", platform.key)
