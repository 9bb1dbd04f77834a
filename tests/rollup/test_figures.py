"""One definition per figure: how progress and the chance to be on time read."""

from __future__ import annotations

from datetime import date

import pytest

from rollup.figures import (
    OnTimeMeaning,
    amount,
    day,
    outcome_on_time,
    program_on_time,
    progress_figure,
)
from rollup.model import ProgressBasis

APR_10 = date(2027, 4, 10)


@pytest.mark.parametrize(
    ("done", "total", "basis", "percent", "text"),
    [
        (32, 57, ProgressBasis.COUNT, 56.1, "32 of 57 items done (56 %)"),
        (12.5, 40, ProgressBasis.ESTIMATE, 31.2, "12.5 of 40 points done (31 %)"),
        (0, 0, ProgressBasis.COUNT, 0.0, "0 of 0 items done (0 %)"),
    ],
    ids=["items", "points", "no-scope"],
)
def test_progress_reads_as_done_of_total_on_its_basis(
    done: float, total: float, basis: ProgressBasis, percent: float, text: str
) -> None:
    figure = progress_figure(done, total, basis)
    assert figure.percent == percent
    assert figure.text == text


@pytest.mark.parametrize(
    ("value", "basis", "text"),
    [
        (1, ProgressBasis.COUNT, "1 item"),
        (3, ProgressBasis.COUNT, "3 items"),
        (2.25, ProgressBasis.ESTIMATE, "2.2 points"),
    ],
    ids=["one-item", "items", "points"],
)
def test_amounts_name_their_unit(value: float, basis: ProgressBasis, text: str) -> None:
    assert amount(value, basis) == text


def test_dates_read_one_way() -> None:
    assert day(APR_10) == "10 Apr 2027"
    assert day(None) == "no date"


def test_an_outcomes_chance_is_stated_against_its_own_target() -> None:
    found = outcome_on_time(0.62, APR_10, "Pay in one click")
    assert found.meaning is OnTimeMeaning.TARGET
    assert found.against == APR_10
    assert found.text == "62 % likely to finish by its target 10 Apr 2027"


def test_an_outcome_without_a_target_says_so() -> None:
    assert outcome_on_time(None, None, "Pay").text == "Pay has no target date to judge against"


def test_a_programs_chance_covers_every_open_outcome_by_its_own_target() -> None:
    found = program_on_time(
        0.4,
        [("Pay", date(2027, 3, 1)), ("Web", APR_10)],
        [("Search", "done late")],
    )
    assert found.meaning is OnTimeMeaning.ALL_TARGETS
    assert found.against == APR_10
    assert found.covers == ("Pay", "Web")
    assert found.left_out == (("Search", "done late"),)
    assert found.text == (
        "40 % likely that all 2 open outcomes finish by their targets (the latest 10 Apr 2027)"
    )


def test_a_program_with_one_open_outcome_names_it() -> None:
    found = program_on_time(0.9, [("Pay", APR_10)])
    assert found.text == "90 % likely that Pay finishes by its target 10 Apr 2027"
