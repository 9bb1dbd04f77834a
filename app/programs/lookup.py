"""Reading programs' roll-ups: lookups of what the last recomputation stored.

Nothing here recomputes. Risk counts and the freshness of each source change between
recomputations, so they are read alongside the stored document; everything else is the
document as stored.
"""

from __future__ import annotations

import zoneinfo
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

import orjson
from pydantic import BaseModel
from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ProgramConfig, ThroughlineConfig
from app.programs import access, documents, risks
from app.store.tables import (
    OutcomeStatusRow,
    PortfolioDocumentRow,
    ProgramRow,
    ProgramStatusRow,
    SourceRow,
    SyncRunRow,
)
from vocabulary import RunStatus

NOT_COMPUTED = documents.Reason(
    rule="not_computed",
    detail="No roll-up has been computed yet; one runs after every sync.",
)


class NotFound(LookupError):
    """What was asked for does not exist; the message says what, in plain words."""


@dataclass(frozen=True, slots=True)
class ConfiguredProgram:
    id: int
    config: ProgramConfig

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.config.timezone)


class StoredReads:
    """What a serving process keeps between reads, so that a read costs what changed.

    The row ids of configured programs (a program's row is made when the configuration is
    applied and never changes id), and stored documents as parsed or serialised, each
    under the digest the recomputation stored beside it: a document that changed has a
    new digest, so nothing kept here is ever served stale. Drawings are kept under the
    whole of what they are drawn from, compared equal, for the same reason.
    """

    def __init__(self, entries: int = 64) -> None:
        self.entries = entries
        self.program_ids: dict[str, int] = {}
        self._kept: OrderedDict[tuple[int, str, Hashable], Any] = OrderedDict()

    def find(self, program_id: int, name: str, digest: Hashable | None) -> Any:
        if digest is None:
            return None
        found = self._kept.get((program_id, name, digest))
        if found is not None:
            self._kept.move_to_end((program_id, name, digest))
        return found

    def keep(self, program_id: int, name: str, digest: Hashable | None, value: Any) -> None:
        if digest is None:
            return
        self._kept[(program_id, name, digest)] = value
        while len(self._kept) > self.entries:
            self._kept.popitem(last=False)


async def get_program(
    session: AsyncSession, config: ThroughlineConfig, key: str, reads: StoredReads | None = None
) -> ConfiguredProgram:
    """A configured program and its row id, or ``NotFound`` (also for a program the
    current reader may not see: to them it does not exist)."""
    program_config = config.program(key)
    if program_config is None or not access.can_see(program_config):
        raise NotFound(f"There is no program {key!r}.")
    program_id = reads.program_ids.get(key) if reads is not None else None
    if program_id is None:
        program_id = await session.scalar(
            select(ProgramRow.id).where(ProgramRow.key == key, ProgramRow.active.is_(True))
        )
        if program_id is None:
            raise NotFound(f"There is no program {key!r}.")
        if reads is not None:
            reads.program_ids[key] = program_id
    return ConfiguredProgram(program_id, program_config)


_runs = SyncRunRow.__table__.alias("run")
_SYNCED = select(
    SourceRow.name,
    select(func.max(SyncRunRow.finished_at))
    .where(
        SyncRunRow.source_id == SourceRow.id,
        SyncRunRow.status.in_((RunStatus.SUCCEEDED, RunStatus.PARTIAL)),
    )
    .scalar_subquery(),
    select(_runs.c.status)
    .where(_runs.c.source_id == SourceRow.id)
    .order_by(_runs.c.id.desc())
    .limit(1)
    .scalar_subquery(),
).where(SourceRow.name.in_(bindparam("names", expanding=True)))
"""Per source: its last good sync and how its latest run ended. Statements read on every
request are built once, so only their parameters change (no compiling, no ORM)."""
_STATUS_ROW = select(ProgramStatusRow.computed_at, ProgramStatusRow.digests).where(
    ProgramStatusRow.program_id == bindparam("program_id")
)


async def _freshness(
    session: AsyncSession, programs: Sequence[ProgramConfig], *, now: datetime
) -> dict[str, list[documents.SourceFreshness]]:
    """The last good sync of every source each program reads, how old it is, and how the
    latest run (good or not) ended."""
    wanted = sorted({m.source for p in programs for o in p.outcomes for m in o.match})
    return freshness_of(await synced(session, wanted), programs, now=now)


Synced = tuple[tuple[str, datetime | None, str | None], ...]
"""Per source: its name, its last good sync and how its latest run ended."""


async def synced(session: AsyncSession, names: Sequence[str]) -> Synced:
    """The sync state of the sources named (one query, by the sources' indexes)."""
    connection = await session.connection()
    rows = (await connection.execute(_SYNCED, {"names": list(names)})).all()
    return tuple((name, at, status) for name, at, status in rows)


