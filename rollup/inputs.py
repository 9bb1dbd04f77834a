"""What one outcome's forecast is computed from, and how a snapshot keeps it.

Everything is in the progress basis's unit. The inputs are small — a dozen weekly
windows and a few numbers — so each day's snapshot keeps them, and a later day can
re-run the forecast of any earlier one with one input swapped (``rollup.movement``).
Dependency chains are kept as the spread of when they end, not as the graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from rollup.history import History

CHAIN_QUANTILES = tuple(q / 20 for q in range(21))
"""Where inputs keep the spread of their chains' end (every 5 %)."""


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything one outcome's forecast is computed from, in the basis's unit."""

    as_of: date
    target: date | None
    scope: float
    done: float
    history: History
    elapsed: float = 1.0
    """Share of ``as_of`` gone when the forecast was made."""
    unrefined: float = 0.0
    """Work expected from unrefined epics (``rollup.refinement``) beyond what is counted."""
    unit_dispersion: float = 1.0
    """The least dispersion the unit implies (items: 1; points: Σs²/Σs of item sizes)."""
    growth: History | None = None
    """Net scope added per week from the snapshots (None: not modelled)."""
    chain_days: tuple[float, ...] = ()
    """When dependency chains end, at ``CHAIN_QUANTILES`` (days after ``as_of``)."""
    pace_factor: float = 1.0
    """What the drawn pace is multiplied by: 1 but in a what-if scenario."""
    pace_added: float = 0.0
    """Work per week added to the drawn pace (after the factor): 0 but in a what-if."""

    @property
    def remaining(self) -> float:
        return max(0.0, self.scope - self.done) + self.unrefined


def _history_data(history: History) -> dict[str, Any]:
    return {
        "weeks": list(history.weeks),
        "starts": [d.isoformat() for d in history.starts],
        "exposure": list(history.exposure),
        "sizes": list(history.sizes),
    }


def _history_of(data: Mapping[str, Any]) -> History:
    return History(
        tuple(int(w) for w in data.get("weeks", ())),
        tuple(date.fromisoformat(d) for d in data.get("starts", ())),
        tuple(float(e) for e in data.get("exposure", ())),
        tuple(float(s) for s in data.get("sizes", ())),
    )


def to_data(inputs: Inputs) -> dict[str, Any]:
    """Inputs as plain JSON data."""
    data: dict[str, Any] = {
        "as_of": inputs.as_of.isoformat(),
        "target": inputs.target.isoformat() if inputs.target else None,
        "scope": inputs.scope,
        "done": inputs.done,
        "history": _history_data(inputs.history),
        "elapsed": inputs.elapsed,
        "unrefined": inputs.unrefined,
        "unit_dispersion": inputs.unit_dispersion,
        "growth": None if inputs.growth is None else _history_data(inputs.growth),
        "chain_days": list(inputs.chain_days),
    }
    if inputs.pace_factor != 1.0:
        data["pace_factor"] = inputs.pace_factor
    if inputs.pace_added:
        data["pace_added"] = inputs.pace_added
    return data


def from_data(data: Mapping[str, Any]) -> Inputs:
    """The inputs ``to_data`` kept (``ValueError`` or ``KeyError`` on anything else)."""
    growth = data.get("growth")
    target = data.get("target")
    return Inputs(
        as_of=date.fromisoformat(data["as_of"]),
        target=date.fromisoformat(target) if target else None,
        scope=float(data["scope"]),
        done=float(data["done"]),
        history=_history_of(data["history"]),
        elapsed=float(data.get("elapsed", 1.0)),
        unrefined=float(data.get("unrefined", 0.0)),
        unit_dispersion=float(data.get("unit_dispersion", 1.0)),
        growth=None if growth is None else _history_of(growth),
        chain_days=tuple(float(d) for d in data.get("chain_days", ())),
        pace_factor=float(data.get("pace_factor", 1.0)),
        pace_added=float(data.get("pace_added", 0.0)),
    )
