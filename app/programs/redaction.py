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
from typing import Any

from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ThroughlineConfig
from app.programs import access, items
from app.store.tables import ItemRow

WITHHELD = "[restricted]"
ELLIPSIS = "…"
"""What the charts put at the end of a label they cut short."""
SHORTEST = 3
"""Shorter words are never withheld (they would blank ordinary text)."""


_TOKEN = re.compile(r"\w[\w-]*")


class Redaction:
    """Replaces restricted words, in every form ``_forms`` gives them, by ``WITHHELD``.

    Matching is by whole word, case aside: each form is indexed by its first token, and
    a text is read token by token, so the cost grows with the text, not with the number
    of words withheld (ten thousand items cost what ten do).
    """

    __slots__ = ("_index", "words")

    def __init__(self, words: frozenset[str], forms: Iterable[str] = ()) -> None:
        self.words = words
        self._index: dict[str, list[tuple[int, str]]] = {}
        for form in sorted(set(forms), key=len, reverse=True):
            first = _TOKEN.search(form)
            if first is not None:
                self._index.setdefault(first.group().lower(), []).append(
                    (first.start(), form.lower())
                )

    def text(self, text: str) -> str:
        """``text`` (HTML, Markdown, CSV, plain) with every restricted word replaced."""
        if not self._index:
            return text
        parts: list[str] = []
        done = 0
        for token in _TOKEN.finditer(text):
            if token.start() < done:
                continue
            for offset, form in self._index.get(token.group().lower(), ()):
                start = token.start() - offset
                if start < done or _joins(text, start - 1):
                    continue
                end = start + len(form)
                if text[start:end].lower() == form and not _joins(text, end):
                    parts += (text[done:start], WITHHELD)
                    done = end
                    break
                # A label cut short ("Vault API <img…"): the start of a form, then "…".
                cut = text.find(ELLIPSIS, token.end(), end)
                if cut != -1 and text[start:cut].lower() == form[: cut - start]:
                    parts += (text[done:start], WITHHELD)
                    done = cut + len(ELLIPSIS)
                    break
        if not parts:
            return text
        parts.append(text[done:])
        return "".join(parts)

    def data(self, value: Any) -> Any:
        """A JSON value with every restricted word in its strings replaced (keys too)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.data(v) for k, v in value.items()}
        return value


def _joins(text: str, at: int) -> bool:
    """Whether the character at ``at`` would make a match part of a longer word."""
    return 0 <= at < len(text) and (text[at].isalnum() or text[at] in "_-")


NOTHING = Redaction(frozenset())


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
    return Redaction(kept, (f for w in kept for f in _forms(w, escapes)))


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
