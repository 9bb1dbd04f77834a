"""A faithful, deterministic fake of Asana's REST API, served as an ASGI app.

``FakeAsana(generate(tasks=..., seed=...))`` holds a whole workspace in memory; serve it
with ``connectors.fake.server.serve_in_thread`` or ``throughline fake asana`` and point the
real connector (or the official ``asana`` package) at ``<url>/api/1.0``.
"""

from connectors.fake.asana.data import generate
from connectors.fake.asana.fake import FakeAsana

__all__ = ["FakeAsana", "generate"]
