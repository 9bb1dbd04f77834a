"""Collecting and printing benchmark figures beside their targets and baselines."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


@dataclass(slots=True)
class Figure:
    name: str
    value: float
    unit: str
    target: str | None = None
    met: bool | None = None
    baseline: str | None = None
    note: str | None = None

    def line(self) -> str:
        parts = [f"{self.name}: {self.value:,.3f} {self.unit}".replace(".000 ", " ")]
        if self.target:
            verdict = "" if self.met is None else (" — met" if self.met else " — MISSED")
            parts.append(f"target {self.target}{verdict}")
        if self.baseline:
            parts.append(f"baseline {self.baseline}")
        if self.note:
            parts.append(self.note)
        return " | ".join(parts)


@dataclass(slots=True)
class Section:
    title: str
    setup: str
    figures: list[Figure] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        print(f"  {figure.line()}", flush=True)
        return figure


def machine() -> str:
    return (
        f"{platform.node()} · {platform.machine()} · {os.cpu_count()} cores · "
        f"Python {platform.python_version()} · {platform.platform(terse=True)}"
    )


@dataclass(frozen=True, slots=True)
class Run:
    """When and on what a run began: the figures mean little without the machine's load."""

    mode: str
    at: datetime
    cpus: int
    load: tuple[float, float, float]

    @classmethod
    def starting(cls, mode: str) -> Run:
        return cls(mode, datetime.now(UTC), os.cpu_count() or 0, os.getloadavg())

    def describe(self) -> str:
        one, five, fifteen = self.load
        return (
            f"{self.mode} run started {self.at:%Y-%m-%d %H:%M} UTC on {machine()}; "
            f"load average at start {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min) "
            f"on {self.cpus} CPUs"
        )


def write_results(sections: list[Section], path: Path, run: Run) -> None:
    one, five, fifteen = os.getloadavg()
    lines = [
        "# Benchmark results",
        "",
        f"A {run.describe()}; at the end {one:.2f} / {five:.2f} / {fifteen:.2f}.",
        "",
        "Each figure stands beside its target and a baseline measured in the same run. A load "
        "average above the CPU count means other work shared the machine: every figure is "
        "then pessimistic, and ratios measured side by side are the more telling.",
        "",
    ]
    for section in sections:
        lines += [
            f"## {section.title}",
            "",
            section.setup,
            "",
            "| figure | value | target | baseline | note |",
            "|---|---|---|---|---|",
        ]
        for f in section.figures:
            verdict = "" if f.met is None else (" ✅" if f.met else " ❌ missed")
            lines.append(
                f"| {f.name} | {f.value:,.3f} {f.unit} | {(f.target or '') + verdict} | "
                f"{f.baseline or ''} | {f.note or ''} |"
            )
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
