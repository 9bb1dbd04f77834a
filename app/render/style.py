"""The charts' stylesheet, inlined wherever a chart is shown (pages, reports, e-mail)."""

CHART_CSS = """
.tl-chart{width:100%;height:auto;font:11px system-ui,-apple-system,"Segoe UI",sans-serif}
.tl-grid{stroke:#e5e7eb;stroke-width:1}
.tl-axis{fill:#5b6370}
.tl-label{font-weight:600}
path.tl-scope{stroke:#6b7280;stroke-width:2;stroke-dasharray:4 3}
circle.tl-scope{fill:#6b7280}
text.tl-scope{fill:#374151}
path.tl-done{stroke:#2563eb;stroke-width:2.5}
circle.tl-done{fill:#2563eb}
text.tl-done{fill:#1d4ed8}
.tl-cone{fill:#2563eb;fill-opacity:.12;stroke:none}
.tl-cone-p50{stroke:#2563eb;stroke-width:1.5;stroke-dasharray:2 3}
line.tl-today{stroke:#9ca3af;stroke-width:1;stroke-dasharray:3 3}
text.tl-today{fill:#5b6370}
line.tl-target{stroke:#dc2626;stroke-width:1.5}
text.tl-target{fill:#b91c1c}
.tl-band-todo{fill:#cbd5e1}.tl-band-in_progress{fill:#f59e0b;fill-opacity:.75}
.tl-band-done{fill:#2563eb;fill-opacity:.75}
.tl-shade-1{fill-opacity:.5}.tl-shade-2{fill-opacity:.3}.tl-shade-3{fill-opacity:.95}
polygon.tl-status{stroke:#fff;stroke-width:.6}
.tl-dot{fill:#2563eb;fill-opacity:.7}.tl-dot-late{fill:#dc2626}
.tl-bar-a{fill:#2563eb}.tl-bar-b{fill:#f59e0b}.tl-bar-neg{fill:#dc2626}
.tl-ref{stroke:#6b7280;stroke-width:1;stroke-dasharray:4 3}
path.tl-trend{stroke:#111827;stroke-width:1.5;stroke-dasharray:2 3;fill:none}
path.tl-wip{stroke:#f59e0b;stroke-width:2.5;fill:none}
"""
