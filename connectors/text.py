"""Tracker text made storable, once, where records are made.

A tracker's JSON may carry text no database can store: a NUL character (``\\u0000``, which
PostgreSQL refuses in text) or half of a surrogate pair (``\\ud83d`` alone, as Java emits
when it cuts an emoji in two, which is not valid UTF-8 for either database). Both are
replaced by U+FFFD (�), the character Unicode reserves for "something was here that could
not be shown": the rest of the text stays as the tracker wrote it. Records are cleaned when
they are built (``connectors.base``), so pulled and pushed records are cleaned alike and
nothing past the connector boundary ever sees such text.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from typing import Any

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_NO_TEXT = frozenset({"datetime", "date", "float", "int", "bool", "ItemKind", "StatusCategory"})
"""Field types that never hold tracker text: skipped when looking for text to clean."""


def clean(text: str) -> str:
    """``text`` with every NUL and every unpaired surrogate replaced by U+FFFD."""
    if text.isascii():
        return text.replace("\x00", REPLACEMENT) if "\x00" in text else text
    return _UNSTORABLE.sub(REPLACEMENT, text)


def is_clean(text: str) -> bool:
    """Whether ``text`` holds neither a NUL nor an unpaired surrogate."""
    if text.isascii():
        return "\x00" not in text
    return _UNSTORABLE.search(text) is None


def cleaned_fields(record: Any) -> dict[str, Any]:
    """The fields of a dataclass record whose text needs cleaning, cleaned; ``{}`` for a
    clean record (the common case, checked in one pass over its text)."""
    if is_clean("".join(_strings(record))):
        return {}
    changes = {}
    for name in _shape(record).names:
        value = getattr(record, name)
        cleaned = _clean_value(value)
        if cleaned is not value:
            changes[name] = cleaned
    return changes


@dataclass(frozen=True, slots=True)
class _Shape:
    """Where a kind of record keeps text: its string fields, fetched in one call, and its
    tuple fields (of strings, pairs of strings or records), fetched in another (``None``
    when the record has no such field)."""

    names: tuple[str, ...]
    texts: Callable[[Any], tuple[Any, ...]]
    groups: Callable[[Any], tuple[Any, ...]] | None


_SHAPES: dict[type, _Shape] = {}


def _no_fields(record: Any) -> tuple[Any, ...]:
    return ()


def _fetch(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """One C-level call returning the named fields as a tuple, for any number of names."""
    if len(names) > 1:
        return operator.attrgetter(*names)
    if names:
        (name,) = names
        one = operator.attrgetter(name)
        return lambda record: (one(record),)
    return _no_fields


def _shape(record: Any) -> _Shape:
    kind = type(record)
    shape = _SHAPES.get(kind)
    if shape is None:
        kinds = {f.name: str(f.type).removesuffix(" | None") for f in dataclasses.fields(record)}
        texts = tuple(name for name, kind in kinds.items() if kind == "str")
        groups = tuple(
            name for name, kind in kinds.items() if kind != "str" and kind not in _NO_TEXT
        )
        shape = _SHAPES[kind] = _Shape(
            texts + groups, _fetch(texts), _fetch(groups) if groups else None
        )
    return shape


def _strings(record: Any) -> list[str]:
    """Every string a record holds, nested records' included (hot: every record passes
    here once, so one attribute fetch per record and one type check per field group; a
    group of records of one kind without groups of their own is read in C, not per record)."""
    shape = _shape(record)
    found = list(filter(None, shape.texts(record)))
    if shape.groups is None:
        return found
    for group in shape.groups(record):
        if not group or not isinstance(group, tuple):
            continue
        first = group[0]
        if isinstance(first, str):
            found += group
        elif isinstance(first, tuple):
            for pair in group:
                found += [text for text in pair if isinstance(text, str)]
        elif hasattr(first, "__dataclass_fields__"):
            nested = _shape(first)
            if nested.groups is None and len(set(map(type, group))) == 1:
                found += filter(None, chain.from_iterable(map(nested.texts, group)))
            else:
                for each in group:
                    found += _strings(each)
    return found


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, tuple):
        cleaned = tuple(_clean_value(v) for v in value)
        return value if all(a is b for a, b in zip(cleaned, value, strict=True)) else cleaned
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = cleaned_fields(value)
        return dataclasses.replace(value, **changes) if changes else value
    return value
