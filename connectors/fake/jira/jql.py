"""The fake's JQL: the subset a sync and a standard client use, with Jira's quoting rules.

Supported: ``project``, ``key``/``issuekey``, ``id``, ``updated``, ``created``,
``resolved``, ``status``, ``statusCategory``, ``issuetype``, ``parent``, ``labels``,
``assignee``; operators ``= != < <= > >= IN, NOT IN, IS [NOT] EMPTY``; ``AND``, ``OR``,
``NOT`` and parentheses; ``ORDER BY`` up to seven fields. Dates may be quoted literals read
in the searching user's time zone (minute precision), relative offsets (``-5d``) or
unquoted epoch milliseconds, as on a real site. Unquoted reserved words are refused, so
a client that forgets to quote ``INT`` fails here as it would on Jira.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from connectors.fake.jira.jql_fields import FIELDS, Bound, Predicate
from connectors.fake.jira.jql_lexer import RESERVED, JqlError, Token, tokenize
from connectors.fake.jira.model import Issue, JiraData

__all__ = ["JqlError", "Query", "parse", "tokenize"]

_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_RELATIVE = re.compile(r"^([-+]?)(\d+)([wdhm])$")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
_ORDERABLE = ("id", "key", "issuekey", "updated", "created")


@dataclass(frozen=True, slots=True)
class Query:
    predicate: Predicate
    projects: frozenset[str] | None
    """Projects every match must be in, when the query says so: lets the search use an index."""
    order: tuple[tuple[str, bool], ...]
    bounded: bool

    def sort_key(self, data: JiraData) -> Callable[[Issue], tuple[int, ...]]:
        """Integers that sort by the ORDER BY fields, then by id, so paging is total.

        All integers, so a page token can carry the last key and DESC is a negation.
        """
        ranks = {key: n for n, key in enumerate(sorted(data.projects))}
        getters = [(_sort_value(name, ranks), -1 if desc else 1) for name, desc in self.order]

        def key(issue: Issue) -> tuple[int, ...]:
            return (*(sign * get(issue) for get, sign in getters), issue.id)

        return key


def _sort_value(name: str, ranks: dict[str, int]) -> Callable[[Issue], int]:
    if name in ("key", "issuekey"):
        return lambda i: ranks[i.project.key] * 10**9 + int(i.key.rsplit("-", 1)[1])
    if name in ("updated", "created"):
        return lambda i: int(getattr(i, name).timestamp() * 1_000_000)
    return lambda i: i.id


def parse(text: str, *, data: JiraData, zone: ZoneInfo, now: datetime) -> Query:
    """Parse and bind a query to the site (unknown projects and keys are errors, as on Jira)."""
    return _Parser(tokenize(text), data, zone, now).query()


class _Parser:
    def __init__(self, tokens: list[Token], data: JiraData, zone: ZoneInfo, now: datetime) -> None:
        self.tokens, self.pos = tokens, 0
        self.data, self.zone, self.now = data, zone, now

    def peek(self, offset: int = 0) -> Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        """Consume the keywords if they come next (case-insensitive, unquoted)."""
        for offset, word in enumerate(words):
            token = self.peek(offset)
            if token is None or token.kind != "word" or token.value.casefold() != word:
                return False
        self.pos += len(words)
        return True

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise JqlError("Error in the JQL Query: the query ended unexpectedly.")
        self.pos += 1
        return token

    def expect(self, op: str) -> None:
        token = self.take()
        if token.kind != "op" or token.value != op:
            raise JqlError(f"Error in the JQL Query: expecting '{op}' but got '{token.text}'.")

    def query(self) -> Query:
        predicate: Predicate = lambda _issue: True  # noqa: E731
        projects: frozenset[str] | None = None
        bounded = False
        if self.peek() is not None and not self._at_order_by():
            predicate, projects = self.disjunction()
            bounded = True
        order: list[tuple[str, bool]] = []
        if self.keyword("order", "by"):
            while True:
                name = self.take().value.casefold()
                if name not in _ORDERABLE:
                    raise JqlError(
                        f"Field '{name}' does not exist or you do not have permission to view it."
                    )
                descending = self.keyword("desc")
                if not descending:
                    self.keyword("asc")
                order.append((name, descending))
                if self.peek() is None or self.peek() != Token("op", ",", ","):
                    break
                self.take()
            if len(order) > 7:
                raise JqlError("The ORDER BY clause may contain at most 7 fields.")
        if self.peek() is not None:
            raise JqlError(f"Error in the JQL Query: unexpected '{self.take().text}'.")
        return Query(predicate, projects, tuple(order) or (("id", True),), bounded)

    def _at_order_by(self) -> bool:
        first, second = self.peek(), self.peek(1)
        return bool(
            first
            and second
            and first.value.casefold() == "order"
            and second.value.casefold() == "by"
        )

    def disjunction(self) -> Bound:
        parts = [self.conjunction()]
        while self.keyword("or"):
            parts.append(self.conjunction())
        if len(parts) == 1:
            return parts[0]
        predicates = [p for p, _ in parts]
        scopes = [s for _, s in parts]
        union = None if any(s is None for s in scopes) else frozenset().union(*scopes)  # type: ignore[arg-type]
        return (lambda issue: any(p(issue) for p in predicates)), union

    def conjunction(self) -> Bound:
        parts = [self.unary()]
        while self.keyword("and"):
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        predicates = [p for p, _ in parts]
        scopes = [s for _, s in parts if s is not None]
        narrowed = frozenset.intersection(*scopes) if scopes else None
        return (lambda issue: all(p(issue) for p in predicates)), narrowed

    def unary(self) -> Bound:
        if self.keyword("not"):
            inner, _ = self.unary()
            return (lambda issue: not inner(issue)), None
        if self.peek() == Token("op", "(", "("):
            self.take()
            result = self.disjunction()
            self.expect(")")
            return result
        return self.clause()

    def clause(self) -> Bound:
        field = self.take()
        name = field.value.casefold()
        if name not in FIELDS:
            raise JqlError(
                f"Field '{field.value}' does not exist or you do not have permission to view it."
            )
        if self.keyword("is", "not", "empty") or self.keyword("is", "not", "null"):
            get = FIELDS[name].getter
            return (lambda issue: bool(get(issue))), None
        if self.keyword("is", "empty") or self.keyword("is", "null"):
            get = FIELDS[name].getter
            return (lambda issue: not get(issue)), None
        negate = self.keyword("not", "in")
        if negate or self.keyword("in"):
            values = self.value_list()
            op = "not in" if negate else "in"
        else:
            token = self.take()
            if token.kind != "op" or token.value in "(),":
                raise JqlError(
                    f"Error in the JQL Query: expecting an operator but got '{token.text}'."
                )
            op = token.value
            values = [self.value()]
        return FIELDS[name].bind(self, name, op, values)

    def value_list(self) -> list[Token]:
        self.expect("(")
        values = [self.value()]
        while self.peek() == Token("op", ",", ","):
            self.take()
            values.append(self.value())
        self.expect(")")
        return values

    def value(self) -> Token:
        token = self.take()
        if token.kind == "op":
            raise JqlError(f"Error in the JQL Query: expecting a value but got '{token.text}'.")
        if token.kind == "word" and token.value.casefold() in RESERVED:
            raise JqlError(
                f"Error in the JQL Query: '{token.value}' is a reserved JQL word. You must "
                "surround it in quotation marks to use it in a query."
            )
        return token

    def instant(self, token: Token) -> datetime:
        """A date: epoch millis (unquoted digits), relative, or a literal in the user's zone."""
        if token.kind == "word" and token.value.isdigit():
            return datetime.fromtimestamp(int(token.value) / 1000, UTC)
        relative = _RELATIVE.match(token.value)
        if relative:
            sign, amount, unit = relative.groups()
            delta = timedelta(**{_UNITS[unit]: int(amount)})
            return self.now - delta if sign == "-" else self.now + delta
        for fmt in _DATE_FORMATS:
            try:
                local = datetime.strptime(token.value, fmt)  # noqa: DTZ007 (zone added next)
            except ValueError:
                continue
            return local.replace(tzinfo=self.zone).astimezone(UTC)
        raise JqlError(
            f"Date value '{token.value}' for field is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
            "or a period format e.g. '-5d', '4w 2d'."
        )
