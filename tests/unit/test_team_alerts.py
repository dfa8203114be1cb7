"""Team budgets alert the team's managers: each level once per manager and month, through the
alert ledger (under the team's owner id), by email and in-app; the members are not told, and
a manager's own budget alerts stay apart."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from tally.forecast.result import Forecast, MonthEndProjection
from tally.models import AuditEntry, LedgerState
from tally.org.model import Team, TeamKind, team_owner
from tests.unit.alert_world import World, at

DAY = date(2026, 11, 10)
LATER = date(2026, 11, 12)


def forecast(point: str) -> dict[str, Forecast]:
    end = MonthEndProjection(
        month="2026-11",
        actual_to_date=Decimal(0),
        forecast_remainder=Decimal(0),
        projected_total=Decimal(point),
        lower80=Decimal(point),
        upper80=Decimal(point),
        lower95=Decimal(point),
        upper95=Decimal(point),
        days_elapsed=9,
        days_remaining=21,
    )
    return {"USD": Forecast(date(2026, 11, 9), "linear", 40, end, ())}


def add_team(world: World, team: Team) -> None:
    access = world.stores.access
    previous = access.get_team(team.team_id)
    audit = AuditEntry(team_owner(team.team_id), at(DAY), "u-admin", "team.saved", team.team_id, {})
    access.save_team(team, previous=previous, snapshot=access.snapshot(), audit=audit)


PAYMENTS = Team(
    "payments",
    "Payments",
    TeamKind.TEAM,
    "engineering",
    members=frozenset({"u-alice", "u-bob"}),
    managers=frozenset({"u-dave", "u-carol"}),
)


@pytest.fixture
def world() -> World:
    w = World()
    for user in ("u-alice", "u-bob", "u-carol", "u-dave", "u-erin"):
        w.user(user)
    add_team(w, Team("engineering", "Engineering", TeamKind.DEPARTMENT, None))
    add_team(w, PAYMENTS)
    w.budget(team_owner("payments"), "100")
    return w


def kinds(world: World, user_id: str) -> Counter[str]:
    return Counter(kind for _, kind, _ in world.notes(user_id))


def test_each_manager_gets_each_level_exactly_once(world: World) -> None:
    world.spend("u-alice", DAY, "50")
    world.spend("u-bob", DAY, "35", resource="db-1")
    world.roll_up("u-alice", "2026-11", forecast=forecast("120"))
    world.roll_up("u-bob", "2026-11", forecast=forecast("50"))

    world.run(DAY)
    world.run(DAY)  # the same day again: nothing new

    for manager in ("u-dave", "u-carol"):
        assert kinds(world, manager) == Counter({"forecast": 1, "threshold": 1})
        subjects = [e.rendered.subject for e in world.email.to(f"{manager}@example.com")]
        assert sorted(subjects) == [
            "At this rate Payments will spend $170.00 of its $100.00 November budget",
            "Payments has used 85% of its November AWS budget",
        ]
    # The members have no budget of their own, and the team's is not theirs to hear about.
    assert world.email.to("u-alice@example.com") == []
    assert world.notes("u-alice") == []

    world.spend("u-bob", LATER, "30", resource="db-1")
    world.run(LATER)
    world.run(LATER)

    for manager in ("u-dave", "u-carol"):
        assert kinds(world, manager) == Counter({"forecast": 1, "threshold": 1, "exceeded": 1})
    ledger = {
        (e.level, e.state) for e in world.stores.alert_ledger.entries("team:payments", "2026-11")
    }
    assert ledger == {
        (f"{level}#{m}", LedgerState.SENT)
        for level in ("forecast", "threshold", "exceeded")
        for m in ("u-dave", "u-carol")
    }


def test_the_email_names_the_team_in_text_and_html(world: World) -> None:
    world.spend("u-alice", DAY, "120")
    world.run(DAY)

    (email,) = world.email.to("u-dave@example.com")
    assert email.rendered.subject == "Payments is over its November AWS budget"
    for part in (email.rendered.text, email.rendered.html):
        assert "You manage" in part and "Payments" in part
        assert "Your spending" not in part


def test_a_managers_own_budget_alerts_stay_apart_from_the_teams(world: World) -> None:
    world.budget("u-dave", "10")
    world.spend("u-dave", DAY, "20")  # dave is over his own budget, not a member of payments
    world.spend("u-alice", DAY, "120")

    world.run(DAY)
    world.run(DAY)

    notes = world.notes("u-dave")
    assert Counter(kind for _, kind, _ in notes) == Counter({"exceeded": 2})
    assert len({note_id for note_id, _, _ in notes}) == 2
    subjects = sorted(e.rendered.subject for e in world.email.to("u-dave@example.com"))
    assert subjects == [
        "Payments is over its November AWS budget",
        "You are over your November AWS budget",
    ]


def test_a_department_budget_counts_a_person_in_two_teams_once(world: World) -> None:
    add_team(
        world, Team("data", "Data", TeamKind.TEAM, "engineering", members=frozenset({"u-bob"}))
    )
    add_team(
        world,
        Team(
            "engineering", "Engineering", TeamKind.DEPARTMENT, None, managers=frozenset({"u-erin"})
        ),
    )
    world.budget(team_owner("engineering"), "100")
    world.spend("u-bob", DAY, "60")  # in payments and in data

    world.run(DAY)

    # 60 of 100: under the threshold (120 would have been "exceeded").
    assert world.notes("u-erin") == []
    world.spend("u-alice", DAY, "25")
    world.run(DAY)
    assert kinds(world, "u-erin") == Counter({"threshold": 1})


def test_a_failed_email_is_retried_for_that_manager_alone(world: World) -> None:
    world.email.fail_next("u-carol@example.com")
    world.spend("u-alice", DAY, "120")

    first = world.run(DAY)
    assert first.emails_failed == 1
    assert len(world.email.to("u-dave@example.com")) == 1
    assert world.email.to("u-carol@example.com") == []

    world.evaluation(DAY, run_id="drain").drain_deferred()
    world.run(DAY)

    assert len(world.email.to("u-carol@example.com")) == 1
    assert len(world.email.to("u-dave@example.com")) == 1
    assert kinds(world, "u-carol") == Counter({"exceeded": 1})


def test_a_manager_who_turned_email_off_is_told_in_the_app_only(world: World) -> None:
    world.user("u-carol", email_alerts=False)
    world.spend("u-alice", DAY, "120")

    world.run(DAY)

    assert world.email.to("u-carol@example.com") == []
    assert kinds(world, "u-carol") == Counter({"exceeded": 1})


def test_a_raised_team_budget_rearms_its_levels(world: World) -> None:
    world.spend("u-alice", DAY, "90")
    world.run(DAY)
    assert kinds(world, "u-dave") == Counter({"threshold": 1})

    world.budget(team_owner("payments"), "1000")
    world.run(DAY)
    world.spend("u-bob", LATER, "800")
    world.run(LATER)

    assert kinds(world, "u-dave") == Counter({"threshold": 2})


def test_teams_are_not_evaluated_as_users(world: World) -> None:
    world.spend(team_owner("payments"), DAY, "120")  # the team's own resource
    evaluation = world.evaluation(DAY)

    assert team_owner("payments") not in evaluation.candidates(["2026-11"])
    world.run(DAY)
    assert kinds(world, "u-dave") == Counter({"exceeded": 1})


def test_a_members_own_budget_alerts_them_as_before(world: World) -> None:
    world.budget("u-alice", "10")
    world.spend("u-alice", DAY, "20")
    world.run(DAY)
    assert kinds(world, "u-alice") == Counter({"exceeded": 1})
    assert world.notes("u-dave") == []
