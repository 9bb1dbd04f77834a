"""A task's stories as status transitions: section moves and (in)completion, replayed in
order and mapped to categories as the current section is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.asana.history import transitions
from connectors.asana.mapping import MappingRules, home_of, section_categories, to_item
from connectors.asana.schemas import Story, Task
from connectors.base import TrackerItem
from vocabulary import StatusCategory

PROJECT, OTHER = "1200000000000101", "1200000000000102"
BACKLOG, DOING, REVIEW, DONE, ELSEWHERE = "91", "92", "93", "94", "99"
NAMES = {BACKLOG: "Backlog", DOING: "Doing", REVIEW: "QA", DONE: "Done", ELSEWHERE: "In review"}
BOARD = frozenset({BACKLOG, DOING, REVIEW, DONE})
RULES = MappingRules(
    source="asana",
    scopes=frozenset({PROJECT}),
    sections=section_categories({"in_progress": ["QA"]}),
)
TODO, WIP, FINISHED = StatusCategory.TODO, StatusCategory.IN_PROGRESS, StatusCategory.DONE


def item(section: str = DONE, *, completed: bool = True, two_projects: bool = False) -> TrackerItem:
    memberships = [
        {"project": {"gid": PROJECT}, "section": {"gid": section, "name": NAMES[section]}}
    ]
    if two_projects:
        memberships.append({"project": {"gid": OTHER}, "section": {"gid": ELSEWHERE}})
    task = Task.model_validate(
        {
            "gid": "1201",
            "name": "Ship v2",
            "created_at": "2026-03-02T09:00:00.000Z",
            "modified_at": "2026-04-01T09:00:00.000Z",
            "completed": completed,
            "completed_at": "2026-04-01T09:00:00.000Z" if completed else None,
            "memberships": memberships,
            "projects": [{"gid": m["project"]["gid"]} for m in memberships],
        }
    )
    return to_item(task, RULES, home_of(task, RULES))


def day(n: int) -> str:
    return f"2026-03-{n:02d}T10:00:00.000Z"


def moved(gid: str, on: int, old: str, new: str) -> dict[str, Any]:
    return {
        "gid": gid,
        "created_at": day(on),
        "resource_subtype": "section_changed",
        "created_by": {"gid": "7", "name": "Ada Lovelace"},
        "old_section": {"gid": old, "name": NAMES[old]},
        "new_section": {"gid": new, "name": NAMES[new]},
    }


def marked(gid: str, on: int, done: bool) -> dict[str, Any]:
    subtype = "marked_complete" if done else "marked_incomplete"
    return {"gid": gid, "created_at": day(on), "resource_subtype": subtype}


def replay(
    found: TrackerItem, raw: list[dict[str, Any]], board: frozenset[str] | None = BOARD
) -> list[tuple[str, str | None, str, StatusCategory | None, int]]:
    stories = [Story.model_validate(r) for r in raw]
    return [
        (t.external_id, t.from_status, t.to_status, t.to_category, t.at.day)
        for t in transitions(found, stories, RULES, board)
    ]


def test_section_moves_map_to_categories_as_configured() -> None:
    stories = [
        {"gid": "1", "created_at": day(3), "resource_subtype": "comment_added", "text": "hi"},
        moved("2", 4, BACKLOG, DOING),
        moved("3", 9, DOING, REVIEW),
        moved("4", 12, REVIEW, DONE),
        marked("5", 12, True),
    ]
    assert replay(item(), stories) == [
        ("2", "Backlog", "Doing", WIP, 4),
        ("3", "Doing", "QA", WIP, 9),  # "QA" is in progress by the configuration
        ("4", "QA", "Done", FINISHED, 12),
    ]  # marking complete in Done changes neither the status nor the category


def test_a_reopened_task_goes_back_and_finishes_again() -> None:
    stories = [
        moved("2", 4, BACKLOG, DOING),
        moved("3", 10, DOING, DONE),
        marked("4", 10, True),
        marked("5", 15, False),
        moved("6", 15, DONE, DOING),
        moved("7", 20, DOING, DONE),
        marked("8", 20, True),
    ]
    found = replay(item(), stories)
    assert [(t[0], t[3]) for t in found] == [
        ("2", WIP),
        ("3", FINISHED),
        ("6", WIP),
        ("7", FINISHED),
    ]
    # Marked incomplete but left in Done: the section still reads done, as it would now.
    assert [t[0] for t in replay(item(), stories[:4])] == ["2", "3"]


def test_completion_without_a_section_move_is_done_from_the_section_it_was_in() -> None:
    found = item(BACKLOG)
    assert replay(found, [marked("5", 8, True)]) == [("5", "Backlog", "Backlog", FINISHED, 8)]
    # Re-opened: back to the section's own category.
    assert replay(
        item(BACKLOG, completed=False), [marked("5", 8, True), marked("6", 9, False)]
    ) == [
        ("5", "Backlog", "Backlog", FINISHED, 8),
        ("6", "Backlog", "Backlog", TODO, 9),
    ]


def test_a_task_created_in_a_started_section_starts_at_its_creation() -> None:
    found = item(DOING, completed=False)
    assert replay(found, []) == [("created", None, "Doing", WIP, 2)]
    joined = {
        "gid": "3",
        "created_at": day(6),
        "resource_subtype": "added_to_project",
        "project": {"gid": PROJECT, "name": "Launch"},
    }
    assert replay(found, [joined])[0] == ("created", None, "Doing", WIP, 6)
    # Its first move's old section says where it began: a to-do section needs no start.
    assert replay(item(DONE), [moved("4", 7, BACKLOG, DONE), marked("5", 7, True)]) == [
        ("4", "Backlog", "Done", FINISHED, 7)
    ]


def test_moves_on_another_projects_board_are_not_this_items_status() -> None:
    found = item(DONE, two_projects=True)
    stories = [moved("2", 4, BACKLOG, DOING), moved("3", 5, BACKLOG, ELSEWHERE)]
    assert [t[0] for t in replay(found, stories)] == ["2"]
    # Not knowing the home board, a task in two projects cannot tell whose move it is.
    assert replay(found, stories, board=None) == []
    assert [t[0] for t in replay(item(DONE), stories, board=None)] == ["2", "3"]


def test_transitions_are_utc_and_carry_their_author() -> None:
    story = Story.model_validate(
        {**moved("2", 4, BACKLOG, DOING), "created_at": "2026-03-04T12:00:00.000+02:00"}
    )
    (only,) = transitions(item(), [story], RULES, BOARD)
    assert only.at == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    assert only.author == "Ada Lovelace"
    assert only.from_category == TODO
