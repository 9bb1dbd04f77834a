"""Edge cases decided: finished, finished late, no work, no target, unrefined work."""

from __future__ import annotations

import random
from datetime import UTC, timedelta

from rollup.forecast import ForecastBasis
from rollup.model import (
    Color,
    ForecastOptions,
    Policy,
    ProgressBasis,
    Selector,
    SnapshotPoint,
    WorkItem,
)
from rollup.status import ProgramRollup, evaluate
from rollup.trend import Trend, baselines
from tests.rollup.builders import AS_OF, at, done, item, outcome, program, steady_history, world
from vocabulary import ItemKind

FAST = Policy(forecast=ForecastOptions(trials=2_000))
SOON = AS_OF + timedelta(days=20)
LATER = AS_OF + timedelta(days=90)


def _evaluate(
    items: list[WorkItem], *outcomes: object, trend: Trend | None = None
) -> ProgramRollup:
    index, graph = world(items)
    chosen = program(*outcomes, policy=FAST)  # type: ignore[arg-type]
    return evaluate(
        chosen, index, graph, trend or Trend(), as_of=AS_OF, zone=UTC, rng=random.Random(5)
    )


PAY = Selector("jira", projects=("PAY",))
WEB = Selector("jira", projects=("WEB",))


def test_a_finished_outcome_is_green_whatever_its_scope_history() -> None:
    base = SnapshotPoint(AS_OF - timedelta(days=60), "pay", 2, 0, 2.0)
    trend = Trend.of([base], baselines([base], None))
    items = [done(f"PAY-{n}", 3 + n) for n in range(8)]
    pay = _evaluate(items, outcome("pay", PAY, target=SOON), trend=trend).outcomes[0]
    assert pay.scope_growth is None
    assert pay.rag.color is Color.GREEN
    assert [r.rule for r in pay.rag.reasons] == ["done"]
    assert not [r for r in pay.risks if r.rule == "scope_creep"]


def test_an_outcome_done_late_no_longer_drives_the_programs_chance() -> None:
    late = [done(f"PAY-{n}", 3) for n in range(4)]
    open_work = steady_history("WEB") + [item(f"WEB-{n}") for n in range(1, 4)]
    result = _evaluate(
        late + open_work,
        outcome("pay", PAY, name="Pay", target=AS_OF - timedelta(days=10)),
        outcome("web", WEB, name="Web", target=LATER),
    )
    pay, web = result.outcomes
    assert pay.done_late
    assert pay.rag.reasons[0].rule == "done_late"
    assert result.forecast.probability_on_time == web.forecast.probability_on_time
    assert result.on_time.covers == ("Web",)
    assert result.on_time.left_out == (("Pay", "done late"),)
    assert "outcome_done_late" in [r.rule for r in result.rag.reasons]
    assert result.rag.color is Color.GREEN


def test_an_outcome_without_work_says_so() -> None:
    result = _evaluate(steady_history("PAY"), outcome("pay", PAY), outcome("web", WEB))
    web = result.outcomes[1]
    assert web.forecast.basis is ForecastBasis.NO_WORK
    assert (web.rag.color, web.rag.reasons[0].detail) == (Color.GREY, "no work is selected")
    assert ("Web", "no work") in result.on_time.left_out


def test_an_outcome_of_unrefined_epics_says_its_work_is_not_broken_down_yet() -> None:
    epic = item("WEB-1", kind=ItemKind.EPIC)
    web = _evaluate([epic], outcome("web", WEB)).outcomes[0]
    assert web.rag.reasons[0].detail == (
        "no work is broken down yet: 1 epic(s) have nothing under them"
    )


def test_an_outcome_without_a_target_is_explained_and_left_out_of_the_programs_chance() -> None:
    items = [*steady_history("PAY"), item("PAY-1"), *steady_history("WEB"), item("WEB-1")]
    result = _evaluate(items, outcome("pay", PAY, name="Pay"), outcome("web", WEB, target=LATER))
    pay = result.outcomes[0]
    assert pay.rag.color is Color.GREY
    assert pay.rag.reasons[0].detail == "no target date to judge against"
    assert ("Pay", "no target") in result.on_time.left_out


