"""A program's status and pages answered without building them again when nothing changed.

A crowd reading one program (the Monday meeting, a wall screen, a script polling the API)
asks for the same answer over and over, while what it is made of changes when a sync, a
recomputation or an edit lands. This middleware, outside the routing stack, answers

- ``GET /api/programs/{key}``: the stored status serialised once per stored document
  (``app.programs.lookup``), with today's figures (open risks, the sources' freshness, when
  it was computed) added for each request;
- ``GET /programs/{key}`` and its ``/resources``, ``/dependencies`` and ``/roadmap`` pages:
  the page as the app last built it for the same reader, address and *stamp*.

The stamp is what every one of these answers is made of besides the stored documents,
read from the store once for every program: each program's stored revision, digests and
computation time, the portfolio's, the risks, the team updates and projects, the sources'
last syncs, and — for the pages — what they show of the clock (each source's "synced … ago",
the day in each program's zone). It is read for every request: requests arriving while
one read is on its way wait for the next one, which starts after they arrived, so an
answer never predates its request (on SQLite, while no connection committed anything since
the last read began, that read is still current: see ``Looks``). A stamp that moved makes
the next request build the page afresh through the app, never from the app's own response
cache (``server.cache_seconds``), and the requests for the same page and stamp that arrive
meanwhile share that build. Nothing here expires by time and nothing is served stale. An
item edited by a webhook shows on the pages with the recomputation that follows it, as in
the figures.

Everything else passes through untouched: other methods and addresses, a request whose
reader is not authenticated as a viewer (the app answers 401, 403 or the sign-in page, and
is not asked to authenticate twice), a reader for whom some program is restricted (their
answers are redacted per request by ``app.web.redact``), an address with ``%00``. An
answer that sets a cookie or is not a 200 is never kept. The headers are those the app
gave (its security headers among them); ``X-Request-ID`` and the host check stay outside.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import zoneinfo
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.programs import access, documents, lookup, risks
from app.render.templates import ago
from app.runtime.state import AppState
from app.store.tables import (
    PortfolioDocumentRow,
    ProgramStatusRow,
    ProjectRow,
    ProjectStatusRow,
    RiskEventRow,
    RiskRow,
)
from app.web import cache, deps, security
from app.web.auth import Principal, Role

log = logging.getLogger(__name__)

PAGES = ("resources", "dependencies", "roadmap")
MAX_ANSWERS = 256
"""Pages kept, the least recently asked for forgotten first."""
MAX_BYTES = 128 * 1024 * 1024
"""And at most this many bytes of them."""
_KEPT_HEADERS_SKIPPED = (b"content-length", b"set-cookie", b"x-request-id")

_COMPUTED = select(ProgramStatusRow.program_id, ProgramStatusRow.computed_at)
"""When each program was last recomputed: changes with every recomputation that stores
anything. Cheap where the documents are stored in line (SQLite): the columns come before
them in the row."""
_DIGESTS = select(
    ProgramStatusRow.program_id,
    ProgramStatusRow.computed_at,
    ProgramStatusRow.revision,
    ProgramStatusRow.digests,
)
"""The same with the documents' digests: read again only when a computation moved."""
_VERSIONS = select(
    select(func.max(PortfolioDocumentRow.computed_at)).scalar_subquery(),
    select(func.count(RiskRow.id)).scalar_subquery(),
    select(func.max(RiskRow.id)).scalar_subquery(),
    select(func.max(RiskRow.updated_at)).scalar_subquery(),
    select(func.max(RiskEventRow.id)).scalar_subquery(),
    select(func.count(ProjectStatusRow.id)).scalar_subquery(),
    select(func.max(ProjectStatusRow.id)).scalar_subquery(),
    select(func.max(ProjectStatusRow.synced_at)).scalar_subquery(),
    select(func.count(ProjectRow.id)).scalar_subquery(),
    select(func.max(ProjectRow.updated_at)).scalar_subquery(),
)
"""What the pages read besides the programs' stored rows: the portfolio's documents, the
risks (their counts and top ones), the team updates and the projects' names."""

Stored = dict[int, tuple[datetime, int, dict[str, str] | None]]
"""Per program row id: when it was computed, its revision, its documents' digests."""


