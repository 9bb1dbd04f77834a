"""Dependency chains inside the forecast trials, and the criticality index they yield.

Work that waits on other work cannot start before it finishes, however fast the team is.
In every trial each remaining item on a dependency chain takes a duration drawn from the
program's own cycle times — for an item already in progress, from the cycle times at
least as long as its age, less that age (its remaining life) — and a chain
finishes when its last item does. The chain that finishes last is the one that decides
the date in that trial — unless the team's pace decides it later still.

Durations are drawn counter-based: item × trial is hashed with the seed, so an item's
draws never depend on which other items are in the graph. Adding a predecessor can
therefore only lengthen a chain, trial by trial, never reshuffle the dice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rollup.model import ItemRef

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]

_MAX_SAMPLES = 65_535
"""Cycle-time samples are indexed with 16 bits (more would not change the picture)."""


@dataclass(frozen=True, slots=True)
class ChainWork:
    """Remaining work that dependencies put in order, as a DAG of groups.

    A group is one item, or the members of a dependency cycle (which must all be done, in
    some order). ``groups`` is topologically ordered: ``preds[i]`` only holds indices below
    ``i``. ``ends`` are the groups whose finish counts for the outcome.
    """

    groups: tuple[tuple[ItemRef, ...], ...]
    preds: tuple[tuple[int, ...], ...]
    ends: tuple[int, ...]
    ages: Mapping[ItemRef, float] = field(default_factory=dict)
    """Days an item has already been in progress."""


@dataclass(frozen=True, slots=True)
class ChainTrials:
    days: FloatArray
    """Per trial, when the last chain ends (days after ``as_of``)."""
    work: ChainWork
    end: IntArray = field(compare=False, repr=False)
    choice: IntArray = field(compare=False, repr=False)
    """``choice[g, t]``: the predecessor group that held ``g`` back longest in trial t."""

    def criticality(self, deciding: BoolArray) -> tuple[tuple[ItemRef, float], ...]:
        """How often each item lay on the chain that decided the date, most often first.

        ``deciding`` marks the trials a chain (not the team's pace) decided.
        """
        trials = self.days.size
        counts = np.zeros(len(self.work.groups), dtype=np.int64)
        current = self.end[deciding].astype(np.int64)
        columns = np.flatnonzero(deciding)
        while current.size:
            counts += np.bincount(current, minlength=counts.size)
            current = self.choice[current, columns].astype(np.int64)
            keep = current >= 0
            current, columns = current[keep], columns[keep]
        ranked = [
            (ref, round(float(counts[g]) / trials, 4))
            for g, members in enumerate(self.work.groups)
            for ref in members
            if counts[g]
        ]
        return tuple(sorted(ranked, key=lambda pair: (-pair[1], pair[0])))


def _item_seed(ref: ItemRef, seed: int) -> int:
    digest = hashlib.blake2b(f"{ref[0]}\x1f{ref[1]}".encode(), digest_size=4).digest()
    return (int.from_bytes(digest, "little") ^ seed) & 0xFFFFFFFF


def _mix(x: npt.NDArray[np.uint32]) -> None:
    """MurmurHash3's 32-bit finaliser, in place: every input bit flips half the output."""
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x85EBCA6B)
    x ^= x >> np.uint32(13)
    x *= np.uint32(0xC2B2AE35)
    x ^= x >> np.uint32(16)


_BLOCK = 8
"""Items hashed per numpy pass: a block of trials × 8 items stays in the CPU cache."""


