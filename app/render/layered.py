"""A deterministic layered layout for directed graphs (a small Sugiyama-style method).

Edges that close a cycle are set aside (found by a depth-first search in sorted order),
every node sits one layer after its furthest predecessor, and nodes within a layer are
ordered by the mean position of their neighbours, sweeping forth and back a few times.
The same graph always gets the same picture: every tie is broken by node id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SWEEPS = 4


@dataclass(frozen=True, slots=True)
class Layout:
    layers: tuple[tuple[str, ...], ...]
    """Nodes by layer, left to right; each layer's nodes top to bottom."""
    backward: frozenset[tuple[str, str]]
    """Edges set aside to break cycles (drawn against the flow)."""

    def position(self) -> dict[str, tuple[int, int]]:
        """Node → (layer, row)."""
        return {n: (x, y) for x, layer in enumerate(self.layers) for y, n in enumerate(layer)}


def _backward_edges(nodes: Sequence[str], succ: dict[str, list[str]]) -> set[tuple[str, str]]:
    """Edges into a node still on the depth-first stack: removing them leaves a DAG."""
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for root in nodes:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(succ[child])))
    return back


def _layers(nodes: Sequence[str], forward: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering: a node goes one layer after its furthest predecessor."""
    preds: dict[str, list[str]] = defaultdict(list)
    succ: dict[str, list[str]] = defaultdict(list)
    for a, b in forward:
        preds[b].append(a)
        succ[a].append(b)
    waiting = {n: len(preds[n]) for n in nodes}
    ready = sorted(n for n in nodes if waiting[n] == 0)
    layer = dict.fromkeys(nodes, 0)
    while ready:
        node = ready.pop(0)
        for nxt in succ[node]:
            layer[nxt] = max(layer[nxt], layer[node] + 1)
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                ready.append(nxt)
        ready.sort()
    return layer


def _order(
    rows: list[list[str]], neighbours: dict[str, set[str]], position: dict[str, float]
) -> None:
    """Reorder each layer by its nodes' mean neighbour position (barycentre), in place."""
    for row in rows:
        keyed = []
        for index, node in enumerate(row):
            near = [position[n] for n in neighbours[node] if n in position]
            centre = sum(near) / len(near) if near else float(index)
            keyed.append((centre, index, node))
        keyed.sort()
        row[:] = [node for _, _, node in keyed]
        for index, node in enumerate(row):
            position[node] = float(index)


def layout(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> Layout:
    """Layers and order of a directed graph; self-loops and unknown ends are ignored."""
    ordered = sorted(set(nodes))
    known = set(ordered)
    pairs = sorted({(a, b) for a, b in edges if a in known and b in known and a != b})
    succ: dict[str, list[str]] = defaultdict(list)
    for a, b in pairs:
        succ[a].append(b)
    back = _backward_edges(ordered, succ)
    forward = [(a, b) if (a, b) not in back else (b, a) for a, b in pairs]
    layer_of = _layers(ordered, forward)
    rows: list[list[str]] = [[] for _ in range(max(layer_of.values(), default=-1) + 1)]
    for node in ordered:
        rows[layer_of[node]].append(node)
    before: dict[str, set[str]] = defaultdict(set)
    after: dict[str, set[str]] = defaultdict(set)
    for a, b in forward:
        after[a].add(b)
        before[b].add(a)
    position = {n: float(i) for row in rows for i, n in enumerate(row)}
    for _ in range(SWEEPS):
        _order(rows[1:], before, position)
        _order(rows[-2::-1], after, position)
    return Layout(tuple(tuple(r) for r in rows), frozenset(back))
