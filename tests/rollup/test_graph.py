"""The dependency graph: edges, cycles, late dependencies, chains and the critical path."""

from __future__ import annotations

from datetime import timedelta

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollup.chains import schedule
from rollup.graph import LateReason, late_dependencies, roll_up
from rollup.model import Dependency
from tests.rollup.builders import AS_OF, dep, doing, done, item, ref, world


def test_edges_are_deduplicated_and_marked_across_projects_and_trackers() -> None:
    items = [item("PAY-1"), item("PAY-2"), item("WEB-1"), item("77", source="asana", project="1")]
    deps = [
        dep("PAY-1", "PAY-2"),
        dep("PAY-1", "PAY-2"),
        dep("PAY-2", "WEB-1"),
        Dependency(ref("77", "asana"), ref("PAY-1")),
    ]
    _, graph = world(items, deps)
    edges = {
        (e.before[1], e.after[1]): (e.cross_project, e.cross_tracker)
        for e in graph.edges_touching([ref("PAY-1"), ref("PAY-2")])
    }
    assert edges == {
        ("PAY-1", "PAY-2"): (False, False),
        ("PAY-2", "WEB-1"): (True, False),
        ("77", "PAY-1"): (True, True),
    }


def test_dependencies_on_unknown_items_are_kept_aside() -> None:
    _, graph = world([item("PAY-1")], [dep("PAY-1", "GONE-9")])
    assert [(d.before, d.after) for d in graph.dangling] == [(ref("PAY-1"), ref("GONE-9"))]
    assert graph.edges_touching([ref("PAY-1")]) == []


@pytest.mark.parametrize(
    ("pairs", "cycles"),
    [
        pytest.param([("A-1", "A-2")], [], id="chain"),
        pytest.param([("A-1", "A-2"), ("A-2", "A-1")], [["A-1", "A-2"]], id="two"),
        pytest.param([("A-1", "A-1")], [["A-1"]], id="self"),
        pytest.param(
            [("A-1", "A-2"), ("A-2", "A-3"), ("A-3", "A-1"), ("A-3", "A-4")],
            [["A-1", "A-2", "A-3"]],
            id="three-with-a-tail",
        ),
    ],
)
def test_cycles(pairs: list[tuple[str, str]], cycles: list[list[str]]) -> None:
    keys = sorted({k for p in pairs for k in p})
    _, graph = world([item(k) for k in keys], [dep(a, b) for a, b in pairs])
    assert [[k for _, k in c] for c in graph.cycles()] == cycles


edges = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), min_size=1, max_size=20)


@given(edges)
def test_a_cycle_is_always_reported(pairs: list[tuple[int, int]]) -> None:
    _, graph = world(
        [item(f"A-{n}") for n in range(8)], [dep(f"A-{a}", f"A-{b}") for a, b in pairs]
    )
    reference = nx.DiGraph(pairs)
    has_cycle = not nx.is_directed_acyclic_graph(reference)
    assert bool(graph.cycles()) == has_cycle
    for cycle in graph.cycles():
        loop = [int(k.split("-")[1]) for _, k in cycle]
        assert all((loop[i], loop[(i + 1) % len(loop)]) in set(pairs) for i in range(len(loop)))


NEEDED = AS_OF + timedelta(days=10)


@pytest.mark.parametrize(
    ("before", "after", "expected", "reason"),
    [
        pytest.param(
            item("A-1", due_on=NEEDED + timedelta(days=1)),
            item("A-2"),
            {"A-2": NEEDED},
            LateReason.DUE_AFTER_NEEDED,
            id="due-after-needed",
        ),
        pytest.param(
            item("A-1"),
            item("A-2"),
            {"A-1": NEEDED + timedelta(days=3)},
            LateReason.FORECAST_AFTER_NEEDED,
            id="forecast-after-needed",
        ),
        pytest.param(
            item("A-1"),
            doing("A-2"),
            {},
            LateReason.NOT_STARTED,
            id="not-started-while-successor-runs",
        ),
        pytest.param(item("A-1", due_on=NEEDED), item("A-2"), {}, None, id="due-in-time"),
        pytest.param(done("A-1"), doing("A-2"), {}, None, id="predecessor-done"),
        pytest.param(doing("A-1"), doing("A-2"), {}, None, id="both-running"),
    ],
)
def test_late_dependencies(before, after, expected, reason) -> None:  # type: ignore[no-untyped-def]
    index, graph = world([before, after], [dep("A-1", "A-2")])
    forecasts = {ref(k): d for k, d in expected.items() if k == "A-1"}
    needed = {ref("A-2"): NEEDED}
    late = late_dependencies(
        graph.edges_touching([ref("A-1")]), index, needed_by=needed.get, expected=forecasts
    )
    assert [d.reason for d in late] == ([reason] if reason else [])


def test_chains_run_through_remaining_work_only() -> None:
    items = [done("A-1"), item("A-2"), item("A-3"), item("A-4"), item("B-1")]
    _, graph = world(items, [dep("A-1", "A-2"), dep("A-2", "A-3"), dep("A-3", "A-4")])
    work = graph.chains([ref("A-4"), ref("B-1")], {}.get)
    assert [[k for _, k in g] for g in work.groups] == [["A-2"], ["A-3"], ["A-4"]]
    assert work.ends == (2,)


def test_critical_path_is_the_longest_remaining_chain() -> None:
    items = [item(k) for k in ("A-1", "A-2", "A-3", "B-1", "C-1")]
    _, graph = world(
        items, [dep("A-1", "A-2"), dep("A-2", "A-3"), dep("B-1", "A-3"), dep("B-1", "C-1")]
    )
    work = graph.chains([ref(k) for k in ("A-3", "C-1")], {}.get)
    plan = schedule(
        work,
        {
            ref("A-1"): 2.0,
            ref("A-2"): 2.0,
            ref("A-3"): 1.0,
            ref("B-1"): 3.0,
            ref("C-1"): 9.0,
        }.__getitem__,
    )
    assert [k for _, k in plan.critical_path()] == ["B-1", "C-1"]
    assert [k for _, k in plan.critical_path([ref("A-3")])] == ["A-1", "A-2", "A-3"]
    assert plan.longest == 12.0


def test_roll_up_counts_edges_between_groups() -> None:
    items = [item("A-1"), item("A-2"), item("B-1")]
    _, graph = world(items, [dep("A-1", "A-2"), dep("A-1", "B-1"), dep("A-2", "B-1")])
    edges = graph.edges_touching([ref("A-1"), ref("A-2")])
    rolled = roll_up(edges, lambda r: [r[1].split("-")[0]], [e.after == ref("B-1") for e in edges])
    assert [(g.before, g.after, g.count, g.late) for g in rolled] == [("A", "B", 2, 2)]
