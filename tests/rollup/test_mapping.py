"""Selectors, units of work and unmapped work."""

from __future__ import annotations

import pytest

from rollup.mapping import ItemIndex, assign
from rollup.model import Selector
from tests.rollup.builders import done, item, outcome, program, ref
from vocabulary import ItemKind

ITEMS = [
    item("PAY-1", kind=ItemKind.EPIC),
    item("PAY-2", parent_key="PAY-1", labels=("checkout-v2",), components=("api",)),
    item("PAY-3", parent_key="PAY-2", kind=ItemKind.SUBTASK),
    item("PAY-4", parent_key="PAY-1", issue_type="Bug", labels=("mobile",)),
    item("PAY-5", labels=("checkout-v2",), custom_fields=(("Team", "Payments"),)),
    item("PAY-6", section="Doing", labels=("urgent",)),
    item("WEB-1", components=("api",)),
    item("WEB-2", projects=("PAY", "WEB")),
    item("PAY-7", deleted=True, labels=("checkout-v2",)),
    item("42", source="asana", project="1201", section="Now", labels=("q4",)),
]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param(Selector("jira", keys=("PAY-5", "NOPE-1")), {"PAY-5"}, id="keys"),
        pytest.param(
            Selector("jira", epics=("PAY-1",)), {"PAY-1", "PAY-2", "PAY-3", "PAY-4"}, id="epic-tree"
        ),
        pytest.param(Selector("jira", labels=("checkout-v2",)), {"PAY-2", "PAY-5"}, id="labels"),
        pytest.param(Selector("jira", components=("api",)), {"PAY-2", "WEB-1"}, id="components"),
        pytest.param(Selector("jira", issue_types=("bug",)), {"PAY-4"}, id="issue-type-any-case"),
        pytest.param(Selector("jira", sections=("Doing",)), {"PAY-6"}, id="sections"),
        pytest.param(Selector("asana", tags=("q4",)), {"42"}, id="tags-are-labels"),
        pytest.param(Selector("asana", projects=("1201",), sections=("Now",)), {"42"}, id="asana"),
        pytest.param(
            Selector("jira", custom_fields=(("Team", ("Payments",)),)), {"PAY-5"}, id="custom-field"
        ),
        pytest.param(
            Selector("jira", projects=("WEB",)), {"WEB-1", "WEB-2"}, id="projects-multi-homed"
        ),
        pytest.param(
            Selector("jira", epics=("PAY-1",), labels=("mobile",)), {"PAY-4"}, id="all-must-hold"
        ),
        pytest.param(Selector("asana"), {"42"}, id="whole-source"),
        pytest.param(Selector("jira", labels=("nothing",)), set(), id="no-match"),
    ],
)
def test_selector_chooses_items(selector: Selector, expected: set[str]) -> None:
    assert {key for _, key in ItemIndex(ITEMS).select(selector)} == expected


def test_deleted_items_are_never_selected() -> None:
    assert ref("PAY-7") not in ItemIndex(ITEMS).select(Selector("jira", labels=("checkout-v2",)))


class TestUnits:
    @pytest.mark.parametrize(
        ("items", "units"),
        [
            pytest.param([item("A-1"), item("A-2")], {"A-1", "A-2"}, id="stories"),
            pytest.param(
                [item("A-1", kind=ItemKind.EPIC), item("A-2", parent_key="A-1")],
                {"A-2"},
                id="epic-is-a-container",
            ),
            pytest.param([item("A-1", kind=ItemKind.EPIC)], set(), id="empty-epic-is-no-work"),
            pytest.param(
                [item("A-1"), item("A-2", parent_key="A-1", kind=ItemKind.SUBTASK)],
                {"A-1"},
                id="subtask-rolls-into-parent",
            ),
            pytest.param(
                [item("A-1"), item("A-2", parent_key="A-1")],
                {"A-2"},
                id="parent-of-work-is-a-container",
            ),
            pytest.param(
                [item("A-2", parent_key="X-1", kind=ItemKind.SUBTASK)],
                {"A-2"},
                id="orphan-subtask-counts",
            ),
            pytest.param([item("A-1", kind=ItemKind.MILESTONE)], set(), id="milestone-is-a-marker"),
        ],
    )
    def test_only_leaf_work_counts(self, items: list, units: set[str]) -> None:
        o = outcome("a", Selector("jira", projects=("A",)))
        assignment = assign(program(o), ItemIndex(items))
        assert {k for _, k in assignment.units["a"]} == units


def test_an_item_may_feed_several_outcomes() -> None:
    first = outcome("first", Selector("jira", labels=("checkout-v2",)))
    second = outcome("second", Selector("jira", keys=("PAY-5",)))
    assignment = assign(program(first, second), ItemIndex(ITEMS))
    assert assignment.outcomes_of()[ref("PAY-5")] == ("first", "second")


def test_work_in_the_programs_projects_that_no_outcome_selects_is_unmapped() -> None:
    items = [item("PAY-1", labels=("in",)), item("PAY-2"), done("PAY-3"), item("OTHER-1")]
    o = outcome("in", Selector("jira", labels=("in",)))
    assignment = assign(program(o), ItemIndex(items))
    assert assignment.unmapped == (ref("PAY-2"), ref("PAY-3"))
