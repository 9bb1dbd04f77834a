"""Webhooks from Jira and Asana: store first, answer fast, apply in the background.

- ``intake``: checks a delivery (size, signature, shape) and stores it in the inbox in its
  own transaction before the answer; the Asana handshake.
- ``inbox``: the ``webhook_event`` queries — store deduplicated, claim, settle, replay.
- ``apply``: what a batch of events means for the store (records, deletions, re-fetches).
- ``worker``: ``WebhookWorker`` drains the inbox per source in arrival order.
- ``subscriptions``: sealed secrets, registrations, heartbeats, silence and freshness.
- ``sealing``: the server key that seals tracker-issued secrets.
- ``register``: ``throughline webhooks register`` and the refresh of Jira dynamic webhooks.
- ``schedule``: the refresh as scheduled work.

Starting and stopping the intake and worker with a process is ``app.runtime.webhooks``.
"""

__all__ = [
    "apply",
    "commits",
    "inbox",
    "intake",
    "register",
    "schedule",
    "sealing",
    "subscriptions",
    "worker",
]
