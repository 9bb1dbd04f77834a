"""Runs the connector contract (``tests/connectors/contract.py``) over every connector."""

from tests.connectors.contract import TestConnectorContract, tracker

__all__ = ["TestConnectorContract", "tracker"]
