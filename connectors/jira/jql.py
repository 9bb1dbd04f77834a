"""Building JQL that says exactly what we mean, whatever the values contain.

Every value is quoted and escaped (project keys such as ``INT`` or ``DO`` are reserved
words unquoted, and a key from a configuration file is still untrusted text). Time bounds
are epoch milliseconds: a quoted date is read in the searching user's profile time zone,
which would shift the window by hours on a site whose user is far from UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(value: str) -> str:
    """A JQL string literal holding exactly ``value``: backslash, quote and controls escaped."""
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def epoch_millis(moment: datetime) -> int:
    """An instant as JQL's unquoted epoch-milliseconds literal (no time zone to misread)."""
    if moment.tzinfo is None:
        raise ValueError("a JQL time bound needs a time zone")
    return int(moment.timestamp() * 1000)


def in_projects(keys: Iterable[str]) -> str:
    keys = list(keys)
    if not keys:
        raise ValueError("a query needs at least one project")
    if len(keys) == 1:
        return f"project = {quote(keys[0])}"
    return f"project in ({', '.join(quote(k) for k in keys)})"


def issue_query(
    project: str,
    *,
    updated_from: datetime | None = None,
    after_id: int | None = None,
) -> str:
    """Issues of one project, optionally updated at or after an instant, in ascending id order.

    Ascending id is the order new issues can only append to, so a sweep that is still
    running when issues are created or edited neither skips nor repeats one; ``after_id``
    continues a sweep past a point (keyset paging, immune to offset drift).
    """
    clauses = [in_projects([project])]
    if updated_from is not None:
        clauses.append(f"updated >= {epoch_millis(updated_from)}")
    if after_id is not None:
        clauses.append(f"id > {int(after_id)}")
    return " AND ".join(clauses) + " ORDER BY id ASC"
