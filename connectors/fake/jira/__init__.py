"""A fake Jira (Cloud or Data Center) for tests, benchmarks and the demo."""

from connectors.fake.jira.app import FakeJira
from connectors.fake.jira.data import generate
from connectors.fake.jira.faults import Faults

__all__ = ["FakeJira", "Faults", "generate"]
