"""Names of restricted work, withheld from the answers of a reader who may not see it.

A program the reader sees can still point at restricted work: a late dependency on an
item of a restricted program, a derived risk naming its owner, a report's sentence about
it. The lists and lookups leave restricted programs out (``app.programs.access``); what
is left is the mention inside another program's figures. Every such mention is replaced
in the answer by ``WITHHELD``: the work stays counted (the dependency is still listed, as
one item), never named. The words withheld are the restricted programs' keys, names,
owners and outcome names, the keys and titles of items only restricted programs hold,
and the people whose work is only there.

Matching is by whole word and errs on the side of withholding: a visible text that
happens to contain a restricted program's name loses that word too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ThroughlineConfig
from app.programs import access, items
from app.store.tables import ItemRow

WITHHELD = "[restricted]"
SHORTEST = 3
"""Shorter words are never withheld (they would blank ordinary text)."""


@dataclass(frozen=True, slots=True)
class Redaction:
    words: frozenset[str]
    _pattern: re.Pattern[str] | None

    def text(self, text: str) -> str:
        """``text`` (HTML, Markdown, CSV, plain) with every restricted word replaced."""
        if self._pattern is None:
            return text
        return self._pattern.sub(WITHHELD, text)

    def data(self, value: Any) -> Any:
        """A JSON value with every restricted word in its strings replaced (keys too)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.data(v) for k, v in value.items()}
        return value


NOTHING = Redaction(frozenset(), None)


Escape = Callable[[str], str]


def _forms(word: str, escapes: Sequence[Escape]) -> set[str]:
    """The word as it appears in a page, in JSON, in CSV and in each of ``escapes``."""
    return {
        word,
        str(escape(word)),
        json.dumps(word)[1:-1],
        json.dumps(word, ensure_ascii=False)[1:-1],
        word.replace('"', '""'),
        *(str(e(word)) for e in escapes),
    }


def redaction(words: Iterable[str], escapes: Sequence[Escape] = ()) -> Redaction:
    """Withholding ``words`` in every form ``_forms`` knows (``escapes``: more forms, such
    as the Markdown escaping of the reports)."""
    kept = frozenset(w.strip() for w in words if len(w.strip()) >= SHORTEST)
    if not kept:
        return NOTHING
    forms = sorted({f for w in kept for f in _forms(w, escapes)}, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![\w-])(?:" + "|".join(re.escape(f) for f in forms) + r")(?![\w-])",
        re.IGNORECASE,
    )
    return Redaction(kept, pattern)


async def for_reader(
    session: AsyncSession, config: ThroughlineConfig, escapes: Sequence[Escape] = ()
) -> Redaction:
    """What the current reader may not be told (``NOTHING`` when they see every program)."""
    hidden = access.hidden_keys(config)
    if not hidden:
        return NOTHING
    words: set[str] = set()
    shown_owners = {p.owner for p in config.programs if p.key not in hidden and p.owner}
    shown_outcomes = {o.name for p in config.programs if p.key not in hidden for o in p.outcomes}
    for program in config.programs:
        if program.key in hidden:
            words.update((program.key, program.name))
            if program.owner and program.owner not in shown_owners:
                words.add(program.owner)
            words.update(o.name for o in program.outcomes if o.name not in shown_outcomes)
    seen = await items.visible_clause(session, config)
    if seen is not None:
        rows = await session.execute(
            select(ItemRow.key, ItemRow.title, ItemRow.assignee).where(~seen)
        )
        shown_people = set(await session.scalars(select(ItemRow.assignee).where(seen).distinct()))
        for key, title, assignee in rows:
            words.update((key, title))
            if assignee and assignee not in shown_people:
                words.add(assignee)
    return redaction(words, escapes)
