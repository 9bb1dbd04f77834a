"""Asana records as tracker-neutral ones: kinds, status categories, estimates, dates, links."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors.asana.mapping import (
    Home,
    MappingRules,
    home_of,
    project_names,
    section_categories,
    to_item,
)
from connectors.asana.schemas import Task
from connectors.base import LinkRef, Reference
from vocabulary import ItemKind, StatusCategory

PROJECT = "1200000000000101"


def task(**overrides: Any) -> Task:
    raw: dict[str, Any] = {
        "gid": "1201",
        "name": "Ship v2",
        "resource_subtype": "default_task",
        "modified_at": "2026-06-02T08:01:00.000Z",
        "memberships": [
            {
                "project": {"gid": PROJECT, "name": "Launch"},
                "section": {"gid": "91", "name": "Doing"},
            }
        ],
        "projects": [{"gid": PROJECT, "name": "Launch"}],
        "permalink_url": "https://app.asana.com/1/1/task/1201",
    }
    raw.update(overrides)
    return Task.model_validate(raw)


RULES = MappingRules(source="asana", scopes=frozenset({PROJECT}))


def mapped(rules: MappingRules = RULES, **overrides: Any) -> Any:
    found = task(**overrides)
    return to_item(found, rules, home_of(found, rules))


@pytest.mark.parametrize(
    ("section", "completed", "configured", "category"),
    [
        pytest.param("Doing", False, {}, StatusCategory.IN_PROGRESS, id="default-doing"),
        pytest.param(" in  Progress ", False, {}, StatusCategory.IN_PROGRESS, id="spacing-case"),
        pytest.param("Backlog", False, {}, StatusCategory.TODO, id="default-todo"),
        pytest.param("Backlog", True, {}, StatusCategory.DONE, id="completed-wins"),
        pytest.param("QA", False, {"in_progress": ["QA"]}, StatusCategory.IN_PROGRESS, id="config"),
        pytest.param(
            "Doing", False, {"todo": ["Doing"]}, StatusCategory.TODO, id="config-overrides"
        ),
    ],
)
def test_section_names_map_to_status_categories(
    section: str, completed: bool, configured: dict[str, list[str]], category: StatusCategory
) -> None:
    rules = MappingRules(
        source="asana", scopes=frozenset({PROJECT}), sections=section_categories(configured)
    )
    membership = [{"project": {"gid": PROJECT}, "section": {"gid": "9", "name": section}}]
    item = mapped(rules, memberships=membership, completed=completed)
    assert item.status_category == category
    assert item.status == section


@pytest.mark.parametrize(
    ("overrides", "kind"),
    [
        ({}, ItemKind.TASK),
        ({"resource_subtype": "milestone"}, ItemKind.MILESTONE),
        ({"parent": {"gid": "77", "name": "Parent"}}, ItemKind.SUBTASK),
        ({"resource_subtype": "approval", "approval_status": "changes_requested"}, ItemKind.TASK),
    ],
)
def test_kinds(overrides: dict[str, Any], kind: ItemKind) -> None:
    assert mapped(**overrides).kind == kind


def test_approval_status_is_the_status_name() -> None:
    item = mapped(resource_subtype="approval", approval_status="changes_requested")
    assert (item.status, item.issue_type) == ("Changes requested", "approval")


def test_estimate_comes_from_the_configured_number_field_by_name_or_gid() -> None:
    fields = [
        {"gid": "777", "name": "Story points", "type": "number", "number_value": 5},
        {"gid": "778", "name": "Effort days", "type": "number", "number_value": 2.5},
    ]
    assert mapped(custom_fields=fields).estimate == 5
    by_gid = MappingRules(source="asana", estimate_field="778")
    assert mapped(by_gid, custom_fields=fields).estimate == 2.5
    by_name = MappingRules(source="asana", estimate_field="effort DAYS")
    assert mapped(by_name, custom_fields=fields).estimate == 2.5
    assert (
        mapped(MappingRules(source="asana", estimate_field="nope"), custom_fields=fields).estimate
        is None
    )


def test_due_at_gives_the_due_date_and_assignee_email_is_kept() -> None:
    item = mapped(
        due_at="2026-07-01T23:30:00.000Z",
        start_on="2026-06-20",
        assignee={"gid": "55", "name": "Ada", "email": "ada@acme.test"},
        tags=[{"gid": "1", "name": "checkout-v2"}],
    )
    assert (item.due_on, item.start_on) == (date(2026, 7, 1), date(2026, 6, 20))
    assert (item.assignee, item.assignee_email, item.labels) == (
        "Ada",
        "ada@acme.test",
        ("checkout-v2",),
    )


def test_dependencies_and_dependents_are_blocks_edges() -> None:
    item = mapped(dependencies=[{"gid": "1188"}], dependents=[{"gid": "1210"}])
    assert item.links == (
        LinkRef("asana", "1188", "asana", "1201", link_type="dependency"),
        LinkRef("asana", "1201", "asana", "1210", link_type="dependency"),
    )


def test_references_come_from_name_notes_and_the_reference_field() -> None:
    rules = MappingRules(source="asana", reference_field="Jira link")
    item = mapped(
        rules,
        name="[PAY-12] Wire the checkout",
        notes="Blocked by WEB-40.",
        custom_fields=[
            {
                "gid": "9",
                "name": "Jira link",
                "type": "text",
                "text_value": "https://acme.atlassian.net/browse/OPS-3",
            }
        ],
    )
    assert set(item.references) == {
        Reference("PAY-12"),
        Reference("WEB-40", blocks=False),
        Reference("https://acme.atlassian.net/browse/OPS-3"),
    }


def test_home_is_the_first_configured_project_and_subtasks_inherit_it() -> None:
    other = "1200000000000999"
    multi = task(projects=[{"gid": other}, {"gid": PROJECT}], memberships=[])
    assert home_of(multi, RULES) == Home(PROJECT, (other, PROJECT))
    child = task(projects=[], memberships=[], parent={"gid": "1201"})
    assert home_of(child, RULES, Home(PROJECT, (PROJECT,))) == Home(PROJECT, (PROJECT,))


def test_a_task_names_the_projects_it_lists() -> None:
    found = task(
        projects=[{"gid": "101", "name": "Checkout web"}],
        memberships=[
            {"project": {"gid": "101", "name": "Checkout web"}, "section": {"gid": "7"}},
            {"project": {"gid": "102", "name": "Payments"}},
            {"project": {"gid": "103"}},
        ],
    )
    assert project_names(found) == {"101": "Checkout web", "102": "Payments"}
