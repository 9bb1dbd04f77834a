"""Run benchmarks: ``python -m bench [--quick] [NAME ...]``; writes bench/RESULTS.md.

A run of every benchmark, or of the ``--quick`` subset, writes ``bench/RESULTS.md`` with the
machine and its load average at the start; a run of named benchmarks only prints.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
from pathlib import Path

from bench.report import Run, Section, write_results

BENCHMARKS = [
    "store_upsert",
    "asana_sync",
    "jira_sync",
    "rollup",
    "recompute",
    "calibration",
    "plans",
    "portfolio",
    "reports",
    "views",
    "webhooks",
    "scale_out",
]
"""Module names under bench/, in the order they run; each has ``async def run() -> Section``."""

QUICK = ["store_upsert", "jira_sync"]
"""The subset ``--quick`` runs: the store's writes and the Jira sync at a smaller site,
within ten minutes on two cores."""
QUICK_ENV = {"THROUGHLINE_BENCH_JIRA_ISSUES": "10000"}
"""What ``--quick`` makes smaller (a value already set in the environment is kept)."""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        choices=[[], *BENCHMARKS],
        metavar="NAME",
        help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"run {', '.join(QUICK)} at smaller sizes (under 10 minutes on 2 cores)",
    )
    args = parser.parse_args()
    if args.quick:
        for name, value in QUICK_ENV.items():
            os.environ.setdefault(name, value)
    names = args.names or (QUICK if args.quick else BENCHMARKS)
    started = Run.starting("quick" if args.quick else "full")
    print(started.describe(), flush=True)
    sections: list[Section] = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        sections.append(asyncio.run(module.run()))
    if not args.names:
        out = Path(__file__).parent / "RESULTS.md"
        write_results(sections, out, started)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
