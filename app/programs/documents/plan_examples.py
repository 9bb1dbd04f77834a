"""OpenAPI examples of the roadmap and resources; a test validates each against its model."""

from __future__ import annotations

from typing import Any

TEAM_FORECAST: dict[str, Any] = {
    "outcome": "fast-pay",
    "basis": "monte_carlo",
    "p50": "2027-03-22",
    "p85": "2027-04-12",
    "probability_on_time": 0.61,
    "deciding": "payments",
    "shares": [
        {
            "key": "payments",
            "name": "Payments",
            "remaining": 31,
            "completed": 40,
            "basis": "monte_carlo",
            "p50": "2027-03-19",
            "p85": "2027-04-09",
            "decides": 0.83,
        },
        {
            "key": "unassigned",
            "name": "Unassigned work",
            "remaining": 4,
            "completed": 52,
            "basis": "monte_carlo",
            "p50": "2026-12-11",
            "p85": "2026-12-18",
            "decides": 0.17,
        },
    ],
}
ROADMAP: dict[str, Any] = {
    "schema_version": 1,
    "key": "checkout",
    "as_of": "2026-11-20",
    "computed_at": "2026-11-20T10:00:00+01:00",
    "baseline": {"on": "2026-10-01", "asked": "2026-10-01", "origin": "program", "bars": 14},
    "outcomes": [
        {
            "key": "fast-pay",
            "name": "Pay in one click",
            "target": "2027-03-31",
            "p50": "2027-03-18",
            "p85": "2027-04-09",
            "forecast_basis": "monte_carlo",
            "rag": "amber",
            "baseline": {"start": None, "due": None, "p50": "2027-03-01", "p85": "2027-03-20"},
            "teams": TEAM_FORECAST,
        }
    ],
    "bars": [
        {
            "id": "acme-jira:PAY-12",
            "kind": "epic",
            "source": "acme-jira",
            "key": "PAY-12",
            "title": "Wallet payments",
            "url": "https://acme.atlassian.net/browse/PAY-12",
            "project": "PAY",
            "project_name": None,
            "outcome": "fast-pay",
            "outcomes": ["fast-pay"],
            "scope": 24,
            "done": 15,
            "start": "2026-09-14",
            "start_basis": "first_in_progress",
            "due": "2027-02-26",
            "due_basis": "due_date",
            "finished_on": None,
            "p50": "2027-02-19",
            "p85": "2027-03-12",
            "forecast_basis": "own_history",
            "late": True,
            "critical": True,
            "baseline": {
                "start": "2026-09-14",
                "due": "2027-02-12",
                "p50": "2027-02-05",
                "p85": "2027-02-26",
            },
            "slip_days": 14,
            "slip_basis": "p85",
        }
    ],
    "milestones": [
        {
            "source": "acme-jira",
            "key": "PAY-50",
            "title": "Beta in the app",
            "url": "https://acme.atlassian.net/browse/PAY-50",
            "due_on": "2027-01-15",
            "done": False,
            "outcome": "fast-pay",
            "bar": "acme-jira:PAY-12",
        }
    ],
    "links": [
        {"from": "acme-jira:PAY-12", "to": "acme-asana/1200000000000101", "count": 2, "late": 1}
    ],
}
WORKLOAD: dict[str, Any] = {
    "id": "ana-lima",
    "name": "Ana Lima",
    "team": "payments",
    "members": ["ana-lima"],
    "names": ["Ana Lima", "ana lima"],
    "sources": ["acme-asana", "acme-jira"],
    "wip": 4,
    "wip_items": ["PAY-31", "PAY-40", "PAY-44", "1200000000000412"],
    "remaining": 9,
    "remaining_items": ["PAY-31", "PAY-40", "PAY-44", "PAY-47", "1200000000000412"],
    "estimate": 21.0,
    "unestimated": 2,
    "by_project": [
        {"name": "acme-asana/1200000000000101", "wip": 1, "remaining": 3, "estimate": 5.0},
        {"name": "acme-jira/PAY", "wip": 3, "remaining": 6, "estimate": 16.0},
    ],
    "by_outcome": [{"name": "fast-pay", "wip": 4, "remaining": 9, "estimate": 21.0}],
    "throughput": [2, 3, 1, 4, 2, 3],
    "critical": [
        {"outcome": "fast-pay", "items": ["PAY-44"]},
        {"outcome": "web", "items": ["1200000000000412"]},
    ],
    "wip_limit": 3,
    "flags": [
        {
            "rule": "wip_over_limit",
            "detail": "4 items in progress, above the limit of 3",
            "items": ["PAY-31", "PAY-40", "PAY-44", "1200000000000412"],
        },
        {
            "rule": "several_critical_paths",
            "detail": "holds work on the critical paths of 2 outcomes (fast-pay, web)",
            "items": ["PAY-44", "1200000000000412"],
        },
    ],
}
RESOURCES: dict[str, Any] = {
    "schema_version": 1,
    "key": "checkout",
    "project_names": {"acme-asana/1200000000000101": "Checkout web"},
    "as_of": "2026-11-20",
    "computed_at": "2026-11-20T10:00:00+01:00",
    "week_starts": [
        "2026-10-10",
        "2026-10-17",
        "2026-10-24",
        "2026-10-31",
        "2026-11-07",
        "2026-11-14",
    ],
    "people": [WORKLOAD],
    "teams": [
        {
            **WORKLOAD,
            "id": "payments",
            "name": "Payments",
            "members": ["ana-lima", "bo-chen"],
            "names": [],
            "sources": [],
            "critical": [],
            "flags": [
                {
                    "rule": "members_over_allocated",
                    "detail": "1 of 2 members are over-allocated: Ana Lima",
                    "items": ["PAY-31", "PAY-40", "PAY-44", "1200000000000412"],
                }
            ],
        }
    ],
    "unassigned": [
        {
            "outcome": "fast-pay",
            "remaining": 4,
            "estimate": 6.0,
            "unestimated": 1,
            "items": ["PAY-60"],
        }
    ],
    "forecasts": [TEAM_FORECAST],
}