def test_unrefined_epics_add_the_work_a_refined_epic_holds() -> None:
    refined = item("PAY-500", kind=ItemKind.EPIC)
    under = [item(f"PAY-{n}", parent_key="PAY-500") for n in range(1, 7)]
    history = [done(f"PAY-{100 + n}", 1 + n, parent_key="PAY-500") for n in range(30)]
    placeholder = item("PAY-900", kind=ItemKind.EPIC)
    result = _evaluate([refined, placeholder, *under, *history], outcome("pay", PAY))
    pay = result.outcomes[0]
    assert pay.unrefined == (("jira", "PAY-900"),)
    # The refined epic holds 36 units: the placeholder is expected to become as many.
    assert pay.forecast.remaining == 6 + 36


def test_program_progress_reconciles_with_its_items() -> None:
    items = [done(f"PAY-{n}") for n in range(32)] + [item(f"PAY-{n}") for n in range(32, 57)]
    result = _evaluate(items, outcome("pay", PAY))
    assert (result.progress.done, result.progress.total) == (32, 57)
    assert round(100 * result.progress.fraction, 1) == 56.1


def test_the_verdict_is_held_against_yesterdays() -> None:
    items = steady_history("PAY") + [item(f"PAY-{n}") for n in range(1, 10)]
    # A target the work is 82 % likely to meet: amber today, within 5 points of green.
    target = AS_OF + timedelta(days=29)
    fresh = _evaluate(items, outcome("pay", PAY, target=target)).outcomes[0]
    assert fresh.forecast.probability_on_time is not None
    assert 0.80 <= fresh.forecast.probability_on_time < 0.85
    assert fresh.rag.color is Color.AMBER
    yesterday = SnapshotPoint(
        AS_OF - timedelta(days=1), "pay", 45, 36, verdict=Color.GREEN, verdict_raw=Color.GREEN
    )
    held = _evaluate(items, outcome("pay", PAY, target=target), trend=Trend.of([yesterday]))
    assert held.outcomes[0].rag.color is Color.GREEN
    assert held.outcomes[0].rag.verdict is not None
    assert held.outcomes[0].rag.verdict.raw is Color.AMBER


def test_created_long_ago_with_nothing_finished_is_not_new_work() -> None:
    stalled = _evaluate([item("PAY-1", created_at=at(100))], outcome("pay", PAY)).outcomes[0]
    assert stalled.rag.color is Color.RED
    assert stalled.rag.reasons[0].rule == "stalled"


def test_an_estimate_basis_forecasts_points() -> None:
    history = [done(f"PAY-{100 + n}", 1 + n * 7 / 3, estimate=5.0) for n in range(36)]
    left = [item(f"PAY-{n}", estimate=3.0) for n in range(1, 11)]
    pay = _evaluate(history + left, outcome("pay", PAY, basis=ProgressBasis.ESTIMATE)).outcomes[0]
    assert pay.forecast.remaining == 30.0
    assert pay.forecast.history.sizes[-1] == 15.0
    assert pay.forecast.pace is not None
    # Points come in lumps the size of items: Σs²/Σs over the outcome's items at least.
    assert pay.forecast.pace.dispersion >= (36 * 25 + 10 * 9) / (36 * 5 + 10 * 3)


def test_scope_growth_in_the_snapshots_is_drawn_into_the_forecast() -> None:
    items = steady_history("PAY") + [item(f"PAY-{n}") for n in range(1, 13)]
    growing = Trend.of(
        [SnapshotPoint(AS_OF - timedelta(days=7 * k), "pay", 48 - k, 36) for k in range(1, 5)]
    )
    plain = _evaluate(items, outcome("pay", PAY)).outcomes[0].forecast
    grown = _evaluate(items, outcome("pay", PAY), trend=growing).outcomes[0].forecast
    assert plain.growth is None
    assert grown.growth is not None
    assert grown.p50 is not None
    assert plain.p50 is not None
    assert grown.p50.on is not None
    assert plain.p50.on is not None
    assert grown.p50.on > plain.p50.on
