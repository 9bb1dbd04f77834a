"""Tracker connectors: each speaks one tracker's API and yields tracker-neutral records.

``CONNECTORS`` maps a source's ``kind`` to its connector class; ``app`` builds the
connector from the configuration, so adding a tracker is one entry here and one branch
where ``app`` builds it.
"""

from connectors.jira import JiraConnector

CONNECTORS: dict[str, type] = {JiraConnector.kind: JiraConnector}
