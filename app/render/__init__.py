"""Charts drawn on the server as inline SVG: no scripts, no external fonts, printable.

Every chart carries a ``<title>`` and a ``<desc>`` that says in words what it shows, and
escapes every piece of text it draws.
"""

__all__ = [
    "axis",
    "bar",
    "burnup",
    "depmap",
    "gantt",
    "heatmap",
    "layered",
    "style",
    "templates",
    "timeline",
]
