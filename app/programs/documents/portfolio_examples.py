"""OpenAPI examples of the portfolio documents; a test validates each against its model."""

from __future__ import annotations

from typing import Any

GOAL: dict[str, Any] = {
    "schema_version": 1,
    "key": "revenue",
    "name": "Grow online revenue",
    "owner": "Fay Green",
    "description": None,
    "period": {"label": "2027-Q1", "start": "2027-01-01", "end": "2027-03-31"},
    "as_of": "2026-11-20",
    "rag": {
        "color": "red",
        "reasons": [
            {"rule": "contributor", "detail": "Checkout v2 is red", "contributors": ["checkout"]},
            {
                "rule": "probability_on_time",
                "detail": "100 % likely that all 3 open outcomes finish by the end "
                "of the period (31 Mar 2027); P85 30 Dec 2026 (green ≥ "
                "85%, amber ≥ 50%)",
                "contributors": [],
            },
        ],
        "policy_version": "2",
        "forecast_verdict": "green",
        "held": False,
    },
    "progress": {"percent": 76.9, "text": "77 % done, weighted across 2 contributors"},
    "forecast": {
        "basis": "monte_carlo",
        "p50": "2026-12-12",
        "p85": "2026-12-30",
        "p95": "2027-01-18",
        "sampling_error_days": {"p50": 0.31, "p85": 0.75, "p95": 1.6},
        "trials": 10000,
    },
    "confidence": {
        "probability": 0.9973,
        "error": 0.0005,
        "meaning": "period_end",
        "against": "2027-03-31",
        "covers": ["checkout/fast-pay", "checkout/web", "platform/vault"],
        "left_out": [],
        "deciding": [
            {"contributor": "checkout/fast-pay", "share": 0.4286},
            {"contributor": "platform/vault", "share": 0.3398},
            {"contributor": "checkout/web", "share": 0.2316},
        ],
        "text": "100 % likely that all 3 open outcomes finish by the end of the "
        "period (31 Mar 2027)",
    },
    "movement": {
        "since": "2026-11-13",
        "rag_from": "red",
        "percent_from": 76.9,
        "p85_from": "2027-01-07",
        "probability_from": 0.9872,
        "text": "since 13 Nov 2026: P85 −8 d (30 Dec 2026), chance +1 pts",
    },
    "contributors": [
        {
            "ref": "checkout",
            "kind": "program",
            "program": "checkout",
            "outcome": None,
            "name": "Checkout v2",
            "weight": 2.0,
            "share": 0.6667,
            "rag": "red",
            "percent": 76.9,
            "done_count": 20,
            "scope_count": 26,
            "target": "2027-02-18",
            "forecast_basis": "monte_carlo",
            "p50": "2026-12-08",
            "p85": "2026-12-25",
            "probability_on_time": 0.9846,
            "computed": True,
        },
        {
            "ref": "platform/vault",
            "kind": "outcome",
            "program": "platform",
            "outcome": "vault",
            "name": "Platform › Card vault",
            "weight": 1.0,
            "share": 0.3333,
            "rag": "green",
            "percent": 76.9,
            "done_count": 10,
            "scope_count": 13,
            "target": "2027-02-28",
            "forecast_basis": "monte_carlo",
            "p50": "2026-12-02",
            "p85": "2026-12-17",
            "probability_on_time": 0.9985,
            "computed": True,
        },
    ],
    "restricted_contributors": 0,
    "key_results": [
        {
            "key": "progress",
            "name": "Most of the work done",
            "metric": "percent_done",
            "target": 80.0,
            "value": 76.9,
            "met": False,
            "text": "77 % done, against a target of 80 %",
            "contributors": ["checkout", "platform/vault"],
        },
        {
            "key": "confidence",
            "name": "Likely in time",
            "metric": "on_time",
            "target": 85.0,
            "value": 99.7,
            "met": True,
            "text": "100 % likely by 31 Mar 2027, against a target of 85 %",
            "contributors": ["checkout", "platform/vault"],
        },
    ],
}

PORTFOLIO: dict[str, Any] = {
    "schema_version": 1,
    "computed_at": "2026-11-20T09:00:00Z",
    "as_of": "2026-11-20",
    "timezone": "UTC",
    "goals": [GOAL],
    "programs": [
        {
            "key": "checkout",
            "name": "Checkout v2",
            "owner": "Ana Lima",
            "rag": "red",
            "reason": "2 item(s) on the critical path wait on late work",
            "percent": 76.9,
            "progress_text": "20 of 26 items done (77 %)",
            "done_count": 20,
            "scope_count": 26,
            "target": "2027-02-18",
            "p50": "2026-12-08",
            "p85": "2026-12-25",
            "probability_on_time": 0.9846,
            "movement": "P85 moved 5 day(s) earlier: pace rose from 2.7 to 3.2 items a "
            "week (−2 w), 0 items finished in 7 day(s) (+1 w)",
            "week_ago": {
                "on": "2026-11-13",
                "rag": "red",
                "percent": 76.9,
                "p85": "2026-12-30",
                "probability_on_time": 0.959,
            },
            "goals": ["revenue", "mobile-first"],
            "computed": True,
        },
        {
            "key": "platform",
            "name": "Platform",
            "owner": "Bo Chen",
            "rag": "green",
            "reason": "100 % likely that Card vault finishes by its target 28 Feb 2027; "
            "P85 17 Dec 2026 (green ≥ 85%, amber ≥ 50%)",
            "percent": 76.9,
            "progress_text": "10 of 13 items done (77 %)",
            "done_count": 10,
            "scope_count": 13,
            "target": "2027-02-28",
            "p50": "2026-12-02",
            "p85": "2026-12-17",
            "probability_on_time": 0.9985,
            "movement": "P85 held: 0 items finished in 7 day(s) (+1 w), pace rose from "
            "1.4 to 1.6 items a week (−7 d)",
            "week_ago": {
                "on": "2026-11-13",
                "rag": "green",
                "percent": 76.9,
                "p85": "2026-12-17",
                "probability_on_time": 0.9926,
            },
            "goals": ["revenue"],
            "computed": True,
        },
    ],
    "dependencies": {"count": 1, "late": 1},
    "outcome_links": {"count": 1, "late": 1},
    "people": {"shared": 1, "over_allocated": 1},
}

