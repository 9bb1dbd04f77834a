"""What the lifespan builds and every request and job shares: one typed object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import ThroughlineConfig
from app.config.settings import Settings
from app.telemetry.metrics import Metrics
from app.web.auth import TokenRegistry


@dataclass(slots=True)
class AppState:
    settings: Settings
    config: ThroughlineConfig
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    read_sessionmaker: async_sessionmaker[AsyncSession]
    metrics: Metrics
    tokens: TokenRegistry
    http_clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    services: dict[str, Any] = field(default_factory=dict)
    """Long-lived helpers later features attach (scheduler, webhook worker), closed on exit."""
