"""Running connectors against the store: sync runs and their cursors, the deletion census,
the trackers' clients and connectors, and cross-tracker references."""

from app.sync.run import SyncOutcome, SyncProgress, run_census, run_sync, utcnow

__all__ = ["SyncOutcome", "SyncProgress", "run_census", "run_sync", "utcnow"]
