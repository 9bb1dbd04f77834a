"""Progress of a sync off a terminal: a log line now and then, and one at the end."""

from __future__ import annotations

import logging

import pytest

from app.cli.progress import sync_progress
from app.sync.run import SyncProgress


def test_off_a_terminal_progress_is_logged_sparingly_and_at_the_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="throughline.sync")
    with sync_progress("acme", full=True) as show:
        show(SyncProgress(scopes_total=2, scopes_done=0, items_seen=10, items_written=10))
        for seen in range(11, 50):
            show(SyncProgress(scopes_total=2, scopes_done=1, items_seen=seen, items_written=seen))
        show(SyncProgress(scopes_total=2, scopes_done=2, items_seen=50, items_written=48))
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "acme full sync: 0/2 project(s), 10 item(s) read, 10 written",
        "acme full sync: 2/2 project(s), 50 item(s) read, 48 written",
    ]
