"""Process lifecycle: the typed state a process shares, the scheduler machinery, the
service's own syncs and the webhook worker, opened and closed in one place."""

__all__ = ["lifecycle", "scheduler", "state", "syncs", "webhooks"]
