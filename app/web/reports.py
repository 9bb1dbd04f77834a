"""What the reports' JSON API and pages share: the week named in a path, and a delivery
that runs after the answer is sent."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

from fastapi import BackgroundTasks, Path
from fastapi.exceptions import RequestValidationError

from app.reports import delivery
from app.reports.weeks import WEEK_PATTERN, Week
from app.runtime.state import AppState

WeekPath = Annotated[str, Path(pattern=WEEK_PATTERN, description="An ISO week: 2026-W47")]


def parse_week(text: str) -> Week:
    try:
        return Week.parse(text)
    except ValueError as exc:
        raise RequestValidationError(
            [{"loc": ("path", "week"), "msg": str(exc), "type": "value_error"}]
        ) from None


def schedule_delivery(tasks: BackgroundTasks, state: AppState, key: str, week: Week) -> None:
    """Deliver the report after the answer is sent (the request's commit is done by then)."""
    tasks.add_task(
        delivery.deliver,
        state.sessionmaker,
        state.config,
        key,
        week,
        now=datetime.now(UTC),
        public_url=state.settings.server.public_url,
        environ=os.environ,
    )
