"""OpenAPI examples of the portfolio documents; a test validates each against its model."""

from __future__ import annotations

from typing import Any

GOAL: dict[str, Any] = {}
PORTFOLIO: dict[str, Any] = {}
DEPENDENCIES: dict[str, Any] = {}
PEOPLE: dict[str, Any] = {}
