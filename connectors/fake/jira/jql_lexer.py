"""JQL's lexical rules as the fake applies them: quoting, escapes and reserved words."""

from __future__ import annotations

import re
from dataclasses import dataclass

_RESERVED_WORDS = """
a an and are as at be but by do for if
in into is it no not of on or s such t
that the their then there these they this to was will with
abort access add after alias all alter asc begin between boolean break
by cascade cast catch char character check checkpoint close commit continue count
create current date decimal declare default delete desc distinct div do double
drop else empty end escape exclusive exec execute exists explain false fetch
file first float for from function go goto grant greater group having
identified if immediate in increment index initial inner inout input insert int
integer intersect intersection into is isempty isnull join last left less like
limit lock long max min minus mode modify modulo more multiply next
noaudit not notin nowait null number object of on option or order
outer output power previous prior privileges public raise raw remainder rename resource
return returns revoke right row rowid rownum rows select session set share
size sqrt start strict string subtract sum synonym table then to trans
transaction trigger true uid union unique update user validate values view when
whenever where while with
"""
RESERVED = frozenset(_RESERVED_WORDS.split())
"""Words JQL refuses as unquoted values (``INT`` and ``DO`` are project keys on real sites)."""
_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|>=|<=|!~|[=<>~(),])"""
    r"""|(?P<word>[^\s"'=!<>~(),]+))"""
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", " ": " ", '"': '"', "'": "'", "\\": "\\"}


class JqlError(ValueError):
    """The query is not valid JQL (Jira answers 400 with this message)."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    value: str


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
