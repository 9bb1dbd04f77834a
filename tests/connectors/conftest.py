"""Connector and fake tests hold their traffic to the official API documents."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _official_documents(spec_checked: object) -> None:
    """Every connector and fake test is checked against tests/spec (see tests/conftest)."""
