"""Mentions of other trackers' items in free text, with the direction their wording gives."""

from __future__ import annotations

import pytest

from connectors.base import Reference
from connectors.crosslinks import find_references


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
