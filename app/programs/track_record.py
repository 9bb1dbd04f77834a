"""A program's forecast track record: how often its past P50 and P85 dates were met, and
the Brier score of its chances to be on time, per outcome and for the whole program.

Judged with every recomputation (``rollup.calibration``) and stored in the status
documents; reading it is a lookup.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ThroughlineConfig
from app.programs import documents, lookup


def entry(key: str | None, name: str, found: documents.Calibration) -> documents.CalibrationEntry:
    return documents.CalibrationEntry(
        key=key,
        name=name,
        **found.model_dump(),
        p50_rate=round(found.p50_met / found.judged, 4) if found.judged else None,
        p85_rate=round(found.p85_met / found.judged, 4) if found.judged else None,
    )


async def read_track_record(
    session: AsyncSession, config: ThroughlineConfig, key: str
) -> documents.TrackRecord:
    """The track record as the last recomputation judged it."""
    status = await lookup.read_status(session, config, key, now=datetime.now(UTC))
    judged = status.forecast.calibration
    return documents.TrackRecord(
        key=status.key,
        name=status.name,
        as_of=status.freshness.as_of,
        program=None if judged is None else entry(None, status.name, judged),
        outcomes=[
            entry(o.key, o.name, o.forecast.calibration)
            for o in status.outcomes
            if o.forecast.calibration is not None
        ],
    )
