"""The layered layout: layers follow dependencies, cycles are broken, ties are stable."""

from __future__ import annotations

import random

import pytest

from app.render.layered import layout


def test_every_node_sits_after_its_predecessors() -> None:
    plan = layout("abcde", [("a", "b"), ("b", "c"), ("a", "c"), ("d", "e")])
    at = plan.position()
    assert at["a"][0] == at["d"][0] == 0
    assert at["b"][0] == 1
    assert at["c"][0] == 2, "longest path: c waits on b, which waits on a"
    assert at["e"][0] == 1
    assert plan.backward == frozenset()


def test_a_cycle_is_broken_by_one_backward_edge() -> None:
    plan = layout("abc", [("a", "b"), ("b", "c"), ("c", "a")])
    assert plan.backward == frozenset({("c", "a")})
    assert list(plan.layers) == [("a",), ("b",), ("c",)]


def test_self_loops_and_unknown_ends_are_ignored() -> None:
    plan = layout("ab", [("a", "a"), ("a", "b"), ("a", "zz")])
    assert plan.layers == (("a",), ("b",))


def test_barycentres_untangle_two_chains() -> None:
    plan = layout(["a1", "b1", "a2", "b2"], [("a1", "a2"), ("b1", "b2")])
    at = plan.position()
    assert (at["a1"][1] < at["b1"][1]) == (at["a2"][1] < at["b2"][1]), "no crossing"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_same_graph_always_gets_the_same_layout(seed: int) -> None:
    r = random.Random(seed)
    nodes = [f"n{i}" for i in range(80)]
    edges = [(r.choice(nodes), r.choice(nodes)) for _ in range(160)]
    first = layout(nodes, edges)
    shuffled = edges[:]
    r.shuffle(shuffled)
    assert layout(reversed(nodes), shuffled) == first
    assert sorted(n for layer in first.layers for n in layer) == sorted(nodes)
    at = first.position()
    for a, b in edges:
        if a != b and (a, b) not in first.backward:
            assert at[a][0] < at[b][0] or (b, a) in first.backward
