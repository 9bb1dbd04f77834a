"""People across programs: one person behind each program's names for them, their open
work and work in progress summed across programs (each item once), and flagged when over
their limit or spread over too many programs."""

from __future__ import annotations

from rollup.people import Identity, KnownPerson, Team
from rollup.workloads import Load, spread


def load(program: str, person: str, *identities: Identity, wip: int = 0, todo: int = 0,
         prefix: str = "") -> Load:  # fmt: skip
    key = prefix or program.upper()
    doing = tuple(("jira", f"{key}-{n}") for n in range(wip))
    waiting = tuple(("jira", f"{key}-{100 + n}") for n in range(todo))
    return Load(program, person, identities, doing, tuple(sorted(doing + waiting)),
                tuple(2.0 for _ in doing + waiting))  # fmt: skip


DEE_JIRA = Identity("jira", "Dee Evans")
DEE_ASANA = Identity("asana", "dee evans", "dee@acme.example")


def test_work_is_summed_across_programs_for_the_same_person() -> None:
    (dee,) = spread(
        [
            load("checkout", "dee-evans", DEE_JIRA, wip=2, todo=1),
            load("mobile", "dee-evans", DEE_ASANA, wip=1, todo=2),
        ],
        wip_limit=None,
        default_limit=3,
        max_programs=2,
    )
    assert (len(dee.wip), len(dee.remaining), dee.estimate) == (3, 6, 12.0)
    assert dee.sources == ("asana", "jira")
    assert [(s.program, len(s.remaining), s.share) for s in dee.shares] == [
        ("checkout", 3, 0.5),
        ("mobile", 3, 0.5),
    ]
    assert dee.flags == ()


def test_an_item_two_programs_count_is_counted_once() -> None:
    (dee,) = spread(
        [
            load("checkout", "dee", DEE_JIRA, wip=2, prefix="PAY"),
            load("platform", "dee", DEE_JIRA, wip=2, prefix="PAY"),
        ],
        wip_limit=None,
        default_limit=3,
        max_programs=2,
    )
    assert len(dee.wip) == 2
    assert dee.flags == ()
    assert [s.share for s in dee.shares] == [1.0, 1.0]


def test_work_in_progress_over_the_limit_across_programs_is_flagged() -> None:
    (dee,) = spread(
        [
            load("checkout", "dee", DEE_JIRA, wip=2),
            load("platform", "dee", Identity("jira", "DEE  EVANS"), wip=2),
        ],
        wip_limit=None,
        default_limit=3,
        max_programs=2,
        names={"checkout": "Checkout v2", "platform": "Platform"},
    )
    (flag,) = dee.flags
    assert flag.rule == "wip_over_limit"
    assert flag.detail == "4 items in progress across 2 programs, above the limit of 3"
    assert len(flag.items) == 4


def test_open_work_in_too_many_programs_is_flagged() -> None:
    (dee,) = spread(
        [
            load("checkout", "dee", DEE_JIRA, todo=3),
            load("platform", "dee", DEE_JIRA, todo=2),
            load("mobile", "dee", DEE_ASANA, todo=1),
        ],
        wip_limit=None,
        default_limit=3,
        max_programs=2,
        names={"checkout": "Checkout v2", "platform": "Platform", "mobile": "Mobile"},
    )
    (flag,) = dee.flags
    assert flag.rule == "too_many_programs"
    assert flag.detail == "open work in 3 programs (limit 2): Checkout v2, Platform, Mobile"


def test_the_configured_people_join_names_no_tracker_links() -> None:
    found = spread(
        [
            load("checkout", "dee", Identity("jira", "deevans"), wip=2),
            load("mobile", "dee", DEE_ASANA, wip=2),
        ],
        [KnownPerson("Dee Evans", ("dee@acme.example",), ("deevans",))],
        wip_limit=None,
        default_limit=3,
        max_programs=2,
    )
    (dee,) = found
    assert dee.name == "Dee Evans"
    assert len(dee.wip) == 4


def test_the_limit_is_the_portfolios_else_the_teams_else_the_default() -> None:
    loads = [load("checkout", "dee", DEE_JIRA, wip=3)]
    team = Team("payments", "Payments", ("Dee Evans",), wip_limit=2)
    (by_team,) = spread(loads, (), (team,), wip_limit=None, default_limit=5, max_programs=2)
    (by_portfolio,) = spread(loads, (), (team,), wip_limit=4, default_limit=5, max_programs=2)
    (by_default,) = spread(loads, wip_limit=None, default_limit=5, max_programs=2)
    assert (by_team.wip_limit, by_portfolio.wip_limit, by_default.wip_limit) == (2, 4, 5)
    assert [f.rule for f in by_team.flags] == ["wip_over_limit"]


def test_people_with_most_open_work_come_first() -> None:
    found = spread(
        [
            load("checkout", "ana", Identity("jira", "Ana"), todo=1, prefix="A"),
            load("checkout", "bo", Identity("jira", "Bo"), todo=3, prefix="B"),
        ],
        wip_limit=None,
        default_limit=3,
        max_programs=2,
    )
    assert [p.name for p in found] == ["Bo", "Ana"]
