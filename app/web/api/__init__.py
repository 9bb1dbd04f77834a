"""The JSON API under ``/api`` (and webhook intake): routers that parse, call a service
and shape the answer with the documents of ``app.programs``."""

__all__ = [
    "errors",
    "items",
    "ops",
    "plans",
    "portfolio",
    "programs",
    "reports",
    "sources",
    "webhooks",
]
