"""The access store contract, run against DynamoDB (moto) and the in-memory fake alike (the
``stores`` fixture): profiles, teams with their people's links, custom roles, the snapshot
every change moves (and conflicts on), and the audit entry of each change."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tally.errors import Conflict, Invalid
from tally.org.model import (
    ORG_SCOPE,
    SELF_SCOPE,
    AccessProfile,
    Grant,
    RoleDef,
    Scope,
    ScopeKind,
    Team,
    TeamKind,
)
from tally.store import Stores
from tally.store.access import MAX_PEOPLE_PER_SAVE, grant_of
from tests.conftest import NOW
from tests.store.conftest import audit, every_page

ADMIN = Grant("admin", ORG_SCOPE)
FINANCE = Grant("finance", ORG_SCOPE)
MEMBER = Grant("member", SELF_SCOPE)
MANAGES_PAYMENTS = Grant("team-manager", Scope(ScopeKind.TEAM, "payments"))


def team(team_id: str = "payments", **changes: object) -> Team:
    base = Team(
        team_id,
        team_id.title(),
        TeamKind.TEAM,
        members=frozenset({"u-alice", "u-bob"}),
        managers=frozenset({"u-dave"}),
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def role(role_id: str = "viewer", *perms: str) -> RoleDef:
    return RoleDef(role_id, role_id.title(), "reads", frozenset(perms or {"costs:read"}))


def test_nothing_stored_reads_as_defaults(stores: Stores) -> None:
    org = stores.access.snapshot()
    assert (org.version, dict(org.roles), dict(org.teams), org.admins) == (0, {}, {}, frozenset())
    assert stores.access.profiles(["u-a", "u-b", "u-a"]) == {
        "u-a": AccessProfile("u-a"),
        "u-b": AccessProfile("u-b"),
    }
    assert stores.access.profiles([]) == {}
    assert stores.access.get_team("payments") is None and stores.access.list_teams() == []


def test_grants_are_set_and_the_admins_follow(stores: Stores) -> None:
    # Given alice is made admin and finance
    saved = stores.access.set_grants(
        "u-alice",
        (ADMIN, FINANCE),
        previous=None,
        snapshot=stores.access.snapshot(),
        audit=audit("u-alice", "roles.assigned"),
    )
    assert saved.grants == (ADMIN, FINANCE) and saved.version == 1

    # Then her profile and the snapshot say so
    read = stores.access.profiles(["u-alice"])["u-alice"]
    assert read == AccessProfile("u-alice", (ADMIN, FINANCE), version=1)
    org = stores.access.snapshot()
    assert org.admins == {"u-alice"} and org.version == 1

    # When she is given no roles at all, she is no admin, and () is not "never set"
    stores.access.set_grants(
        "u-alice", (), previous=read, snapshot=org, audit=audit("u-alice", "roles.assigned")
    )
    assert stores.access.profiles(["u-alice"])["u-alice"].grants == ()
    assert stores.access.snapshot().admins == frozenset()
    assert [e.action for e in stores.audit.list_for_user("u-alice", 10).items] == [
        "roles.assigned"
    ] * 2


def test_a_change_against_a_stale_snapshot_or_profile_conflicts(stores: Stores) -> None:
    org = stores.access.snapshot()
    first = stores.access.set_grants(
        "u-alice", (FINANCE,), previous=None, snapshot=org, audit=audit("u-alice")
    )
    # The snapshot moved on: a change checked against the old one is refused
    with pytest.raises(Conflict):
        stores.access.set_grants(
            "u-bob", (ADMIN,), previous=None, snapshot=org, audit=audit("u-bob")
        )
    # The profile moved on
    with pytest.raises(Conflict):
        stores.access.set_grants(
            "u-alice",
            (ADMIN,),
            previous=AccessProfile("u-alice"),
            snapshot=stores.access.snapshot(),
            audit=audit("u-alice"),
        )
    # Nothing of the refused changes was written, their audit entries neither
    assert stores.access.profiles(["u-alice", "u-bob"]) == {
        "u-alice": first,
        "u-bob": AccessProfile("u-bob"),
    }
    assert stores.access.snapshot().admins == frozenset()
    assert stores.audit.list_for_user("u-bob", 10).items == []
    assert len(stores.audit.list_all(10).items) == 1


def test_a_team_links_its_people_both_ways(stores: Stores) -> None:
    # Given payments with alice and bob, managed by dave, giving finance to its members
    payments = team(grants=(FINANCE,), cost_center="CC-7", parent_id=None)
    saved = stores.access.save_team(
        payments,
        previous=None,
        snapshot=stores.access.snapshot(),
        audit=audit("team:payments", "team.created"),
    )
    assert saved == replace(payments, version=1)
    assert stores.access.get_team("payments") == saved

    # Then each person's profile names the team, and the snapshot holds its node
    got = stores.access.profiles(["u-alice", "u-dave"])
    assert got["u-alice"].teams == {"payments"} and got["u-alice"].manages == frozenset()
    assert got["u-alice"].grants is None  # team changes never set a person's own grants
    assert got["u-dave"].manages == {"payments"} and got["u-dave"].teams == frozenset()
    node = stores.access.snapshot().teams["payments"]
    assert (node.name, node.cost_center, node.grants) == ("Payments", "CC-7", (FINANCE,))

    # When bob leaves, carol joins and dave becomes a member too
    changed = replace(saved, members=frozenset({"u-alice", "u-carol", "u-dave"}))
    stores.access.save_team(
        changed, previous=saved, snapshot=stores.access.snapshot(), audit=audit("team:payments")
    )
    got = stores.access.profiles(["u-alice", "u-bob", "u-carol", "u-dave"])
    assert got["u-bob"].teams == frozenset() and got["u-carol"].teams == {"payments"}
    assert got["u-dave"].teams == {"payments"} and got["u-dave"].manages == {"payments"}
    assert got["u-alice"].version == 1  # untouched by a change that did not move her

    # And deleting the team unlinks everyone
    current = stores.access.get_team("payments")
    assert current is not None and current.version == 2
    stores.access.delete_team(current, snapshot=stores.access.snapshot(), audit=audit("x"))
    got = stores.access.profiles(["u-alice", "u-carol", "u-dave"])
    assert all(p.teams == frozenset() and p.manages == frozenset() for p in got.values())
    assert stores.access.get_team("payments") is None
    assert "payments" not in stores.access.snapshot().teams


def test_team_membership_keeps_grants_set_by_an_admin(stores: Stores) -> None:
    stores.access.set_grants(
        "u-alice", (FINANCE,), previous=None, snapshot=stores.access.snapshot(), audit=audit("a")
    )
    stores.access.save_team(
        team(), previous=None, snapshot=stores.access.snapshot(), audit=audit("t")
    )
    alice = stores.access.profiles(["u-alice"])["u-alice"]
    assert alice.grants == (FINANCE,) and alice.teams == {"payments"} and alice.version == 2


def test_teams_list_in_name_order(stores: Stores) -> None:
    for team_id, name in (("b", "beta"), ("a", "Zulu"), ("c", "alpha")):
        stores.access.save_team(
            team(team_id, name=name, members=frozenset(), managers=frozenset()),
            previous=None,
            snapshot=stores.access.snapshot(),
            audit=audit("t"),
        )
    assert [t.name for t in stores.access.list_teams()] == ["alpha", "beta", "Zulu"]


def test_a_teams_display_currency_is_kept_and_cleared(stores: Stores) -> None:
    access = stores.access
    first = access.save_team(
        team(), previous=None, snapshot=access.snapshot(), audit=audit("team:payments")
    )
    assert first.display_currency is None
    set_gbp = access.save_team(
        replace(first, display_currency="GBP"),
        previous=first,
        snapshot=access.snapshot(),
        audit=audit("team:payments"),
    )
    stored = access.get_team("payments")
    assert stored is not None and stored.display_currency == "GBP"
    assert [t.display_currency for t in access.list_teams()] == ["GBP"]
    access.save_team(
        replace(set_gbp, display_currency=None),
        previous=set_gbp,
        snapshot=access.snapshot(),
        audit=audit("team:payments"),
    )
    cleared = access.get_team("payments")
    assert cleared is not None and cleared.display_currency is None


def test_a_taken_team_id_or_a_stale_team_conflicts(stores: Stores) -> None:
    first = stores.access.save_team(
        team(), previous=None, snapshot=stores.access.snapshot(), audit=audit("t")
    )
    with pytest.raises(Conflict):  # created again, as if new
        stores.access.save_team(
            team(), previous=None, snapshot=stores.access.snapshot(), audit=audit("t")
        )
    stores.access.save_team(
        replace(first, name="Pay"),
        previous=first,
        snapshot=stores.access.snapshot(),
        audit=audit("t"),
    )
    with pytest.raises(Conflict):  # changed from the version before
        stores.access.save_team(
            replace(first, name="Old"),
            previous=first,
            snapshot=stores.access.snapshot(),
            audit=audit("t"),
        )
    with pytest.raises(Conflict):
        stores.access.delete_team(first, snapshot=stores.access.snapshot(), audit=audit("t"))
    got = stores.access.get_team("payments")
    assert got is not None and got.name == "Pay" and got.version == 2


def test_more_people_than_a_transaction_holds_are_refused(stores: Stores) -> None:
    crowd = frozenset(f"u-{n}" for n in range(MAX_PEOPLE_PER_SAVE + 1))
    with pytest.raises(Invalid) as refused:
        stores.access.save_team(
            team(members=crowd, managers=frozenset()),
            previous=None,
            snapshot=stores.access.snapshot(),
            audit=audit("t"),
        )
    assert refused.value.errors[0].field == "members"
    # Exactly the limit fits in one transaction
    most = frozenset(sorted(crowd)[:MAX_PEOPLE_PER_SAVE])
    saved = stores.access.save_team(
        team(members=most, managers=frozenset()),
        previous=None,
        snapshot=stores.access.snapshot(),
        audit=audit("t"),
    )
    got = stores.access.profiles(sorted(most))
    assert len(got) == MAX_PEOPLE_PER_SAVE and all(p.teams == {"payments"} for p in got.values())
    assert saved.members == most


def test_custom_roles_live_in_the_snapshot(stores: Stores) -> None:
    viewer = role("viewer", "costs:read", "budgets:read")
    saved = stores.access.save_role(
        viewer, previous=None, snapshot=stores.access.snapshot(), audit=audit("role:viewer")
    )
    assert saved.version == 1 and not saved.builtin
    assert stores.access.snapshot().roles["viewer"] == saved
    with pytest.raises(Conflict):
        stores.access.save_role(
            viewer, previous=None, snapshot=stores.access.snapshot(), audit=audit("r")
        )
    changed = stores.access.save_role(
        replace(saved, permissions=frozenset({"costs:read"}), updated_at=NOW),
        previous=saved,
        snapshot=stores.access.snapshot(),
        audit=audit("role:viewer"),
    )
    assert stores.access.snapshot().roles["viewer"] == changed
    assert changed.version == 2 and changed.updated_at == NOW
    with pytest.raises(Conflict):
        stores.access.delete_role(saved, snapshot=stores.access.snapshot(), audit=audit("r"))
    stores.access.delete_role(changed, snapshot=stores.access.snapshot(), audit=audit("r"))
    assert dict(stores.access.snapshot().roles) == {}
    assert len(stores.audit.list_for_user("role:viewer", 10).items) == 2


def test_the_migration_sets_grants_only_once(stores: Stores) -> None:
    # Given dave is in a team already (a profile without grants)
    stores.access.save_team(
        team(), previous=None, snapshot=stores.access.snapshot(), audit=audit("t")
    )
    # When the migration makes him admin, and alice a member, twice
    for expected in (True, False):
        migrated = audit("u-dave", "roles.migrated")
        assert stores.access.ensure_profile(AccessProfile("u-dave", (ADMIN,)), audit=migrated) is (
            expected
        )
        assert stores.access.ensure_profile(AccessProfile("u-alice", (MEMBER,))) is expected
    # Then he keeps his team, and is an admin in the snapshot
    dave = stores.access.profiles(["u-dave"])["u-dave"]
    assert dave.grants == (ADMIN,) and dave.manages == {"payments"}
    org = stores.access.snapshot()
    assert org.admins == {"u-dave"} and "payments" in org.teams
    assert [e.action for e in stores.audit.list_for_user("u-dave", 5).items] == ["roles.migrated"]
    # And it never overwrites what an admin decided since
    stores.access.set_grants(
        "u-carol", (FINANCE,), previous=None, snapshot=org, audit=audit("u-carol")
    )
    assert stores.access.ensure_profile(AccessProfile("u-carol", (MEMBER,))) is False
    assert stores.access.profiles(["u-carol"])["u-carol"].grants == (FINANCE,)


def test_the_audit_log_lists_every_subject_newest_first(stores: Stores) -> None:
    org = stores.access.snapshot()
    stores.access.set_grants(
        "u-alice", (FINANCE,), previous=None, snapshot=org, audit=audit("u-alice", "1")
    )
    stores.access.save_team(
        team(),
        previous=None,
        snapshot=stores.access.snapshot(),
        audit=replace(audit("team:payments", "2"), at=NOW.replace(minute=5)),
    )
    stores.access.save_role(
        role(),
        previous=None,
        snapshot=stores.access.snapshot(),
        audit=replace(audit("role:viewer", "3"), at=NOW.replace(minute=9)),
    )
    listed = every_page(lambda key: stores.audit.list_all(2, key))
    assert [(e.action, e.subject_user_id) for e in listed] == [
        ("3", "role:viewer"),
        ("2", "team:payments"),
        ("1", "u-alice"),
    ]
    assert [e.action for e in stores.audit.list_for_user("team:payments", 5).items] == ["2"]


def test_grant_keys_read_back() -> None:
    for grant in (ADMIN, MEMBER, MANAGES_PAYMENTS):
        assert grant_of(grant.key) == grant
