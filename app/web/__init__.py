"""The web layer: the app factory, the JSON API (``web.api``), the HTML pages
(``web.pages``), authentication, request guards, the response cache and CSV."""