@dataclass(frozen=True, slots=True)
class Stamp:
    """The store as the answers see it, read for every program at once."""

    stored: Stored
    synced: lookup.Synced
    risk_counts: dict[int, documents.RiskCounts]
    of_store: Hashable
    """All of it, compared equal to tell whether anything a page shows changed."""


async def read_stamp(state: AppState, before: Stored | None = None) -> Stamp:
    """One look at the store for every program (four small queries on one connection;
    a fifth for the digests when a program was recomputed since ``before``)."""
    config = state.config
    names = sorted({m.source for p in config.programs for o in p.outcomes for m in o.match})
    async with state.read_sessionmaker() as session:
        connection = await session.connection()
        computed = dict((await connection.execute(_COMPUTED)).all())
        if before is not None and {k: v[0] for k, v in before.items()} == computed:
            stored = before
        else:
            stored = {
                pid: (at, revision, digests)
                for pid, at, revision, digests in await connection.execute(_DIGESTS)
            }
        versions = tuple((await connection.execute(_VERSIONS)).one())
        synced = await lookup.synced(session, names)
        counts = await risks.count_open(session, stored)
        await session.rollback()
    of_store = (
        tuple(sorted((pid, at, revision) for pid, (at, revision, _) in stored.items())),
        versions,
        synced,
        tuple((pid, tuple(c.model_dump().values())) for pid, c in sorted(counts.items())),
    )
    return Stamp(stored, synced, counts, of_store)


