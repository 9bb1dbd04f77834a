"""What a day's snapshot keeps so the weekly report of that day can be written later.

The snapshot columns hold the figures (scope, done, colour, forecast dates); this
document adds what the figures leave out and the report shows: the status document with
the colour's reasons, outcomes, milestones and data quality; the late dependencies with
both ends; the open risks, worst first (every open risk's title too, so the risks a week
opened and closed are named as they stood); and the outlook — work finished under each
epic, due soon, blocked, critical and not started. A recomputation rewrites it with the
day's snapshot, so the last one of a day is how the day ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo

from app.programs import documents, risks
from app.store.tables import RiskRow
from rollup import outlook as ahead
from rollup.model import WorkItem

TOP_RISKS = 10


def _risks(open_risks: Sequence[RiskRow], zone: tzinfo) -> documents.RiskTally:
    counts = {"open": len(open_risks), "low": 0, "medium": 0, "high": 0, "critical": 0}
    for risk in open_risks:
        if risk.severity in counts:
            counts[risk.severity] += 1
    return documents.RiskTally(
        counts=counts, top=[risks.to_out(r, zone) for r in open_risks[:TOP_RISKS]]
    )


def _line(
    item: WorkItem,
    outcome: str | None = None,
    *,
    expected: date | None = None,
    critical: bool = False,
) -> documents.WorkLine:
    return documents.WorkLine(
        source=item.source,
        key=item.key,
        title=item.title,
        url=item.url,
        assignee=item.assignee,
        status=item.status,
        status_category=item.status_category,
        due_on=item.due_on,
        expected_on=expected,
        outcome=outcome,
        critical=critical,
    )


def outlook_document(found: ahead.Outlook) -> documents.Outlook:
    """The outlook as the snapshot document keeps it."""
    return documents.Outlook(
        epics=[
            documents.EpicTally(
                outcome=e.outcome,
                epic=_line(e.epic) if e.epic else None,
                noun=e.noun,
                done=e.done,
                left=e.left,
                recent=[documents.Finished(key=ref[1], on=on) for ref, on in e.recent],
            )
            for e in found.epics
        ],
        due=[
            _line(u.item, u.outcome, expected=u.expected_on, critical=u.critical) for u in found.due
        ],
        blocked=[
            documents.Blocked(
                **_line(b.item, b.outcome).model_dump(),
                blockers=[_line(x) for x in b.blockers],
            )
            for b in found.blocked
        ],
        not_started=[
            _line(u.item, u.outcome, expected=u.expected_on, critical=True)
            for u in found.not_started
        ],
    )


def snapshot_document(
    status: documents.ProgramStatus,
    late: documents.LateList,
    open_risks: Sequence[RiskRow],
    zone: tzinfo,
    outlook: documents.Outlook | None = None,
) -> documents.SnapshotDocument:
    """The document a program's snapshot keeps; ``open_risks`` worst first."""
    return documents.SnapshotDocument(
        status=status,
        late_dependencies=late,
        risks=_risks(open_risks, zone),
        outlook=outlook,
        risk_titles={str(r.id): r.title for r in open_risks},
    )
