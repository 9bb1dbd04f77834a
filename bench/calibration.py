"""Calibration: how often forecast dates are missed on simulated histories of known shape.

Targets (issue #17): the P85 date missed 15 % ± 4 % of the time and the P50 date
50 % ± 6 %, for every shape of history ``bench.histories`` simulates (steady, bursty,
slowing, young, sparse). The model shipped before #17 (``bench.old_forecast``) is
measured on the same histories in the same run as the baseline. P95 is shown beside
them (5 % expected).
"""

from __future__ import annotations

import os
import time

from bench.histories import QUANTILES, Shape, back_test, current_model
from bench.old_forecast import old_model
from bench.report import Figure, Section

CASES = int(os.environ.get("THROUGHLINE_BENCH_CALIBRATION_CASES", "1000"))
TRIALS = 2_000
TARGETS = {0.50: (0.06, "50 % ± 6 %"), 0.85: (0.04, "15 % ± 4 %"), 0.95: (None, "5 %")}


async def run() -> Section:
    section = Section(
        "Calibration: forecast dates missed on simulated histories",
        f"{CASES} simulated teams per shape (seeded), {TRIALS:,} trials per forecast; a date "
        "is missed when the remaining work truly finished after it. Baseline: the model "
        "shipped before #17, on the same histories in the same run.",
    )
    new, old = current_model(TRIALS), old_model(TRIALS)
    for shape in Shape:
        started = time.perf_counter()
        now = back_test(shape, new, cases=CASES, seed=1)
        then = back_test(shape, old, cases=CASES, seed=1)
        seconds = time.perf_counter() - started
        for q in QUANTILES:
            expected = 1 - q
            tolerance, target = TARGETS[q]
            rate = now.rate(q)
            section.add(
                Figure(
                    f"{shape}: P{round(100 * q)} date missed",
                    100 * rate,
                    "%",
                    target=target,
                    met=None if tolerance is None else abs(rate - expected) <= tolerance,
                    baseline=f"{100 * then.rate(q):.1f} % with the old model",
                    note=f"{now.cases} forecast, {now.unforecast} with too little history; "
                    f"{seconds:.0f} s for both models",
                )
            )
    return section
