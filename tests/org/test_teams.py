"""Teams: a department with a team under it, members and managers linked both ways, the tree
kept without cycles, each change in the audit log; who sees which teams; and what a team
gives its people (its roles, and team-manager to its managers)."""

from __future__ import annotations

import json

import pytest

from tally.access import allows
from tally.authz import Target
from tally.errors import Conflict, Forbidden, Invalid, NotFound
from tally.identity import Role
from tally.models import UserProfile
from tally.org import grants, teams
from tally.org.model import ORG_SCOPE, Grant, TeamKind
from tally.org.teams import TeamInput
from tally.store import Stores
from tally.store.access import MAX_PEOPLE_PER_SAVE
from tally.users import UserSource
from tests.org.conftest import clock, view_of

ENGINEERING = TeamInput("Engineering", TeamKind.DEPARTMENT, cost_center="CC-100")
PAYMENTS = TeamInput(
    "Payments",
    parent_id="engineering",
    members=frozenset({"u-alice", "u-bob"}),
    managers=frozenset({"u-dave"}),
)


def demo(stores: Stores) -> None:
    admin = view_of(stores, "u-admin")
    teams.create_team(admin, ENGINEERING, clock=clock)
    teams.create_team(admin, PAYMENTS, clock=clock)
    teams.create_team(
        admin,
        TeamInput(
            "Data",
            members=frozenset({"u-dave"}),
            managers=frozenset({"u-carol"}),
            roles=(("auditor", "team:data"),),
        ),
        clock=clock,
    )


def test_admin_builds_the_tree_and_people_are_linked(org_stores: Stores) -> None:
    demo(org_stores)
    admin = view_of(org_stores, "u-admin")
    payments = teams.get_team(admin, "payments")
    assert (payments.parent_id, payments.members, payments.managers, payments.version) == (
        "engineering",
        {"u-alice", "u-bob"},
        {"u-dave"},
        1,
    )
    assert teams.get_team(admin, "engineering").cost_center == "CC-100"
    assert [t.team_id for t in teams.list_teams(admin)] == ["data", "engineering", "payments"]
    dave = org_stores.access.profiles(["u-dave"])["u-dave"]
    assert dave.manages == {"payments"} and dave.teams == {"data"}

    entry = org_stores.audit.list_for_user("team:payments", 10).items[0]
    assert (entry.action, entry.entity_id) == ("team.created", "payments")
    assert json.loads(entry.details["after"])["members"] == ["u-alice", "u-bob"]


def test_a_manager_reaches_their_team_and_its_people_only(org_stores: Stores) -> None:
    demo(org_stores)
    dave = view_of(org_stores, "u-dave").caller
    assert allows(dave, "budgets:write", Target.team("payments"))
    assert allows(dave, "costs:read", Target.user("u-alice"))
    assert not allows(dave, "costs:read", Target.user("u-carol"))
    # A member of data, not its manager: data's auditor role lets him read, not budget
    assert not allows(dave, "budgets:write", Target.team("data"))
    assert allows(dave, "costs:read", Target.team("data"))
    assert not allows(dave, "costs:read", Target.org())


def test_who_sees_which_teams(org_stores: Stores) -> None:
    demo(org_stores)
    grants.set_user_roles(view_of(org_stores, "u-admin"), "u-fiona", [("finance", "org")])

    def seen(user: str) -> list[str]:
        return [t.team_id for t in teams.list_teams(view_of(org_stores, user))]

    assert seen("u-fiona") == ["data", "engineering", "payments"]  # teams:read at org
    assert seen("u-alice") == ["engineering", "payments"]  # her team and the department above
    assert seen("u-dave") == ["data", "payments"]  # manages one, member of the other
    assert seen("u-carol") == ["data"]
    assert seen("u-audrey") == []
    with pytest.raises(Forbidden):
        teams.get_team(view_of(org_stores, "u-carol"), "payments")
    # A team that does not exist: not found for whoever reads every team, refused as a
    # foreign one for anyone else (the answer tells them nothing about which ids exist)
    with pytest.raises(NotFound):
        teams.get_team(view_of(org_stores, "u-admin"), "ghosts")
    with pytest.raises(Forbidden):
        teams.get_team(view_of(org_stores, "u-carol"), "ghosts")


def test_changes_are_versioned_and_people_move(org_stores: Stores) -> None:
    demo(org_stores)
    admin = view_of(org_stores, "u-admin")
    changed = teams.update_team(
        admin,
        "payments",
        TeamInput("Payments", parent_id="engineering", members=frozenset({"u-alice", "u-carol"})),
        expected_version=1,
        clock=clock,
    )
    assert changed.version == 2 and changed.managers == frozenset()
    got = org_stores.access.profiles(["u-bob", "u-carol", "u-dave"])
    assert got["u-bob"].teams == frozenset() and got["u-carol"].teams == {"payments"}
    assert got["u-dave"].manages == frozenset()
    with pytest.raises(Conflict):
        teams.update_team(admin, "payments", PAYMENTS, expected_version=1, clock=clock)
    before, after = (
        json.loads(org_stores.audit.list_for_user("team:payments", 1).items[0].details[k])
        for k in ("before", "after")
    )
    assert before["managers"] == ["u-dave"] and after["managers"] == []


