"""The web layer: the app factory, the JSON API (``web.api``), the HTML pages
(``web.pages``), authentication, request guards, the response cache and CSV."""

__all__ = [
    "api",
    "auth",
    "cache",
    "csv_export",
    "deps",
    "factory",
    "fastpath",
    "guards",
    "inputs",
    "item_filters",
    "pages",
    "reports",
    "security",
    "sources",
]
