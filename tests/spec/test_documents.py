"""The vendored documents, the deviations allowed from them, and the checks built on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.spec import deviations, extract
from tests.spec.validation import HERE, check_request, check_response, document

ISSUE = {"id": "10001", "key": "PAY-1", "fields": {"summary": "Pay in one click"}}
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("tracker", ["jira", "asana"])
def test_each_vendored_document_records_its_source_and_version(tracker: str) -> None:
    vendored = json.loads((HERE / f"{tracker}.json").read_text())["x-vendored"]
    assert vendored["file"] in {"jira-cloud-platform.v3.json", "asana_oas.yaml"}
    assert vendored["origin"]
    assert vendored["info.version"]


@pytest.mark.parametrize("tracker", ["jira", "asana"])
def test_the_vendored_document_is_what_the_extraction_gives_today(tracker: str) -> None:
    filename, _, operations = extract.SOURCES[tracker]
    reference = extract.DEFAULT_REFERENCE / filename
    if not reference.exists():
        pytest.skip(f"{reference} is not on this machine")
    fresh = extract.extract(extract.load(reference), operations)
    vendored = json.loads((HERE / f"{tracker}.json").read_text())
    vendored.pop("x-vendored")
    assert vendored == json.loads(json.dumps(fresh)), "run python -m tests.spec.extract"


def test_every_deviation_states_a_reason_and_still_applies() -> None:
    for deviation in (*deviations.PATCHES, *deviations.UNDOCUMENTED):
        assert len(deviation.reason) > 30, deviation.where
    for tracker in ("jira", "asana"):
        document.cache_clear()
        assert document(tracker)["paths"]  # every patch found its node


def test_a_fake_field_that_leaves_the_document_is_caught() -> None:
    good = json.dumps({"issues": [ISSUE], "issueErrors": []}).encode()
    bad = json.dumps({"issues": [ISSUE], "issueErrors": {"10002": "boom"}}).encode()
    args = ("jira", "POST", "/rest/api/3/issue/bulkfetch", "", JSON, 200, JSON)
    assert check_response(*args, good) == []
    [problem] = check_response(*args, bad)
    assert "issueErrors" in problem


def test_a_connector_parameter_that_leaves_the_document_is_caught() -> None:
    args = ("jira", "POST", "/rest/api/3/issue/bulkfetch", "", JSON)
    good = json.dumps({"issueIdsOrKeys": ["10001"], "fields": ["summary"]}).encode()
    bad = json.dumps({"issueIds": ["10001"], "fields": ["summary"]}).encode()
    assert check_request(*args, good) == []
    assert check_request(*args, bad)
    fields = "opt_fields=name,assignee.name,no_such_field"
    assert check_request("asana", "GET", "/api/1.0/tasks/1", fields, {}, None)


def test_an_operation_missing_from_the_document_is_caught() -> None:
    [problem] = check_request("jira", "GET", "/rest/api/3/issue/1/remotelink", "", {}, None)
    assert "not an operation of the vendored document" in problem


def test_documented_deviations_pass_and_nothing_else_does() -> None:
    history = {"id": "1", "created": "2026-10-01T09:00:00.000+1200", "items": [{"from": None}]}
    page = {"issueChangeLogs": [{"issueId": "1", "changeHistories": [history]}]}
    args = ("jira", "POST", "/rest/api/3/changelog/bulkfetch", "", JSON, 200, JSON)
    assert check_response(*args, json.dumps(page).encode()) == []
    history["created"] = "yesterday"
    assert check_response(*args, json.dumps(page).encode())
    assert check_response("jira", "GET", "/rest/api/3/myself", "", {}, 429, JSON, b"{}") == []
    assert check_response("jira", "GET", "/rest/api/3/myself", "", {}, 418, JSON, b"{}")


def test_extraction_keeps_only_the_named_operations(tmp_path: Path) -> None:
    source = {
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/A"}}}},
            "/b": {"get": {"responses": {"200": {"description": "b"}}}},
        },
        "components": {
            "responses": {"A": {"description": "a", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/A"}}}}},
            "schemas": {"A": {"type": "object"}, "Unused": {"type": "string"}},
        },
    }  # fmt: skip
    kept = extract.extract(source, {"/a": ["get"]})
    assert list(kept["paths"]) == ["/a"]
    assert kept["components"] == {
        "responses": {"A": source["components"]["responses"]["A"]},  # type: ignore[index]
        "schemas": {"A": {"type": "object"}},
    }
