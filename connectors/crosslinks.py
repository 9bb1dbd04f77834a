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
_KEYS_ONLY = re.compile(r"[A-Z](?<![\w/.-][A-Z])[A-Z0-9_]{1,9}-[1-9]\d{0,8}(?![\w-])")
"""``_JIRA_KEY`` alone, for text without ``://`` (where no URL can match): the same matches,
found faster, since a pattern opening with a character class lets the engine skip to the
next capital letter (the look-behind, after it, checks the character before that letter)."""

# The wording before a mention, searched for at the end of the text before it: matched
# instead at the start of that text reversed, which is one attempt rather than one per
# character. Forward, they read: _BLOCKS
#   (blocks|blocking|before|required\s+(by|for)|needed\s+(by|for)|prerequisite\s+(of|for))\W*$
# and _BLOCKED_BY
#   (blocked\s+by|depends\s+on|dependent\s+on|waiting\s+(on|for)|needs|requires|after)\W*$
_BLOCKS_REVERSED = re.compile(
    r"\W*(skcolb|gnikcolb|erofeb|(?:yb|rof)\s+deriuqer|(?:yb|rof)\s+dedeen"
    r"|(?:fo|rof)\s+etisiuqererp)",
    re.IGNORECASE,
)
_BLOCKED_BY_REVERSED = re.compile(
    r"\W*(yb\s+dekcolb|no\s+sdneped|no\s+tnedneped|(?:no|rof)\s+gnitiaw|sdeen|seriuqer|retfa)",
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
        if len(text) > MAX_SCANNED_CHARS:
            text = text[:MAX_SCANNED_CHARS]
        # Every mention holds a dash (a key's) or "://" (a URL's): most text holds neither.
        if "-" not in text and "://" not in text:
            continue
        pattern = _PATTERN if "://" in text else _KEYS_ONLY
        for match in pattern.finditer(text):
            target = match.group(0).rstrip(".,;:")
            start = match.start()
            before = text[max(0, start - _WORDING_WINDOW) : start][::-1]
            blocks = (
                True
                if _BLOCKS_REVERSED.match(before)
                else False
                if _BLOCKED_BY_REVERSED.match(before)
                else None
            )
            if target not in found or found[target].blocks is None:
                found[target] = Reference(target=target, blocks=blocks)
    return tuple(found.values())
