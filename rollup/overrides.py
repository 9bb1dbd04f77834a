"""A program manager's say on derived risks: their scores, owner, mitigation and ROAM.

A derived risk follows the data: it opens when its signal appears and closes when it
clears. A program manager may still know better — this dependency is less likely to
bite, that one is owned by Ana — and may set probability, impact, owner, mitigation and
ROAM on it. The override holds while the signal lasts (the risk's ``fingerprint`` stays
the same), is shown as an override beside what the data says, and lapses with the
signal: a risk that comes back later starts from the data again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from rollup.model import Severity
from rollup.risk import DerivedRisk, severity_of

ROAM = ("resolved", "owned", "accepted", "mitigated")


@dataclass(frozen=True, slots=True)
class Override:
    """What a person set on a derived risk (None: left to the data or unset)."""

    fingerprint: str
    probability: int | None = None
    impact: int | None = None
    owner: str | None = None
    mitigation: str | None = None
    roam: str | None = None
    set_by: str | None = None
    """Who set it last (the API token's name)."""
    set_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("probability", "impact"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= 5:
                raise ValueError(f"{name} must be 1 to 5, not {value}")
        if self.roam is not None and self.roam not in ROAM:
            raise ValueError(f"roam must be one of {', '.join(ROAM)}, not {self.roam!r}")


@dataclass(frozen=True, slots=True)
class ManagedRisk:
    """A derived risk as the program manager sees it: the data's scores, and theirs."""

    risk: DerivedRisk
    override: Override | None = None

    @property
    def probability(self) -> int:
        chosen = self.override.probability if self.override else None
        return chosen if chosen is not None else self.risk.probability

    @property
    def impact(self) -> int:
        chosen = self.override.impact if self.override else None
        return chosen if chosen is not None else self.risk.impact

    @property
    def severity(self) -> Severity:
        return severity_of(self.probability, self.impact)

    @property
    def overridden(self) -> tuple[str, ...]:
        """The fields a person set, in a fixed order."""
        if self.override is None:
            return ()
        fields = ("probability", "impact", "owner", "mitigation", "roam")
        return tuple(f for f in fields if getattr(self.override, f) is not None)


def manage(
    risks: Sequence[DerivedRisk], overrides: Mapping[str, Override]
) -> tuple[ManagedRisk, ...]:
    """Every derived risk with the override that applies to it (by fingerprint)."""
    return tuple(ManagedRisk(r, overrides.get(r.fingerprint)) for r in risks)


def lapsed(risks: Iterable[DerivedRisk], overrides: Mapping[str, Override]) -> tuple[str, ...]:
    """Fingerprints of overrides whose signal has cleared: they no longer apply."""
    live = {r.fingerprint for r in risks}
    return tuple(sorted(f for f in overrides if f not in live))
