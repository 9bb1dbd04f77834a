"""Examples for the OpenAPI document, one per response; a test validates each against its
model, so they stay true to the contract."""

from __future__ import annotations

from typing import Any

RAG: dict[str, Any] = {
    "color": "amber",
    "reasons": [
        {
            "rule": "probability_on_time",
            "detail": "72 % likely to finish by its target 31 Mar 2027; P85 9 Apr 2027 "
            "(green ≥ 85%, amber ≥ 50%)",
            "items": [],
        },
        {
            "rule": "stale_work",
            "detail": "3 of 9 items in progress have not moved recently (limit 25%)",
            "items": ["PAY-31", "PAY-40", "WEB-7"],
        },
    ],
    "policy_version": "1",
}
PROGRESS: dict[str, Any] = {
    "done": 61.0,
    "total": 104.0,
    "percent": 58.7,
    "basis": "count",
    "unestimated": 6,
    "done_count": 61,
    "scope_count": 104,
    "text": "61 of 104 items done (59 %)",
}
FORECAST: dict[str, Any] = {
    "p50": "2027-03-18",
    "p85": "2027-04-09",
    "p95": "2027-04-23",
    "probability_on_time": 0.7231,
    "basis": "monte_carlo",
    "probability_error": 0.0045,
    "sampling_error_days": {"p50": 0.5, "p85": 1.0, "p95": 1.5},
    "trials": 10000,
    "unit": "items",
    "remaining": 43,
    "history": [
        {"week_start": "2026-10-31", "completed": 4},
        {"week_start": "2026-11-07", "completed": 2},
        {"week_start": "2026-11-14", "completed": 5},
    ],
    "capacity_share": 0.91,
    "on_time": {
        "meaning": "target",
        "against": "2027-03-31",
        "covers": ["Pay in one click"],
        "left_out": [],
        "text": "72 % likely to finish by its target 31 Mar 2027",
    },
    "pace": {"per_week": 3.9, "observed_per_week": 3.7, "dispersion": 1.4, "changed": 0.12},
    "growth_per_week": 0.6,
    "unrefined": [],
    "calibration": {
        "judged": 9,
        "p50_met": 5,
        "p85_met": 8,
        "brier": 0.14,
        "chances": 9,
        "pending": 4,
        "text": "past P85 dates met 8 of 9 times (89 %; 85 % expected), P50 5 of 9 (56 %; "
        "50 % expected); Brier score 0.14 over 9 chance(s) (0 is perfect, 0.25 is a coin)",
    },
    "movement": {
        "since": "2026-11-13",
        "until": "2026-11-20",
        "p50_days": 9.0,
        "p85_days": 15.2,
        "observed_p85_days": 14.0,
        "probability": -0.11,
        "text": "P85 moved 2 week(s) later: scope grew by 12 items (+2 w), "
        "pace fell from 4.4 to 3.9 items a week (+1 w), 3 items finished in 7 day(s) (−1 w)",
        "probability_text": "P(on time) moved −11 pts: scope grew by 12 items (−8 pts)",
        "shares": [
            {
                "factor": "scope",
                "p50_days": 8.1,
                "p85_days": 12.9,
                "probability": -0.08,
                "text": "scope grew by 12 items",
            }
        ],
    },
}
FRESHNESS: dict[str, Any] = {
    "computed_at": "2026-11-20T10:02:11+01:00",
    "as_of": "2026-11-20",
    "sources": [
        {
            "name": "acme-jira",
            "last_sync_at": "2026-11-20T10:01:58+01:00",
            "last_status": "succeeded",
            "age_seconds": 312.4,
        }
    ],
}
RISK_COUNTS: dict[str, Any] = {"open": 4, "low": 1, "medium": 2, "high": 1, "critical": 0}
OUTCOME: dict[str, Any] = {
    "schema_version": 1,
    "key": "fast-pay",
    "name": "Pay in one click",
    "target": "2027-03-31",
    "weight": 1.0,
    "rag": RAG,
    "progress": PROGRESS,
    "forecast": FORECAST,
    "critical_path": ["PAY-12", "WEB-40", "PAY-44"],
    "criticality": [{"key": "WEB-40", "index": 0.09}],
    "scope_growth": 0.04,
    "done_late": False,
    "finished_on": None,
    "burnup": [
        {"on": "2026-11-13", "scope": 101, "done": 56},
        {"on": "2026-11-20", "scope": 104, "done": 61},
    ],
    "explain": {
        "contributors": [
            {
                "source": "acme-jira",
                "key": "PAY-31",
                "title": "Remember the card",
                "url": "https://acme.atlassian.net/browse/PAY-31",
                "status": "In Progress",
                "status_category": "in_progress",
                "estimate": 3.0,
                "imputed": False,
                "size": 1.0,
                "share": 0.009615,
            }
        ]
    },
}
SUMMARY: dict[str, Any] = {
    "schema_version": 1,
    "key": "checkout",
    "name": "Checkout v2",
    "timezone": "Europe/Berlin",
    "rag": RAG,
    "progress": PROGRESS,
    "target": "2027-03-31",
    "forecast": FORECAST,
    "risk_counts": RISK_COUNTS,
    "freshness": FRESHNESS,
}
PROGRAM_LIST: dict[str, Any] = {"programs": [SUMMARY]}
PROGRAM_STATUS: dict[str, Any] = {
    **SUMMARY,
    "outcomes": [{**OUTCOME, "explain": None}],
    "data_quality": {
        "score": 0.94,
        "checks": [
            {
                "check": "missing_estimate",
                "detail": "6 item(s) measured by estimate have none",
                "count": 6,
                "scored": True,
                "items": ["PAY-51", "PAY-52", "PAY-60", "WEB-9", "WEB-11", "WEB-12"],
            }
        ],
    },
    "milestones": [
        {
            "source": "acme-jira",
            "key": "PAY-90",
            "title": "Beta to 5 % of shoppers",
            "url": "https://acme.atlassian.net/browse/PAY-90",
            "due_on": "2027-01-15",
            "status_category": "todo",
            "overdue": False,
        }
    ],
    "unmapped": {
        "count": 1,
        "items": [
            {
                "source": "acme-jira",
                "key": "PAY-77",
                "title": "Refactor the receipt mailer",
                "url": "https://acme.atlassian.net/browse/PAY-77",
            }
        ],
    },
    "late_dependencies": 1,
    "late": [
        {
            "from": {
                "source": "acme-jira",
                "key": "WEB-40",
                "title": "Wallet button",
                "url": "https://acme.atlassian.net/browse/WEB-40",
            },
            "to": {
                "source": "acme-jira",
                "key": "PAY-44",
                "title": "One-click confirm",
                "url": "https://acme.atlassian.net/browse/PAY-44",
            },
            "reason": "due_after_needed",
            "detail": "WEB-40 is due 20 Feb 2027, after PAY-44 needs it (1 Feb 2027)",
            "needed_on": "2027-02-01",
            "expected_on": "2027-02-20",
            "cross_project": True,
            "cross_tracker": False,
        }
    ],
    "cycles": 0,
    "critical_path": ["PAY-12", "WEB-40", "PAY-44"],
    "burnup": OUTCOME["burnup"],
}
DEPENDENCIES: dict[str, Any] = {
    "schema_version": 1,
    "nodes": [
        {
            "source": "acme-jira",
            "key": "WEB-40",
            "title": "Wallet button",
            "url": "https://acme.atlassian.net/browse/WEB-40",
            "project": "WEB",
            "epic": "WEB-12",
            "kind": "story",
            "status_category": "todo",
            "due_on": "2027-02-20",
            "expected_on": "2027-02-11",
            "outcomes": [],
            "critical": True,
            "criticality": 0.09,
        },
        {
            "source": "acme-jira",
            "key": "PAY-44",
            "title": "One-click confirm",
            "url": "https://acme.atlassian.net/browse/PAY-44",
            "project": "PAY",
            "epic": "PAY-12",
            "kind": "story",
            "status_category": "in_progress",
            "due_on": "2027-02-01",
            "expected_on": "2027-02-25",
            "outcomes": ["fast-pay"],
            "critical": True,
            "criticality": 0.09,
        },
    ],
    "edges": [
        {
            "from": "WEB-40",
            "to": "PAY-44",
            "cross_project": True,
            "cross_tracker": False,
            "late": True,
            "reason": "due_after_needed",
            "detail": "WEB-40 is due 20 Feb 2027, after PAY-44 needs it (1 Feb 2027)",
        }
    ],
    "cycles": [],
    "critical_path": ["PAY-12", "WEB-40", "PAY-44"],
    "critical_paths": {"fast-pay": ["PAY-12", "WEB-40", "PAY-44"]},
    "rollups": {
        "epic": [{"from": "WEB-12", "to": "PAY-12", "count": 1, "late": 1}],
        "outcome": [{"from": "outside", "to": "fast-pay", "count": 1, "late": 1}],
        "project": [{"from": "acme-jira/WEB", "to": "acme-jira/PAY", "count": 1, "late": 1}],
    },
}
RISK: dict[str, Any] = {
    "id": 7,
    "origin": "derived",
    "rule": "late_dependency",
    "title": "WEB-40 is late for 1 item(s) that wait on it on the critical path",
    "description": None,
    "severity": "high",
    "probability": 4,
    "impact": 4,
    "score": 16,
    "roam": "owned",
    "owner": "ana@acme.test",
    "owner_basis": None,
    "mitigation": "Pair WEB and PAY on the wallet button this sprint",
    "suggested_mitigation": None,
    "decision": False,
    "issue": False,
    "due_on": None,
    "outcome": "fast-pay",
    "items": ["WEB-40", "PAY-44"],
    "evidence": [
        {
            "source": "acme-jira",
            "key": "WEB-40",
            "detail": "WEB-40 is due 20 Feb 2027, after PAY-44 needs it (1 Feb 2027)",
        }
    ],
    "opened_at": "2026-11-18T09:15:02+01:00",
    "closed_at": None,
    "data": {"probability": 4, "impact": 4, "severity": "high"},
    "override": {
        "fields": ["owner", "mitigation", "roam"],
        "probability": None,
        "impact": None,
        "by": "pm-team",
        "at": "2026-11-19T10:02:40+01:00",
    },
    "history": [
        {
            "at": "2026-11-19T10:02:40+01:00",
            "by": "pm-team",
            "action": "changed",
            "changes": [
                {"field": "roam", "from": None, "to": "owned"},
                {"field": "owner", "from": None, "to": "ana@acme.test"},
            ],
        }
    ],
}
RISK_LIST: dict[str, Any] = {"risks": [RISK]}
CHANGES: dict[str, Any] = {
    "since": "2026-11-13",
    "base_on": "2026-11-13",
    "until": "2026-11-20",
    "completed": [
        {
            "source": "acme-jira",
            "key": "PAY-33",
            "title": "Card vault token refresh",
            "url": "https://acme.atlassian.net/browse/PAY-33",
            "outcomes": ["fast-pay"],
        }
    ],
    "added": [],
    "removed": [],
    "due_changes": [
        {
            "source": "acme-jira",
            "key": "WEB-40",
            "title": "Wallet button",
            "url": "https://acme.atlassian.net/browse/WEB-40",
            "outcomes": [],
            "from": "2027-02-06",
            "to": "2027-02-20",
            "days": 14,
        }
    ],
    "forecast_changes": [
        {
            "outcome": "fast-pay",
            "outcome_name": "Pay in one click",
            "p50_from": "2027-03-11",
            "p50_to": "2027-03-18",
            "p85_from": "2027-04-01",
            "p85_to": "2027-04-09",
        }
    ],
    "status_flips": [],
    "rag_changes": [{"outcome": None, "outcome_name": None, "from": "green", "to": "amber"}],
    "risks_opened": [
        {
            "id": 7,
            "rule": "late_dependency",
            "title": RISK["title"],
            "severity": "high",
            "on": "2026-11-18",
            "items": ["WEB-40", "PAY-44"],
        }
    ],
    "risks_closed": [],
    "dependencies_added": [{"from": "WEB-40", "to": "PAY-44"}],
    "dependencies_removed": [],
    "new_late_dependencies": [{"from": "WEB-40", "to": "PAY-44"}],
}
ITEM: dict[str, Any] = {
    "source": "acme-jira",
    "key": "PAY-31",
    "url": "https://acme.atlassian.net/browse/PAY-31",
    "title": "Remember the card",
    "kind": "story",
    "status": "In Progress",
    "status_category": "in_progress",
    "project": "PAY",
    "project_name": "Payments",
    "parent_key": "PAY-12",
    "assignee": "Ana Lima",
    "estimate": 3.0,
    "start_on": "2026-11-09",
    "due_on": "2026-12-04",
    "created_at": "2026-10-02T14:11:05+02:00",
    "updated_at": "2026-11-19T16:40:12+01:00",
    "resolved_at": None,
    "labels": ["checkout-v2"],
    "deleted": False,
}
ITEM_PAGE: dict[str, Any] = {
    "items": [ITEM],
    "next_cursor": "WzQxMiwiOWMxYjBmMmQiXQ",
}
ITEM_DETAIL: dict[str, Any] = {
    "item": ITEM,
    "parent_title": "Pay in one click",
    "section": None,
    "issue_type": "Story",
    "components": ["payments"],
    "timezone": "Europe/Berlin",
    "links": [
        {
            "direction": "blocked_by",
            "source": "acme-jira",
            "key": "WEB-40",
            "title": "Wallet button",
            "url": "https://acme.atlassian.net/browse/WEB-40",
            "status_category": "todo",
            "link_type": "Blocks",
            "cross_tracker": False,
        }
    ],
    "restricted_links": 0,
    "history": [
        {
            "at": "2026-11-10T09:02:44+01:00",
            "from": "To Do",
            "to": "In Progress",
            "from_category": "todo",
            "to_category": "in_progress",
            "author": "Ana Lima",
        }
    ],
    "feeds": [
        {
            "program": "checkout",
            "program_name": "Checkout v2",
            "outcome": "fast-pay",
            "outcome_name": "Pay in one click",
        }
    ],
    "flags": [],
}
ITEMS_CSV = (
    "source,key,url,title,kind,status,status_category,project,parent_key,assignee,estimate,"
    "start_on,due_on,created_at,updated_at,resolved_at,labels,deleted\r\n"
    "acme-jira,PAY-31,https://acme.atlassian.net/browse/PAY-31,Remember the card,story,"
    "In Progress,in_progress,PAY,PAY-12,Ana Lima,3.0,2026-11-09,2026-12-04,"
    "2026-10-02T14:11:05+02:00,2026-11-19T16:40:12+01:00,,checkout-v2,false\r\n"
)
RISKS_CSV = (
    "id,origin,rule,title,severity,probability,impact,score,roam,owner,mitigation,due_on,"
    "outcome,items,opened_at,closed_at\r\n"
    "7,derived,late_dependency,WEB-40 is late for 1 item(s) that wait on it on the critical "
    "path,high,4,4,16,owned,ana@acme.test,Pair WEB and PAY on the wallet button this sprint,,"
    "fast-pay,WEB-40 PAY-44,2026-11-18T09:15:02+01:00,\r\n"
)

TRACK_RECORD: dict[str, Any] = {
    "key": "checkout",
    "name": "Checkout v2",
    "as_of": "2026-11-20",
    "program": {
        "key": None,
        "name": "Checkout v2",
        "judged": 14,
        "p50_met": 6,
        "p85_met": 11,
        "brier": 0.1875,
        "chances": 16,
        "pending": 8,
        "text": "past P85 dates met 11 of 14 times (79 %; 85 % expected), P50 6 of 14 "
        "(43 %; 50 % expected); Brier score 0.19 over 16 chance(s) (0 is perfect, 0.25 is a "
        "coin)",
        "p50_rate": 0.4286,
        "p85_rate": 0.7857,
    },
    "outcomes": [
        {
            "key": "fast-pay",
            "name": "Pay in one click",
            "judged": 0,
            "p50_met": 0,
            "p85_met": 0,
            "brier": None,
            "chances": 0,
            "pending": 12,
            "text": "no past forecast can be judged yet (12 waiting for their dates)",
            "p50_rate": None,
            "p85_rate": None,
        }
    ],
}
