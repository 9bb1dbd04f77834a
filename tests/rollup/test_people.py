"""Matching people across trackers: by email or display name, accents, case and spacing
aside, plus what the configuration says."""

from __future__ import annotations

import pytest

from rollup.people import Identity, KnownPerson, Team, identities, match, normalise
from tests.rollup.builders import item


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("José Núñez", "jose nunez"),
        ("ANA LIMA", "ana lima"),
        ("Ana  Lima ", "ana lima"),
        ("Jürgen Weiß", "jurgen weiss"),
        ("Zoë", "ZOE"),
        ("ÅSA Öberg", "asa oberg"),
    ],
    ids=["accents", "case", "spacing", "umlaut-and-sharp-s", "diaeresis", "ring"],
)
def test_names_compare_without_accents_case_or_spacing(a: str, b: str) -> None:
    assert normalise(a) == normalise(b)


def test_same_display_name_in_two_trackers_is_one_person() -> None:
    found = match([Identity("jira", "José Núñez"), Identity("asana", "jose nunez")])
    assert len(found.people) == 1
    person = found.people[0]
    assert person.sources == ("asana", "jira")
    assert found.find("JOSE NUNEZ") is person


def test_same_email_joins_different_display_names() -> None:
    found = match(
        [
            Identity("jira", "Ana L.", "Ana.Lima@Acme.com"),
            Identity("asana", "Ana Lima", "ana.lima@acme.com"),
        ]
    )
    assert len(found.people) == 1
    assert found.people[0].emails == ("ana.lima@acme.com",)
    assert set(found.people[0].names) == {"Ana L.", "Ana Lima"}


def test_a_name_and_an_email_seen_together_join_their_groups() -> None:
    # Jira hides the email; Asana shows both: the name links them.
    found = match(
        [
            Identity("jira", "Bo Chen"),
            Identity("asana", "Bo Chen", "bo@acme.com"),
            Identity("asana", "B. Chen", "bo@acme.com"),
        ]
    )
    assert len(found.people) == 1
    assert found.find("B. Chen") is found.find("bo chen")


def test_duplicate_identities_make_one_person_counted_once() -> None:
    seen = identities(
        [
            item("PAY-1", assignee="Ana Lima"),
            item("PAY-2", assignee="Ana Lima"),
            item("PAY-3", assignee="ana lima"),
        ]
    )
    found = match(seen)
    assert [p.name for p in found.people] == ["Ana Lima"]


def test_configured_aliases_and_emails_join_what_trackers_cannot() -> None:
    found = match(
        [Identity("jira", "alima"), Identity("asana", "Ana Lima", "ana@acme.com")],
        [KnownPerson("Ana Lima", emails=("ana.lima@old.example",), aliases=("alima",))],
    )
    assert len(found.people) == 1
    person = found.people[0]
    assert person.configured
    assert person.name == "Ana Lima"
    assert found.find(None, "ANA.LIMA@old.example") is person


def test_different_people_stay_apart_and_get_distinct_ids() -> None:
    found = match(
        [Identity("jira", "Ana Lima"), Identity("jira", "Ána-Lima"), Identity("jira", "Bo")]
    )
    ids = [p.id for p in found.people]
    assert len(ids) == len(set(ids)) == 3


def test_teams_are_found_by_any_name_of_their_members() -> None:
    found = match(
        [Identity("jira", "alima"), Identity("asana", "Bo Chen", "bo@acme.com")],
        [KnownPerson("Ana Lima", aliases=("alima",))],
        [Team("payments", "Payments", members=("ana lima", "BO@ACME.COM"))],
    )
    assert {p.name: p.team for p in found.people} == {"Ana Lima": "payments", "Bo Chen": "payments"}


def test_an_assignee_with_no_name_or_email_is_nobody() -> None:
    found = match(identities([item("PAY-1", assignee=None), item("PAY-2", assignee="  ")]))
    assert found.people == ()
    assert found.person_of(item("PAY-1", assignee=None)) is None
