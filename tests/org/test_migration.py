"""The access migration (``tally.org.migration``): the admins group becomes admin@org, everyone
else member@self, explicitly; run twice on the demo organisation's tables (moto: the demo's
Cognito users, teams and Tally-given roles), the result is identical and every existing user
keeps exactly the access they had; a profile an admin already set is never overwritten; the
team sync follows Cognito groups; the audit log's "listed" backfill."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from infra.local.demo import PEOPLE, ROLES, TEAMS, build_organisation
from tally.authz import Target
from tally.authz.engine import PolicyEngine
from tally.authz.permissions import PERMISSIONS
from tally.estate.actions.catalog import ACTIONS as ESTATE_ACTIONS
from tally.models import AuditEntry
from tally.org.migration import (
    ACTOR,
    MIGRATED,
    CognitoGroups,
    default_grants,
    membership_steps,
    migrate_access,
    team_of_group,
)
from tally.org.model import ORG_SCOPE, SELF_SCOPE, AccessProfile, Grant, Team
from tally.settings import Settings
from tally.store import Stores, memory_stores
from tally.tables import ADMIN_GROUP, USER_GROUP

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)

# The estate's IAM actions: a permission each, held by no built-in role (issue 15).
IAM_ACTION_PERMISSIONS = {s.permission for s in ESTATE_ACTIONS.values() if s.family == "iam"}


@dataclass
class FakeDirectory:
    """``GroupDirectory`` in memory: user ids and group -> members."""

    users: list[str]
    members: dict[str, set[str]]

    def user_ids(self) -> list[str]:
        return list(self.users)

    def group_members(self, group: str) -> frozenset[str]:
        return frozenset(self.members.get(group, ()))

    def groups(self) -> list[str]:
        return list(self.members)


def migrated_entries(stores: Stores, user_id: str) -> list[AuditEntry]:
    page = stores.audit.list_for_user(user_id, 100)
    return [e for e in page.items if e.action == MIGRATED]


# --- in memory: the rules ---------------------------------------------------------------


def test_admins_become_admin_at_org_and_everyone_else_member_of_self() -> None:
    stores = memory_stores()
    directory = FakeDirectory(["u-root", "u-ann", "u-ben"], {ADMIN_GROUP: {"u-root"}})

    result = migrate_access(stores.access, directory, now=NOW)

    assert (result.users, result.profiles_set, result.admins_set) == (3, 3, 1)
    profiles = stores.access.profiles(["u-root", "u-ann", "u-ben"])
    assert profiles["u-root"].grants == (Grant("admin", ORG_SCOPE),)
    assert profiles["u-ann"].grants == (Grant("member", SELF_SCOPE),)
    assert stores.access.snapshot().admins == {"u-root"}
    (entry,) = migrated_entries(stores, "u-root")
    assert (entry.actor, entry.entity_id, entry.at) == (ACTOR, "u-root", NOW)
    assert entry.details == {"before": "null", "after": '[{"roleId": "admin", "scope": "org"}]'}


def test_a_second_run_writes_nothing_and_logs_nothing() -> None:
    stores = memory_stores()
    directory = FakeDirectory(["u-root", "u-ann"], {ADMIN_GROUP: {"u-root"}})
    migrate_access(stores.access, directory, now=NOW)
    before = (stores.access.snapshot(), stores.access.profiles(["u-root", "u-ann"]))

    again = migrate_access(stores.access, directory, now=LATER)

    assert (again.profiles_set, again.admins_set) == (0, 0)
    assert (stores.access.snapshot(), stores.access.profiles(["u-root", "u-ann"])) == before
    assert len(migrated_entries(stores, "u-root")) == 1


def test_a_profile_an_admin_set_is_never_overwritten() -> None:
    # Given ann was made finance in Tally before the migration ran, and ben was given no role
    stores = memory_stores()
    for user_id, grants in (("u-ann", (Grant("finance", ORG_SCOPE),)), ("u-ben", ())):
        stores.access.set_grants(
            user_id,
            grants,
            previous=None,
            snapshot=stores.access.snapshot(),
            audit=AuditEntry(user_id, NOW, "u-root", "roles.assigned", user_id, {}),
        )
    directory = FakeDirectory(["u-ann", "u-ben", "u-cat"], {ADMIN_GROUP: {"u-ann"}})

    result = migrate_access(stores.access, directory, now=NOW)

    # Then only cat, whose grants were never set, is migrated; ann stays finance (not admin)
    assert result.profiles_set == 1
    profiles = stores.access.profiles(["u-ann", "u-ben", "u-cat"])
    assert profiles["u-ann"].grants == (Grant("finance", ORG_SCOPE),)
    assert profiles["u-ben"].grants == ()
    assert profiles["u-cat"].grants == (Grant("member", SELF_SCOPE),)
    assert migrated_entries(stores, "u-ann") == [] and migrated_entries(stores, "u-ben") == []


def test_team_membership_made_before_the_migration_is_kept() -> None:
    stores = memory_stores()
    team = Team("payments", "Payments", members=frozenset({"u-ann"}))
    stores.access.save_team(
        team,
        previous=None,
        snapshot=stores.access.snapshot(),
        audit=AuditEntry("team:payments", NOW, "u-root", "team.created", "payments", {}),
    )
    migrate_access(stores.access, FakeDirectory(["u-ann"], {}), now=NOW)
    profile = stores.access.profiles(["u-ann"])["u-ann"]
    assert profile.grants == (Grant("member", SELF_SCOPE),) and profile.teams == {"payments"}


@pytest.mark.parametrize(
    ("group", "team"),
    [
        ("team-payments", "payments"),
        ("team-data-platform", "data-platform"),
        ("admins", None),
        ("team-", None),
        ("team-Payments", None),  # not a team id: refused, not lower-cased into another
        ("teams", None),
    ],
)
def test_team_of_group(group: str, team: str | None) -> None:
    assert team_of_group(group, "team-") == team


def test_membership_changes_in_bounded_steps() -> None:
    current = frozenset(f"old-{n}" for n in range(5))
    target = frozenset(f"new-{n:03}" for n in range(200))
    steps = list(membership_steps(current, target, limit=90))
    assert steps[-1] == target and len(steps) == 3
    previous = current
    for step in steps:
        assert len(previous ^ step) <= 90
        previous = step
    assert list(membership_steps(target, target)) == []


def test_team_sync_follows_the_groups_and_leaves_tallys_own_teams_alone() -> None:
    stores = memory_stores()
    stores.access.save_team(
        Team("data", "Data", members=frozenset({"u-dan"})),
        previous=None,
        snapshot=stores.access.snapshot(),
        audit=AuditEntry("team:data", NOW, "u-root", "team.created", "data", {}),
    )
    directory = FakeDirectory(
        ["u-ann", "u-ben", "u-dan"],
        {
            ADMIN_GROUP: set(),
            "team-payments": {"u-ann", "u-ben"},
            "team-data": {"u-ann"},
            "team-Bad": {"u-ann"},
        },
    )

    first = migrate_access(stores.access, directory, now=NOW, team_group_prefix="team-")

    assert (first.teams_created, first.teams_updated) == (1, 0)
    payments = stores.access.get_team("payments")
    assert payments is not None
    assert (payments.source, payments.members) == ("cognito", {"u-ann", "u-ben"})
    data = stores.access.get_team("data")
    assert data is not None and data.members == {"u-dan"}  # Tally's own: untouched
    assert stores.access.profiles(["u-ann"])["u-ann"].teams == {"payments"}

    # When ben leaves the group and dan joins it, the next run follows, and only then
    directory.members["team-payments"] = {"u-ann", "u-dan"}
    second = migrate_access(stores.access, directory, now=LATER, team_group_prefix="team-")
    third = migrate_access(stores.access, directory, now=LATER, team_group_prefix="team-")
    assert (second.teams_created, second.teams_updated) == (0, 1)
    assert (third.teams_created, third.teams_updated) == (0, 0)
    payments = stores.access.get_team("payments")
    assert payments is not None and payments.members == {"u-ann", "u-dan"}
    assert stores.access.profiles(["u-ben"])["u-ben"].teams == frozenset()


def test_without_a_prefix_no_team_is_made() -> None:
    stores = memory_stores()
    directory = FakeDirectory(["u-ann"], {"team-payments": {"u-ann"}})
    result = migrate_access(stores.access, directory, now=NOW, team_group_prefix=None)
    assert result.teams_created == 0 and stores.access.list_teams() == []


# --- moto: the demo organisation's tables and user pool ----------------------------------


@dataclass
class Pool:
    client: Any
    pool_id: str
    ids: dict[str, str]  # username -> sub


def _create_pool(names: list[tuple[str, str]], extra_groups: dict[str, list[str]]) -> Pool:
    client = boto3.client("cognito-idp", region_name="us-east-1")
    pool_id = client.create_user_pool(PoolName="tally-migration")["UserPool"]["Id"]
    for group in (ADMIN_GROUP, USER_GROUP, *extra_groups):
        client.create_group(UserPoolId=pool_id, GroupName=group)
    ids = {}
    for name, role in names:
        user = client.admin_create_user(UserPoolId=pool_id, Username=name)["User"]
        ids[name] = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
        group = ADMIN_GROUP if role == "admin" else USER_GROUP
        client.admin_add_user_to_group(UserPoolId=pool_id, Username=name, GroupName=group)
    for group, members in extra_groups.items():
        for name in members:
            client.admin_add_user_to_group(UserPoolId=pool_id, Username=name, GroupName=group)
    return Pool(client, pool_id, ids)


@pytest.fixture
def demo_org(dynamo_stores: Stores) -> Iterator[tuple[Stores, Pool]]:
    """The demo's people in a Cognito pool, and its organisation (teams, fiona's and
    audrey's roles) in the access table, as the local stack's seed leaves them before the
    migration runs."""
    pool = _create_pool(PEOPLE, {})
    admin = pool.ids["admin"]
    build_organisation(dynamo_stores.access, pool.ids, actor=admin, now=NOW)
    yield dynamo_stores, pool


def _state(stores: Stores, user_ids: list[str]) -> tuple[Any, ...]:
    teams = sorted(stores.access.list_teams(), key=lambda t: t.team_id)
    audit = {u: stores.audit.list_for_user(u, 100).items for u in user_ids}
    return stores.access.snapshot(), stores.access.profiles(user_ids), teams, audit


TARGETS = ("org", "self", "other", "team:payments", "team:data", "team:engineering")


def _target(kind: str, me: str, other: str) -> Target:
    if kind == "org":
        return Target.org()
    if kind == "self":
        return Target.user(me)
    if kind == "other":
        return Target.user(other)
    return Target.team(kind.removeprefix("team:"))


def _decisions(stores: Stores, pool: Pool, admins: set[str]) -> dict[tuple[str, str, str], bool]:
    """Every permission on every kind of target, for every demo user, as the engine decides
    with what the access table holds (the token says who is in the admins group)."""
    snapshot = stores.access.snapshot()
    engine = PolicyEngine.for_snapshot(snapshot)
    ids = pool.ids
    profiles = stores.access.profiles(list(ids.values()))
    out = {}
    for name, user_id in ids.items():
        other = ids["carol"] if name != "carol" else ids["alice"]
        profile = profiles.get(user_id) or AccessProfile(user_id)
        for action in PERMISSIONS:
            for kind in TARGETS:
                target = _target(kind, user_id, other)
                target_profile = profiles.get(other) if kind == "other" else None
                decision = engine.decide(
                    profile,
                    action,
                    target,
                    target_profile=target_profile,
                    token_admin=user_id in admins,
                )
                out[(name, action, kind)] = decision.allowed
    return out


def test_run_twice_on_the_demo_organisation_the_result_is_identical(
    demo_org: tuple[Stores, Pool],
) -> None:
    stores, pool = demo_org
    directory = CognitoGroups(pool.client, pool.pool_id)
    user_ids = list(pool.ids.values())

    first = migrate_access(stores.access, directory, now=NOW)
    after_first = _state(stores, user_ids)
    second = migrate_access(stores.access, directory, now=LATER)

    assert _state(stores, user_ids) == after_first
    # Everyone but fiona and audrey (whose roles were given in Tally) was migrated, once.
    assert (first.users, first.profiles_set, first.admins_set) == (
        len(PEOPLE),
        len(PEOPLE) - len(ROLES),
        1,
    )
    assert (second.profiles_set, second.admins_set) == (0, 0)
    profiles = stores.access.profiles(user_ids)
    assert profiles[pool.ids["admin"]].grants == default_grants(True)
    assert profiles[pool.ids["alice"]].grants == default_grants(False)
    assert profiles[pool.ids["fiona"]].grants == (Grant("finance", ORG_SCOPE),)
    assert stores.access.snapshot().admins == {pool.ids["admin"]}
    # Team membership and management made by the demo survive
    assert profiles[pool.ids["dave"]].manages == {"payments"}
    assert profiles[pool.ids["dave"]].teams == {"data"}
    assert {t.team_id for t in stores.access.list_teams()} == {t.team_id for t in TEAMS}


def test_existing_users_keep_exactly_their_access(demo_org: tuple[Stores, Pool]) -> None:
    stores, pool = demo_org
    admins = {pool.ids["admin"]}
    before = _decisions(stores, pool, admins)

    migrate_access(stores.access, CognitoGroups(pool.client, pool.pool_id), now=NOW)

    after = _decisions(stores, pool, admins)
    assert after == before
    # and the comparison has teeth: the admin may do everything (but the estate's IAM actions,
    # which no built-in role holds), alice only her own
    assert all(
        after[("admin", action, kind)]
        for action in PERMISSIONS
        if action not in IAM_ACTION_PERMISSIONS
        for kind in TARGETS
    )
    assert after[("alice", "budgets:write", "self")]
    assert not after[("alice", "budgets:write", "other")]
    assert not after[("alice", "roles:assign", "org")]
    assert after[("dave", "budgets:write", "team:payments")]
    assert not after[("dave", "budgets:write", "team:data")]


def test_cognito_groups_page_through_every_user_and_member(aws: Settings) -> None:
    # More users than one page (60) of ListUsers and ListUsersInGroup
    names = [(f"user{n:03}", "admin" if n % 2 else "user") for n in range(130)]
    pool = _create_pool(names, {"team-payments": [n for n, _ in names[:70]]})
    directory = CognitoGroups(pool.client, pool.pool_id)

    assert sorted(directory.user_ids()) == sorted(pool.ids.values())
    admins = {pool.ids[n] for n, role in names if role == "admin"}
    assert directory.group_members(ADMIN_GROUP) == admins
    assert len(directory.group_members("team-payments")) == 70
    assert directory.group_members("no-such-group") == frozenset()
    assert set(directory.groups()) == {ADMIN_GROUP, USER_GROUP, "team-payments"}


def test_the_team_sync_through_dynamodb_and_cognito(
    dynamo_stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A group larger than one transaction's room (made small here: moto's transactions of 90
    # items are slow): the team is filled in steps
    monkeypatch.setattr("tally.org.migration.MAX_MEMBERSHIP_CHANGES", 4)
    names = [(f"dev{n:03}", "user") for n in range(10)]
    pool = _create_pool(names, {"team-platform": [n for n, _ in names]})
    directory = CognitoGroups(pool.client, pool.pool_id)

    first = migrate_access(dynamo_stores.access, directory, now=NOW, team_group_prefix="team-")
    again = migrate_access(dynamo_stores.access, directory, now=LATER, team_group_prefix="team-")

    assert (first.teams_created, again.teams_created, again.teams_updated) == (1, 0, 0)
    team = dynamo_stores.access.get_team("platform")
    assert team is not None and team.source == "cognito" and len(team.members) == 10
    some = pool.ids["dev007"]
    assert dynamo_stores.access.profiles([some])[some].teams == {"platform"}


def test_the_audit_backfill_lists_older_entries_once(dynamo_stores: Stores) -> None:
    from tally.org.migration import backfill_audit_listing
    from tally.store.audit import AuditItem

    # Given two entries written before the "all" index existed (no "listed")
    for n in range(2):
        AuditItem(
            pk=f"USER#u-{n}",
            sk=f"2026-01-0{n + 1}T00:00:00+00:00#{n}",
            actor="a",
            action="budget.created",
            entity_id="b",
            details={},
        ).save()
    assert dynamo_stores.audit.list_all(10).items == []

    assert backfill_audit_listing() == 2
    assert backfill_audit_listing() == 0
    assert len(dynamo_stores.audit.list_all(10).items) == 2
