"""The Jira connector against the fake Jira over a real socket, Cloud and Data Center."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import timedelta

import pytest

from connectors.base import Page, TrackerAuthError, TrackerItem, TrackerUnavailable
from connectors.fake.jira import FakeJira
from connectors.fake.jira.model import JiraData, Project
from connectors.fake.server import serve_in_thread
from connectors.jira import JiraConnector
from tests.jira_fakes import ANCHOR, expected_items, jira_connector, make_fake


@pytest.fixture(scope="module")
def cloud() -> Iterator[tuple[FakeJira, str]]:
    fake = make_fake(400)
    with serve_in_thread(fake) as base:
        yield fake, base


@pytest.fixture(scope="module")
def datacenter() -> Iterator[tuple[FakeJira, str]]:
    # A small page cap makes the connector cross many startAt pages.
    fake = make_fake(400, deployment="datacenter", dc_page_cap=37)
    with serve_in_thread(fake) as base:
        yield fake, base


async def fetch_all(connector: JiraConnector, since: object = None) -> list[Page]:
    pages = []
    for scope in await connector.scopes():
        pages += [page async for page in connector.fetch(scope, since)]  # type: ignore[arg-type]
    return pages


def items_of(pages: list[Page]) -> list[TrackerItem]:
    return [item for page in pages for item in page.items]


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
async def test_full_fetch_returns_every_issue_once_with_its_fields(
    deployment: str, request: pytest.FixtureRequest
) -> None:
    fake, base = request.getfixturevalue(deployment)
    async with jira_connector(base, cloud=deployment == "cloud") as connector:
        items = items_of(await fetch_all(connector))
    expected = expected_items(fake.data)
    assert sorted(i.external_id for i in items) == sorted(expected)
    for item in items:
        want = expected[item.external_id]
        assert (item.key, item.title, item.status, str(item.status_category)) == (
            want["key"],
            want["title"],
            want["status"],
            want["status_category"],
        )
        assert (item.parent_key, item.estimate, item.due_on, item.start_on) == (
            want["parent_key"],
            want["estimate"],
            want["due_on"],
            want["start_on"],
        )
        assert item.updated_at == want["updated_at"]
        assert item.updated_at.utcoffset() == timedelta(0)


async def test_cloud_fetch_uses_the_bulk_endpoints_not_one_page_chain() -> None:
    fake = make_fake(400, narrow_bulkfetch=True)
    with serve_in_thread(fake) as base:
        async with jira_connector(base, projects=["PAY"]) as connector:
            items = items_of(await fetch_all(connector))
    pay = sum(1 for i in fake.data.issues.values() if i.project.key == "PAY")
    assert pay > 100
    assert len(items) == pay
    assert fake.requests["search/jql"] == 1, "ids of a small project fit one page"
    # This site would accept a thousand a call; the documented hundred are asked all the same.
    assert fake.requests["issue/bulkfetch"] == -(-pay // 100)
    assert fake.requests["changelog/bulkfetch"] >= 1
    assert all(i.transitions is not None for i in items)


async def test_a_site_holding_the_documented_limit_is_read_a_hundred_at_a_time(
    cloud: tuple[FakeJira, str],
) -> None:
    fake, base = cloud
    before = fake.requests.get("issue/bulkfetch", 0)
    async with jira_connector(base) as connector:
        items = items_of(await fetch_all(connector))
    assert len({i.external_id for i in items}) == len(fake.data)
    calls = fake.requests["issue/bulkfetch"] - before
    per_project = [
        sum(1 for i in fake.data.issues.values() if i.project.key == p) for p in fake.data.projects
    ]
    assert calls == sum(-(-n // 100) for n in per_project), "100s from the first call on"


async def test_status_history_becomes_transitions(cloud: tuple[FakeJira, str]) -> None:
    fake, base = cloud
    async with jira_connector(base) as connector:
        items = items_of(await fetch_all(connector))
    by_id = {i.external_id: i for i in items}
    for issue in fake.data.issues.values():
        statuses = [h for h in issue.histories if h.field == "status"]
        got = by_id[str(issue.id)].transitions or ()
        assert [t.to_status for t in got] == [h.to_string for h in statuses]
        assert all(t.to_category is not None for t in got)


async def test_since_narrows_to_recently_updated_issues(cloud: tuple[FakeJira, str]) -> None:
    fake, base = cloud
    cutoff = ANCHOR - timedelta(days=20)
    async with jira_connector(base) as connector:
        items = items_of(await fetch_all(connector, cutoff))
    want = {str(i.id) for i in fake.data.issues.values() if i.updated >= cutoff}
    assert {i.external_id for i in items} == want
    assert 0 < len(want) < len(fake.data)


async def test_census_lists_every_id_of_a_project(cloud: tuple[FakeJira, str]) -> None:
    fake, base = cloud
    async with jira_connector(base) as connector:
        ids = await connector.census("WEB")
    assert ids == {str(i.id) for i in fake.data.issues.values() if i.project.key == "WEB"}


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
async def test_fetch_items_leaves_out_missing_issues(
    deployment: str, request: pytest.FixtureRequest
) -> None:
    _, base = request.getfixturevalue(deployment)
    async with jira_connector(base, cloud=deployment == "cloud") as connector:
        page = await connector.fetch_items(["PAY-1", "WEB-2", "PAY-99999"])
    assert sorted(i.key for i in page.items) == ["PAY-1", "WEB-2"]
    assert all(i.transitions is not None for i in page.items)


async def test_wrong_credentials_stop_with_a_message_naming_the_source() -> None:
    fake = make_fake(20, token="another-token")
    with serve_in_thread(fake) as base:
        async with jira_connector(base) as connector:
            with pytest.raises(TrackerAuthError, match="jira: the tracker refused"):
                await connector.scopes()


async def test_429s_and_5xx_bursts_are_ridden_out() -> None:
    fake = make_fake(250)
    fake.faults.fail_next = deque([429, 503, 502, 429])

    def second_burst(site: FakeJira) -> None:
        site.faults.fail_next.extend([500, 429, 503, 504])

    fake.after_requests(12, second_burst)
    with serve_in_thread(fake) as base:
        async with jira_connector(base) as connector:
            items = items_of(await fetch_all(connector))
            assert connector.stats.retries >= 8
            assert connector.stats.rate_limited >= 3
    assert len({i.external_id for i in items}) == len(fake.data)


async def test_a_hung_request_times_out_and_is_retried() -> None:
    fake = make_fake(50)
    fake.faults.hang_next, fake.faults.hang_seconds = 1, 1.0
    with serve_in_thread(fake) as base:
        async with jira_connector(base, request_timeout=0.3) as connector:
            items = items_of(await fetch_all(connector))
            assert connector.stats.retries >= 1
    assert len(items) == len(fake.data)


async def test_an_outage_longer_than_the_retry_budget_fails_the_fetch() -> None:
    fake = make_fake(20)
    fake.faults.error_rate = 1.0
    with serve_in_thread(fake) as base:
        async with jira_connector(base, client_options={"max_retries": 2}) as connector:
            with pytest.raises(TrackerUnavailable, match="gave up after 2 retries"):
                await connector.scopes()


async def test_a_429_storm_from_the_rate_limiter_completes() -> None:
    fake = make_fake(600)
    fake.faults.rate_limit, fake.faults.burst = 30.0, 3.0
    with serve_in_thread(fake) as base:
        async with jira_connector(base, client_options={"max_retries": 30}) as connector:
            items = items_of(await fetch_all(connector))
            assert connector.stats.rate_limited > 0
    assert len({i.external_id for i in items}) == len(fake.data)


@pytest.mark.parametrize(
    ("fault", "why"),
    [("left_out", "a short answer"), ("issue_errors", "an issueErrors entry")],
)
async def test_an_issue_a_bulk_fetch_answered_short_for_is_read_again(fault: str, why: str) -> None:
    fake = make_fake(400)
    first = str(min(i.id for i in fake.data.issues.values() if i.project.key == "PAY"))
    setattr(fake.faults, fault, {first: 1})
    with serve_in_thread(fake) as base:
        async with jira_connector(base) as connector:
            items = items_of(await fetch_all(connector))
    assert len({i.external_id for i in items}) == len(fake.data), why
    assert first in {i.external_id for i in items}, why


async def test_fetch_items_confirms_a_missing_id_by_reading_it_alone(
    cloud: tuple[FakeJira, str],
) -> None:
    fake, base = cloud
    present = str(next(iter(fake.data.issues)))
    fake.faults.left_out = {present: 1}
    async with jira_connector(base) as connector:
        page = await connector.fetch_items([present, "99999999"])
    assert [i.external_id for i in page.items] == [present]
    assert [d.external_id for d in page.deletions] == ["99999999"]


async def test_projects_named_like_jql_words_sync_and_census() -> None:
    reserved = [Project("10900", key, key.title(), ()) for key in ("INT", "AND", "ORDER")]
    data = JiraData(reserved, [], clock=lambda: ANCHOR)
    for project in reserved:
        for n in range(3):
            data.add(project.key, "Story", f"{project.key} story {n}", at=ANCHOR)
    fake = FakeJira(data)
    with serve_in_thread(fake) as base:
        async with jira_connector(base) as connector:
            items = items_of(await fetch_all(connector))
            census = {key: await connector.census(key) for key in ("INT", "AND", "ORDER")}
    assert sorted(i.key for i in items) == sorted(i.key for i in data.issues.values())
    assert all(len(ids) == 3 for ids in census.values())
