"""Tracker connectors: each speaks one tracker's API and yields tracker-neutral records.

``app.sync.trackers`` builds them, one adapter per tracker kind."""
