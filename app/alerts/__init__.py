"""Alerts on exceptions: told to a program's channels within a minute of being seen.

``app.programs.watch`` raises them as a recomputation stores a program (a colour change,
a high risk opened, a forecast slip); ``sources`` raises them for a source that stops
syncing or whose webhooks fall silent; ``dispatch`` sends what is due (quiet hours and a
digest schedule respected) to Slack, e-mail and a signed webhook (``webhook``), and
records every delivery; ``schedule`` runs it every few seconds; ``listing`` serves them.
"""

__all__ = ["dispatch", "listing", "schedule", "sources", "webhook"]
