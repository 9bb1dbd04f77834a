"""What a day's snapshot keeps so the weekly report of that day can be written later.

The snapshot columns hold the figures (scope, done, colour, forecast dates); this
document adds what the figures leave out and the report shows: the status document with
the colour's reasons, outcomes, milestones and data quality; the late dependencies with
both ends; the open risks, worst first. A recomputation rewrites it with the day's
snapshot, so the last one of a day is how the day ended.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any

from app.programs import risks
from app.store.tables import RiskRow

VERSION = 1
TOP_RISKS = 10
LATE_LISTED = 50
"""Late dependencies kept by name (critical ones first); the count covers the rest."""

_END_FIELDS = ("source", "key", "title", "url", "status_category", "due_on", "expected_on")


def _late(dependencies: Mapping[str, Any]) -> dict[str, Any]:
    nodes = {n["key"]: n for n in dependencies.get("nodes", [])}
    late = []
    for edge in dependencies.get("edges", []):
        if not edge.get("late"):
            continue
        before, after = nodes.get(edge["from"], {}), nodes.get(edge["to"], {})
        late.append(
            {
                "from": {f: before.get(f) for f in _END_FIELDS} | {"key": edge["from"]},
                "to": {f: after.get(f) for f in _END_FIELDS} | {"key": edge["to"]},
                "reason": edge.get("reason"),
                "detail": edge.get("detail"),
                "critical": bool(before.get("critical") or after.get("critical")),
                "cross_project": edge.get("cross_project", False),
                "cross_tracker": edge.get("cross_tracker", False),
            }
        )
    late.sort(key=lambda d: (not d["critical"], d["to"].get("due_on") or "9999", d["from"]["key"]))
    return {"count": len(late), "items": late[:LATE_LISTED]}


def _risks(open_risks: Sequence[RiskRow], zone: tzinfo) -> dict[str, Any]:
    counts = {"open": len(open_risks), "low": 0, "medium": 0, "high": 0, "critical": 0}
    for risk in open_risks:
        if risk.severity in counts:
            counts[risk.severity] += 1
    return {
        "counts": counts,
        "top": [risks.to_out(r, zone).model_dump(mode="json") for r in open_risks[:TOP_RISKS]],
    }


def snapshot_document(
    status: Mapping[str, Any],
    dependencies: Mapping[str, Any],
    open_risks: Sequence[RiskRow],
    zone: tzinfo,
) -> dict[str, Any]:
    """The document a program's snapshot keeps; ``open_risks`` worst first."""
    return {
        "version": VERSION,
        "status": dict(status),
        "late_dependencies": _late(dependencies),
        "risks": _risks(open_risks, zone),
    }
