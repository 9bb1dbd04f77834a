"""Mapping Jira's issue JSON to tracker-neutral records (parsing tests on canned payloads)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from connectors.base import ConnectorDataError, LinkRef, TrackerItem
from connectors.jira.mapping import Site, description_text, parse_issue, to_item
from connectors.jira.schemas import History
from vocabulary import ItemKind, StatusCategory

DATA = Path(__file__).parent / "data"
CLOUD = Site(
    source="acme",
    browse_url="https://site.atlassian.net",
    estimate_fields=("customfield_10016", "customfield_10028"),
    start_date_fields=("customfield_10015",),
    status_categories={"10257": StatusCategory.TODO, "10258": StatusCategory.IN_PROGRESS},
    dependency_link_types=frozenset({"blocks", "dependency"}),
)
DC = Site(
    source="core",
    browse_url="https://jira.example.com",
    estimate_fields=("customfield_10106",),
    epic_link_field="customfield_10014",
    status_categories={
        "1": StatusCategory.TODO,
        "3": StatusCategory.IN_PROGRESS,
        "6": StatusCategory.DONE,
    },
)


def item_of(raw: dict[str, Any], site: Site, histories: list[History] | None = None) -> TrackerItem:
    return to_item(parse_issue(raw, site.source), site, histories)


def load(name: str) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((DATA / name).read_text())
    return raw


class TestCloudIssue:
    def test_core_fields(self) -> None:
        item = item_of(load("cloud_issue.json"), CLOUD)
        assert (item.external_id, item.key, item.kind, item.issue_type) == (
            "11442",
            "INDEV-6",
            ItemKind.TASK,
            "Task",
        )
        assert (item.status, item.status_category) == ("In Progress", StatusCategory.IN_PROGRESS)
        assert item.title == 'Checkout retries <b>double-charge</b> "sometimes"'
        assert (item.project, item.parent_key, item.hierarchy_level) == ("INDEV", "INDEV-1", 0)
        assert item.url == "https://site.atlassian.net/browse/INDEV-6"
        assert (item.assignee, item.assignee_email) == ("Grace Hopper", None)
        assert (item.labels, item.components, item.fix_versions) == (
            ("checkout-v2", "customer"),
            ("Backend",),
            ("2026.2",),
        )

    def test_times_become_utc_and_dates_stay_dates(self) -> None:
        item = item_of(load("cloud_issue.json"), CLOUD)
        assert item.updated_at == datetime(2019, 1, 30, 12, 51, 33, 199_000, tzinfo=UTC)
        assert item.updated_at.tzinfo == UTC
        assert item.created_at == datetime(2018, 12, 5, 11, 32, 11, 571_000, tzinfo=UTC)
        assert (item.due_on, item.start_on, item.resolved_at) == (
            date(2019, 2, 28),
            date(2019, 1, 7),
            None,
        )

    def test_estimate_comes_from_the_first_story_point_field_that_is_set(self) -> None:
        raw = load("cloud_issue.json")
        assert item_of(raw, CLOUD).estimate == 5.0
        raw["fields"]["customfield_10016"], raw["fields"]["customfield_10028"] = None, 8
        assert item_of(raw, CLOUD).estimate == 8.0
        raw["fields"]["customfield_10028"] = "eight"
        assert item_of(raw, CLOUD).estimate is None

    def test_dependency_links_become_directed_blocks_edges(self) -> None:
        item = item_of(load("cloud_issue.json"), CLOUD)
        assert item.links == (
            LinkRef("acme", "INDEV-6", "acme", "INDEV-7", link_type="Blocks"),
            LinkRef("acme", "OPS-3", "acme", "INDEV-6", link_type="Blocks"),
            # "INDEV-6 depends on DATA-8": DATA-8 blocks INDEV-6.
            LinkRef("acme", "DATA-8", "acme", "INDEV-6", link_type="Dependency"),
        )

    def test_link_types_not_configured_as_dependencies_are_ignored(self) -> None:
        only_blocks = Site(source="acme", browse_url="https://x.test")
        assert {
            link.link_type for link in item_of(load("cloud_issue.json"), only_blocks).links
        } == {"Blocks"}

    def test_references_come_from_the_rich_text_description_and_its_links(self) -> None:
        item = item_of(load("cloud_issue.json"), CLOUD)
        targets = {r.target: r.blocks for r in item.references}
        assert targets["PAY-12"] is False
        assert "https://app.asana.com/0/1200000000000101/1200000000000777" in targets

    def test_no_history_given_means_transitions_unknown(self) -> None:
        assert item_of(load("cloud_issue.json"), CLOUD).transitions is None


class TestDataCenterIssue:
    def test_epic_link_is_the_parent_and_users_are_named(self) -> None:
        item = item_of(load("dc_issue.json"), DC)
        assert (item.parent_key, item.kind, item.estimate) == ("CORE-2", ItemKind.STORY, 3.0)
        assert (item.assignee, item.assignee_email) == ("Ada Lovelace", "ada@example.com")
        assert item.resolved_at == datetime(2024, 3, 9, 17, 30, tzinfo=UTC)
        assert {r.target for r in item.references} == {
            "CORE-3",
            "https://jira.example.com/browse/CORE-4",
        }

    def test_embedded_complete_changelog_gives_status_transitions_only(self) -> None:
        item = item_of(load("dc_issue.json"), DC)
        assert item.transitions is not None
        assert [
            (t.external_id, t.from_status, t.to_status, t.to_category) for t in item.transitions
        ] == [
            ("900", "Open", "In Progress", StatusCategory.IN_PROGRESS),
            ("902", "In Progress", "Closed", StatusCategory.DONE),
        ]
        assert item.transitions[0].at == datetime(2024, 3, 2, 9, 0, tzinfo=UTC)

    def test_a_truncated_embedded_changelog_is_not_taken_as_the_whole_history(self) -> None:
        raw = load("dc_issue.json")
        raw["changelog"]["total"] = 57
        assert item_of(raw, DC).transitions is None


@pytest.mark.parametrize(
    ("issuetype", "kind"),
    [
        ({"name": "Epic", "hierarchyLevel": 1}, ItemKind.EPIC),
        ({"name": "Initiative", "hierarchyLevel": 2}, ItemKind.EPIC),
        ({"name": "Sub-task", "subtask": True, "hierarchyLevel": -1}, ItemKind.SUBTASK),
        ({"name": "Bug", "hierarchyLevel": 0}, ItemKind.BUG),
        ({"name": "Story"}, ItemKind.STORY),
        ({"name": "Spike", "hierarchyLevel": 0}, ItemKind.TASK),
        ({"name": "Epic"}, ItemKind.EPIC),
    ],
    ids=["epic", "above-epic", "subtask", "bug", "story-on-dc", "custom-type", "epic-on-dc"],
)
def test_kind_follows_the_type_and_its_hierarchy_level(
    issuetype: dict[str, Any], kind: ItemKind
) -> None:
    raw = load("cloud_issue.json")
    raw["fields"]["issuetype"] = issuetype
    assert item_of(raw, CLOUD).kind == kind


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda f: f.pop("status"), "fields.status"),
        (lambda f: f.update(updated="yesterday"), "fields.updated"),
        (
            lambda f: f["status"]["statusCategory"].update(key="undefined"),
            "unknown status category",
        ),
        (lambda f: f.update(summary=None), "fields.summary"),
    ],
    ids=["no-status", "bad-updated", "unknown-category", "no-summary"],
)
def test_a_malformed_issue_is_reported_with_its_key_and_reason(damage: Any, reason: str) -> None:
    raw = copy.deepcopy(load("cloud_issue.json"))
    damage(raw["fields"])
    with pytest.raises(ConnectorDataError) as caught:
        item_of(raw, CLOUD)
    assert caught.value.key == "INDEV-6"
    assert reason in caught.value.reason


def test_several_status_changes_in_one_history_keep_distinct_ids() -> None:
    history = TypeAdapter(History).validate_python(
        {
            "id": "77",
            "created": "2026-01-05T10:00:00.000+0000",
            "items": [
                {
                    "fieldId": "status",
                    "from": "10257",
                    "fromString": "To Do",
                    "to": "10258",
                    "toString": "In Progress",
                },
                {
                    "fieldId": "status",
                    "from": "10258",
                    "fromString": "In Progress",
                    "to": "10257",
                    "toString": "To Do",
                },
            ],
        }
    )
    item = item_of(load("cloud_issue.json"), CLOUD, [history])
    assert [t.external_id for t in item.transitions or ()] == ["77", "77.1"]


def test_description_text_is_bounded() -> None:
    huge = "x " * 200_000 + "PAY-77"
    assert "PAY-77" not in (description_text(huge) or "")
    deep: dict[str, Any] = {"type": "doc", "content": [{"type": "text", "text": "y"}] * 50_000}
    assert len(description_text(deep) or "") < 50_000
