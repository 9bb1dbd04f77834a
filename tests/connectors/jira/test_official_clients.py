"""Jira clients nobody here wrote read the fake Jira as they read a real site.

The standard ``jira`` package (pycontribs) and ``atlassian-python-api`` search, read an
issue, its changelog and a project from the fake. Every answer the fake gives them is
also held to the official document (tests/connectors/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from atlassian import Jira as AtlassianJira
from jira import JIRA

from connectors.fake.jira import FakeJira
from connectors.fake.server import serve_in_thread
from tests.jira_fakes import EMAIL, TOKEN, make_fake


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[FakeJira, str]]:
    fake = make_fake(150)
    with serve_in_thread(fake) as base:
        yield fake, base


def a_busy_issue(fake: FakeJira) -> str:
    """The key of a PAY issue with more than one history entry."""
    return next(
        i.key for i in fake.data.issues.values() if i.project.key == "PAY" and len(i.histories) > 1
    )


def test_the_jira_package_searches_reads_an_issue_its_changelog_and_a_project(
    site: tuple[FakeJira, str],
) -> None:
    fake, base = site
    key = a_busy_issue(fake)
    client = JIRA(server=base, basic_auth=(EMAIL, TOKEN))
    try:
        found = client.search_issues('project = "PAY" ORDER BY key ASC', maxResults=False)
        issue = client.issue(key, expand="changelog")
        project = client.project("PAY")
    finally:
        client.close()
    assert sorted(i.key for i in found) == sorted(
        i.key for i in fake.data.issues.values() if i.project.key == "PAY"
    )
    want = fake.issue_named(key)
    assert issue.fields.summary == want.summary
    assert [h.id for h in issue.changelog.histories] == [str(h.id) for h in want.histories]
    assert (project.key, project.name) == ("PAY", fake.data.projects["PAY"].name)


def test_atlassian_python_api_reads_the_same_site(site: tuple[FakeJira, str]) -> None:
    fake, base = site
    key = a_busy_issue(fake)
    client = AtlassianJira(url=base, username=EMAIL, password=TOKEN, cloud=True)
    found = client.enhanced_jql('project = "WEB" ORDER BY key ASC', fields="summary", limit=100)
    issue = client.issue(key)
    changelog = client.get_issue_changelog(key)
    project = client.project("WEB")
    web = sorted(i.key for i in fake.data.issues.values() if i.project.key == "WEB")
    assert sorted(i["key"] for i in found["issues"]) == web[:100]
    assert issue["fields"]["summary"] == fake.issue_named(key).summary
    assert [v["id"] for v in changelog["values"]] == [
        str(h.id) for h in fake.issue_named(key).histories
    ]
    assert project["key"] == "WEB"
