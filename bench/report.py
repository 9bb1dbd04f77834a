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


def write_results(sections: list[Section], path: Path) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        "",
        "Each figure stands beside its target and a baseline measured in the same run.",
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