def freshness_of(
    rows: Synced, programs: Sequence[ProgramConfig], *, now: datetime
) -> dict[str, list[documents.SourceFreshness]]:
    """Each program's sources as ``_freshness`` shows them, from ``synced``'s rows."""
    synced_at: dict[str, datetime | None] = {name: at for name, at, _ in rows}
    statuses = {name: status for name, _, status in rows}
    found = {}
    for program in programs:
        zone = zoneinfo.ZoneInfo(program.timezone)
        listed = []
        for name in sorted({m.source for o in program.outcomes for m in o.match}):
            at = synced_at.get(name)
            listed.append(
                documents.SourceFreshness(name=name, last_status=statuses.get(name))
                if at is None
                else documents.SourceFreshness(
                    name=name,
                    last_sync_at=at.astimezone(zone),
                    last_status=statuses.get(name),
                    age_seconds=round((now - at).total_seconds(), 1),
                )
            )
        found[program.key] = listed
    return found


def _placeholder(config: ProgramConfig) -> documents.ProgramStatus:
    """What a program shows before its first recomputation: grey, and why."""
    grey = documents.Rag(color="grey", reasons=[NOT_COMPUTED])
    nothing = documents.Progress(
        done=0, total=0, percent=0, basis=config.progress_basis, unestimated=0
    )
    targets = [o.target for o in config.outcomes if o.target]
    return documents.ProgramStatus(
        key=config.key,
        name=config.name,
        timezone=config.timezone,
        rag=grey,
        progress=nothing,
        target=max(targets, default=None),
        forecast=documents.Forecast(basis="not_computed"),
        risk_counts=documents.RiskCounts(),
        freshness=documents.Freshness(),
        outcomes=[
            documents.OutcomeStatus(
                key=o.key,
                name=o.name,
                target=o.target,
                weight=o.weight,
                rag=grey,
                progress=nothing.model_copy(
                    update={"basis": o.progress_basis or config.progress_basis}
                ),
                forecast=documents.Forecast(basis="not_computed"),
            )
            for o in config.outcomes
        ],
        data_quality=documents.DataQuality(score=None),
    )


async def _summaries(
    session: AsyncSession, config: ThroughlineConfig, *, now: datetime
) -> list[documents.ProgramSummary]:
    """Every active program's summary, read straight from its stored document (the
    outcomes and lists a summary leaves out are never parsed)."""
    rows = dict(
        (
            await session.execute(
                select(ProgramRow.key, ProgramRow.id).where(ProgramRow.active.is_(True))
            )
        ).all()
    )
    programs = [p for p in access.visible(config.programs) if p.key in rows]
    stored = dict(
        (
            await session.execute(
                select(ProgramStatusRow.program_id, ProgramStatusRow.status).where(
                    ProgramStatusRow.program_id.in_(list(rows.values()))
                )
            )
        ).all()
    )
    counts = await risks.count_open(session, rows.values())
    fresh = await _freshness(session, programs, now=now)
    found = []
    for program in programs:
        program_id = rows[program.key]
        document = stored.get(program_id)
        status = documents.load(documents.ProgramSummary, document) or _placeholder(program)
        zone = zoneinfo.ZoneInfo(program.timezone)
        status.risk_counts = counts[program_id]
        status.freshness.sources = fresh[program.key]
        if status.freshness.computed_at is not None:
            status.freshness.computed_at = status.freshness.computed_at.astimezone(zone)
        found.append(status)
    return found


async def list_programs(
    session: AsyncSession, config: ThroughlineConfig, *, now: datetime
) -> documents.ProgramList:
    """Every active program, summarised."""
    return documents.ProgramList(programs=await _summaries(session, config, now=now))


@dataclass(frozen=True, slots=True)
class StoredStatus:
    """A program's stored status document (as stored: without today's figures) and those
    figures: open risks, the sources' freshness, and when it was last computed."""

    program: ConfiguredProgram
    document: documents.ProgramStatus
    digest: str | None
    risk_counts: documents.RiskCounts
    freshness: documents.Freshness

    def today(self) -> documents.ProgramStatus:
        """The status as served: the stored document with today's figures."""
        return self.document.model_copy(
            update={"risk_counts": self.risk_counts, "freshness": self.freshness}
        )


async def read_stored_status(
    session: AsyncSession,
    config: ThroughlineConfig,
    key: str,
    *,
    now: datetime,
    reads: StoredReads | None,
) -> StoredStatus:
    """A program's status document as stored (kept in ``reads`` per digest) and today's
    figures beside it."""
    program = await get_program(session, config, key, reads)
    connection = await session.connection()
    row = (await connection.execute(_STATUS_ROW, {"program_id": program.id})).one_or_none()
    digest = (row.digests or {}).get("status") if row is not None else None
    document = reads.find(program.id, "status", digest) if reads is not None else None
    if document is None:
        stored = await session.scalar(
            select(ProgramStatusRow.status).where(ProgramStatusRow.program_id == program.id)
        )
        document = documents.load(documents.ProgramStatus, stored) or _placeholder(program.config)
        if reads is not None:
            reads.keep(program.id, "status", digest, document)
    computed_at = row.computed_at.astimezone(program.zone) if row is not None else None
    freshness = document.freshness.model_copy(
        update={
            "computed_at": computed_at,
            "sources": (await _freshness(session, [program.config], now=now))[key],
        }
    )
    counts = (await risks.count_open(session, [program.id]))[program.id]
    return StoredStatus(program, document, digest, counts, freshness)


