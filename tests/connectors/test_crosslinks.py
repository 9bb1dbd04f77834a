"""Mentions of other trackers' items in free text, with the direction their wording gives."""

from __future__ import annotations

import random
import re

import pytest

from connectors.base import Reference
from connectors.crosslinks import MAX_SCANNED_CHARS, find_references


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Blocked by PAY-12 until the API ships",
            [Reference("PAY-12", blocks=False)],
            id="blocked-by",
        ),
        pytest.param("This blocks WEB-7.", [Reference("WEB-7", blocks=True)], id="blocks"),
        pytest.param("See PAY-12 for context", [Reference("PAY-12", blocks=None)], id="no-wording"),
        pytest.param(
            "depends on https://acme.atlassian.net/browse/PAY-9",
            [Reference("https://acme.atlassian.net/browse/PAY-9", blocks=False)],
            id="jira-url",
        ),
        pytest.param(
            "needed by https://app.asana.com/0/1200000000000101/1200000000000555/f",
            [Reference("https://app.asana.com/0/1200000000000101/1200000000000555/f", blocks=True)],
            id="asana-url",
        ),
        pytest.param(
            "lower-case pay-12, a path a/PAY-1, PAY-0 and X-1 are not keys", [], id="not-keys"
        ),
    ],
)
def test_references_are_found_with_their_direction(text: str, expected: list[Reference]) -> None:
    assert list(find_references(text)) == expected


def test_same_target_in_several_texts_is_reported_once_keeping_a_direction() -> None:
    found = find_references("PAY-1 mentioned", "waiting on PAY-1", None)
    assert found == (Reference("PAY-1", blocks=False),)


def test_huge_text_is_scanned_only_up_to_the_bound() -> None:
    text = "x" * 200_000 + " PAY-1"
    assert find_references(text) == ()


# The scan as it was written first, before its shortcuts (a marker check, a keys-only
# pattern, the wording matched on the reversed text): the shortcuts must not change a result.
_SLOW_PATTERN = re.compile(
    r"(https?://[^\s<>\"')]+/browse/[A-Z][A-Z0-9_]{1,9}-[1-9]\d{0,8})"
    r"|(https?://app\.asana\.com/[0-9]+/[^\s<>\"')]+)"
    r"|((?<![\w/.-])[A-Z][A-Z0-9_]{1,9}-[1-9]\d{0,8}(?![\w-]))"
)
_SLOW_BLOCKED_BY = re.compile(
    r"(blocked\s+by|depends\s+on|dependent\s+on|waiting\s+(?:on|for)|needs|requires|after)\W*$",
    re.IGNORECASE,
)
_SLOW_BLOCKS = re.compile(
    r"(blocks|blocking|before|required\s+(?:by|for)|needed\s+(?:by|for)|prerequisite\s+(?:of|for))"
    r"\W*$",
    re.IGNORECASE,
)


def slow_find_references(*texts: str | None) -> tuple[Reference, ...]:
    found: dict[str, Reference] = {}
    for text in texts:
        if not text:
            continue
        text = text[:MAX_SCANNED_CHARS]
        for match in _SLOW_PATTERN.finditer(text):
            target = match.group(0).rstrip(".,;:")
            before = text[max(0, match.start() - 40) : match.start()]
            blocks = (
                True
                if _SLOW_BLOCKS.search(before)
                else False
                if _SLOW_BLOCKED_BY.search(before)
                else None
            )
            if target not in found or found[target].blocks is None:
                found[target] = Reference(target=target, blocks=blocks)
    return tuple(found.values())


HOSTILE = [
    "PAY-1",
    "PAY-1 at the start",
    "at the end PAY-1",
    "at the end PAY-1.",
    "-PAY-1",
    "PAY-1-",
    "xPAY-1",
    "é PAY-1 é",
    "éPAY-1",
    "_PAY-1",
    "/PAY-1",
    ".PAY-1",
    "\u202ePAY-1\u202c blocks",
    "blocks\u202e PAY-1",
    "\x00PAY-1\x00",
    "\ud83dPAY-1\ude00",
    "blocked\ud800by PAY-1",
    "BLOCKED   BY\n\nPAY-1",
    "bloc\u212as PAY-1",  # Kelvin sign: matches k when case is ignored
    "needſ: PAY-1",  # long s: matches s when case is ignored
    "required\tfor PAY-1",
    "prerequisite of PAY-1",
    "unblocked by PAY-1",
    "dependent onPAY-1",
    "after\nPAY-1",
    "x" * 45 + "blocks PAY-1",
    "blocks " + "x" * 45 + " PAY-1",
    "https://a.atlassian.net/browse/PAY-1",
    "https://a.atlassian.net/browse/PAY-1 and PAY-2",
    "see https://app.asana.com/0/1/2?q=PAY-3, then PAY-3",
    "http://app.asana.com/0/1/2",
    "https://app.asana.com/x/1",
    "://PAY-1",
    "PAY-1://",
    "A-1 AB-0 AB-1 ABCDEFGHIJK-1 ABCDEFGHIJ-1234567890 AB-123456789",
    "",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_the_fast_scan_finds_what_the_slow_scan_finds(text: str) -> None:
    assert find_references(text) == slow_find_references(text)
    assert find_references(text, text[::-1], None) == slow_find_references(text, text[::-1], None)


def test_the_fast_scan_agrees_with_the_slow_scan_on_random_text() -> None:
    pieces = [
        "PAY", "A", "Z9", "_", "-", "1", "0", "12", " ", "  ", "\n", "\t", "/", ".", ",", ";",
        ":", "x", "é", "ſ", "\u212a", "\u202e", "\u200f", "\x00", "\ud800", "\ude00", "😀",
        "://", "https://", "http://j.net/browse/", "https://app.asana.com/0/", "blocks",
        "blocked by", "Depends On", "waiting for", "needs", "NEEDED BY", "before", "after",
    ]  # fmt: skip
    rng = random.Random(20)
    for _ in range(5_000):
        text = "".join(rng.choices(pieces, k=rng.randint(0, 30)))
        assert find_references(text) == slow_find_references(text), repr(text)


def test_a_mention_cut_by_the_bound_is_cut_alike() -> None:
    text = "x" * (MAX_SCANNED_CHARS - 7) + " PAY-12345 and https://j.net/browse/WEB-1"
    assert find_references(text) == slow_find_references(text) == (Reference("PAY-12"),)
