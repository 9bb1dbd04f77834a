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
- **Items** in sentences are named by key ("PAY-12"), or by title where the key is an
  opaque id (an Asana gid): a program manager never reads a 16-digit number.
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


TITLE_SHOWN = 60
"""Characters of a title that name an item in a sentence."""


def item_name(key: str, title: str = "") -> str:
    """How a sentence names an item: by its key where people know it by one ("PAY-12"),
    by its title where the tracker's id is an opaque number (an Asana task's gid)."""
    if not key.isdigit() or not title:
        return key
    shown = title if len(title) <= TITLE_SHOWN else title[: TITLE_SHOWN - 1] + "…"
    return f"“{shown}”"


def key_label(key: str) -> str:
    """What a link to an item says before its title: its key, or "↗" for an opaque id (a
    list that shows the title beside it need not show a 16-digit number)."""
    return "↗" if key.isdigit() else key


def item_label(key: str, title: str = "") -> str:
    """An item named with its title: "PAY-12 (Pay by card)", or the title alone for an
    opaque id."""
    name = item_name(key, title)
    return f"{key} ({title})" if title and name == key else name


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


def progress_parts(done: float, total: float, basis: ProgressBasis) -> tuple[str, str, str]:
    """The three parts of a progress figure: "32", "57 items", "56 %" (a page links the
    first two to the items they count)."""
    fraction = done / total if total > 0 else 0.0
    return amount(done, basis).split(" ")[0], amount(total, basis), percent(fraction)


def progress_figure(done: float, total: float, basis: ProgressBasis) -> ProgressFigure:
    """Progress as every surface states it: done over total, on the program's basis."""
    fraction = done / total if total > 0 else 0.0
    shown = round(100 * min(max(fraction, 0.0), 1.0), 1)
    done_text, total_text, share = progress_parts(done, total, basis)
    return ProgressFigure(done, total, basis, shown, f"{done_text} of {total_text} done ({share})")


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


def outcome_on_time(
    probability: float | None, target: date | None, name: str, finished: date | None = None
) -> OnTime:
    """An outcome's chance to finish by its own target; once it has finished, whether it
    did (a chance of a finished outcome is a fact, not a forecast)."""
    if finished is not None and target is not None:
        late = (finished - target).days
        text = (
            f"done late: finished {day(finished)}, {late} day(s) after its target {day(target)}"
            if late > 0
            else f"done on time: finished {day(finished)}, by its target {day(target)}"
        )
    elif finished is not None:
        text = f"done: finished {day(finished)}; it had no target date"
    elif target is None:
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
