"""A person's roles: the defaults until set, replaced whole with roles:assign, checked (roles
that exist, scopes that parse and name a team, admin only at the organisation), never more
than the caller holds, and never leaving the organisation without an admin."""

from __future__ import annotations

import json

import pytest

from tally.errors import Conflict, Forbidden, Invalid, NotFound
from tally.org import grants, roles, teams
from tally.org.model import ORG_SCOPE, SELF_SCOPE, Grant, Scope, ScopeKind
from tally.org.roles import RoleInput
from tally.org.teams import TeamInput
from tally.store import Stores
from tests.org.conftest import clock, view_of

ADMIN_ORG = Grant("admin", ORG_SCOPE)


def test_roles_never_set_are_the_defaults(org_stores: Stores) -> None:
    admin = view_of(org_stores, "u-admin")
    alice = grants.get_user_roles(admin, "u-alice")
    assert (alice.grants, alice.explicit, alice.version) == (
        (Grant("member", SELF_SCOPE),),
        False,
        0,
    )
    assert grants.get_user_roles(admin, "u-admin").grants == (ADMIN_ORG,)
    with pytest.raises(NotFound):
        grants.get_user_roles(admin, "u-nobody")


def test_admin_gives_roles_and_the_log_says_before_and_after(org_stores: Stores) -> None:
    admin = view_of(org_stores, "u-admin")
    saved = grants.set_user_roles(
        admin, "u-fiona", [("finance", "org"), ("member", "self"), ("finance", "org")], clock=clock
    )
    assert saved.grants == (Grant("finance", ORG_SCOPE), Grant("member", SELF_SCOPE))
    assert saved.explicit and saved.version == 1
    assert grants.get_user_roles(view_of(org_stores, "u-fiona"), "u-fiona") == saved

    (entry,) = org_stores.audit.list_for_user("u-fiona", 10).items
    assert (entry.action, entry.actor, entry.entity_id) == ("roles.assigned", "u-admin", "u-fiona")
    assert json.loads(entry.details["before"]) == {
        "roles": [{"roleId": "member", "scope": "self"}],
        "explicit": False,
    }
    assert json.loads(entry.details["after"])["roles"][0] == {"roleId": "finance", "scope": "org"}

    # A stale version is refused; the right one passes
    with pytest.raises(Conflict):
        grants.set_user_roles(admin, "u-fiona", [], expected_version=0, clock=clock)
    emptied = grants.set_user_roles(admin, "u-fiona", [], expected_version=1, clock=clock)
    assert emptied.grants == () and emptied.explicit


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ([("nope", "org")], "roles.0.roleId"),
        ([("member", "self"), ("finance", "everywhere")], "roles.1.scope"),
        ([("finance", "team:")], "roles.0.scope"),
        ([("finance", "team:ghosts")], "roles.0.scope"),
        ([("admin", "self")], "roles.0.scope"),
        ([("admin", "team:payments")], "roles.0.scope"),
    ],
)
def test_bad_grants_are_refused_on_their_field(
    org_stores: Stores, given: list[tuple[str, str]], field: str
) -> None:
    admin = view_of(org_stores, "u-admin")
    teams.create_team(admin, TeamInput("Payments"), clock=clock)
    with pytest.raises(Invalid) as refused:
        grants.set_user_roles(admin, "u-bob", given, clock=clock)
    assert refused.value.errors[0].field == field


def test_unknown_users_and_members_are_refused(org_stores: Stores) -> None:
    with pytest.raises(NotFound):
        grants.set_user_roles(view_of(org_stores, "u-admin"), "u-nobody", [], clock=clock)
    for who in ("u-alice", "u-bob"):
        with pytest.raises(Forbidden):
            grants.set_user_roles(view_of(org_stores, who), "u-alice", [("admin", "org")])


def test_the_last_admin_cannot_be_demoted(org_stores: Stores) -> None:
    admin = view_of(org_stores, "u-admin")
    # Given the admin holds admin explicitly and is the only one
    grants.set_user_roles(admin, "u-admin", [("admin", "org")], clock=clock)
    assert org_stores.access.snapshot().admins == {"u-admin"}

    # Then they cannot take it from themselves
    with pytest.raises(Forbidden) as refused:
        grants.set_user_roles(admin, "u-admin", [("finance", "org")], clock=clock)
    assert "at least one admin" in refused.value.detail

    # When dave is made admin too, either may step down, and the last one again cannot
    grants.set_user_roles(admin, "u-dave", [("admin", "org")], clock=clock)
    grants.set_user_roles(admin, "u-admin", [("finance", "org")], clock=clock)
    dave = view_of(org_stores, "u-dave")
    with pytest.raises(Forbidden):
        grants.set_user_roles(dave, "u-dave", [("member", "self")], clock=clock)
    assert org_stores.access.snapshot().admins == {"u-dave"}


def test_an_admin_by_default_counts_until_the_migration(org_stores: Stores) -> None:
    # No one holds admin explicitly yet: the admins group's member does by default, and
    # demoting them would leave no explicit admin
    admin = view_of(org_stores, "u-admin")
    with pytest.raises(Forbidden):
        grants.set_user_roles(admin, "u-admin", [("member", "self")], clock=clock)
    # Changes that take admin from no one pass
    assert grants.set_user_roles(admin, "u-bob", [("auditor", "org")], clock=clock).version == 1


def test_no_one_grants_what_they_do_not_hold(org_stores: Stores) -> None:
    # Given carol may assign roles and read costs at the organisation, nothing more
    admin = view_of(org_stores, "u-admin")
    roles.create_role(
        admin,
        RoleInput("Assigner", frozenset({"roles:assign", "roles:read", "costs:read"})),
        clock=clock,
    )
    grants.set_user_roles(admin, "u-carol", [("assigner", "org")], clock=clock)
    carol = view_of(org_stores, "u-carol")

    # Then she cannot give finance (budgets, users, exports she lacks) nor admin
    for given in ([("finance", "org")], [("admin", "org")]):
        with pytest.raises(Forbidden) as refused:
            grants.set_user_roles(carol, "u-bob", given, clock=clock)
        assert "you do not hold" in refused.value.detail
    # But she may give what she holds, at any scope she holds it
    made = grants.set_user_roles(carol, "u-bob", [("assigner", "org")], clock=clock)
    assert made.grants == (Grant("assigner", ORG_SCOPE),)
    # And keeping someone's roles as they are grants nothing new
    grants.set_user_roles(admin, "u-fiona", [("finance", "org")], clock=clock)
    kept = grants.set_user_roles(
        carol, "u-fiona", [("finance", "org"), ("assigner", "org")], clock=clock
    )
    assert kept.version == 2


def test_team_scoped_grants_name_existing_teams(org_stores: Stores) -> None:
    admin = view_of(org_stores, "u-admin")
    teams.create_team(admin, TeamInput("Payments"), clock=clock)
    saved = grants.set_user_roles(admin, "u-dave", [("team-manager", "team:payments")], clock=clock)
    assert saved.grants == (Grant("team-manager", Scope(ScopeKind.TEAM, "payments")),)
