"""A short-lived cache of rendered reads, so a crowd looking at one program costs one render.

Statuses change when a sync or a register edit lands, minutes apart, while a program
page can be opened by a whole team at once (the Monday meeting). A rendered page or
status document is kept for ``seconds``. When it is older, the next request rebuilds it
while the others are still served the previous one (they never queue behind a rebuild);
with nothing to serve yet, they wait for the one build instead of each making their own.
An edit through this process clears the cache at once, and a build that began before the
edit is not kept; other replicas see it within ``seconds``. A recomputation, wherever it
ran (this process, the worker, another replica), clears it too: every read first asks the
store for its roll-ups' version (one small query shared by the reads that arrive while it
runs), and a new version empties the cache. Zero turns caching off.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.responses import Response

from app.programs import access

MAX_ENTRIES = 512
BUILD_AFRESH: ContextVar[bool] = ContextVar("throughline_build_afresh", default=False)
"""Set for a request whose answer must reflect the store as it is now (``app.web.readpath``
keeps it for as long as the store does not change): the cache is not asked."""


@dataclass(frozen=True, slots=True)
class Stored:
    expires: float
    body: bytes
    status_code: int
    headers: tuple[tuple[str, str], ...]

    def response(self) -> Response:
        response = Response(self.body, status_code=self.status_code)
        response.headers.update(dict(self.headers))
        return response


class ResponseCache:
    """Responses by key for a few seconds, built once however many ask at the same time."""

    def __init__(
        self,
        seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        version: Callable[[], Awaitable[Hashable]] | None = None,
    ) -> None:
        self.seconds = seconds
        self._clock = clock
        self._version = version
        self._seen: Hashable = None
        self._checking: asyncio.Future[Hashable] | None = None
        self._stored: dict[Hashable, Stored] = {}
        self._building: dict[Hashable, asyncio.Future[Stored]] = {}
        self._generation = 0

    def clear(self) -> None:
        """Forget everything (after an edit): the next read builds afresh."""
        self._stored.clear()
        self._generation += 1

    async def get(self, key: Hashable, build: Callable[[], Awaitable[Response]]) -> Response:
        """The cached response for ``key``, or the one ``build`` makes (only 200s are kept).

        Kept apart per audience: readers who may see other programs never share an answer.
        """
        if self.seconds <= 0 or BUILD_AFRESH.get():
            return await build()
        key = (access.current(), key)
        if self._version is not None:
            await self._follow_version()
        found = self._stored.get(key)
        if found is not None and found.expires > self._clock():
            return found.response()
        pending = self._building.get(key)
        if pending is not None:
            if found is not None:
                return found.response()
            return (await asyncio.shield(pending)).response()
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._building[key] = future
        generation = self._generation
        try:
            response = await build()
            stored = Stored(
                expires=self._clock() + self.seconds,
                body=bytes(response.body),
                status_code=response.status_code,
                headers=tuple(
                    (k, v)
                    for k, v in response.headers.items()
                    if k.lower() not in ("content-length", "set-cookie")
                ),
            )
            if response.status_code == 200 and generation == self._generation:
                self._remember(key, stored)
            future.set_result(stored)
            return response
        except BaseException as exc:
            future.set_exception(exc)
            # Waiters get the error; nobody else awaits it, so it is marked retrieved here.
            future.exception()
            raise
        finally:
            del self._building[key]

    async def _follow_version(self) -> None:
        """Clear when the store's version moved; reads arriving together share one look."""
        assert self._version is not None
        checking = self._checking
        if checking is None:
            checking = self._checking = asyncio.ensure_future(self._version())
            checking.add_done_callback(self._checked)
        current = await asyncio.shield(checking)
        if current != self._seen:
            self._seen = current
            self.clear()

    def _checked(self, done: asyncio.Future[Hashable]) -> None:
        if self._checking is done:
            self._checking = None

    def _remember(self, key: Hashable, stored: Stored) -> None:
        if len(self._stored) >= MAX_ENTRIES:
            now = self._clock()
            for old in [k for k, v in self._stored.items() if v.expires <= now]:
                del self._stored[old]
            if len(self._stored) >= MAX_ENTRIES:
                self._stored.pop(next(iter(self._stored)))
        self._stored[key] = stored