async def read_status(
    session: AsyncSession,
    config: ThroughlineConfig,
    key: str,
    *,
    now: datetime,
    reads: StoredReads | None = None,
) -> documents.ProgramStatus:
    """One program's status as last computed, with today's risk counts and freshness."""
    return (await read_stored_status(session, config, key, now=now, reads=reads)).today()


_TODAY = {"risk_counts", "freshness"}


async def read_status_json(
    session: AsyncSession,
    config: ThroughlineConfig,
    key: str,
    *,
    now: datetime,
    reads: StoredReads,
) -> bytes:
    """``read_status`` as the API's JSON: the stored part is serialised once per stored
    document, and today's figures are added after it."""
    found = await read_stored_status(session, config, key, now=now, reads=reads)
    head: bytes | None = reads.find(found.program.id, "status.json", found.digest)
    if head is None:
        head = orjson.dumps(found.document.model_dump(mode="json", by_alias=True, exclude=_TODAY))
        reads.keep(found.program.id, "status.json", found.digest, head)
    return with_today(head, found.risk_counts, found.freshness)


def with_today(head: bytes, counts: documents.RiskCounts, freshness: documents.Freshness) -> bytes:
    """A stored status as the API's JSON (``head``, without today's figures) with them."""
    return head[:-1] + today_tail(counts, freshness)


def today_tail(counts: documents.RiskCounts, freshness: documents.Freshness) -> bytes:
    """What follows a stored status's JSON without its last byte (``}``): today's figures."""
    today = orjson.dumps(
        {
            "risk_counts": counts.model_dump(mode="json"),
            "freshness": freshness.model_dump(mode="json", by_alias=True),
        }
    )
    return b"," + today[1:]


async def stored_version(session: AsyncSession) -> tuple[Any, ...]:
    """What changes whenever a recomputation stores anything: the programs' revisions and
    the latest computation of a program or of the portfolio."""
    latest_portfolio = select(func.max(PortfolioDocumentRow.computed_at)).scalar_subquery()
    row = (
        await session.execute(
            select(
                func.count(ProgramStatusRow.id),
                func.sum(ProgramStatusRow.revision),
                func.max(ProgramStatusRow.computed_at),
                latest_portfolio,
            )
        )
    ).one()
    return tuple(row)


async def read_outcome(
    session: AsyncSession, config: ThroughlineConfig, key: str, outcome_key: str
) -> documents.OutcomeStatus:
    """One outcome with every contributor behind its figures."""
    program = await get_program(session, config, key)
    outcome = next((o for o in program.config.outcomes if o.key == outcome_key), None)
    if outcome is None:
        raise NotFound(f"Program {key!r} has no outcome {outcome_key!r}.")
    document = await session.scalar(
        select(OutcomeStatusRow.status).where(
            OutcomeStatusRow.program_id == program.id, OutcomeStatusRow.outcome_key == outcome_key
        )
    )
    found = documents.load(documents.OutcomeStatus, document)
    if found is None:
        placeholder = _placeholder(program.config)
        return next(o for o in placeholder.outcomes if o.key == outcome_key)
    return found


async def read_dependencies(
    session: AsyncSession, config: ThroughlineConfig, key: str, reads: StoredReads | None = None
) -> documents.Dependencies:
    """The dependency map as last computed (as kept in ``reads``: never to be changed)."""
    program = await get_program(session, config, key, reads)
    found = await stored_document(
        session, program.id, "dependencies", documents.Dependencies, reads
    )
    return found or documents.Dependencies(nodes=[], edges=[], cycles=[], critical_path=[])


_DIGESTS = select(ProgramStatusRow.digests).where(
    ProgramStatusRow.program_id == bindparam("program_id")
)
D = TypeVar("D", bound=BaseModel)


async def stored_digest(session: AsyncSession, program_id: int, column: str) -> str | None:
    """The digest of a program's stored document (None before its first recomputation)."""
    connection = await session.connection()
    digests = await connection.scalar(_DIGESTS, {"program_id": program_id})
    return (digests or {}).get(column)


async def stored_document(
    session: AsyncSession,
    program_id: int,
    column: Literal["dependencies", "roadmap", "resources"],
    model: type[D],
    reads: StoredReads | None,
) -> D | None:
    """One of a program's stored documents, parsed; with ``reads``, parsed once per digest
    and the same object served to every reader after (who must not change it)."""
    digest = None
    if reads is not None:
        digest = await stored_digest(session, program_id, column)
        kept: D | None = reads.find(program_id, column, digest)
        if kept is not None:
            return kept
    stored = await session.scalar(
        select(getattr(ProgramStatusRow, column)).where(ProgramStatusRow.program_id == program_id)
    )
    found = documents.load(model, stored)
    if reads is not None and found is not None:
        reads.keep(program_id, column, digest, found)
    return found
