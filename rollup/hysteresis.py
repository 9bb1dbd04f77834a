"""Colours that do not flicker: the forecast's verdict changes only on a real move.

A probability hovering at a threshold would flip a colour back and forth with every
sync. The policy (``RagPolicy.hysteresis``) chooses how a verdict earns a change:

- ``margin`` (the default): the probability must cross a threshold by
  ``hysteresis_margin``. With green from 85 % and a margin of 5 points, an amber outcome
  turns green only at 90 %, and a green one turns amber only under 80 %;
- ``consecutive``: the new colour must be what the probability says on two days running
  (the previous day's raw verdict is kept beside the shown one);
- ``off``: the probability's band, as it is.

Only the forecast's verdict is held; rules that push towards red act at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from rollup.model import Color, RagPolicy

_BANDS = (Color.RED, Color.AMBER, Color.GREEN)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The forecast's verdict as shown, and what the probability alone said."""

    shown: Color
    raw: Color

    @property
    def held(self) -> bool:
        """Whether hysteresis kept a colour the probability alone would have changed."""
        return self.shown is not self.raw


def band(probability: float, policy: RagPolicy, *, shift: tuple[float, float] = (0, 0)) -> Color:
    """The colour of a probability: green from ``green_at``, amber from ``amber_at``."""
    green_at, amber_at = policy.green_at + shift[0], policy.amber_at + shift[1]
    if probability >= green_at:
        return Color.GREEN
    return Color.AMBER if probability >= amber_at else Color.RED


def settle(probability: float, previous: Verdict | None, policy: RagPolicy) -> Verdict:
    """Today's verdict, given the previous day's (None: nothing to hold on to)."""
    raw = band(probability, policy)
    if previous is None or previous.shown not in _BANDS or policy.hysteresis == "off":
        return Verdict(raw, raw)
    if policy.hysteresis == "consecutive":
        changed = raw is not previous.shown and raw is previous.raw
        return Verdict(raw if changed or raw is previous.shown else previous.shown, raw)
    # Each threshold moves away from the side the previous colour was on.
    rank = _BANDS.index(previous.shown)
    margin = policy.hysteresis_margin
    shift = (
        -margin if rank >= 2 else margin,
        -margin if rank >= 1 else margin,
    )
    return Verdict(band(probability, policy, shift=shift), raw)
