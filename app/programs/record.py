"""What a day's snapshot keeps so the weekly report of that day can be written later.

The snapshot columns hold the figures (scope, done, colour, forecast dates); this
document adds what the figures leave out and the report shows: the status document with
the colour's reasons, outcomes, milestones and data quality; the late dependencies with
both ends; the open risks, worst first. A recomputation rewrites it with the day's
snapshot, so the last one of a day is how the day ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from app.programs import documents, risks
from app.store.tables import RiskRow

TOP_RISKS = 10


def _risks(open_risks: Sequence[RiskRow], zone: tzinfo) -> documents.RiskTally:
    counts = {"open": len(open_risks), "low": 0, "medium": 0, "high": 0, "critical": 0}
    for risk in open_risks:
        if risk.severity in counts:
            counts[risk.severity] += 1
    return documents.RiskTally(
        counts=counts, top=[risks.to_out(r, zone) for r in open_risks[:TOP_RISKS]]
    )


def snapshot_document(
    status: documents.ProgramStatus,
    late: documents.LateList,
    open_risks: Sequence[RiskRow],
    zone: tzinfo,
) -> documents.SnapshotDocument:
    """The document a program's snapshot keeps; ``open_risks`` worst first."""
    return documents.SnapshotDocument(
        status=status, late_dependencies=late, risks=_risks(open_risks, zone)
    )
