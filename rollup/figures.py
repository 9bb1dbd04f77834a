"""One definition per headline figure: what it counts, what it is stated against, and
how it reads. The API, every page, the weekly report and the CSV take their wording
from here, so the same number never means two things.

- **Progress** is done over total on one basis for the whole program, count or estimate
  (``ProgressFigure``): "32 of 57 items done (56 %)". A program's is over its distinct
  units of work, never a mean of its outcomes' percentages.
- **P(on time)** is the share of forecast trials finishing by a date, and says which:
  an outcome's is against its own target; a program's is that *every* outcome still
  open meets *its own* target in the same trial (``OnTime``). Outcomes already done,
  or without a target, are left out and listed as left out.
- **Dates** read one way: "10 Apr 2027".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from rollup.model import ProgressBasis


def day(on: date | None) -> str:
    """A date as every figure writes it ("10 Apr 2027"; "no date" for none)."""
    return f"{on.day} {on:%b %Y}" if on is not None else "no date"


def unit(basis: ProgressBasis) -> str:
    """What the basis counts: ``items`` or ``points``."""
    return "items" if basis is ProgressBasis.COUNT else "points"


def amount(value: float, basis: ProgressBasis) -> str:
    """A quantity in the basis's unit: "12 items", "34.5 points"."""
    shown = f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
    single = basis is ProgressBasis.COUNT and shown == "1"
    return f"{shown} {'item' if single else unit(basis)}"


def percent(fraction: float | None) -> str:
    """A share as a whole percentage ("56 %"; "–" when there is none)."""
    return "–" if fraction is None else f"{round(100 * fraction):.0f} %"


@dataclass(frozen=True, slots=True)
class ProgressFigure:
    done: float
    total: float
    basis: ProgressBasis
    percent: float
    """Done over total, 0–100, one decimal; 0 without scope."""
    text: str


def progress_figure(done: float, total: float, basis: ProgressBasis) -> ProgressFigure:
    """Progress as every surface states it: done over total, on the program's basis."""
    fraction = done / total if total > 0 else 0.0
    shown = round(100 * min(max(fraction, 0.0), 1.0), 1)
    done_text = amount(done, basis).split(" ")[0]
    text = f"{done_text} of {amount(total, basis)} done ({percent(fraction)})"
    return ProgressFigure(done, total, basis, shown, text)


class OnTimeMeaning(StrEnum):
    TARGET = "target"
    """An outcome: finishing by its own target."""
    ALL_TARGETS = "all_targets"
    """A program: every outcome still open finishing by its own target."""


@dataclass(frozen=True, slots=True)
class OnTime:
    """A probability of finishing on time, with the date or dates it is stated against."""

    probability: float | None
    meaning: OnTimeMeaning
    against: date | None
    """An outcome's target; for a program, the latest target it covers."""
    covers: tuple[str, ...]
    """Names of the outcomes whose targets it covers."""
    left_out: tuple[tuple[str, str], ...] = ()
    """Outcomes it leaves out, by name, and why ("done late", "no target", ...)."""
    text: str = ""


def outcome_on_time(probability: float | None, target: date | None, name: str) -> OnTime:
    """An outcome's chance to finish by its own target."""
    if target is None:
        text = f"{name} has no target date to judge against"
    elif probability is None:
        text = f"no forecast yet for {name} against its target {day(target)}"
    else:
        text = f"{percent(probability)} likely to finish by its target {day(target)}"
    return OnTime(probability, OnTimeMeaning.TARGET, target, (name,), (), text)


def program_on_time(
    probability: float | None,
    covered: Sequence[tuple[str, date]],
    left_out: Sequence[tuple[str, str]] = (),
) -> OnTime:
    """A program's chance that every open outcome meets its own target, in one trial."""
    names = tuple(name for name, _ in covered)
    latest = max((t for _, t in covered), default=None)
    if not covered:
        text = "no open outcome has a target date to judge against"
    elif probability is None:
        text = "no forecast yet for all outcomes by their targets"
    elif len(covered) == 1:
        name, target = covered[0]
        text = f"{percent(probability)} likely that {name} finishes by its target {day(target)}"
    else:
        text = (
            f"{percent(probability)} likely that all {len(covered)} open outcomes finish "
            f"by their targets (the latest {day(latest)})"
        )
    return OnTime(probability, OnTimeMeaning.ALL_TARGETS, latest, names, tuple(left_out), text)
