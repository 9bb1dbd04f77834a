"""The words every layer shares: what state an item is in, what kind it is, how a sync run
or a webhook delivery ended.

A leaf: it imports nothing of Throughline's, so the connectors, the pure roll-up and the
service can all speak it. The store keeps these as their string values.
"""

from __future__ import annotations

from enum import StrEnum


class StatusCategory(StrEnum):
    """Where an item stands, whatever its tracker calls the status."""

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class ItemKind(StrEnum):
    EPIC = "epic"
    STORY = "story"
    TASK = "task"
    BUG = "bug"
    SUBTASK = "subtask"
    MILESTONE = "milestone"


class RunMode(StrEnum):
    """What a sync run did: read everything, read what changed, or count what still exists."""

    FULL = "full"
    INCREMENTAL = "incremental"
    CENSUS = "census"


class RunStatus(StrEnum):
    """How a sync run ended (``running`` while it runs)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    """Some scopes failed; what the others read is stored."""
    FAILED = "failed"
    ABANDONED = "abandoned"
    """Its process stopped (or was killed) before it finished; the next run re-reads."""


class EventState(StrEnum):
    """Where a stored webhook delivery is: waiting, applied, given up on, or refused."""

    PENDING = "pending"
    APPLIED = "applied"
    FAILED = "failed"
    REJECTED = "rejected"


class DeliveryStatus(StrEnum):
    """Where a report's delivery to one channel is."""

    WAITING = "waiting"
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


__all__ = [
    "DeliveryStatus",
    "EventState",
    "ItemKind",
    "RunMode",
    "RunStatus",
    "StatusCategory",
]
