"""Tracker connectors: each speaks one tracker's API and yields tracker-neutral records.

``KINDS`` maps a source's ``kind`` to its connector class; ``app.trackers`` builds them.
"""

from connectors.asana.connector import AsanaConnector
from connectors.jira.connector import JiraConnector

KINDS: dict[str, type] = {AsanaConnector.kind: AsanaConnector, JiraConnector.kind: JiraConnector}