DEPENDENCIES: dict[str, Any] = {
    "schema_version": 1,
    "computed_at": "2026-11-20T09:00:00Z",
    "programs": [
        {"key": "checkout", "name": "Checkout v2", "owner": "Ana Lima", "rag": "red"},
        {"key": "platform", "name": "Platform", "owner": "Bo Chen", "rag": "green"},
        {"key": "mobile", "name": "Mobile relaunch", "owner": "Cy Diaz", "rag": "green"},
    ],
    "edges": [
        {"from": "checkout", "to": "mobile", "count": 1, "late": 1},
        {"from": "platform", "to": "checkout", "count": 1, "late": 1},
    ],
    "dependencies": [
        {
            "from": {
                "source": "jira",
                "key": "PLAT-2",
                "title": "Vault API",
                "url": "https://jira.test/browse/PLAT-2",
                "project": "PLAT",
                "status_category": "todo",
                "due_on": "2027-01-04",
                "expected_on": "2026-11-23",
                "programs": ["platform"],
            },
            "to": {
                "source": "jira",
                "key": "PAY-3",
                "title": "Title of PAY-3",
                "url": "https://jira.test/browse/PAY-3",
                "project": "PAY",
                "status_category": "in_progress",
                "due_on": "2026-12-10",
                "expected_on": "2026-11-24",
                "programs": ["checkout"],
            },
            "late": True,
            "reason": "due_after_needed",
            "detail": "PLAT-2 is due 4 Jan 2027, after PAY-3 needs it (10 Dec 2026)",
            "needed_on": "2026-12-10",
            "expected_on": "2027-01-04",
            "critical": True,
            "cross_tracker": False,
            "outcomes": ["checkout/fast-pay"],
        }
    ],
    "outcome_links": [
        {
            "from": {
                "program": "checkout",
                "outcome": "fast-pay",
                "name": "Pay in one click",
                "target": "2027-01-19",
                "p85": "2026-12-18",
                "done": False,
            },
            "to": {
                "program": "mobile",
                "outcome": "app",
                "name": "App 5.0",
                "target": "2027-03-20",
                "p85": "2026-12-11",
                "done": False,
            },
            "needed_on": "2026-12-20",
            "expected_on": "2026-12-18",
            "late": True,
            "reason": "due_after_needed",
            "detail": "Pay in one click targets 19 Jan 2027, after App 5.0 needs it by 20 Dec 2026",
        }
    ],
    "restricted": [
        {
            "program": "checkout",
            "direction": "waits_on",
            "count": 2,
            "text": "2 items in a restricted program",
        }
    ],
}

PEOPLE: dict[str, Any] = {
    "schema_version": 1,
    "computed_at": "2026-11-20T09:00:00Z",
    "max_programs": 2,
    "people": [
        {
            "id": "dee-evans",
            "name": "Dee Evans",
            "team": None,
            "names": ["DEE EVANS", "Dee Evans", "dee evans"],
            "sources": ["asana", "jira"],
            "programs": 3,
            "wip": 4,
            "remaining": 5,
            "estimate": 0.0,
            "wip_limit": 3,
            "over_allocated": True,
            "flags": [
                {
                    "rule": "wip_over_limit",
                    "detail": "4 items in progress across 2 programs, above the limit of 3",
                    "items": ["PAY-2", "PAY-3", "PLAT-1", "PLAT-3"],
                },
                {
                    "rule": "too_many_programs",
                    "detail": "open work in 3 programs (limit 2): Checkout v2, "
                    "Platform, Mobile relaunch",
                    "items": ["9001", "PAY-2", "PAY-3", "PLAT-1", "PLAT-3"],
                },
            ],
            "shares": [
                {
                    "program": "checkout",
                    "name": "Checkout v2",
                    "person": "dee-evans",
                    "wip": 2,
                    "remaining": 2,
                    "estimate": 0.0,
                    "share": 0.4,
                    "wip_items": ["PAY-2", "PAY-3"],
                    "remaining_items": ["PAY-2", "PAY-3"],
                },
                {
                    "program": "platform",
                    "name": "Platform",
                    "person": "dee-evans",
                    "wip": 2,
                    "remaining": 2,
                    "estimate": 0.0,
                    "share": 0.4,
                    "wip_items": ["PLAT-1", "PLAT-3"],
                    "remaining_items": ["PLAT-1", "PLAT-3"],
                },
            ],
            "wip_items": ["PAY-2", "PAY-3", "PLAT-1", "PLAT-3"],
            "remaining_items": ["9001", "PAY-2", "PAY-3", "PLAT-1", "PLAT-3"],
        }
    ],
}
