"""Which items stand behind a program's figures: written by a recomputation, read by lists.

A status document names at most a hundred items per figure; ``program_item`` keeps all of
them (every unit of work of each outcome, every item a data-quality check flagged), so a
page can link any count to the list of items behind it. A recomputation writes only the
difference from what is stored: from one sync to the next, few memberships change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.tables import ProgramItemRow
from rollup.status import ProgramRollup

OUTCOME, CHECK = "outcome", "check"
_BATCH = 500

Row = tuple[str, str, int, str]
"""(facet, name, source id, key)"""


def rows_of(rollup: ProgramRollup, source_ids: Mapping[str, int]) -> set[Row]:
    """The memberships a roll-up implies; items of sources without a row are left out."""
    found: set[Row] = set()
    for outcome in rollup.outcomes:
        name = outcome.outcome.key
        for source, key in rollup.assignment.units.get(name, ()):
            if source in source_ids:
                found.add((OUTCOME, name, source_ids[source], key))
    for check in rollup.quality.checks:
        for source, key in check.items:
            if source in source_ids:
                found.add((CHECK, check.name, source_ids[source], key))
    return found


def _chunks(rows: list[Row]) -> Iterator[list[Row]]:
    for start in range(0, len(rows), _BATCH):
        yield rows[start : start + _BATCH]


async def save(session: AsyncSession, program_id: int, wanted: set[Row]) -> tuple[int, int]:
    """Make the program's stored memberships exactly ``wanted``; returns (added, removed)."""
    stored = {
        (facet, name, source_id, key): row_id
        for row_id, facet, name, source_id, key in await session.execute(
            select(
                ProgramItemRow.id,
                ProgramItemRow.facet,
                ProgramItemRow.name,
                ProgramItemRow.source_id,
                ProgramItemRow.key,
            ).where(ProgramItemRow.program_id == program_id)
        )
    }
    gone = [row_id for row, row_id in stored.items() if row not in wanted]
    for start in range(0, len(gone), _BATCH):
        await session.execute(
            delete(ProgramItemRow).where(ProgramItemRow.id.in_(gone[start : start + _BATCH]))
        )
    new = sorted(wanted - stored.keys())
    for chunk in _chunks(new):
        await session.execute(
            insert(ProgramItemRow),
            [
                {"program_id": program_id, "facet": f, "name": n, "source_id": s, "key": k}
                for f, n, s, k in chunk
            ],
        )
    return len(new), len(gone)
