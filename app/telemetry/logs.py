"""Logging set-up: JSON lines when not on a terminal, readable text when on one.

Every record carries the context it was logged in, from context variables the request
middleware and the jobs set: ``request_id`` (an HTTP request), ``source`` (a sync or
census) and ``sync_run`` (the ``sync_run`` row), and ``job`` (a scheduled job). Tasks
started inside that context inherit it, so a sync's concurrent page fetches log under it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

from app.config.settings import LogSettings

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
source_var: ContextVar[str | None] = ContextVar("source", default=None)
sync_run_var: ContextVar[int | None] = ContextVar("sync_run", default=None)
job_var: ContextVar[str | None] = ContextVar("job", default=None)

CONTEXT: dict[str, ContextVar[str | None] | ContextVar[int | None]] = {
    "request_id": request_id_var,
    "source": source_var,
    "sync_run": sync_run_var,
    "job": job_var,
}


@contextlib.contextmanager
def source_context(name: str) -> Iterator[None]:
    """Log everything inside as work on source ``name`` (and no sync run yet)."""
    tokens = source_var.set(name), sync_run_var.set(None)
    try:
        yield
    finally:
        sync_run_var.reset(tokens[1])
        source_var.reset(tokens[0])


class ContextFilter(logging.Filter):
    """Copies the context variables that are set onto each record (never overwriting an
    ``extra`` of the same name)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in CONTEXT.items():
            value = var.get()
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with any ``extra`` fields the caller attached."""

    _standard = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in self._standard})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """The terminal's format, with the record's context in brackets at the end."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(
            f"{name}={getattr(record, name)}" for name in CONTEXT if hasattr(record, name)
        )
        if not context:
            return line
        head, sep, rest = line.partition("\n")
        return f"{head} [{context}]{sep}{rest}"


class _QuietMigrationChecks(logging.Filter):
    """Alembic announces its dialect each time it opens a context, which ``/readyz`` does
    on every probe; the migrations it runs are still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not message.startswith(("Context impl", "Will assume"))


def configure_logging(settings: LogSettings) -> None:
    use_json = settings.format == "json" or (settings.format == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    logging.getLogger("alembic.runtime.migration").addFilter(_QuietMigrationChecks())
    for noisy in ("httpx", "httpcore", "aiosqlite", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
