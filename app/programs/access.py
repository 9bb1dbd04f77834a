"""Who may see which program: the audience of the request being answered.

A program may name the groups (or token names) that can see it (``visible_to``); to
everyone else it does not exist. The audience is set once per request, when the request
is authenticated (``app.web.deps.authenticate``), and every lookup that reads programs
asks it: ``lookup.get_program`` (so every route under ``/programs/{key}`` answers 404 for
a program its reader may not see), the program list, the item lists, the alerts and the
portfolio documents. Work outside a request (a recomputation, a scheduled report, the
CLI) sees every program.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from app.config import ProgramConfig, ThroughlineConfig


@dataclass(frozen=True, slots=True)
class Audience:
    """Who is reading: their names (their token's or sign-in's name and their groups), or
    ``everything`` for an admin and for work outside a request."""

    names: frozenset[str] = frozenset()
    everything: bool = False

    def can_see(self, program: ProgramConfig) -> bool:
        return (
            self.everything or not program.visible_to or bool(self.names & set(program.visible_to))
        )


EVERYTHING = Audience(everything=True)
PUBLIC = Audience()
"""What a request sees before it is authenticated: only programs open to every viewer."""

_audience: ContextVar[Audience] = ContextVar("throughline_audience", default=EVERYTHING)


def current() -> Audience:
    """The audience of the request being answered (``EVERYTHING`` outside a request)."""
    return _audience.get()


def admit(audience: Audience) -> None:
    """Set the audience for the rest of the current request (its context)."""
    _audience.set(audience)


@contextmanager
def seen_by(audience: Audience) -> Iterator[None]:
    """Answer as ``audience`` within the block (tests, and work done on a reader's behalf)."""
    token = _audience.set(audience)
    try:
        yield
    finally:
        _audience.reset(token)


def can_see(program: ProgramConfig) -> bool:
    return current().can_see(program)


def visible(programs: Iterable[ProgramConfig]) -> list[ProgramConfig]:
    """The programs the current audience may see, in their order."""
    audience = current()
    return [p for p in programs if audience.can_see(p)]


def hidden_keys(config: ThroughlineConfig) -> frozenset[str]:
    """Keys of the configured programs the current audience may not see."""
    audience = current()
    if audience.everything:
        return frozenset()
    return frozenset(p.key for p in config.programs if not audience.can_see(p))
