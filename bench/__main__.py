"""Run benchmarks: ``python -m bench [NAME ...]``; writes bench/RESULTS.md for a full run."""

from __future__ import annotations

import argparse
import asyncio
import importlib
from pathlib import Path

from bench.report import Section, write_results

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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        choices=[[], *BENCHMARKS],
        metavar="NAME",
        help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})",
    )
    args = parser.parse_args()
    names = args.names or BENCHMARKS
    sections: list[Section] = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        sections.append(asyncio.run(module.run()))
    if not args.names:
        out = Path(__file__).parent / "RESULTS.md"
        write_results(sections, out)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
