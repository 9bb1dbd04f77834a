"""The fields the fake's JQL can filter on, each bound to a predicate over issues."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from connectors.fake.jira.jql_lexer import JqlError, Token
from connectors.fake.jira.model import Issue, JiraData

Predicate = Callable[[Issue], bool]
Bound = tuple[Predicate, frozenset[str] | None]
"""A clause's predicate and, when it pins them, the projects every match is in."""


class Binding(Protocol):
    """What a clause needs from the query being parsed."""

    data: JiraData

    def instant(self, token: Token) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Field:
    getter: Callable[[Issue], Any]
    bind: Callable[[Binding, str, str, list[Token]], Bound]


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    raise JqlError(f"The operator '{op}' is not supported by this field.")


def _membership(get: Callable[[Issue], Any], op: str, wanted: frozenset[Any]) -> Predicate:
    if op in ("=", "in"):
        return lambda issue: get(issue) in wanted
    if op in ("!=", "not in"):
        return lambda issue: get(issue) not in wanted
    raise JqlError(f"The operator '{op}' is not supported by this field.")


def _bind_project(p: Binding, _name: str, op: str, values: list[Token]) -> Bound:
    keys = set()
    for token in values:
        found = [
            k
            for k, proj in p.data.projects.items()
            if token.value.casefold() in (k.casefold(), proj.id, proj.name.casefold())
        ]
        if not found:
            raise JqlError(f"The value '{token.value}' does not exist for the field 'project'.")
        keys.update(found)
    wanted = frozenset(keys)
    return _membership(lambda i: i.project.key, op, wanted), wanted if op in ("=", "in") else None


def _bind_key(p: Binding, _name: str, op: str, values: list[Token]) -> Bound:
    ids = set()
    for token in values:
        issue = p.data.get(token.value)
        if issue is None:
            raise JqlError(f"An issue with key '{token.value}' does not exist for field 'key'.")
        ids.add(issue.id)
    return _membership(lambda i: i.id, op, frozenset(ids)), None


def _bind_id(_p: Binding, _name: str, op: str, values: list[Token]) -> Bound:
    try:
        numbers = [int(t.value) for t in values]
    except ValueError:
        raise JqlError("The value for field 'id' must be a number.") from None
    if op in ("in", "not in"):
        return _membership(lambda i: i.id, op, frozenset(numbers)), None
    bound = numbers[0]
    return (lambda issue: _compare(op, issue.id, bound)), None


def _bind_date(
    attribute: str,
) -> Callable[[Binding, str, str, list[Token]], Bound]:
    def bind(p: Binding, _name: str, op: str, values: list[Token]) -> Bound:
        if op in ("in", "not in"):
            raise JqlError(f"The operator '{op}' is not supported by the '{attribute}' field.")
        bound = p.instant(values[0])

        def predicate(issue: Issue) -> bool:
            value = getattr(issue, attribute)
            return value is not None and _compare(op, value, bound)

        return predicate, None

    return bind


def _bind_names(
    get: Callable[[Issue], Iterable[str]],
) -> Callable[[Binding, str, str, list[Token]], Bound]:
    def bind(_p: Binding, _name: str, op: str, values: list[Token]) -> Bound:
        wanted = {t.value.casefold() for t in values}

        def has(issue: Issue) -> bool:
            return any(v.casefold() in wanted for v in get(issue))

        if op in ("=", "in", "~"):
            return has, None
        if op in ("!=", "not in", "!~"):
            return (lambda issue: not has(issue)), None
        raise JqlError(f"The operator '{op}' is not supported by this field.")

    return bind


def _parent_refs(issue: Issue) -> tuple[str, ...]:
    return () if issue.parent_id is None else (str(issue.parent_id),)


def _bind_parent(p: Binding, _name: str, op: str, values: list[Token]) -> Bound:
    resolved = []
    for t in values:
        issue = p.data.get(t.value)
        resolved.append(Token(t.kind, t.text, str(issue.id) if issue else "-"))
    return _bind_names(_parent_refs)(p, "parent", op, resolved)


FIELDS = {
    "project": Field(lambda i: i.project.key, _bind_project),
    "key": Field(lambda i: i.key, _bind_key),
    "issuekey": Field(lambda i: i.key, _bind_key),
    "id": Field(lambda i: i.id, _bind_id),
    "updated": Field(lambda i: i.updated, _bind_date("updated")),
    "created": Field(lambda i: i.created, _bind_date("created")),
    "resolved": Field(lambda i: i.resolved, _bind_date("resolved")),
    "status": Field(lambda i: i.status.name, _bind_names(lambda i: (i.status.name, i.status.id))),
    "statuscategory": Field(
        lambda i: i.status.category, _bind_names(lambda i: (i.status.category,))
    ),
    "issuetype": Field(lambda i: i.type.name, _bind_names(lambda i: (i.type.name, i.type.id))),
    "type": Field(lambda i: i.type.name, _bind_names(lambda i: (i.type.name, i.type.id))),
    "labels": Field(lambda i: i.labels, _bind_names(lambda i: i.labels)),
    "assignee": Field(
        lambda i: i.assignee,
        _bind_names(lambda i: (i.assignee.account_id, i.assignee.name) if i.assignee else ()),
    ),
    "parent": Field(lambda i: i.parent_id, _bind_parent),
}
