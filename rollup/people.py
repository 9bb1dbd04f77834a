"""Who is who across trackers: one person behind the names and emails each tracker shows.

Jira Cloud often hides a user's email (it is a profile privacy setting) while Asana
returns it; display names differ in case, accents and spacing from one tracker to the
next. Names and emails are therefore matched after ``normalise``, and whatever shares a
name or an email with another name or email is one person (a union-find over both).
Configured people add what no tracker can tell: aliases and other addresses.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rollup.model import WorkItem


@functools.lru_cache(maxsize=65_536)
def normalise(text: str) -> str:
    """A name or email as compared: accents, case and spacing aside.

    ``"José  Núñez"`` and ``"jose nunez"`` are one name; ``ß`` compares as ``ss``.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


@functools.lru_cache(maxsize=65_536)
def _node(value: str) -> str:
    """Emails and names live in one graph; a value with an ``@`` is an email."""
    token = normalise(value)
    return f"e:{token}" if "@" in token else f"n:{token}"


@dataclass(frozen=True, slots=True)
class KnownPerson:
    """A person as configured: their name, other addresses and other names."""

    name: str
    emails: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Team:
    key: str
    name: str
    members: tuple[str, ...] = ()
    """People by name, email or alias."""
    wip_limit: int | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """How one tracker names the assignee of an item."""

    source: str
    name: str | None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    """A slug, stable while the person's name is."""
    name: str
    emails: tuple[str, ...]
    names: tuple[str, ...]
    """Every display name trackers showed for this person."""
    sources: tuple[str, ...]
    team: str | None = None
    configured: bool = False


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", normalise(text)).strip("-") or "person"


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, node: str) -> str:
        self.parent.setdefault(node, node)
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller node wins: the same input always yields the same roots.
            self.parent[max(ra, rb)] = min(ra, rb)


class Directory:
    """The people behind a set of identities, with their teams."""

    def __init__(self, people: Sequence[Person], nodes: Mapping[str, Person]) -> None:
        self.people = tuple(people)
        self._nodes = nodes
        self.by_id = {p.id: p for p in people}

    def find(self, name: str | None, email: str | None = None) -> Person | None:
        """The person an email or a name stands for (the email first)."""
        for value in (email, name):
            if value and value.strip():
                found = self._nodes.get(_node(value))
                if found is not None:
                    return found
        return None

    def person_of(self, item: WorkItem) -> Person | None:
        return self.find(item.assignee, item.assignee_email)


def identities(items: Iterable[WorkItem]) -> set[Identity]:
    """How the trackers name the assignees of ``items``."""
    return {
        Identity(i.source, i.assignee, i.assignee_email)
        for i in items
        if (i.assignee and i.assignee.strip()) or (i.assignee_email and i.assignee_email.strip())
    }


def match(
    seen: Iterable[Identity],
    known: Sequence[KnownPerson] = (),
    teams: Sequence[Team] = (),
) -> Directory:
    """One person per group of names and emails that share a name or an email.

    Configured people join their aliases and emails to their name; a configured person
    nobody's items name still appears (with no work). Team members are looked up by any
    of a person's names or emails.
    """
    union = _Union()
    shown: dict[str, Counter[str]] = {}
    emails: dict[str, set[str]] = {}
    sources: dict[str, set[str]] = {}
    for identity in seen:
        nodes = [_node(v) for v in (identity.name, identity.email) if v is not None and v.strip()]
        for node in nodes:
            union.find(node)
            sources.setdefault(node, set()).add(identity.source)
        if len(nodes) == 2:
            union.union(*nodes)
        if identity.name and identity.name.strip() and "@" not in identity.name:
            shown.setdefault(_node(identity.name), Counter())[" ".join(identity.name.split())] += 1
        if identity.email and identity.email.strip():
            emails.setdefault(_node(identity.email), set()).add(identity.email.strip().lower())
    configured: dict[str, KnownPerson] = {}
    for entry in known:
        anchor = _node(entry.name)
        for value in (*entry.emails, *entry.aliases):
            union.union(anchor, _node(value))
            if "@" in value:
                emails.setdefault(_node(value), set()).add(value.strip().lower())
        union.find(anchor)
        configured[anchor] = entry
    members = {union.find(_node(m)): t.key for t in teams for m in t.members}
    labels = {_node(m): " ".join(m.split()) for t in teams for m in t.members}
    groups: dict[str, list[str]] = {}
    for node in list(union.parent):
        groups.setdefault(union.find(node), []).append(node)
    people: list[Person] = []
    found: dict[str, Person] = {}
    taken: set[str] = set()
    drafts = [
        _draft(root, sorted(group), configured, shown, emails, sources, members, labels)
        for root, group in groups.items()
    ]
    for draft, group in sorted(drafts, key=lambda d: (normalise(d[0].name), d[0].name)):
        slug = base = _slug(draft.name)
        n = 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        final = Person(
            slug, draft.name, draft.emails, draft.names, draft.sources, draft.team, draft.configured
        )
        people.append(final)
        for node in group:
            found[node] = final
    return Directory(people, found)


def _draft(
    root: str,
    group: Sequence[str],
    configured: Mapping[str, KnownPerson],
    shown: Mapping[str, Counter[str]],
    emails: Mapping[str, set[str]],
    sources: Mapping[str, set[str]],
    members: Mapping[str, str],
    labels: Mapping[str, str],
) -> tuple[Person, Sequence[str]]:
    names: Counter[str] = Counter()
    for node in group:
        names.update(shown.get(node, Counter()))
    own = next((configured[n] for n in group if n in configured), None)
    addresses = tuple(sorted({e for n in group for e in emails.get(n, ())}))
    # The configured name, else the name trackers show most (on a tie, one in mixed case:
    # "Ana Lima" reads better than "ANA LIMA"), else an address.
    name = (
        own.name
        if own
        else min(names, key=lambda n: (-names[n], n.isupper() or n.islower(), n))
        if names
        else addresses[0]
        if addresses
        else labels.get(group[0], group[0][2:])
    )
    person = Person(
        id="",
        name=name,
        emails=addresses,
        names=tuple(sorted(names)),
        sources=tuple(sorted({s for n in group for s in sources.get(n, ())})),
        team=members.get(root),
        configured=own is not None,
    )
    return person, group
