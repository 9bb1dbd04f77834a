"""What a week's figures mean and why they moved, read from the covered day's snapshot.

The roll-up stored each figure's words (``progress.text``), what its chance is stated
against (``forecast.on_time``) and why the forecast moved since a week back
(``forecast.movement``) in the day's status document; a report quotes them as they were,
so it says what the pages said that day.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from app.programs import documents
from app.reports import schemas as out


def _forecast(part: Mapping[str, Any]) -> documents.Forecast | None:
    stored = part.get("forecast")
    if not stored:
        return None
    try:
        return documents.Forecast.model_validate(stored)
    except ValidationError:
        return None


def explained(status: Mapping[str, Any]) -> out.Explained | None:
    """The day's explained figures; None when its snapshot kept no status document."""
    if not status:
        return None
    forecast = _forecast(status)
    outcomes = []
    for part in status.get("outcomes", []):
        found = _forecast(part)
        outcomes.append(
            out.OutcomeExplained(
                key=part.get("key", ""),
                name=part.get("name", ""),
                progress=part.get("progress", {}).get("text", ""),
                on_time=found.on_time if found else None,
                movement=found.movement if found else None,
            )
        )
    return out.Explained(
        progress=status.get("progress", {}).get("text", ""),
        on_time=forecast.on_time if forecast else None,
        movement=forecast.movement if forecast else None,
        outcomes=outcomes,
    )
