"""A progress bar as a tiny inline SVG: its width is an attribute, so no inline style
(which the Content-Security-Policy forbids) is needed."""

from __future__ import annotations

from markupsafe import Markup

_BAR = Markup(
    '<svg class="tl-bar" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" '
    'aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
    '<rect class="tl-bar-track" width="100" height="8"/>'
    '<rect class="tl-bar-fill tl-fill-{color}" width="{width}" height="8"/></svg>'
)
COLORS = frozenset({"green", "amber", "red", "grey"})


def progress_bar(percent: float, *, color: str, label: str) -> Markup:
    """``percent`` (0–100) filled in the colour of a RAG state, with ``label`` as its text."""
    width = min(max(percent, 0.0), 100.0)
    return _BAR.format(
        label=label, width=f"{width:.1f}", color=color if color in COLORS else "grey"
    )
