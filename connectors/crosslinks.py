"""Finding mentions of other trackers' items in free text (names, notes, descriptions).

Candidates only: a Jira-key-shaped word such as ``UTF-8`` is returned too, and ``app``
keeps just the keys of configured projects and the URLs of configured sites.
"""

from __future__ import annotations

import re

from connectors.base import Reference

_JIRA_KEY = r"(?<![\w/.-])[A-Z][A-Z0-9_]{1,9}-[1-9]\d{0,8}(?![\w-])"
_JIRA_URL = r"https?://[^\s<>\"')]+/browse/[A-Z][A-Z0-9_]{1,9}-[1-9]\d{0,8}"
_ASANA_URL = r"https?://app\.asana\.com/[0-9]+/[^\s<>\"')]+"
_PATTERN = re.compile(f"({_JIRA_URL})|({_ASANA_URL})|({_JIRA_KEY})")

_BLOCKED_BY = re.compile(
    r"(blocked\s+by|depends\s+on|dependent\s+on|waiting\s+(?:on|for)|needs|requires|after)\W*$",
    re.IGNORECASE,
)
_BLOCKS = re.compile(
    r"(blocks|blocking|before|required\s+(?:by|for)|needed\s+(?:by|for)|prerequisite\s+(?:of|for))"
    r"\W*$",
    re.IGNORECASE,
)
_WORDING_WINDOW = 40
MAX_SCANNED_CHARS = 100_000
"""Text past this many characters is not scanned: descriptions can be megabytes."""


def find_references(*texts: str | None) -> tuple[Reference, ...]:
    """Every distinct mention of a Jira key, Jira browse URL or Asana task URL in ``texts``."""
    found: dict[str, Reference] = {}
    for text in texts:
        if not text:
            continue
        text = text[:MAX_SCANNED_CHARS]
        for match in _PATTERN.finditer(text):
            target = match.group(0).rstrip(".,;:")
            before = text[max(0, match.start() - _WORDING_WINDOW) : match.start()]
            blocks = (
                True if _BLOCKS.search(before) else False if _BLOCKED_BY.search(before) else None
            )
            if target not in found or found[target].blocks is None:
                found[target] = Reference(target=target, blocks=blocks)
    return tuple(found.values())
