"""``throughline demo``: a living organisation in the fake trackers, served by Throughline.

``config`` writes the demo's configuration, ``history`` plays and stores six months of
history through the real connectors, ``live`` runs the fakes, the service, the syncs and
the organisation's daily changes until Ctrl-C.
"""

from app.demo.live import Demo, Options, run, settings_for

__all__ = ["Demo", "Options", "run", "settings_for"]
