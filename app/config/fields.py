"""Checked strings the configuration shares: a cron expression and a time zone name."""

from __future__ import annotations

import zoneinfo
from typing import Annotated

from pydantic import AfterValidator

from app.config.cron import crontab_trigger

__all__ = ["CronExpression", "TimeZoneName"]


def _cron(value: str) -> str:
    try:
        crontab_trigger(value, zoneinfo.ZoneInfo("UTC"))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid cron expression ({exc})") from exc
    return value


def _time_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a known time zone") from exc
    return value


CronExpression = Annotated[str, AfterValidator(_cron)]
"""Five crontab fields (weekdays 0 or 7 for Sunday, or names such as MON)."""
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
"""An IANA time zone name, such as Europe/Berlin."""
