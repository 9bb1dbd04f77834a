"""Tracker connectors: each speaks one tracker's API and yields tracker-neutral records."""
