"""Colours that hold near a threshold: by a margin, or until two days agree."""

from __future__ import annotations

import pytest

from rollup.hysteresis import Verdict, settle
from rollup.model import Color, RagPolicy

G, A, R = Color.GREEN, Color.AMBER, Color.RED
MARGIN = RagPolicy()
CONSECUTIVE = RagPolicy(hysteresis="consecutive")
OFF = RagPolicy(hysteresis="off")


@pytest.mark.parametrize(
    ("probability", "previous", "shown"),
    [
        pytest.param(0.83, G, G, id="green-holds-just-under-green"),
        pytest.param(0.79, G, A, id="green-turns-amber-past-the-margin"),
        pytest.param(0.88, A, A, id="amber-holds-just-over-green"),
        pytest.param(0.90, A, G, id="amber-turns-green-past-the-margin"),
        pytest.param(0.47, A, A, id="amber-holds-just-under-amber"),
        pytest.param(0.44, A, R, id="amber-turns-red-past-the-margin"),
        pytest.param(0.53, R, R, id="red-holds-just-over-amber"),
        pytest.param(0.95, R, G, id="red-jumps-to-green"),
        pytest.param(0.10, G, R, id="green-drops-to-red"),
        pytest.param(0.60, None, A, id="nothing-to-hold"),
        pytest.param(0.83, Color.GREY, A, id="grey-holds-nothing"),
    ],
)
def test_margin_policy(probability: float, previous: Color | None, shown: Color) -> None:
    before = None if previous is None else Verdict(previous, previous)
    assert settle(probability, before, MARGIN).shown is shown


@pytest.mark.parametrize(
    ("probability", "previous", "shown"),
    [
        pytest.param(0.80, Verdict(G, G), G, id="first-day-amber-holds-green"),
        pytest.param(0.80, Verdict(G, A), A, id="second-day-amber-turns-amber"),
        pytest.param(0.90, Verdict(G, A), G, id="back-to-green-stays-green"),
        pytest.param(0.30, Verdict(G, A), G, id="red-after-amber-is-a-first-day"),
    ],
)
def test_consecutive_policy(probability: float, previous: Verdict, shown: Color) -> None:
    assert settle(probability, previous, CONSECUTIVE).shown is shown


def test_the_raw_verdict_is_kept_for_tomorrow() -> None:
    found = settle(0.80, Verdict(G, G), CONSECUTIVE)
    assert found == Verdict(G, A)
    assert found.held


def test_off_shows_the_band_as_it_is() -> None:
    assert settle(0.84, Verdict(G, G), OFF) == Verdict(A, A)
