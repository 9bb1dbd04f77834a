"""Placing a chart's labels so that none covers another.

Labels are measured with a conservative estimate of the chart font's advance (no font
metrics on the server): a box per label, from its anchor. ``place`` takes the labels in
order of importance and moves each that would touch one already placed, first down or up
in small steps within the plot, then across, so the reader always sees every word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

Anchor = Literal["start", "middle", "end"]
CHAR_W = 0.62
"""Width of a character in ems: generous for the system sans-serif fonts at 11px."""
GAP = 2.0


@dataclass(frozen=True, slots=True)
class Label:
    text: str
    x: float
    y: float
    """The text's baseline."""
    size: float = 11.0
    anchor: Anchor = "start"
    bold: bool = False

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of the text, a little generously."""
        width = len(self.text) * self.size * (CHAR_W + (0.05 if self.bold else 0.0))
        left = {"start": self.x, "middle": self.x - width / 2, "end": self.x - width}[self.anchor]
        return left, self.y - self.size, left + width, self.y + self.size * 0.3


def overlap(a: Label, b: Label, gap: float = GAP) -> bool:
    al, at, ar, ab = a.box
    bl, bt, br, bb = b.box
    return al < br + gap and bl < ar + gap and at < bb + gap and bt < ab + gap


def place(
    labels: Sequence[Label], *, top: float, bottom: float, left: float, right: float
) -> list[Label]:
    """The labels, moved where needed so no two overlap and each stays in the area."""
    placed: list[Label] = []
    for label in labels:
        best = _inside(label, left, right)
        if any(overlap(best, other) for other in placed):
            best = _free_spot(best, placed, top=top, bottom=bottom, left=left, right=right)
        placed.append(best)
    return placed


def _inside(label: Label, left: float, right: float) -> Label:
    start, _, end, _ = label.box
    if end > right:
        return replace(label, x=label.x - (end - right))
    if start < left:
        return replace(label, x=label.x + (left - start))
    return label


def _free_spot(
    label: Label, placed: Sequence[Label], *, top: float, bottom: float, left: float, right: float
) -> Label:
    step = label.size + GAP
    for n in range(1, 40):
        for dx, dy in ((0.0, n * step), (0.0, -n * step), (-n * 8.0, 0.0), (n * 8.0, 0.0)):
            moved = _inside(replace(label, x=label.x + dx, y=label.y + dy), left, right)
            _, t, _, b = moved.box
            if t < top or b > bottom:
                continue
            if not any(overlap(moved, other) for other in placed):
                return moved
    return label
