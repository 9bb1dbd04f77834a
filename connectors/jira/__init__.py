"""Jira Cloud and Data Center: search, bulk fetch, status history, census."""

from connectors.jira.connector import JiraConnector

__all__ = ["JiraConnector"]
