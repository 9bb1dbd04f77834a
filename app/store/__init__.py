"""The store: engine and sessions, the tables (``*Row``), the one write path for tracker
records and its queries, migrations, cross-process locks and the configuration catalog."""

__all__ = ["catalog", "engine", "locks", "migrations", "records", "schedule", "tables", "text"]