def remaining_life(
    pool: npt.NDArray[np.float32], ages: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Where items of these ages draw their total durations from: the ``(start, count)``
    slice of the sorted pool each can still be in, and a scale for that slice.

    An item in progress for ``age`` days is one that takes *at least* that long: its
    total is drawn from the cycle times longer than its age, and its remaining time is
    that total less the age. Older than all but a few, the longest ``TAIL`` are scaled so
    the shortest of them is its age — work that has run long tends to run longer still.
    """
    n = int(pool.size)
    first = max(0, n - TAIL)
    after = np.searchsorted(pool, ages, side="right").astype(np.intp)
    fresh = ages <= 0
    plenty = (n - after >= TAIL) & ~fresh
    starts = np.where(fresh, 0, np.where(plenty, after, first)).astype(np.intp)
    scales = np.where(fresh | plenty, 1.0, ages / max(float(pool[first]), 1e-6))
    return starts, n - starts, scales.astype(np.float32)


TAIL = 5
"""Cycle times an item's remaining life is drawn from, at the least."""


def median_remaining(samples: Sequence[float]) -> Callable[[float], float]:
    """The median remaining life of an item of a given age (``remaining_life``)."""
    pool = np.sort(np.asarray(samples, dtype=np.float32))

    def remaining(age: float) -> float:
        if not pool.size:
            return 0.0
        starts, _, scales = remaining_life(pool, np.array([age], dtype=np.float32))
        middle = float(np.median(pool[int(starts[0]) :]))
        return max(middle * float(scales[0]) - max(age, 0.0), 0.0)

    return remaining


def durations(
    refs: Sequence[ItemRef],
    samples: Sequence[float],
    *,
    trials: int,
    seed: int,
    ages: Mapping[ItemRef, float],
) -> npt.NDArray[np.float32]:
    """``[item, trial]`` remaining durations in days: a cycle time drawn among those at
    least as long as the item's age, less the age (``remaining_life``)."""
    ordered = np.sort(np.asarray(samples, dtype=np.float32))
    # Evenly thinned when there are too many: the shape stays, the longest included.
    step = -(-ordered.size // _MAX_SAMPLES)
    pool = ordered[::-1][::step][::-1].copy()
    keys = np.array([_item_seed(r, seed) for r in refs], dtype=np.uint32)
    age_of = np.array([ages.get(r, 0.0) for r in refs], dtype=np.float32)
    starts, counts, scales = remaining_life(pool, age_of)
    counter = np.arange(trials, dtype=np.uint32) * np.uint32(0x9E3779B1)
    drawn = np.empty((len(refs), trials), dtype=np.float32)
    with np.errstate(over="ignore"):
        for start in range(0, len(refs), _BLOCK):
            rows = slice(start, start + _BLOCK)
            x = counter[None, :] + keys[rows, None]
            _mix(x)
            # The top 16 bits scaled to each item's slice of the pool; "clip" only skips
            # a bounds check the arithmetic already guarantees.
            index = (x >> np.uint32(16)).astype(np.intp)
            index *= counts[rows, None]
            index >>= 16
            index += starts[rows, None]
            np.take(pool, index, out=drawn[rows], mode="clip")
    drawn *= scales[:, None]
    drawn -= age_of[:, None]
    np.maximum(drawn, np.float32(0.0), out=drawn)
    return drawn


def simulate(
    work: ChainWork,
    samples: Sequence[float],
    *,
    trials: int,
    seed: int,
    unless_before: float = 0.0,
) -> ChainTrials | None:
    """Run every chain through the trials; None when there are no chains or no samples.

    Also None when even the slowest cycle time seen for every item could not make the
    chains end later than ``unless_before`` days: then no trial's date depends on them,
    and sampling them would change nothing.
    """
    if not work.ends or not samples:
        return None
    pool = np.sort(np.asarray(samples, dtype=np.float32))
    aged = list(work.ages)
    ages = np.array([work.ages[r] for r in aged], dtype=np.float32)
    _, _, scales = remaining_life(pool, ages)
    longest = float(pool[-1])
    # The slowest an item can take: the longest cycle time (scaled for the oldest), less
    # its age; items not started take the longest.
    slowest = dict(zip(aged, np.maximum(longest * scales - ages, 0.0).tolist(), strict=True))
    if schedule(work, lambda r: slowest.get(r, longest)).longest <= unless_before:
        return None
    members = [ref for group in work.groups for ref in group]
    starts = np.cumsum([0] + [len(g) for g in work.groups[:-1]])
    each = durations(members, samples, trials=trials, seed=seed, ages=work.ages)
    # Most groups are single items; only knots of cycles need their members summed.
    per_group = each if len(members) == len(work.groups) else np.add.reduceat(each, starts, axis=0)
    finish = np.empty_like(per_group)
    choice = np.full(per_group.shape, -1, dtype=np.int32)
    columns = np.arange(trials)
    for g, preds in enumerate(work.preds):
        if not preds:
            finish[g] = per_group[g]
        elif len(preds) == 1:
            np.add(finish[preds[0]], per_group[g], out=finish[g])
            choice[g] = preds[0]
        else:
            held = finish[list(preds)]
            longest = held.argmax(axis=0)
            choice[g] = np.asarray(preds, dtype=np.int32)[longest]
            np.add(held[longest, columns], per_group[g], out=finish[g])
    days = finish[work.ends[0]].copy()
    end = np.full(trials, work.ends[0], dtype=np.int32)
    for g in work.ends[1:]:
        np.copyto(end, np.int32(g), where=finish[g] > days)
        np.maximum(days, finish[g], out=days)
    return ChainTrials(days=days.astype(np.float64), work=work, end=end, choice=choice)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Critical-path schedule of a ``ChainWork`` with fixed durations (days)."""

    work: ChainWork
    finish: tuple[float, ...]
    """Early finish of each group, in days after ``as_of``."""
    held_by: tuple[int, ...]
    """The predecessor group that holds each group back longest (-1: none)."""

    @property
    def longest(self) -> float:
        """When the last chain ends (0 without chains)."""
        return max((self.finish[e] for e in self.work.ends), default=0.0)

    def finish_of(self) -> dict[ItemRef, float]:
        return {ref: self.finish[g] for g, group in enumerate(self.work.groups) for ref in group}

    def critical_path(self, among: Iterable[ItemRef] | None = None) -> tuple[ItemRef, ...]:
        """The chain of remaining work that ends last (of those ending in ``among``)."""
        ends = self.work.ends
        if among is not None:
            wanted = set(among)
            ends = tuple(e for e in ends if wanted.intersection(self.work.groups[e]))
        if not ends:
            return ()
        g = max(ends, key=lambda e: (self.finish[e], -e))
        path: list[ItemRef] = []
        while g >= 0:
            path[:0] = self.work.groups[g]
            g = self.held_by[g]
        return tuple(path)


def schedule(work: ChainWork, duration: Callable[[ItemRef], float]) -> Schedule:
    """Early finishes over the chains (the classic forward pass of the critical path)."""
    finish: list[float] = []
    held_by: list[int] = []
    for g, preds in enumerate(work.preds):
        start, by = max(((finish[p], p) for p in preds), default=(0.0, -1))
        finish.append(start + sum(duration(r) for r in work.groups[g]))
        held_by.append(by)
    return Schedule(work, tuple(finish), tuple(held_by))
