"""Prometheus metrics, one registry per app so tests can build many apps in one process.

Most are updated where the work happens. Those read from the database (data freshness
per source, the webhook backlog and its lag) are refreshed when ``/metrics`` is scraped,
so every replica reports the same truth whichever process did the work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True, slots=True)
class Backlog:
    """The webhook inbox as ``/metrics`` reports it."""

    pending: int
    """Deliveries received and not yet applied."""
    oldest_received_at: datetime | None
    """When the oldest of them arrived (None when none is pending)."""


BacklogProvider = Callable[[], Awaitable[Backlog]]
"""Reads the inbox's backlog; the webhook intake registers one (``Metrics.backlog``)."""


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_request_seconds = Histogram(
            "throughline_http_request_seconds",
            "Time to answer an HTTP request.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.sync_seconds = Histogram(
            "throughline_sync_seconds",
            "Duration of a sync run.",
            ["source", "mode"],
            registry=self.registry,
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
        )
        self.sync_items = Counter(
            "throughline_sync_items_total",
            "Items written by syncs.",
            ["source"],
            registry=self.registry,
        )
        self.sync_errors = Counter(
            "throughline_sync_errors_total",
            "Sync runs that failed.",
            ["source"],
            registry=self.registry,
        )
        self.sync_warnings = Counter(
            "throughline_sync_warnings_total",
            "Tracker records skipped as malformed.",
            ["source"],
            registry=self.registry,
        )
        self.tracker_rate_limited = Counter(
            "throughline_tracker_rate_limited_total",
            "429 answers from a tracker.",
            ["source"],
            registry=self.registry,
        )
        self.rollup_recompute_seconds = Histogram(
            "throughline_rollup_recompute_seconds",
            "Time to recompute and store the roll-ups a change affected.",
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.jobs = Counter(
            "throughline_scheduled_jobs_total",
            "Scheduled job firings by kind and outcome (ran, failed, skipped_busy: another "
            "process held its lock, skipped_done: another process ran that due time, "
            "skipped_stopping).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.source_freshness = Gauge(
            "throughline_source_freshness_seconds",
            "Seconds since the last successful sync of a source finished (read from the "
            "database at scrape time; absent for a source never synced).",
            ["source"],
            registry=self.registry,
        )
        self.webhook_backlog = Gauge(
            "throughline_webhook_backlog",
            "Webhook deliveries received and not yet applied.",
            registry=self.registry,
        )
        self.webhook_lag = Gauge(
            "throughline_webhook_lag_seconds",
            "Age of the oldest webhook delivery not yet applied (0 when none is waiting).",
            registry=self.registry,
        )
        self.backlog: BacklogProvider | None = None
        """Set by the webhook intake; until then the two webhook gauges stay at 0."""
        self.last_sync_timestamp = Gauge(
            "throughline_source_last_sync_timestamp_seconds",
            "When the last successful sync of a source finished (Unix time).",
            ["source"],
            registry=self.registry,
        )
