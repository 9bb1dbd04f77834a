"""Process-wide settings that the entry points (CLI, server, benchmarks) apply once."""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Keep CPython's cyclic collector from dominating a large sync.

    A sync allocates millions of short-lived objects (parsed issues, records, rows). With
    the default thresholds the collector runs every 700 allocations and keeps re-walking
    the long-lived start-up heap (SQLAlchemy, pydantic schemas, FastAPI): a 100,000-issue
    sync measured 27 s with them and 18.5 s with this. Freezing what start-up allocated
    takes it out of every future collection; a larger young generation collects less often.
    Memory stays bounded: cycles are still collected, only in bigger batches.
    """
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)
