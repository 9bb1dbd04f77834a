"""The fast page decoder reads what the pydantic schemas read, and refuses what they refuse."""

from __future__ import annotations

import json
from typing import Any

import httpx

from connectors.fake.server import serve_in_thread
from connectors.jira.connector import FIELDS
from connectors.jira.schemas import (
    CHANGELOG_PAGE_ADAPTER,
    ISSUE_PAGE_ADAPTER,
    decode_changelogs,
    decode_issue_page,
)
from tests.jira_fakes import EMAIL, TOKEN, make_fake

CUSTOM = ("customfield_10016", "customfield_10015")


def _pages() -> tuple[bytes, bytes]:
    fake = make_fake(120)
    ids = [str(i) for i in sorted(fake.data.issues)[:100]]
    with (
        serve_in_thread(fake) as base,
        httpx.Client(base_url=base, auth=(EMAIL, TOKEN)) as http,
    ):
        issues = http.post(
            "/rest/api/3/issue/bulkfetch",
            json={"issueIdsOrKeys": ids, "fields": [*FIELDS, *CUSTOM]},
        )
        logs = http.post(
            "/rest/api/3/changelog/bulkfetch",
            json={"issueIdsOrKeys": ids, "fieldIds": ["status"]},
        )
    return issues.raise_for_status().content, logs.raise_for_status().content


def test_issues_and_histories_decode_as_the_schemas_validate_them() -> None:
    issues, logs = _pages()
    fast = decode_issue_page(issues, [*FIELDS, *CUSTOM])
    assert fast is not None
    reference = ISSUE_PAGE_ADAPTER.validate_json(issues)["issues"]
    assert [_within(f, r) for f, r in zip(fast["issues"], reference, strict=True)] == reference
    for issue, full in zip(fast["issues"], reference, strict=True):
        assert set(issue["fields"]) == set(full["fields"])
    assert any("customfield_10016" in i["fields"] for i in fast["issues"])
    assert decode_changelogs(logs) == CHANGELOG_PAGE_ADAPTER.validate_json(logs)


def _within(fast: Any, full: Any) -> Any:
    """``full`` with the keys ``fast`` left out (undeclared ones, which nothing reads)
    taken from ``full``: equal to ``full`` only if every key ``fast`` kept is equal."""
    if isinstance(fast, dict) and isinstance(full, dict):
        return {k: _within(fast[k], v) if k in fast else v for k, v in full.items()}
    if isinstance(fast, list) and isinstance(full, list) and len(fast) == len(full):
        return [_within(a, b) for a, b in zip(fast, full, strict=True)]
    return fast


def test_a_page_with_a_malformed_issue_is_left_to_the_schemas() -> None:
    issues, _ = _pages()
    body = json.loads(issues)
    body["issues"][3]["fields"]["summary"] = None
    assert decode_issue_page(json.dumps(body).encode(), FIELDS) is None
