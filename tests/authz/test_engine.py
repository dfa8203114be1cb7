"""Decisions of the policy engine: roles x scopes x targets, the team tree, defaults, deleted
roles, the forbids and the reasons."""

from __future__ import annotations

import json

import cedarpy
import pytest

from tally.authz import Decision, GrantSource, Target
from tally.authz.engine import PolicyEngine, _user
from tally.authz.permissions import ACTIONS, BUILTIN_ROLES, PERMISSIONS, SELF_SERVICE
from tally.authz.policies import schema_text
from tally.org.model import (
    ORG_SCOPE,
    SELF_SCOPE,
    AccessProfile,
    Grant,
    OrgSnapshot,
    RoleDef,
    Scope,
)

from .org import PLACES, org_snapshot, team_scope

# An admin holds every permission but the estate's IAM actions (granted one by one).
ADMIN_HOLDS = BUILTIN_ROLES["admin"].permissions


def holding(
    *grants: Grant,
    user: str = "caller",
    teams: frozenset[str] = frozenset(),
    manages: frozenset[str] = frozenset(),
) -> AccessProfile:
    return AccessProfile(user, grants=grants, teams=teams, manages=manages)


def decide(
    engine: PolicyEngine, who: AccessProfile, action: str, target: Target, **kw: object
) -> bool:
    return engine.decide(who, action, target, **kw).allowed  # type: ignore[arg-type]


# (target, the target user's profile): where each target sits relative to the scopes below.
TARGETS = {
    "org": (Target.org(), None),
    "team engineering": (Target.team("engineering"), None),
    "team payments": (Target.team("payments"), None),
    "team data": (Target.team("data"), None),
    "self": (Target.user("caller"), None),
    "alice (payments)": (Target.user("alice"), PLACES["alice"]),
    "zed (no team)": (Target.user("zed"), PLACES["zed"]),
}
# What each scope reaches, besides self-service and one's own teams.
REACHES = {
    "org": set(TARGETS),
    "team:engineering": {"team engineering", "team payments", "alice (payments)"},
    "team:payments": {"team payments", "alice (payments)"},
    "self": {"self"},
}


@pytest.mark.parametrize("role_id", sorted(BUILTIN_ROLES))
@pytest.mark.parametrize("scope_key", sorted(REACHES))
def test_builtin_role_at_scope_on_every_target(role_id: str, scope_key: str) -> None:
    engine = PolicyEngine(org_snapshot())
    caller = holding(Grant(role_id, Scope.parse(scope_key)))
    # Admin is held by people at the organisation only: elsewhere it grants nothing.
    effective = role_id != "admin" or scope_key == "org"
    for name, (target, target_profile) in TARGETS.items():
        for action in ACTIONS:
            expected = (
                effective
                and action in BUILTIN_ROLES[role_id].permissions
                and name in REACHES[scope_key]
            ) or (action in SELF_SERVICE and name == "self")
            got = decide(engine, caller, action, target, target_profile=target_profile)
            assert got == expected, (role_id, scope_key, name, action)


def test_grants_are_linked_with_the_grant_key_as_reason() -> None:
    engine = PolicyEngine(org_snapshot())
    grant = Grant("finance", ORG_SCOPE)
    decision = engine.decide(holding(grant), "costs:read", Target.user("zed"))
    assert decision == Decision(True, (GrantSource(grant, "direct"),))


def test_a_team_role_applies_to_its_members_and_the_members_of_teams_under_it() -> None:
    auditor = Grant("auditor", team_scope("engineering"))
    engine = PolicyEngine(org_snapshot(engineering=(auditor,)))
    alice = PLACES["alice"]  # in payments, under engineering
    decision = engine.decide(alice, "audit:read", Target.team("payments"))
    assert decision.granted_by == (GrantSource(auditor, "team", "engineering"),)
    assert decide(engine, alice, "costs:read", Target.user("bob"), target_profile=PLACES["bob"])
    assert not decide(engine, alice, "costs:read", Target.team("data"))
    # Dave is in data, not under engineering.
    assert not decide(engine, PLACES["dave"], "audit:read", Target.team("payments"))


def test_a_team_manager_reads_members_of_the_teams_under_the_managed_one() -> None:
    engine = PolicyEngine(org_snapshot())
    head = holding(manages=frozenset({"engineering"}))
    alice = PLACES["alice"]
    decision = engine.decide(head, "costs:read", Target.user("alice"), target_profile=alice)
    assert decision.granted_by == (
        GrantSource(Grant("team-manager", team_scope("engineering")), "manager", "engineering"),
    )
    assert decide(engine, head, "budgets:write", Target.team("payments"))
    assert not decide(engine, head, "budgets:write", Target.team("data"))
    assert not decide(engine, head, "costs:read", Target.user("zed"), target_profile=PLACES["zed"])
    # Without the target's teams, the target sits under the organisation only.
    assert not decide(engine, head, "costs:read", Target.user("alice"))
    # Managing is not membership: no team-manager permission on one's own data beyond a member's.
    assert not decide(
        engine, holding(manages=frozenset({"data"})), "costs:read", Target.user("caller")
    )


