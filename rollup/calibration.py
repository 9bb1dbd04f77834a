"""How far to trust this team's forecasts: past dates and chances against what happened.

Each week's last snapshot kept a forecast: P50 and P85 dates, and P(on time) against a
target. Once the outcome finished, or a date passed with the work still open, that
forecast is judged: was the P50 date met (it should be about half the time), the P85
date (about 85 %)? The Brier score of P(on time) is the mean squared gap between the
chance given and what happened (0 is perfect; always saying 50 % scores 0.25). Forecasts
whose dates have not come yet are pending. Weekly, not daily: a day's forecast is
nearly the day before's, and counting each would overstate the evidence.

A program's P50 and P85 are when its last outcome finishes; its P(on time) is judged by
whether every outcome it covered met its own target.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from rollup.figures import percent
from rollup.model import SnapshotPoint

FORECAST = "monte_carlo"


@dataclass(frozen=True, slots=True)
class Calibration:
    key: str
    """The outcome's key, or ``""`` for the program."""
    judged: int
    """Past forecasts whose dates could be judged."""
    p50_met: int
    p85_met: int
    brier: float | None
    """Mean squared error of P(on time) over the judged chances (None: none judged)."""
    chances: int
    pending: int
    """Past forecasts whose dates have not come yet."""

    @property
    def p50_rate(self) -> float | None:
        return self.p50_met / self.judged if self.judged else None

    @property
    def p85_rate(self) -> float | None:
        return self.p85_met / self.judged if self.judged else None

    @property
    def text(self) -> str:
        if not self.judged and not self.chances:
            waiting = f" ({self.pending} waiting for their dates)" if self.pending else ""
            return f"no past forecast can be judged yet{waiting}"
        dates = (
            f"past P85 dates met {self.p85_met} of {self.judged} times "
            f"({percent(self.p85_rate)}; 85 % expected), P50 {self.p50_met} of {self.judged} "
            f"({percent(self.p50_rate)}; 50 % expected)"
            if self.judged
            else "no past date can be judged yet"
        )
        brier = (
            f"; Brier score {self.brier:.2f} over {self.chances} chance(s) (0 is perfect, "
            "0.25 is a coin)"
            if self.brier is not None
            else ""
        )
        return dates + brier


def weekly(points: Iterable[SnapshotPoint]) -> list[SnapshotPoint]:
    """The last forecast snapshot of each ISO week, oldest first."""
    chosen: dict[tuple[int, int], SnapshotPoint] = {}
    for point in sorted(points, key=lambda p: p.on):
        if point.basis == FORECAST and point.p50_on is not None:
            chosen[point.on.isocalendar()[:2]] = point
    return list(chosen.values())


def _met(on: date | None, finished: date | None, as_of: date) -> bool | None:
    """Whether a date was met: None while it can still be."""
    if on is None:
        return None
    if finished is not None:
        return finished <= on
    return False if as_of > on else None


def judge(
    key: str, points: Sequence[SnapshotPoint], finished: date | None, *, as_of: date
) -> Calibration:
    """One outcome's past forecasts against when it finished (None: not yet)."""
    judged = p50 = p85 = pending = 0
    errors: list[float] = []
    for point in weekly(points):
        m50, m85 = _met(point.p50_on, finished, as_of), _met(point.p85_on, finished, as_of)
        if m50 is None or m85 is None:
            pending += 1
        else:
            judged += 1
            p50 += m50
            p85 += m85
        on_time = _met(point.target, finished, as_of)
        if point.probability_on_time is not None and on_time is not None:
            errors.append((point.probability_on_time - float(on_time)) ** 2)
    brier = round(sum(errors) / len(errors), 4) if errors else None
    return Calibration(key, judged, p50, p85, brier, len(errors), pending)


def judge_program(
    points: Sequence[SnapshotPoint],
    outcomes: Mapping[str, Sequence[SnapshotPoint]],
    finished: Mapping[str, date | None],
    *,
    as_of: date,
) -> Calibration:
    """The program's past forecasts: its dates against its last outcome's finish, its
    chance against whether every outcome it covered met the target it had that day."""
    done = [d for k in outcomes if (d := finished.get(k)) is not None]
    last = max(done) if done and len(done) == len(outcomes) else None
    dated = judge("", points, last, as_of=as_of)
    errors: list[float] = []
    for point in weekly(points):
        if point.probability_on_time is None:
            continue
        verdicts = []
        for key, series in outcomes.items():
            that_day = next((p for p in series if p.on == point.on), None)
            if that_day is None or that_day.probability_on_time is None:
                continue
            verdicts.append(_met(that_day.target, finished.get(key), as_of))
        if not verdicts or (None in verdicts and False not in verdicts):
            continue
        errors.append((point.probability_on_time - float(all(verdicts))) ** 2)
    brier = round(sum(errors) / len(errors), 4) if errors else None
    return Calibration(
        "", dated.judged, dated.p50_met, dated.p85_met, brier, len(errors), dated.pending
    )
