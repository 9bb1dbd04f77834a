"""Mentions of other trackers' items become links between the configured sources."""

from __future__ import annotations

import pytest

from app.config import parse_config
from app.sync.crosslinks import MENTION, ReferenceResolver
from connectors.base import LinkRef, Reference
from tests.builders import make_item

CONFIG = """
server: {auth: none}
sources:
  - name: jira
    kind: jira
    url: https://acme.atlassian.net
    auth: {email_env: E, token_env: T}
    projects: [PAY, WEB]
  - name: asana
    kind: asana
    auth: {token_env: A}
    workspace: "1200000000000001"
    projects: ["1200000000000101"]
    cross_link_direction: blocks
"""


@pytest.fixture
def resolver() -> ReferenceResolver:
    return ReferenceResolver.from_config(parse_config(CONFIG))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("PAY-12", ("jira", "PAY-12")),
        ("OPS-1", None),
        ("https://acme.atlassian.net/browse/WEB-40", ("jira", "WEB-40")),
        ("https://ACME.atlassian.net/browse/WEB-40", ("jira", "WEB-40")),
        ("https://other.atlassian.net/browse/WEB-40", None),
        (
            "https://app.asana.com/0/1200000000000101/1200000000000555/f",
            ("asana", "1200000000000555"),
        ),
        (
            "https://app.asana.com/1/1200000000000001/project/9/task/1200000000000556",
            ("asana", "1200000000000556"),
        ),
        (
            "https://app.asana.com/1/1200000000000001/task/1200000000000557",
            ("asana", "1200000000000557"),
        ),
        ("https://app.asana.com/1/999/task/1200000000000557", None),
    ],
)
def test_targets_resolve_against_configured_sources(
    resolver: ReferenceResolver, target: str, expected: tuple[str, str] | None
) -> None:
    assert resolver.target(Reference(target)) == expected


def test_wording_sets_the_direction_and_the_source_default_fills_in(
    resolver: ReferenceResolver,
) -> None:
    item = make_item(
        "1200000000000600",
        source="asana",
        references=(Reference("PAY-1", blocks=False), Reference("WEB-2", blocks=None)),
    )
    assert resolver.resolve(item).links == (
        LinkRef("jira", "PAY-1", "asana", "1200000000000600", link_type=MENTION),
        LinkRef("asana", "1200000000000600", "jira", "WEB-2", link_type=MENTION),
    )


def test_jira_items_mentioning_asana_tasks_link_to_them(resolver: ReferenceResolver) -> None:
    item = make_item(
        "PAY-3",
        references=(Reference("https://app.asana.com/0/1200000000000101/1200000000000555", True),),
    )
    assert resolver.resolve(item).links == (
        LinkRef("jira", "PAY-3", "asana", "1200000000000555", link_type=MENTION),
    )


def test_mentions_of_the_items_own_source_or_unknown_targets_add_nothing(
    resolver: ReferenceResolver,
) -> None:
    item = make_item("PAY-3", references=(Reference("PAY-4"), Reference("UTF-8")))
    assert resolver.resolve(item) is item


def test_ignore_leaves_mentions_without_wording_unlinked() -> None:
    resolver = ReferenceResolver.from_config(
        parse_config(CONFIG.replace("cross_link_direction: blocks", "cross_link_direction: ignore"))
    )
    item = make_item("1200000000000600", source="asana", references=(Reference("PAY-1"),))
    assert resolver.resolve(item).links == ()
