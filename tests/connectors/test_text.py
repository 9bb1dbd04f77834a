"""Tracker text is made storable where records are made: NUL and unpaired surrogates
become U+FFFD, everything else stays as the tracker wrote it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.base import (
    Deletion,
    LinkRef,
    ProjectStatus,
    Reference,
    SyncWarning,
    TrackerItem,
    Transition,
)
from connectors.text import clean, is_clean
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