@pytest.mark.parametrize(
    ("team", "field"),
    [
        (TeamInput("Ghost", parent_id="ghosts"), "parentId"),
        (TeamInput("Lost", members=frozenset({"u-nobody"})), "members"),
        (TeamInput("Lost", managers=frozenset({"u-nobody"})), "managers"),
        (TeamInput("y" * 81), "name"),
        (TeamInput("Ok", team_id="-bad"), "teamId"),
        (TeamInput("Ok", roles=(("admin", "org"),)), "roles.0.roleId"),
        (TeamInput("Ok", roles=(("finance", "team:ghosts"),)), "roles.0.scope"),
        (TeamInput("Ok", roles=(("nope", "org"),)), "roles.0.roleId"),
        (TeamInput("Ok", cost_center="c" * 65), "costCenter"),
        (TeamInput("Crowd", members=frozenset(f"u-{n}" for n in range(91))), "members"),
    ],
)
def test_bad_teams_are_refused_on_their_field(
    org_stores: Stores, team: TeamInput, field: str
) -> None:
    from tally.models import UserProfile

    for n in range(MAX_PEOPLE_PER_SAVE + 1):
        org_stores.users.put(UserProfile(f"u-{n}", f"user{n}", None, Role.USER))
    with pytest.raises(Invalid) as refused:
        teams.create_team(view_of(org_stores, "u-admin"), team, clock=clock)
    assert refused.value.errors[0].field == field


def test_the_tree_has_no_cycles(org_stores: Stores) -> None:
    demo(org_stores)
    admin = view_of(org_stores, "u-admin")
    for parent in ("payments", "engineering"):
        with pytest.raises(Invalid) as refused:
            teams.update_team(
                admin, "engineering", TeamInput("Engineering", parent_id=parent), clock=clock
            )
        assert refused.value.errors[0].field == "parentId"


def test_a_team_with_teams_under_it_is_not_deleted(org_stores: Stores) -> None:
    demo(org_stores)
    admin = view_of(org_stores, "u-admin")
    with pytest.raises(Conflict):
        teams.delete_team(admin, "engineering", clock=clock)
    with pytest.raises(Conflict):
        teams.delete_team(admin, "payments", expected_version=7, clock=clock)
    teams.delete_team(admin, "payments", expected_version=1, clock=clock)
    teams.delete_team(admin, "engineering", clock=clock)
    assert org_stores.access.profiles(["u-alice"])["u-alice"].teams == frozenset()
    assert [e.action for e in org_stores.audit.list_for_user("team:payments", 5).items] == [
        "team.deleted",
        "team.created",
    ]
    with pytest.raises(NotFound):
        teams.delete_team(view_of(org_stores, "u-admin"), "payments", clock=clock)


def test_ids_are_made_from_names_and_taken_ones_conflict(org_stores: Stores) -> None:
    admin = view_of(org_stores, "u-admin")
    made = teams.create_team(admin, TeamInput("  Data Platform & ML "), clock=clock)
    assert made.team_id == "data-platform-ml" and made.name == "Data Platform & ML"
    with pytest.raises(Conflict):
        teams.create_team(admin, TeamInput("Data platform ML"), clock=clock)


def test_members_and_managers_cannot_write_teams(org_stores: Stores) -> None:
    demo(org_stores)
    for who in ("u-alice", "u-dave"):
        with pytest.raises(Forbidden):
            teams.update_team(view_of(org_stores, who), "payments", PAYMENTS, clock=clock)
    with pytest.raises(Forbidden):
        teams.create_team(view_of(org_stores, "u-alice"), TeamInput("Mine"), clock=clock)


def test_a_team_role_reaches_its_members_and_the_teams_under_it(org_stores: Stores) -> None:
    demo(org_stores)
    admin = view_of(org_stores, "u-admin")
    teams.update_team(
        admin,
        "engineering",
        TeamInput("Engineering", TeamKind.DEPARTMENT, roles=(("finance", "org"),)),
        clock=clock,
    )
    alice = view_of(org_stores, "u-alice").caller
    assert allows(alice, "costs:read", Target.org())
    assert not allows(view_of(org_stores, "u-carol").caller, "costs:read", Target.org())
    assert teams.get_team(admin, "engineering").grants == (Grant("finance", ORG_SCOPE),)


def test_people_the_directory_has_not_seen_are_found_in_the_pool(org_stores: Stores) -> None:
    class Pool(UserSource):
        def find(self, user_id: str) -> UserProfile | None:
            return UserProfile(user_id, "newbie", None, Role.USER) if user_id == "u-new" else None

    made = teams.create_team(
        view_of(org_stores, "u-admin"),
        TeamInput("New", members=frozenset({"u-new"})),
        user_source=Pool(),
        clock=clock,
    )
    assert made.members == {"u-new"} and org_stores.users.get("u-new") is not None
