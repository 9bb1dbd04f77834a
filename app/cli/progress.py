"""Showing a sync's progress: a live bar on a terminal, plain log lines elsewhere."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from app.sync.run import SyncProgress

log = logging.getLogger("throughline.sync")
LOG_EVERY_SECONDS = 10.0


@contextmanager
def sync_progress(name: str, *, full: bool) -> Iterator[Callable[[SyncProgress], None]]:
    """A callback for ``run_sync``'s progress, shown the way the output can take it."""
    mode = "full" if full else "incremental"
    if sys.stderr.isatty():
        with Progress(
            TextColumn(f"[bold]{name}[/] {mode}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} project(s) · {task.fields[items]:,} items"),
            TimeElapsedColumn(),
            transient=False,
        ) as bar:
            task = bar.add_task(name, total=None, items=0)

            def show(progress: SyncProgress) -> None:
                bar.update(
                    task,
                    total=progress.scopes_total or None,
                    completed=progress.scopes_done,
                    items=progress.items_seen,
                )

            yield show
        return
    last = 0.0

    def log_line(progress: SyncProgress) -> None:
        nonlocal last
        finished = progress.scopes_total and progress.scopes_done == progress.scopes_total
        if finished or time.monotonic() - last >= LOG_EVERY_SECONDS:
            last = time.monotonic()
            log.info(
                "%s %s sync: %d/%d project(s), %d item(s) read, %d written",
                name,
                mode,
                progress.scopes_done,
                progress.scopes_total,
                progress.items_seen,
                progress.items_written,
            )

    yield log_line
