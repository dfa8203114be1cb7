"""Effective access: every permission a person holds, at which scope, and which role or team
gives it (Cedar's reasons); anyone reads their own, roles:read reads anyone's."""

from __future__ import annotations

import pytest

from tally.errors import NotFound
from tally.org import grants, roles, teams
from tally.org.access import effective_access
from tally.org.model import ORG_SCOPE, SELF_SCOPE, Grant, Scope, ScopeKind
from tally.org.roles import RoleInput
from tally.org.teams import TeamInput
from tally.store import Stores
from tests.org.conftest import clock, view_of

PAYMENTS = Scope(ScopeKind.TEAM, "payments")


def test_a_manager_sees_what_managing_gives_and_why(org_stores: Stores) -> None:
    admin = view_of(org_stores, "u-admin")
    teams.create_team(admin, TeamInput("Payments", managers=frozenset({"u-dave"})), clock=clock)
    got = effective_access(view_of(org_stores, "u-dave"), "u-dave")
    vias = {(s.grant.key, s.via, s.team_id) for s in got.roles}
    assert vias == {
        ("member@self", "default", None),
        ("team-manager@team:payments", "manager", "payments"),
    }
    budgets = {line.scope: line for line in got.permissions if line.permission == "budgets:write"}
    assert set(budgets) == {PAYMENTS, SELF_SCOPE}
    assert [s.via for s in budgets[PAYMENTS].sources] == ["manager"]
    assert not any(line.scope == ORG_SCOPE for line in got.permissions)


def test_others_access_needs_roles_read(org_stores: Stores) -> None:
    admin = view_of(org_stores, "u-admin")
    grants.set_user_roles(admin, "u-fiona", [("finance", "org")], clock=clock)
    assert effective_access(view_of(org_stores, "u-fiona"), "u-alice").user_id == "u-alice"
    # Someone else's, without roles:read on them, is not found, as a missing user's is
    with pytest.raises(NotFound):
        effective_access(view_of(org_stores, "u-bob"), "u-alice")
    with pytest.raises(NotFound):
        effective_access(admin, "u-nobody")
    admins = effective_access(view_of(org_stores, "u-fiona"), "u-admin")
    at_org = {line.permission for line in admins.permissions if line.scope == ORG_SCOPE}
    assert {"roles:assign", "audit:read"} <= at_org
    assert [(s.grant.key, s.via) for s in admins.roles] == [("admin@org", "default")]


def test_a_deleted_role_is_listed_and_gives_nothing(org_stores: Stores) -> None:
    admin = view_of(org_stores, "u-admin")
    roles.create_role(admin, RoleInput("Auditors", frozenset({"audit:read"})), clock=clock)
    grants.set_user_roles(admin, "u-bob", [("auditors", "org")], clock=clock)
    held = effective_access(admin, "u-bob")
    assert ("audit:read", ORG_SCOPE) in {(line.permission, line.scope) for line in held.permissions}

    roles.delete_role(admin, "auditors", clock=clock)
    gone = effective_access(admin, "u-bob")
    assert gone.deleted == {"auditors"}
    assert [s.grant for s in gone.roles] == [Grant("auditors", ORG_SCOPE)]
    assert not any(line.permission == "audit:read" for line in gone.permissions)
