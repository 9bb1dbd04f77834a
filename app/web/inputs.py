"""What clients send: the risk register's entries, checked at the door.

Text must be storable (no NUL, no lone surrogate: ``app.store.text``), unknown fields are
refused, and the pages' forms and the JSON API take the same models.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.programs.documents import Roam
from app.store import text


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        """Every text field, and every text in a list, must be storable (``app.store.text``)."""
        if isinstance(value, str):
            return text.storable(value)
        if isinstance(value, list):
            return [text.storable(v) if isinstance(v, str) else v for v in value]
        return value


class RiskCreate(_In):
    """A register entry; probability and impact are 1 (rare, minor) to 5 (certain, severe)."""

    title: str = Field(min_length=1, max_length=500)
    probability: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    description: str | None = Field(default=None, max_length=10_000)
    roam: Roam | None = None
    owner: str | None = Field(default=None, max_length=256)
    mitigation: str | None = Field(default=None, max_length=10_000)
    due_on: date | None = None
    outcome: str | None = None
    items: list[str] = Field(default=[], max_length=500)
    decision: bool = Field(
        default=False, description="A decision needed by due_on, not a risk (shown under asks)"
    )


class RiskUpdate(_In):
    """Changes to a risk: any register field; on a derived risk a person's probability and
    impact (null: the data's again), roam, owner, mitigation and due_on — the rest follows
    the data."""

    title: str | None = Field(default=None, min_length=1, max_length=500)
    probability: int | None = Field(default=None, ge=1, le=5)
    impact: int | None = Field(default=None, ge=1, le=5)
    description: str | None = Field(default=None, max_length=10_000)
    roam: Roam | None = None
    owner: str | None = Field(default=None, max_length=256)
    mitigation: str | None = Field(default=None, max_length=10_000)
    due_on: date | None = None
    outcome: str | None = None
    items: list[str] | None = Field(default=None, max_length=500)
    decision: bool | None = None
