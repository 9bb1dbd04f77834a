"""The fake Jira behaves as the reference says Jira does, for us and for a standard client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from jira import JIRA

from connectors.fake.jira import FakeJira
from connectors.fake.jira.data import HOSTILE_TITLES, generate
from connectors.fake.jira.model import Issue
from connectors.fake.jira.render import Renderer
from connectors.fake.jira.search import REMOVED_SEARCH
from connectors.fake.server import serve_in_thread
from tests.jira_fakes import ANCHOR, EMAIL, TOKEN, make_fake

AUTH = httpx.BasicAuth(EMAIL, TOKEN)
PAT = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def cloud() -> Iterator[tuple[FakeJira, httpx.Client]]:
    fake = make_fake(600)
    with serve_in_thread(fake) as base, httpx.Client(base_url=base, auth=AUTH) as http:
        yield fake, http


@pytest.fixture(scope="module")
def datacenter() -> Iterator[tuple[FakeJira, httpx.Client]]:
    fake = make_fake(300, deployment="datacenter")
    with serve_in_thread(fake) as base, httpx.Client(base_url=base, headers=PAT) as http:
        yield fake, http


def search(http: httpx.Client, jql: str, **body: object) -> httpx.Response:
    return http.post("/rest/api/3/search/jql", json={"jql": jql, **body})


def test_generation_is_deterministic_and_looks_like_an_organisation() -> None:
    first, second = generate(500, seed=3, anchor=ANCHOR), generate(500, seed=3, anchor=ANCHOR)
    assert [(i.key, i.summary, i.updated) for i in first.issues.values()] == [
        (i.key, i.summary, i.updated) for i in second.issues.values()
    ]
    kinds = {i.type.name for i in first.issues.values()}
    assert kinds == {"Epic", "Story", "Task", "Bug", "Sub-task"}
    assert {i.project.key for i in first.issues.values()} >= {"PAY", "INT"}
    links = list(first.links.values())
    assert any(
        first.issues[lk.outward_id].project != first.issues[lk.inward_id].project for lk in links
    )
    assert all(i.updated <= ANCHOR for i in first.issues.values())
    assert {i.summary for i in first.issues.values()} >= set(HOSTILE_TITLES)


class TestCloudSearch:
    def test_returns_only_ids_unless_fields_are_asked_for(
        self, cloud: tuple[FakeJira, httpx.Client]
    ) -> None:
        body = search(cloud[1], 'project = "PAY"').json()
        assert set(body["issues"][0]) == {"id"}
        assert "total" not in body

    def test_pages_are_capped_and_chained_by_token_until_is_last(
        self, cloud: tuple[FakeJira, httpx.Client]
    ) -> None:
        fake, http = cloud
        seen: list[str] = []
        body = search(
            http, 'project = "PAY" ORDER BY id ASC', fields=["summary"], maxResults=1000
        ).json()
        assert len(body["issues"]) == 100, "rich pages are capped at 100"
        while True:
            seen += [i["id"] for i in body["issues"]]
            if body["isLast"]:
                assert "nextPageToken" not in body
                break
            body = search(
                http,
                'project = "PAY" ORDER BY id ASC',
                fields=["summary"],
                maxResults=1000,
                nextPageToken=body["nextPageToken"],
            ).json()
        assert seen == [str(i.id) for i in fake.data.issues.values() if i.project.key == "PAY"]

    def test_id_only_pages_go_up_to_5000(self, cloud: tuple[FakeJira, httpx.Client]) -> None:
        body = search(
            cloud[1], 'project in (PAY, WEB, MOB, OPS, DATA, "INT")', fields=["id"], maxResults=9000
        ).json()
        assert len(body["issues"]) == 600

    def test_unbounded_query_is_refused(self, cloud: tuple[FakeJira, httpx.Client]) -> None:
        response = search(cloud[1], "ORDER BY updated DESC")
        assert response.status_code == 400
        assert "Unbounded JQL" in response.json()["errorMessages"][0]

    def test_reserved_word_unquoted_is_an_error_and_quoted_works(
        self, cloud: tuple[FakeJira, httpx.Client]
    ) -> None:
        assert search(cloud[1], "project = INT").status_code == 400
        assert search(cloud[1], 'project = "INT"').status_code == 200

    def test_unknown_project_is_an_error(self, cloud: tuple[FakeJira, httpx.Client]) -> None:
        response = search(cloud[1], 'project = "NOPE"')
        assert response.json()["errorMessages"] == [
            "The value 'NOPE' does not exist for the field 'project'."
        ]

    def test_dates_are_read_in_the_users_time_zone_and_millis_in_utc(
        self, cloud: tuple[FakeJira, httpx.Client]
    ) -> None:
        fake, http = cloud
        moment = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
        local = moment.astimezone(fake.zone).strftime("%Y-%m-%d %H:%M")
        by_millis = search(
            http,
            f'project = "PAY" AND updated >= {int(moment.timestamp() * 1000)}',
            maxResults=5000,
        ).json()
        by_local = search(http, f'project = "PAY" AND updated >= "{local}"', maxResults=5000).json()
        want = sorted(
            str(i.id)
            for i in fake.data.issues.values()
            if i.project.key == "PAY" and i.updated >= moment
        )
        assert sorted(i["id"] for i in by_millis["issues"]) == want
        assert sorted(i["id"] for i in by_local["issues"]) == want

    def test_removed_search_answers_410_with_the_migration_message(
        self, cloud: tuple[FakeJira, httpx.Client]
    ) -> None:
        for path in ("/rest/api/3/search", "/rest/api/2/search", "/rest/api/latest/search"):
            response = cloud[1].get(path, params={"jql": 'project = "PAY"'})
            assert response.status_code == 410
            assert response.json() == {"errorMessages": [REMOVED_SEARCH], "errors": {}}

    def test_bulkfetch_caps_requests_and_omits_missing_issues(
        self, cloud: tuple[FakeJira, httpx.Client]
    ) -> None:
        http = cloud[1]
        ids = [str(n) for n in range(10_000, 10_101)]
        for fields in (["*all"], ["summary"]):
            too_many = http.post(
                "/rest/api/3/issue/bulkfetch", json={"issueIdsOrKeys": ids, "fields": fields}
            )
            assert too_many.status_code == 400, f"the documented 100 holds for {fields}"
        body = http.post(
            "/rest/api/3/issue/bulkfetch",
            json={"issueIdsOrKeys": ["PAY-2", "99999999", "PAY-1"], "fields": ["summary"]},
        ).json()
        assert [i["key"] for i in body["issues"]] == ["PAY-1", "PAY-2"]
        assert body["issueErrors"] == []

    def test_bulkfetch_takes_a_thousand_narrow_issues_only_when_told_to(self) -> None:
        fake = make_fake(300, narrow_bulkfetch=True)
        ids = [str(n) for n in range(10_000, 10_101)]
        with serve_in_thread(fake) as base, httpx.Client(base_url=base, auth=AUTH) as http:
            wide = http.post(
                "/rest/api/3/issue/bulkfetch", json={"issueIdsOrKeys": ids, "fields": ["summary"]}
            )
            everything = http.post(
                "/rest/api/3/issue/bulkfetch", json={"issueIdsOrKeys": ids, "fields": ["*all"]}
            )
        assert len(wide.json()["issues"]) == 101
        assert everything.status_code == 400, "more than 100 with *all"

    def test_requests_without_valid_credentials_are_refused(
        self, cloud: tuple[FakeJira, httpx.Client]
    ) -> None:
        base = str(cloud[1].base_url)
        assert httpx.get(f"{base}/rest/api/3/myself").status_code == 401
        assert httpx.get(f"{base}/rest/api/3/myself", auth=(EMAIL, "wrong")).status_code == 401
        assert httpx.get(f"{base}/rest/api/3/myself", headers=PAT).status_code == 200


class TestDataCenterSearch:
    def test_pages_by_start_at_with_a_total_and_a_capped_size(
        self, datacenter: tuple[FakeJira, httpx.Client]
    ) -> None:
        fake, http = datacenter
        body = http.post(
            "/rest/api/2/search", json={"jql": 'project = "PAY"', "maxResults": 5000}
        ).json()
        pay = sum(1 for i in fake.data.issues.values() if i.project.key == "PAY")
        assert (body["startAt"], body["total"], body["maxResults"]) == (0, pay, 1000)
        assert (
            http.get("/rest/api/2/search", params={"jql": 'project = "PAY"'}).json()["maxResults"]
            == 50
        )

    def test_refuses_to_page_past_the_result_window(
        self, datacenter: tuple[FakeJira, httpx.Client]
    ) -> None:
        response = datacenter[1].post(
            "/rest/api/2/search",
            json={"jql": 'project = "PAY"', "startAt": 9_990, "maxResults": 50},
        )
        assert response.status_code == 400

    def test_basic_auth_is_off_personal_access_tokens_work(
        self, datacenter: tuple[FakeJira, httpx.Client]
    ) -> None:
        base = str(datacenter[1].base_url)
        assert httpx.get(f"{base}/rest/api/2/serverInfo", auth=AUTH).status_code == 401
        info = httpx.get(f"{base}/rest/api/2/serverInfo", headers=PAT).json()
        assert info["deploymentType"] == "DataCenter"


def test_faults_return_429_with_rate_limit_headers() -> None:
    fake = make_fake(10)
    fake.faults.rate_limit, fake.faults.burst = 1.0, 1.0
    with serve_in_thread(fake) as base, httpx.Client(base_url=base, auth=AUTH) as http:
        assert http.get("/rest/api/3/myself").status_code == 200
        refused = http.get("/rest/api/3/myself")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Reason"] == "jira-burst-based"
    assert "X-RateLimit-Reset" in refused.headers


def test_control_api_edits_moves_and_deletes() -> None:
    fake = make_fake(50)
    with serve_in_thread(fake) as base, httpx.Client(base_url=base) as http:
        assert (
            http.patch(
                "/_fake/issues/PAY-1", json={"summary": "Via control", "status": "Done"}
            ).status_code
            == 204
        )
        moved = http.post("/_fake/issues/PAY-2/move", json={"project": "WEB"}).json()
        assert http.delete("/_fake/issues/WEB-1").status_code == 204
        created = http.post("/_fake/issues", json={"project": "INT", "summary": "New"}).json()
        assert (
            http.post("/_fake/faults", json={"latency_ms": 5, "fail_next": [503]}).status_code
            == 204
        )
    assert fake.data.get("PAY-1").summary == "Via control"  # type: ignore[union-attr]
    assert fake.data.get("PAY-1").status.name == "Done"  # type: ignore[union-attr]
    assert fake.data.get(moved["key"]) is fake.data.get("PAY-2"), "an old key still resolves"
    assert fake.data.get("WEB-1") is None
    assert fake.data.get(created["key"]) is not None
    assert (fake.faults.latency, list(fake.faults.fail_next)) == (0.005, [503])


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_the_standard_jira_client_reads_the_same_issues(deployment: str) -> None:
    fake = make_fake(260, deployment=deployment)
    with serve_in_thread(fake) as base:
        if deployment == "cloud":
            client = JIRA(server=base, basic_auth=(EMAIL, TOKEN))
        else:
            client = JIRA(server=base, token_auth=TOKEN)
        issues = client.search_issues(
            'project in ("PAY", "WEB") ORDER BY key ASC', maxResults=False
        )
        client.close()
    want = sorted(i.key for i in fake.data.issues.values() if i.project.key in ("PAY", "WEB"))
    assert sorted(i.key for i in issues) == want
    by_key = {i.key: i for i in issues}
    assert by_key["PAY-1"].fields.summary == fake.data.get("PAY-1").summary  # type: ignore[union-attr]


def test_data_center_has_no_version_3_api(datacenter: tuple[FakeJira, httpx.Client]) -> None:
    http = datacenter[1]
    assert http.get("/rest/api/3/serverInfo").status_code == 404
    assert http.get("/rest/api/2/serverInfo").status_code == 200


def test_changelog_pages_skip_no_history_that_shares_a_time_with_the_page_boundary() -> None:
    fake = make_fake(40)
    same = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
    keys = ["PAY-1", "PAY-2", "WEB-1"]
    for key in keys:
        fake.data.edit(fake.issue_named(key), {"status": "In Review"}, at=same)
    ids = [str(fake.issue_named(k).id) for k in keys]
    with serve_in_thread(fake) as base, httpx.Client(base_url=base, auth=AUTH) as http:
        seen, token = [], None
        for _ in range(100):
            body = {"issueIdsOrKeys": ids, "fieldIds": ["status"], "maxResults": 1}
            page = http.post(
                "/rest/api/3/changelog/bulkfetch",
                json=body | ({"nextPageToken": token} if token else {}),
            ).json()
            seen += [h["id"] for log in page["issueChangeLogs"] for h in log["changeHistories"]]
            token = page.get("nextPageToken")
            if not token:
                break
    want = [str(h.id) for k in keys for h in fake.issue_named(k).histories if h.field == "status"]
    assert sorted(seen) == sorted(want)
    assert len(seen) == len(set(seen))


def test_search_lag_hides_recent_changes_except_those_reconciled() -> None:
    fake = make_fake(60)
    fresh = fake.add("PAY", "Story", "Filed a moment ago")
    fake.faults.search_lag = 600.0
    with serve_in_thread(fake) as base, httpx.Client(base_url=base, auth=AUTH) as http:
        plain = search(http, 'project = "PAY"', maxResults=5000).json()
        reconciled = search(
            http, 'project = "PAY"', maxResults=5000, reconcileIssues=[fresh.id]
        ).json()
        by_id = http.get(f"/rest/api/3/issue/{fresh.id}")
    assert str(fresh.id) not in {i["id"] for i in plain["issues"]}
    assert str(fresh.id) in {i["id"] for i in reconciled["issues"]}
    assert by_id.status_code == 200, "reads by id are never late"


def test_hidden_issues_and_projects_are_out_of_sight_everywhere() -> None:
    fake = make_fake(120, hidden_projects={"INT"})
    hidden = next(i for i in fake.data.issues.values() if i.project.key == "PAY")
    fake.hidden_issues = {hidden.id}
    with serve_in_thread(fake) as base, httpx.Client(base_url=base, auth=AUTH) as http:
        projects = {p["key"] for p in http.get("/rest/api/3/project").json()}
        listed = {
            i["id"] for i in search(http, 'project = "PAY"', maxResults=5000).json()["issues"]
        }
        bulk = http.post(
            "/rest/api/3/issue/bulkfetch",
            json={"issueIdsOrKeys": [str(hidden.id)], "fields": ["summary"]},
        ).json()
        assert http.get(f"/rest/api/3/issue/{hidden.id}").status_code == 404
        assert search(http, 'project = "INT"').status_code == 400
    assert "INT" not in projects
    assert str(hidden.id) not in listed
    assert bulk == {"issues": [], "issueErrors": []}


def test_short_read_faults_can_be_set_over_the_control_api() -> None:
    fake = make_fake(20)
    plan = {"issue_errors": {"10001": 2}, "left_out": {"10002": 1}, "unreadable": ["10003"]}
    with serve_in_thread(fake) as base, httpx.Client(base_url=base) as http:
        assert http.post("/_fake/faults", json=plan | {"search_lag": 30}).status_code == 204
    faults = fake.faults
    assert (faults.issue_errors, faults.left_out, faults.unreadable) == (
        {"10001": 2},
        {"10002": 1},
        {"10003"},
    )
    assert faults.search_lag == 30


class TestPreRendering:
    """Issues are rendered once per change of the site, not once per request."""

    def test_a_second_read_serves_the_same_bytes_without_rendering_again(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fake = make_fake(120)
        renders: list[int] = []
        original = Renderer.issue

        def counting(self: Renderer, issue: Issue, *args: object, **kwargs: Any) -> Any:
            renders.append(issue.id)
            return original(self, issue, *args, **kwargs)

        monkeypatch.setattr(Renderer, "issue", counting)
        ids = [str(i) for i in sorted(fake.data.issues)[:50]]
        body = {"issueIdsOrKeys": ids, "fields": ["summary", "status", "updated"]}
        with serve_in_thread(fake) as base, httpx.Client(base_url=base, auth=AUTH) as http:
            first = http.post("/rest/api/3/issue/bulkfetch", json=body)
            second = http.post("/rest/api/3/issue/bulkfetch", json=body)
            assert first.content == second.content
            assert len(renders) == 50
            key = first.json()["issues"][0]["key"]
            fake.edit(key, summary="Renamed after the first read")
            third = http.post("/rest/api/3/issue/bulkfetch", json=body).json()
        assert third["issues"][0]["fields"]["summary"] == "Renamed after the first read"
        assert len(renders) == 100
        assert first.headers["content-type"] == "application/json"

    def test_rendering_ahead_leaves_nothing_to_render_when_the_client_reads(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fake = make_fake(120)
        fields = ["summary", "status", "updated"]
        ids = [str(i) for i in sorted(fake.data.issues)[:100]]
        with serve_in_thread(fake) as base, httpx.Client(base_url=base, auth=AUTH) as http:
            ahead = http.post("/_fake/render-ahead", json={"fields": fields}).json()
            renders: list[int] = []
            original = Renderer.issue

            def counting(self: Renderer, issue: Issue, *args: object, **kwargs: Any) -> Any:
                renders.append(issue.id)
                return original(self, issue, *args, **kwargs)

            monkeypatch.setattr(Renderer, "issue", counting)
            body = {"issueIdsOrKeys": ids, "fields": fields}
            answer = http.post("/rest/api/3/issue/bulkfetch", json=body).json()
        assert ahead == {"rendered": len(fake.data.issues)}
        assert len(answer["issues"]) == 100
        assert renders == []
