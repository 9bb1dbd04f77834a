"""Tracker text is made storable where records are made: NUL and unpaired surrogates
become U+FFFD, everything else stays as the tracker wrote it."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import (
    MAX_TITLE_CHARS,
    Deletion,
    LinkRef,
    ProjectStatus,
    Reference,
    SyncWarning,
    TrackerItem,
    Transition,
)
from connectors.text import REPLACEMENT, clean, is_clean
from vocabulary import ItemKind, StatusCategory

NOW = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        pytest.param("plain", "plain", id="ascii"),
        pytest.param("Zoë 😀 日本", "Zoë 😀 日本", id="valid-unicode"),
        pytest.param("a\x00b", "a\ufffdb", id="nul"),
        pytest.param("cut \ud83d", "cut \ufffd", id="high-surrogate-alone"),
        pytest.param("\ude00 tail", "\ufffd tail", id="low-surrogate-alone"),
        pytest.param("\x00\ud800\x00", "\ufffd\ufffd\ufffd", id="several"),
    ],
)
def test_clean_replaces_only_what_cannot_be_stored(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned
    assert is_clean(cleaned)
    cleaned.encode("utf-8")


def item(**overrides: object) -> TrackerItem:
    fields: dict[str, object] = {
        "source": "jira",
        "external_id": "10001",
        "key": "PAY-1",
        "kind": ItemKind.STORY,
        "title": "Pay",
        "status": "To Do",
        "status_category": StatusCategory.TODO,
        "updated_at": NOW,
    }
    return TrackerItem(**{**fields, **overrides})  # type: ignore[arg-type]


def test_every_text_of_a_tracker_item_is_cleaned_nested_records_too() -> None:
    made = item(
        title="T\x00",
        status="In\ud800 progress",
        assignee="Ana\x00",
        labels=("ok", "b\x00d"),
        custom_fields=(("Team\x00", "Pay\ud83d"),),
        links=(LinkRef("jira", "PAY-1\x00", "jira", "PAY-2"),),
        references=(Reference("PAY-9\ud800"),),
        transitions=(Transition("1", NOW, "Done\x00", author="Bo\ud800"),),
    )
    assert made.title == "T\ufffd"
    assert made.status == "In\ufffd progress"
    assert made.assignee == "Ana\ufffd"
    assert made.labels == ("ok", "b\ufffdd")
    assert made.custom_fields == (("Team\ufffd", "Pay\ufffd"),)
    assert made.links[0].from_key == "PAY-1\ufffd"
    assert made.references[0].target == "PAY-9\ufffd"
    assert made.transitions is not None
    assert (made.transitions[0].to_status, made.transitions[0].author) == ("Done\ufffd", "Bo\ufffd")


def test_a_clean_item_is_kept_as_built() -> None:
    labels = ("a", "b")
    transitions = (Transition("1", NOW, "Done"),)
    made = item(labels=labels, transitions=transitions)
    assert made.labels is labels
    assert made.transitions is transitions


def test_statuses_warnings_and_deletions_are_cleaned_too() -> None:
    status = ProjectStatus("asana", "1", "2", "on_track", "green", NOW, title="Fine\x00")
    assert status.title == "Fine\ufffd"
    assert SyncWarning("PAY-1\x00", "bad \ud800").reason == "bad \ufffd"
    assert Deletion("jira", "100\x00", NOW).external_id == "100\ufffd"


def slow_clean(text: str) -> str:
    """Character by character: what ``clean`` promises, without its shortcuts."""
    return "".join(
        REPLACEMENT if char == "\x00" or 0xD800 <= ord(char) <= 0xDFFF else char for char in text
    )


def slow_strings(record: object) -> list[str]:
    """Every string a record holds, found by walking every field of every nested record."""
    found: list[str] = []
    for field in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, field.name)
        stack = [value]
        while stack:
            each = stack.pop()
            if isinstance(each, str):
                found.append(each)
            elif isinstance(each, tuple):
                stack.extend(each)
            elif dataclasses.is_dataclass(each):
                found += slow_strings(each)
    return found


HOSTILE = [
    "",
    "plain",
    "\x00",
    "\x00edge",
    "edge\x00",
    "\ud800",
    "\udfff",
    "\ud83d\ude00",  # a pair kept as two halves: each half alone is unstorable
    "edge\ud83d",
    "\ude00edge",
    "\u202eevil\u202c",  # bidi override: shown as written, not cleaned
    "\u200f\u2066\u2069",
    "\x01\x07\x1b[31m\x7f\x9f",  # control characters other than NUL are kept
    "Zoë 😀 日本 \ufeff \ufffd",
    "a\x00\ud800\x00b" * 50,
]


@pytest.mark.parametrize("raw", HOSTILE)
def test_clean_and_is_clean_agree_with_the_character_by_character_rule(raw: str) -> None:
    assert clean(raw) == slow_clean(raw)
    assert is_clean(raw) == (slow_clean(raw) == raw)


def test_an_item_is_cleaned_as_the_slow_walk_would_clean_it_on_random_text() -> None:
    rng = random.Random(20)
    for _ in range(500):

        def text() -> str:
            return "".join(rng.choices(HOSTILE, k=rng.randint(0, 3)))

        made = item(
            title=text() or "t",
            status=text() or "s",
            assignee=text() or None,
            labels=tuple(text() for _ in range(rng.randint(0, 2))),
            custom_fields=tuple((text(), text()) for _ in range(rng.randint(0, 2))),
            links=tuple(LinkRef("jira", text(), "jira", text()) for _ in range(rng.randint(0, 2))),
            references=tuple(Reference(text()) for _ in range(rng.randint(0, 2))),
            transitions=tuple(
                Transition(text() or "1", NOW, text() or "Done", author=text() or None)
                for _ in range(rng.randint(0, 3))
            ),
        )
        for each in slow_strings(made):
            assert each == slow_clean(each)


def test_records_of_mixed_kinds_in_one_group_are_each_read() -> None:
    # The one-pass read of a group of records is for groups of one kind; a mixed group
    # (not what a tracker item holds, but a record may be built so) is read record by record.
    mixed: tuple[Any, ...] = (LinkRef("jira", "A", "jira", "B"), Reference("PAY-1\x00"))
    second: Any = item(links=mixed).links[1]
    assert second == Reference("PAY-1\ufffd")


@pytest.mark.parametrize("length", [1, 63, 64, 65, 127, 128, 129, 2_000, 2_001])
def test_display_texts_are_bounded_whatever_their_lengths(length: int) -> None:
    long = "é" * length
    made = item(title=long, status=long, issue_type=long, assignee=long)
    for value, limit in [
        (made.title, MAX_TITLE_CHARS),
        (made.status, 128),
        (made.issue_type, 64),
        (made.assignee, 256),
    ]:
        assert value is not None
        expected = long if length <= limit else long[: limit - 1] + "…"
        assert value == expected


@pytest.mark.parametrize("dirty", ["\x00", chr(0xD800), chr(0xDE00)])
@pytest.mark.parametrize("at", [0, 1, 2])
def test_one_unstorable_character_anywhere_in_a_nested_group_is_found(dirty: str, at: int) -> None:
    def transition(index: int) -> Transition:
        return Transition(str(index), NOW, "Done" + (dirty if index == at else ""))

    def link(index: int) -> LinkRef:
        return LinkRef("jira", "PAY-1", "jira", "PAY-2" + (dirty if index == at else ""))

    made = item(transitions=tuple(map(transition, range(3))))
    assert made.transitions is not None
    assert [t.to_status for t in made.transitions] == [
        "Done\ufffd" if i == at else "Done" for i in range(3)
    ]
    linked = item(links=tuple(map(link, range(3))))
    assert [x.to_key for x in linked.links] == [
        "PAY-2\ufffd" if i == at else "PAY-2" for i in range(3)
    ]
