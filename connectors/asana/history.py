"""A task's status history from its stories: section moves and (in)completion, replayed.

Asana keeps no status field; a task's status is its section in its home project, and
completing it puts it in done whatever the section (``mapping.to_item``). Its stories
(``GET /tasks/{gid}/stories``) record both changes: ``section_changed`` with
``old_section``/``new_section``, and ``marked_complete``/``marked_incomplete``. Replaying
them in order and mapping each state as the current one is mapped gives the transitions
Jira's changelog gives. Sections are compact records that do not name their project, so
a move counts only when its section is one of the home project's (a task in two
projects moves in both boards).

A task created straight into a started or done section has no story for it: its first
state gets a transition of its own (id ``created``) at its creation, or at the
``added_to_project`` story of its home project when it joined later. Its first section is
the old section of its first move, or its section now when it never moved (moves seen
only on boards that cannot be told apart leave it unknown, and nothing is inferred).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC

from connectors.asana.mapping import MappingRules, normalise
from connectors.asana.schemas import Story
from connectors.base import TrackerItem, Transition
from vocabulary import StatusCategory

STORY_FIELDS = (
    "resource_subtype,created_at,created_by.name,old_section.name,new_section.name,project"
)
"""Only the stories' own fields mapping reads; every one is in the document's list."""

SECTION_CHANGED = "section_changed"
MARKED_COMPLETE = "marked_complete"
MARKED_INCOMPLETE = "marked_incomplete"
ADDED_TO_PROJECT = "added_to_project"
STATUS_STORIES = frozenset({SECTION_CHANGED, MARKED_COMPLETE, MARKED_INCOMPLETE})
FIRST_STATE_ID = "created"
MAX_STATUS_CHARS = 128


@dataclass(frozen=True, slots=True)
class _State:
    section: str | None
    completed: bool

    def status(self) -> str:
        if self.section:
            return self.section[:MAX_STATUS_CHARS]
        return "Completed" if self.completed else "Open"

    def category(self, sections: Mapping[str, StatusCategory]) -> StatusCategory:
        if self.completed:
            return StatusCategory.DONE
        if self.section is None:
            return StatusCategory.TODO
        return sections.get(normalise(self.section), StatusCategory.TODO)


def transitions(
    item: TrackerItem,
    stories: Iterable[Story],
    rules: MappingRules,
    board: frozenset[str] | None,
) -> tuple[Transition, ...]:
    """The status changes of ``item`` its stories record, oldest first.

    ``board`` is the section gids of the item's home project (None when unknown: then a
    section move counts only for a task in a single project).
    """
    ordered = sorted(stories, key=lambda s: s.created_at)

    def on_board(story: Story) -> bool:
        section = story.new_section
        if section is None:
            return False
        return section.gid in board if board is not None else len(item.projects) <= 1

    moves = [s for s in ordered if s.resource_subtype == SECTION_CHANGED and on_board(s)]
    toggles = [s for s in ordered if s.resource_subtype in (MARKED_COMPLETE, MARKED_INCOMPLETE)]
    unplaced = not moves and any(s.resource_subtype == SECTION_CHANGED for s in ordered)
    first_section = (
        (moves[0].old_section.name if moves[0].old_section else None) if moves else item.section
    )
    first_completed = bool(toggles) and toggles[0].resource_subtype == MARKED_INCOMPLETE
    state = _State(first_section, first_completed)
    found: list[Transition] = []
    joined = next(
        (
            s.created_at
            for s in ordered
            if s.resource_subtype == ADDED_TO_PROJECT
            and s.project is not None
            and s.project.gid == item.project
        ),
        item.created_at,
    )
    category = state.category(rules.sections)
    if category != StatusCategory.TODO and joined is not None and not unplaced:
        found.append(
            Transition(FIRST_STATE_ID, joined.astimezone(UTC), state.status(), to_category=category)
        )
    for story in ordered:
        if story.resource_subtype == SECTION_CHANGED:
            if not on_board(story):
                continue
            name = story.new_section.name if story.new_section else None
            after = _State(name, state.completed)
        elif story.resource_subtype == MARKED_COMPLETE:
            after = _State(state.section, True)
        elif story.resource_subtype == MARKED_INCOMPLETE:
            after = _State(state.section, False)
        else:
            continue
        to_category = after.category(rules.sections)
        if after.status() == state.status() and to_category == category:
            state = after
            continue
        found.append(
            Transition(
                external_id=story.gid,
                at=story.created_at.astimezone(UTC),
                to_status=after.status(),
                from_status=state.status(),
                to_category=to_category,
                from_category=category,
                author=story.created_by.name[:256]
                if story.created_by and story.created_by.name
                else None,
            )
        )
        state, category = after, to_category
    return tuple(found)
