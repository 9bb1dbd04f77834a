"""Prometheus metrics, one registry per app so tests can build many apps in one process.

Most are updated where the work happens. Those read from the database (data freshness
per source, the webhook backlog and its lag) are refreshed when ``/metrics`` is scraped,
so every replica reports the same truth whichever process did the work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
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


BacklogProvider = Callable[[], Awaitable[Mapping[str, Backlog]]]
"""Reads the inbox's backlog per source (``Metrics.backlog``)."""


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
        self.webhook_lag = Gauge(
            "throughline_webhook_lag_seconds",
            "Age of the oldest webhook event of a source not yet applied (0 when none is "
            "waiting): how far behind the webhook worker is.",
            ["source"],
            registry=self.registry,
        )
        self.backlog: BacklogProvider | None = None
        """Reads the inbox at scrape time (set by the lifespan, ``app.webhooks``); it sets
        ``webhook_backlog`` and ``webhook_lag`` per source in every process, whichever
        process drains."""
        self.last_sync_timestamp = Gauge(
            "throughline_source_last_sync_timestamp_seconds",
            "When the last successful sync of a source finished (Unix time).",
            ["source"],
            registry=self.registry,
        )
        self.webhook_deliveries = Counter(
            "throughline_webhook_deliveries_total",
            "Webhook deliveries by outcome (stored, duplicate, heartbeat, handshake, "
            "rejected, 401, 413, ...).",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.webhook_events_applied = Counter(
            "throughline_webhook_events_applied_total",
            "Webhook events applied to the store.",
            ["source"],
            registry=self.registry,
        )
        self.webhook_events_failed = Counter(
            "throughline_webhook_events_failed_total",
            "Failed tries of webhook events (each retry counts).",
            ["source"],
            registry=self.registry,
        )
        self.webhook_backlog = Gauge(
            "throughline_webhook_backlog_events",
            "Webhook events stored and due, not yet applied, as the worker last saw them.",
            ["source"],
            registry=self.registry,
        )
        self.webhook_freshness_seconds = Histogram(
            "throughline_webhook_freshness_seconds",
            "From a tracker's updated time to the change being visible in the store "
            "(stage=store) and in the roll-up (stage=rollup).",
            ["source", "stage"],
            registry=self.registry,
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
        )