class Looks:
    """Reads of the stamp shared by the requests that wait for it, each read starting after
    every request it answers arrived.

    On SQLite a request first asks ``PRAGMA data_version`` of a connection kept for it (a
    few microseconds, in the event loop): while no connection committed anything since the
    last read began, that read is still the store as it is, and serves at once.
    """

    def __init__(self, state: AppState) -> None:
        self._state = state
        self._running: asyncio.Future[Stamp] | None = None
        self._next: asyncio.Future[Stamp] | None = None
        self._last: Stamp | None = None
        self._last_version: int | None = None
        self._probe = _sqlite_probe(state.settings.database_url)
        self.zones = tuple(
            zoneinfo.ZoneInfo(z) for z in sorted({p.timezone for p in state.config.programs})
        )
        """The programs' time zones, for the day each page shows."""

    async def current(self) -> Stamp:
        version = self._last_version
        if self._last is not None and version is not None and self._data_version() == version:
            return self._last
        if self._running is None:
            return await asyncio.shield(self._start())
        # The read on its way may have begun before this request arrived: wait for the next.
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        return await asyncio.shield(self._next)

    def _data_version(self) -> int | None:
        """SQLite's count of commits by other connections, as this one saw them."""
        if self._probe is None:
            return None
        try:
            return int(self._probe.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return None

    async def _read(self) -> Stamp:
        version = self._data_version()
        before = self._last.stored if self._last is not None else None
        stamp = await read_stamp(self._state, before)
        self._last, self._last_version = stamp, version
        return stamp

    def _start(self) -> asyncio.Future[Stamp]:
        running = self._running = asyncio.ensure_future(self._read())
        running.add_done_callback(self._done)
        return running

    def _done(self, done: asyncio.Future[Stamp]) -> None:
        if self._running is done:
            self._running = None
        if not done.cancelled():
            done.exception()  # retrieved: its waiters have it, or are gone
        waiting, self._next = self._next, None
        if waiting is None:
            return
        following = self._start()

        def relay(read: asyncio.Future[Stamp]) -> None:
            if waiting.done():
                return
            if read.cancelled():
                waiting.cancel()
            elif (failed := read.exception()) is not None:
                waiting.set_exception(failed)
                waiting.exception()  # retrieved here: the waiters may all be gone
            else:
                waiting.set_result(read.result())

        following.add_done_callback(relay)

    def close(self) -> None:
        if self._probe is not None:
            self._probe.close()


def _sqlite_probe(url: str) -> sqlite3.Connection | None:
    """A read-only connection to a SQLite database file, for ``PRAGMA data_version``."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    if not path.exists():
        return None
    try:
        probe = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.1, check_same_thread=False
        )
        probe.execute("PRAGMA data_version").fetchone()
    except sqlite3.Error:
        return None
    return probe


@dataclass(frozen=True, slots=True)
class Kept:
    stamp: Hashable
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


class ReadFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._kept: OrderedDict[Hashable, Kept] = OrderedDict()
        self._bytes = 0
        self._building: dict[tuple[Hashable, Hashable], asyncio.Future[Kept | None]] = {}
        self._looks: Looks | None = None
        self._today: dict[int, _Today] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _route(scope)
        state: AppState | None = (
            getattr(scope["app"].state, "throughline", None) if route is not None else None
        )
        if (
            route is None
            or state is None
            or not state.settings.server.reuse_answers
            or b"%00" in (scope.get("raw_path") or b"")
            or b"%00" in scope.get("query_string", b"")
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope.setdefault("state", {})
        principal = await _viewer(Request(scope, receive))
        if principal is None or principal.role < Role.VIEWER:
            await self.app(scope, receive, send)
            return
        if access.hidden_keys(state.config):
            await self.app(scope, receive, send)
            return
        if self._looks is None:
            self._looks = Looks(state)
        try:
            stamp = await self._looks.current()
        except Exception:
            log.exception("the store's stamp could not be read; the app answers")
            await self.app(scope, receive, send)
            return
        now = datetime.now(UTC)
        template, key = route
        if template == "/api/programs/{key}":
            parts = _status_json(state, key, stamp, now, self._today)
            if parts is None:
                await self.app(scope, receive, send)
                return
            await _answer(send, 200, _JSON_HEADERS, *parts)
        else:
            open_access = not deps.tokens_of(Request(scope)).enabled
            asked = (scope["path"], scope.get("query_string", b""), principal, open_access)
            wanted = (stamp.of_store, _clock(self._looks.zones, stamp, now))
            kept = self._kept.get(asked)
            if kept is None or kept.stamp != wanted:
                building = self._building.get((asked, wanted))
                if building is None:
                    await self._build(scope, receive, send, asked, wanted)
                    return  # the app timed it
                # The same page for the same stamp is being built: one build serves all.
                kept = await asyncio.shield(building)
                if kept is None:
                    await self.app(scope, receive, send)
                    return
            if asked in self._kept:
                self._kept.move_to_end(asked)
            await _answer(send, kept.status, kept.headers, kept.body)
        state.metrics.http_request_seconds.labels("GET", template, "200").observe(
            time.perf_counter() - started
        )

    async def _build(
        self, scope: Scope, receive: Receive, send: Send, asked: Hashable, stamp: Hashable
    ) -> None:
        """The app's answer, sent on and kept when it is a whole 200 without cookies; the
        requests for the same page and stamp that arrive meanwhile wait for it."""
        building: asyncio.Future[Kept | None] = asyncio.get_running_loop().create_future()
        self._building[asked, stamp] = building
        kept: Kept | None = None
        try:
            kept = await self._built(scope, receive, send, asked, stamp)
        finally:
            del self._building[asked, stamp]
            building.set_result(kept)

    async def _built(
        self, scope: Scope, receive: Receive, send: Send, asked: Hashable, stamp: Hashable
    ) -> Kept | None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(bytes(message.get("body", b"")))
            await send(message)

        # Built from the store as it is now, not from the app's cache (older than the stamp).
        afresh = cache.BUILD_AFRESH.set(True)
        try:
            await self.app(scope, receive, keep)
        finally:
            cache.BUILD_AFRESH.reset(afresh)
        if start is None or start["status"] != 200:
            return None
        headers = [(bytes(k).lower(), bytes(v)) for k, v in start.get("headers", [])]
        if any(k == b"set-cookie" for k, _ in headers):
            return None
        kept = Kept(
            stamp,
            200,
            tuple((k, v) for k, v in headers if k not in _KEPT_HEADERS_SKIPPED),
            b"".join(chunks),
        )
        self._remember(asked, kept)
        return kept

    def _remember(self, asked: Hashable, kept: Kept) -> None:
        old = self._kept.pop(asked, None)
        if old is not None:
            self._bytes -= len(old.body)
        self._kept[asked] = kept
        self._bytes += len(kept.body)
        while self._kept and (len(self._kept) > MAX_ANSWERS or self._bytes > MAX_BYTES):
            _, gone = self._kept.popitem(last=False)
            self._bytes -= len(gone.body)


_JSON_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-type", b"application/json"),
    # What app.web.security adds to every answer of the app.
    (b"content-security-policy", security.policy_for("/api/programs/").encode()),
    *((name.lower().encode(), value.encode()) for name, value in security.HEADERS.items()),
)


def _route(scope: Scope) -> tuple[str, str] | None:
    """The route template and program key of a GET this path answers, else None."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    parts = scope["path"].split("/")
    if len(parts) == 4 and parts[1] == "api" and parts[2] == "programs" and parts[3]:
        return "/api/programs/{key}", parts[3]
    if len(parts) == 3 and parts[1] == "programs" and parts[2]:
        return "/programs/{key}", parts[2]
    if len(parts) == 4 and parts[1] == "programs" and parts[2] and parts[3] in PAGES:
        return f"/programs/{{key}}/{parts[3]}", parts[2]
    return None


async def _viewer(request: Request) -> Principal | None:
    """Who asks, authenticated as the app would (the app reuses the answer); None when
    that failed in any way (the app answers it)."""
    try:
        return await deps.authenticate(request)
    except Exception:
        return None


def _status_json(
    state: AppState, key: str, stamp: Stamp, now: datetime, kept: dict[int, _Today]
) -> tuple[bytes, bytes] | None:
    """``lookup.read_status_json``'s answer, in two parts, from what the app kept of the
    stored document for the stamp's digest; None when it kept nothing yet (the app answers,
    and keeps it). Today's figures are serialised again only when they differ: another
    stamp, or a source's age moved by a tenth of a second."""
    program = state.config.program(key)
    program_id = state.reads.program_ids.get(key)
    if program is None or program_id is None or not access.can_see(program):
        return None
    stored = stamp.stored.get(program_id)
    if stored is None:
        return None
    computed_at, _, digests = stored
    digest = (digests or {}).get("status")
    head: bytes | None = state.reads.find(program_id, "status.json", digest)
    document: documents.ProgramStatus | None = state.reads.find(program_id, "status", digest)
    if head is None or document is None:
        return None
    # As lookup.freshness_of words them.
    ages = tuple(
        None if at is None else round((now - at).total_seconds(), 1) for _, at, _ in stamp.synced
    )
    today = kept.get(program_id)
    if today is None or today.stamp is not stamp or today.digest != digest or today.ages != ages:
        zone = zoneinfo.ZoneInfo(program.timezone)
        freshness = document.freshness.model_copy(
            update={
                "computed_at": computed_at.astimezone(zone),
                "sources": lookup.freshness_of(stamp.synced, [program], now=now)[key],
            }
        )
        tail = lookup.today_tail(stamp.risk_counts[program_id], freshness)
        # The document without its closing brace, copied once per stored document.
        cut = today.head if today is not None and today.digest == digest else head[:-1]
        today = kept[program_id] = _Today(stamp, digest, ages, cut, tail)
    return today.head, today.tail


@dataclass(frozen=True, slots=True)
class _Today:
    stamp: Stamp
    digest: str | None
    ages: tuple[float | None, ...]
    head: bytes
    tail: bytes


def _clock(zones: Iterable[tzinfo], stamp: Stamp, now: datetime) -> Hashable:
    """What the pages show of the clock: how long ago each source synced (as the pages word
    it, and whether that is over a day) and the day in each program's zone."""
    ages = tuple(
        (name, None if at is None else ago((now - at).total_seconds()), _over_a_day(now, at))
        for name, at, _ in stamp.synced
    )
    days: set[date] = {now.astimezone(zone).date() for zone in zones}
    return ages, tuple(sorted(days))


def _over_a_day(now: datetime, at: datetime | None) -> bool:
    return at is None or (now - at).total_seconds() > 86400


async def _answer(
    send: Send, status: int, headers: tuple[tuple[bytes, bytes], ...], *body: bytes
) -> None:
    """Headers, then the body's parts as they are (not joined: a kept document is not copied)."""
    length = sum(len(part) for part in body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(length).encode())],
        }
    )
    for i, part in enumerate(body, 1):
        await send({"type": "http.response.body", "body": part, "more_body": i < len(body)})
