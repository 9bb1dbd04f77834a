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
from typing import Any

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_NO_TEXT = frozenset({"datetime", "date", "float", "int", "bool", "ItemKind", "StatusCategory"})
"""Field types that never hold tracker text: skipped when looking for text to clean."""
_FIELDS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


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
    for name in _names(record):
        value = getattr(record, name)
        cleaned = _clean_value(value)
        if cleaned is not value:
            changes[name] = cleaned
    return changes


def _names(record: Any) -> tuple[str, ...]:
    return _getter(record)[0]


def _getter(record: Any) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    """The record's fields that may hold text, and one call fetching them all."""
    kind = type(record)
    found = _FIELDS.get(kind)
    if found is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(record)
            if str(f.type).removesuffix(" | None") not in _NO_TEXT
        )
        fetch = operator.attrgetter(*names) if len(names) > 1 else _one(names)
        found = _FIELDS[kind] = (names, fetch)
    return found


def _one(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    return lambda record: tuple(getattr(record, name) for name in names)


def _strings(value: Any) -> list[str]:
    found: list[str] = []
    _collect(value, found)
    return found


def _collect(value: Any, found: list[str]) -> None:
    # Hot: every record passes here once, so plain loops, one attribute fetch per record.
    for field in _getter(value)[1](value):
        if isinstance(field, str):
            found.append(field)
        elif isinstance(field, tuple):
            for element in field:
                if isinstance(element, str):
                    found.append(element)
                elif isinstance(element, tuple):
                    found.extend(e for e in element if isinstance(e, str))
                elif hasattr(element, "__dataclass_fields__"):
                    _collect(element, found)


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
