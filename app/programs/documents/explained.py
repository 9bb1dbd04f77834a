"""What a forecast figure means and why it moved, as the documents carry it: the date a
chance is stated against, the factors behind a move, how past forecasts fared."""

from __future__ import annotations

from app.programs.documents import program as out
from rollup import figures, movement
from rollup.calibration import Calibration
from rollup.movement import Movement


def on_time_out(on_time: figures.OnTime) -> out.OnTime:
    return out.OnTime(
        meaning=on_time.meaning.value,
        against=on_time.against,
        covers=list(on_time.covers),
        left_out=[out.LeftOut(outcome=n, reason=r) for n, r in on_time.left_out],
        text=on_time.text,
    )


def movement_out(moved: Movement) -> out.Movement:
    return out.Movement(
        since=moved.since,
        until=moved.until,
        p50_days=moved.p50_days,
        p85_days=moved.p85_days,
        observed_p85_days=moved.observed_p85_days,
        probability=moved.probability,
        text=moved.text,
        probability_text=movement.probability_text(moved),
        shares=[
            out.MovementShare(
                factor=s.factor.value,
                p50_days=s.p50_days,
                p85_days=s.p85_days,
                probability=s.probability,
                text=s.text,
            )
            for s in moved.shares
        ],
    )


def calibration_out(found: Calibration) -> out.Calibration:
    return out.Calibration(
        judged=found.judged,
        p50_met=found.p50_met,
        p85_met=found.p85_met,
        brier=found.brier,
        chances=found.chances,
        pending=found.pending,
        text=found.text,
    )
