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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connectors.fake.jira.model import Issue, JiraData

Predicate = Callable[[Issue], bool]

RESERVED = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "do",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "s",
        "such",
        "t",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
        "abort",
        "access",
        "add",
        "after",
        "alias",
        "all",
        "alter",
        "asc",
        "begin",
        "between",
        "boolean",
        "break",
        "by",
        "cascade",
        "cast",
        "catch",
        "char",
        "character",
        "check",
        "checkpoint",
        "close",
        "commit",
        "continue",
        "count",
        "create",
        "current",
        "date",
        "decimal",
        "declare",
        "default",
        "delete",
        "desc",
        "distinct",
        "div",
        "do",
        "double",
        "drop",
        "else",
        "empty",
        "end",
        "escape",
        "exclusive",
        "exec",
        "execute",
        "exists",
        "explain",
        "false",
        "fetch",
        "file",
        "first",
        "float",
        "for",
        "from",
        "function",
        "go",
        "goto",
        "grant",
        "greater",
        "group",
        "having",
        "identified",
        "if",
        "immediate",
        "in",
        "increment",
        "index",
        "initial",
        "inner",
        "inout",
        "input",
        "insert",
        "int",
        "integer",
        "intersect",
        "intersection",
        "into",
        "is",
        "isempty",
        "isnull",
        "join",
        "last",
        "left",
        "less",
        "like",
        "limit",
        "lock",
        "long",
        "max",
        "min",
        "minus",
        "mode",
        "modify",
        "modulo",
        "more",
        "multiply",
        "next",
        "noaudit",
        "not",
        "notin",
        "nowait",
        "null",
        "number",
        "object",
        "of",
        "on",
        "option",
        "or",
        "order",
        "outer",
        "output",
        "power",
        "previous",
        "prior",
        "privileges",
        "public",
        "raise",
        "raw",
        "remainder",
        "rename",
        "resource",
        "return",
        "returns",
        "revoke",
        "right",
        "row",
        "rowid",
        "rownum",
        "rows",
        "select",
        "session",
        "set",
        "share",
        "size",
        "sqrt",
        "start",
        "strict",
        "string",
        "subtract",
        "sum",
        "synonym",
        "table",
        "then",
        "to",
        "trans",
        "transaction",
        "trigger",
        "true",
        "uid",
        "union",
        "unique",
        "update",
        "user",
        "validate",
        "values",
        "view",
        "when",
        "whenever",
        "where",
        "while",
        "with",
    ]
)
_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|>=|<=|!~|[=<>~(),])"""
    r"""|(?P<word>[^\s"'=!<>~(),]+))"""
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", " ": " ", '"': '"', "'": "'", "\\": "\\"}
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_RELATIVE = re.compile(r"^([-+]?)(\d+)([wdhm])$")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
_ORDERABLE = ("id", "key", "issuekey", "updated", "created")


class JqlError(ValueError):
    """The query is not valid JQL (Jira answers 400 with this message)."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    value: str


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


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise JqlError(f"Error in the JQL Query: unexpected character at position {pos}.")
        pos = match.end()
        if match.group("str") is not None:
            tokens.append(Token("str", match.group("str"), _unescape(match.group("str")[1:-1])))
        elif match.group("op") is not None:
            tokens.append(Token("op", match.group("op"), match.group("op")))
        else:
            tokens.append(Token("word", match.group("word"), match.group("word")))
    return tokens


def _unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            raise JqlError(f"Error in the JQL Query: '\\{nxt}' is an illegal JQL escape sequence.")
    return "".join(out)


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

    def disjunction(self) -> tuple[Predicate, frozenset[str] | None]:
        parts = [self.conjunction()]
        while self.keyword("or"):
            parts.append(self.conjunction())
        if len(parts) == 1:
            return parts[0]
        predicates = [p for p, _ in parts]
        scopes = [s for _, s in parts]
        union = None if any(s is None for s in scopes) else frozenset().union(*scopes)  # type: ignore[arg-type]
        return (lambda issue: any(p(issue) for p in predicates)), union

    def conjunction(self) -> tuple[Predicate, frozenset[str] | None]:
        parts = [self.unary()]
        while self.keyword("and"):
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        predicates = [p for p, _ in parts]
        scopes = [s for _, s in parts if s is not None]
        narrowed = frozenset.intersection(*scopes) if scopes else None
        return (lambda issue: all(p(issue) for p in predicates)), narrowed

    def unary(self) -> tuple[Predicate, frozenset[str] | None]:
        if self.keyword("not"):
            inner, _ = self.unary()
            return (lambda issue: not inner(issue)), None
        if self.peek() == Token("op", "(", "("):
            self.take()
            result = self.disjunction()
            self.expect(")")
            return result
        return self.clause()

    def clause(self) -> tuple[Predicate, frozenset[str] | None]:
        field = self.take()
        name = field.value.casefold()
        if name not in _FIELDS:
            raise JqlError(
                f"Field '{field.value}' does not exist or you do not have permission to view it."
            )
        if self.keyword("is", "not", "empty") or self.keyword("is", "not", "null"):
            get = _FIELDS[name].getter
            return (lambda issue: bool(get(issue))), None
        if self.keyword("is", "empty") or self.keyword("is", "null"):
            get = _FIELDS[name].getter
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
        return _FIELDS[name].bind(self, name, op, values)

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


@dataclass(frozen=True, slots=True)
class _Field:
    getter: Callable[[Issue], Any]
    bind: Callable[[_Parser, str, str, list[Token]], tuple[Predicate, frozenset[str] | None]]


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


def _bind_project(
    p: _Parser, _name: str, op: str, values: list[Token]
) -> tuple[Predicate, frozenset[str] | None]:
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


def _bind_key(
    p: _Parser, _name: str, op: str, values: list[Token]
) -> tuple[Predicate, frozenset[str] | None]:
    ids = set()
    for token in values:
        issue = p.data.get(token.value)
        if issue is None:
            raise JqlError(f"An issue with key '{token.value}' does not exist for field 'key'.")
        ids.add(issue.id)
    return _membership(lambda i: i.id, op, frozenset(ids)), None


def _bind_id(
    _p: _Parser, _name: str, op: str, values: list[Token]
) -> tuple[Predicate, frozenset[str] | None]:
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
) -> Callable[[_Parser, str, str, list[Token]], tuple[Predicate, frozenset[str] | None]]:
    def bind(
        p: _Parser, _name: str, op: str, values: list[Token]
    ) -> tuple[Predicate, frozenset[str] | None]:
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
) -> Callable[[_Parser, str, str, list[Token]], tuple[Predicate, frozenset[str] | None]]:
    def bind(
        _p: _Parser, _name: str, op: str, values: list[Token]
    ) -> tuple[Predicate, frozenset[str] | None]:
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


def _bind_parent(
    p: _Parser, _name: str, op: str, values: list[Token]
) -> tuple[Predicate, frozenset[str] | None]:
    resolved = []
    for t in values:
        issue = p.data.get(t.value)
        resolved.append(Token(t.kind, t.text, str(issue.id) if issue else "-"))
    return _bind_names(_parent_refs)(p, "parent", op, resolved)


_FIELDS = {
    "project": _Field(lambda i: i.project.key, _bind_project),
    "key": _Field(lambda i: i.key, _bind_key),
    "issuekey": _Field(lambda i: i.key, _bind_key),
    "id": _Field(lambda i: i.id, _bind_id),
    "updated": _Field(lambda i: i.updated, _bind_date("updated")),
    "created": _Field(lambda i: i.created, _bind_date("created")),
    "resolved": _Field(lambda i: i.resolved, _bind_date("resolved")),
    "status": _Field(lambda i: i.status.name, _bind_names(lambda i: (i.status.name, i.status.id))),
    "statuscategory": _Field(
        lambda i: i.status.category, _bind_names(lambda i: (i.status.category,))
    ),
    "issuetype": _Field(lambda i: i.type.name, _bind_names(lambda i: (i.type.name, i.type.id))),
    "type": _Field(lambda i: i.type.name, _bind_names(lambda i: (i.type.name, i.type.id))),
    "labels": _Field(lambda i: i.labels, _bind_names(lambda i: i.labels)),
    "assignee": _Field(
        lambda i: i.assignee,
        _bind_names(lambda i: (i.assignee.account_id, i.assignee.name) if i.assignee else ()),
    ),
    "parent": _Field(lambda i: i.parent_id, _bind_parent),
}