def test_a_member_reads_their_own_teams_and_the_departments_above_them() -> None:
    engine = PolicyEngine(org_snapshot())
    alice = PLACES["alice"]
    assert decide(engine, alice, "teams:read", Target.team("payments"))
    assert decide(engine, alice, "teams:read", Target.team("engineering"))
    assert not decide(engine, alice, "teams:read", Target.team("data"))
    assert not decide(engine, alice, "teams:write", Target.team("payments"))


@pytest.mark.parametrize(("token_admin", "expected"), [(True, "admin@org"), (False, "member@self")])
def test_defaults_when_grants_were_never_set(token_admin: bool, expected: str) -> None:
    engine = PolicyEngine(org_snapshot())
    never_set = AccessProfile("caller")
    assert list(engine.sources(never_set, token_admin=token_admin)) == [expected]
    decision = engine.decide(
        never_set, "costs:read", Target.user("caller"), token_admin=token_admin
    )
    assert decision.granted_by[0].via == "default"
    assert (
        decide(engine, never_set, "roles:assign", Target.org(), token_admin=token_admin)
        is token_admin
    )
    # An explicit empty list is no roles at all, admins group or not.
    none = holding()
    assert not decide(engine, none, "costs:read", Target.user("caller"), token_admin=True)
    assert decide(engine, none, "account:use", Target.user("caller"), token_admin=True)


def test_admin_is_held_only_by_people_at_the_organisation() -> None:
    on_team = Grant("admin", ORG_SCOPE)
    engine = PolicyEngine(org_snapshot(payments=(on_team, Grant("admin", team_scope("payments")))))
    alice = PLACES["alice"]
    assert engine.sources(alice) == {
        "member@self": (GrantSource(Grant("member", SELF_SCOPE), "default"),)
    }
    assert not decide(engine, alice, "roles:assign", Target.org())
    for scope in (team_scope("payments"), SELF_SCOPE):
        assert not decide(
            engine, holding(Grant("admin", scope)), "costs:read", Target.user("caller")
        )


def test_a_deleted_role_grants_nothing_and_a_recreated_one_grants_again() -> None:
    viewer = RoleDef("cost-viewer", "Cost viewer", "", frozenset({"costs:read"}))
    caller = holding(Grant("cost-viewer", ORG_SCOPE))
    with_role = PolicyEngine(org_snapshot(roles={"cost-viewer": viewer}))
    assert decide(with_role, caller, "costs:read", Target.org())
    assert not decide(with_role, caller, "budgets:read", Target.org())
    deleted = PolicyEngine(org_snapshot(version=2))
    assert deleted.sources(caller) == {}
    assert not decide(deleted, caller, "costs:read", Target.org())
    team_held = PolicyEngine(org_snapshot(version=3, data=(Grant("cost-viewer", ORG_SCOPE),)))
    assert not decide(team_held, PLACES["dave"], "costs:read", Target.org())


def test_a_custom_role_cannot_shadow_a_builtin_one() -> None:
    fake = RoleDef("member", "Member", "", frozenset(PERMISSIONS))
    engine = PolicyEngine(org_snapshot(roles={"member": fake}))
    assert not decide(
        engine, holding(Grant("member", SELF_SCOPE)), "roles:assign", Target.user("caller")
    )


def test_no_one_grants_what_they_do_not_hold() -> None:
    engine = PolicyEngine(org_snapshot())
    admin = holding(Grant("admin", ORG_SCOPE))
    fine = {"grantedPermissions": {"costs:read"}, "heldPermissions": set(PERMISSIONS)}
    assert decide(engine, admin, "roles:assign", Target.user("zed"), context=fine)
    escalating = {
        "grantedPermissions": {"costs:read", "audit:read"},
        "heldPermissions": {"costs:read"},
    }
    decision = engine.decide(admin, "roles:assign", Target.user("zed"), context=escalating)
    assert decision == Decision(False, (), ("no-escalation",))
    for action in ("roles:write", "teams:write"):
        assert engine.decide(admin, action, Target.org(), context=escalating).forbidden_by == (
            "no-escalation",
        )


def test_the_last_admin_cannot_be_removed() -> None:
    engine = PolicyEngine(org_snapshot())
    admin = holding(Grant("admin", ORG_SCOPE))
    assert decide(
        engine, admin, "roles:assign", Target.user("root"), context={"remainingAdmins": 1}
    )
    decision = engine.decide(
        admin, "roles:assign", Target.user("root"), context={"remainingAdmins": 0}
    )
    assert decision.forbidden_by == ("last-admin",)
    both = {"remainingAdmins": 0, "grantedPermissions": {"audit:read"}, "heldPermissions": set()}
    assert set(engine.decide(admin, "teams:write", Target.org(), context=both).forbidden_by) == {
        "last-admin",
        "no-escalation",
    }


