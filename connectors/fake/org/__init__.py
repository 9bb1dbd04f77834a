"""Northwind Outfitters: a believable organisation in the fake Jira and the fake Asana.

Three programs' worth of teams, epics and stories (``plan``), put into both fakes on one
clock (``world``), played out over six months of history and then kept alive (``flow``).
The demo serves it; tests and screenshots use it too.
"""

from connectors.fake.org.flow import Change, Flow
from connectors.fake.org.plan import HISTORY_DAYS, LANES
from connectors.fake.org.world import Organisation

__all__ = ["HISTORY_DAYS", "LANES", "Change", "Flow", "Organisation"]
