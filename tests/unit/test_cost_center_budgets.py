"""Cost center budgets: a cost center's scope is the teams that name it (not inherited), each
person once; its budget alerts the managers of every such team, each once per level and month,
through the team budget's machinery (ledger under ``costcenter:<code>``)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from tally.alerts import compose
from tally.errors import NotFound
from tally.models import LedgerState
from tally.org.costs import cost_center_scope, team_scope
from tally.org.model import (
    Team,
    TeamKind,
    cost_center_of_owner,
    cost_center_owner,
    team_of_owner,
    team_owner,
)
from tests.unit.alert_world import World
from tests.unit.test_team_alerts import add_team, forecast, kinds

DAY = date(2026, 11, 10)
LATER = date(2026, 11, 12)
CC = cost_center_owner("CC-100")

ENGINEERING = Team("engineering", "Engineering", TeamKind.DEPARTMENT, None, "CC-900")
PAYMENTS = Team(
    "payments",
    "Payments",
    TeamKind.TEAM,
    "engineering",
    "CC-100",
    members=frozenset({"u-alice", "u-bob"}),
    managers=frozenset({"u-dave", "u-carol"}),
)
DATA = Team(
    "data",
    "Data",
    TeamKind.TEAM,
    "engineering",
    "CC-100",
    members=frozenset({"u-bob", "u-erin"}),
    managers=frozenset({"u-carol", "u-frank"}),  # carol manages both teams
)
INFRA = Team("infra", "Infra", cost_center="CC-200", members=frozenset({"u-gina"}))
TEAMS = {t.team_id: t for t in (ENGINEERING, PAYMENTS, DATA, INFRA)}


def test_owner_ids_do_not_collide() -> None:
    assert cost_center_owner("CC-100") == "costcenter:CC-100"
    assert cost_center_of_owner("costcenter:CC-100") == "CC-100"
    assert team_of_owner(CC) is None
    assert cost_center_of_owner(team_owner("payments")) is None
    assert cost_center_of_owner("u-alice") is None


def test_a_cost_center_is_the_teams_that_name_it() -> None:
    scope = cost_center_scope("CC-100", TEAMS)

    assert [t.team_id for t in scope.teams] == ["data", "payments"]
    assert scope.people == {"u-alice", "u-bob", "u-erin"}  # bob once
    assert scope.owners == ["u-alice", "u-bob", "u-erin", "team:data", "team:payments"]
    assert scope.managers == {"u-carol", "u-dave", "u-frank"}  # carol once
    assert (scope.owner, scope.name) == ("costcenter:CC-100", "Cost center CC-100")


def test_a_departments_cost_center_is_not_inherited_by_its_teams() -> None:
    scope = cost_center_scope("CC-900", TEAMS)

    assert [t.team_id for t in scope.teams] == ["engineering"]
    assert scope.people == frozenset()
    # The department's team scope does take its teams: the two are different things.
    assert team_scope("engineering", TEAMS).people == {"u-alice", "u-bob", "u-erin"}


@pytest.mark.parametrize("code", ["CC-404", "cc-100", "CC-100 ", ""])
def test_a_code_no_team_names_exactly_is_no_cost_center(code: str) -> None:
    with pytest.raises(NotFound, match="no such cost center"):
        cost_center_scope(code, TEAMS)


def test_notification_ids_keep_cost_centers_and_teams_apart() -> None:
    from decimal import Decimal

    def note_id(code: str) -> str:
        return compose.cost_center_alert_notification_id(
            code, "2026-11", "exceeded", Decimal(100), 80
        )

    # "_id" makes both "CC-100"; the digest of the code keeps them apart.
    assert note_id("CC 100") != note_id("CC-100")
    team = compose.team_alert_notification_id("CC-100", "2026-11", "exceeded", Decimal(100), 80)
    assert team != note_id("CC-100")


# --- alerts ---------------------------------------------------------------------------------


@pytest.fixture
def world() -> World:
    w = World()
    for user in ("u-alice", "u-bob", "u-carol", "u-dave", "u-erin", "u-frank", "u-gina"):
        w.user(user)
    for team in (ENGINEERING, PAYMENTS, DATA, INFRA):
        add_team(w, team)
    w.budget(CC, "100")
    return w


def test_every_manager_of_its_teams_hears_each_level_once(world: World) -> None:
    world.spend("u-bob", DAY, "50")  # in both teams: counted once
    world.spend("u-erin", DAY, "35", resource="db-1")
    world.spend("u-gina", DAY, "500")  # CC-200's

    world.run(DAY)
    world.run(DAY)

    for manager in ("u-carol", "u-dave", "u-frank"):
        assert kinds(world, manager) == Counter({"threshold": 1}), manager
        (email,) = world.email.to(f"{manager}@example.com")
        assert (
            email.rendered.subject == "Cost center CC-100 has used 85% of its November AWS budget"
        )
        for part in (email.rendered.text, email.rendered.html):
            assert "#/chargeback" in part
            assert "A team you manage carries cost center" in part and "CC-100" in part
            assert "You manage" not in part and "Your spending" not in part
    assert world.notes("u-bob") == [] and world.notes("u-gina") == []

    world.spend(team_owner("payments"), LATER, "20", resource="vpc")  # a team's own resource
    world.run(LATER)
    world.run(LATER)

    for manager in ("u-carol", "u-dave", "u-frank"):
        assert kinds(world, manager) == Counter({"threshold": 1, "exceeded": 1})
    ledger = {(e.level, e.state) for e in world.stores.alert_ledger.entries(CC, "2026-11")}
    assert ledger == {
        (f"{level}#{m}", LedgerState.SENT)
        for level in ("threshold", "exceeded")
        for m in ("u-carol", "u-dave", "u-frank")
    }


def test_a_managers_team_alert_and_cost_center_alert_are_two(world: World) -> None:
    world.budget(team_owner("payments"), "40")
    world.spend("u-alice", DAY, "120")

    world.run(DAY)
    world.run(DAY)

    notes = world.notes("u-dave")
    assert Counter(kind for _, kind, _ in notes) == Counter({"exceeded": 2})
    assert len({note_id for note_id, _, _ in notes}) == 2
    assert sorted(world.subjects("u-dave@example.com")) == [
        "Cost center CC-100 is over its November AWS budget",
        "Payments is over its November AWS budget",
    ]


def test_the_forecast_combines_its_people(world: World) -> None:
    world.spend("u-alice", DAY, "30")
    world.spend("u-erin", DAY, "30")
    world.roll_up("u-alice", "2026-11", forecast=forecast("120"))
    world.roll_up("u-erin", "2026-11", forecast=forecast("50"))

    world.run(DAY)

    assert kinds(world, "u-frank") == Counter({"forecast": 1})
    assert world.subjects("u-frank@example.com") == [
        "At this rate Cost center CC-100 will spend $170.00 of its $100.00 November budget"
    ]


def test_a_failed_email_is_retried_for_that_manager_alone(world: World) -> None:
    world.email.fail_next("u-frank@example.com")
    world.spend("u-alice", DAY, "120")

    assert world.run(DAY).emails_failed == 1

    world.evaluation(DAY, run_id="drain").drain_deferred()
    world.run(DAY)

    for manager in ("u-carol", "u-dave", "u-frank"):
        assert len(world.email.to(f"{manager}@example.com")) == 1
        assert kinds(world, manager) == Counter({"exceeded": 1})


def test_a_deferred_alert_of_a_cost_center_no_team_names_any_more_is_released(
    world: World,
) -> None:
    world.email.fail_next("u-frank@example.com")
    world.spend("u-alice", DAY, "120")
    world.run(DAY)
    for team in (PAYMENTS, DATA):
        add_team(world, Team(team.team_id, team.name, team.kind, team.parent_id, None))

    world.evaluation(DAY, run_id="drain").drain_deferred()

    states = {e.state for e in world.stores.alert_ledger.entries(CC, "2026-11")}
    assert LedgerState.DEFERRED not in states
    assert world.email.to("u-frank@example.com") == []


def test_a_month_is_judged_by_its_own_terms_across_the_month_end(world: World) -> None:
    """November (30 days) closes over its budget: on 1 December the late figures still
    alert by November's terms, though December's budget is ten times larger."""
    world.budget(CC, "1000", since="2026-12")
    world.spend("u-bob", date(2026, 11, 30), "150")

    world.run(date(2026, 12, 1), ["2026-11", "2026-12"])
    world.run(date(2026, 12, 2), ["2026-11", "2026-12"])

    assert kinds(world, "u-carol") == Counter({"exceeded": 1})
    (subject,) = world.subjects("u-carol@example.com")
    assert subject == "Cost center CC-100 is over its November AWS budget"
    assert world.stores.alert_ledger.entries(CC, "2026-12") == []


def test_a_leap_day_is_in_its_month(world: World) -> None:
    world.budget(CC, "10", since="2028-02")
    world.spend("u-erin", date(2028, 2, 29), "15")
    world.spend("u-erin", date(2028, 3, 1), "5")

    world.run(date(2028, 2, 29), ["2028-02"])
    world.run(date(2028, 3, 1), ["2028-02", "2028-03"])

    assert kinds(world, "u-frank") == Counter({"exceeded": 1})
    assert [e.level for e in world.stores.alert_ledger.entries(CC, "2028-02")].count(
        "exceeded#u-frank"
    ) == 1
    # March's 5 of 10 is under its threshold: nothing more.
    assert world.stores.alert_ledger.entries(CC, "2028-03") == []