def test_effective_access_comes_from_the_reasons_at_each_grants_scope() -> None:
    auditor = Grant("auditor", team_scope("engineering"))
    engine = PolicyEngine(org_snapshot(engineering=(auditor,)))
    finance = Grant("finance", ORG_SCOPE)
    alice = AccessProfile(
        "alice",
        grants=(finance, Grant("member", SELF_SCOPE)),
        teams=frozenset({"payments"}),
        manages=frozenset({"data"}),
    )
    lines = {
        (line.permission, line.scope.key): line.sources for line in engine.effective_access(alice)
    }
    assert lines[("costs:read", "org")] == (GrantSource(finance, "direct"),)
    assert lines[("audit:read", "team:engineering")] == (
        GrantSource(auditor, "team", "engineering"),
    )
    manager = Grant("team-manager", team_scope("data"))
    assert lines[("budgets:write", "team:data")] == (GrantSource(manager, "manager", "data"),)
    assert lines[("budgets:write", "self")] == (GrantSource(Grant("member", SELF_SCOPE), "direct"),)
    assert lines[("account:use", "self")] == ()
    # Each line sits at the scope of the grant that gives it: finance's costs:read is not
    # repeated for every team, nor auditor's audit:read at the organisation.
    assert ("costs:read", "team:engineering") in lines  # auditor gives it there too
    assert ("audit:read", "org") not in lines
    assert ("roles:assign", "org") not in lines
    assert {key for _, key in lines} == {"org", "team:engineering", "team:data", "self"}


def test_held_permissions_count_grants_only() -> None:
    engine = PolicyEngine(org_snapshot())
    alice = AccessProfile(
        "alice",
        grants=(Grant("finance", team_scope("engineering")),),
        teams=frozenset({"payments"}),
    )
    finance = BUILTIN_ROLES["finance"].permissions
    assert engine.held_permissions(alice, team_scope("payments")) == finance
    assert engine.held_permissions(alice, ORG_SCOPE) == frozenset()
    # Reading her own team is everyone's, not held through a grant.
    assert (
        engine.held_permissions(
            AccessProfile("bob", grants=(), teams=frozenset({"payments"})), team_scope("payments")
        )
        == frozenset()
    )
    admin = AccessProfile("root", grants=(Grant("admin", ORG_SCOPE),))
    assert engine.held_permissions(admin, team_scope("data")) == ADMIN_HOLDS


def test_one_engine_per_snapshot_version_unless_the_content_differs() -> None:
    first = org_snapshot(version=41)
    engine = PolicyEngine.for_snapshot(first)
    assert PolicyEngine.for_snapshot(first) is engine
    assert PolicyEngine.for_snapshot(org_snapshot(version=41)) is engine  # read again, equal
    other = OrgSnapshot(version=41)
    assert PolicyEngine.for_snapshot(other) is not engine


def test_people_entities_conform_to_the_schema() -> None:
    people = [_user("alice", ["finance@org", "member@self"], {"payments"}), _user("zed", (), ())]
    cedarpy.Entities.from_json_str(json.dumps(people), schema_text())


def test_linked_sets_are_shared_by_callers_with_the_same_grants() -> None:
    engine = PolicyEngine(org_snapshot())
    one = engine._policies_for(engine.sources(holding(Grant("finance", ORG_SCOPE), user="a")))
    two = engine._policies_for(engine.sources(holding(Grant("finance", ORG_SCOPE), user="b")))
    assert one is two
    assert decide(
        engine, holding(Grant("finance", ORG_SCOPE), user="b"), "costs:read", Target.org()
    )


def test_a_role_whose_id_is_not_a_slug_grants_nothing() -> None:
    forged = RoleDef("no slug!", "Forged", "", frozenset({"costs:read"}))
    engine = PolicyEngine(org_snapshot(roles={"no slug!": forged}))
    assert not decide(engine, holding(Grant("no slug!", ORG_SCOPE)), "costs:read", Target.org())


def test_a_team_the_snapshot_does_not_know_sits_under_the_organisation() -> None:
    engine = PolicyEngine(org_snapshot())
    ghost = Target.team("ghost")
    assert decide(engine, holding(Grant("admin", ORG_SCOPE)), "budgets:read", ghost)
    assert decide(engine, holding(Grant("finance", ORG_SCOPE)), "costs:read", ghost)
    assert not decide(
        engine, holding(Grant("finance", team_scope("engineering"))), "costs:read", ghost
    )
    assert not decide(engine, holding(manages=frozenset({"payments"})), "costs:read", ghost)
    # A person still listed in a deleted team is under the organisation through it too.
    stale = AccessProfile("stale", grants=None, teams=frozenset({"ghost"}))
    assert decide(
        engine,
        holding(Grant("auditor", ORG_SCOPE)),
        "costs:read",
        Target.user("stale"),
        target_profile=stale,
    )
    assert not decide(engine, stale, "teams:read", Target.team("payments"))
