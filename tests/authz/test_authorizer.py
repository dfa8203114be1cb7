"""The per-request authorizer: what it reads (and when), its refusals, and the warm cache."""

from __future__ import annotations

import os
from collections.abc import Collection

import pytest

from tally.authz import Target
from tally.authz.authorizer import FORBIDDEN, FORBIDDEN_USER, Authorizer, CachedAccessSource
from tally.errors import Forbidden, NotFound
from tally.identity import Caller
from tally.org.model import ORG_SCOPE, SELF_SCOPE, AccessProfile, Grant, OrgSnapshot
from tally.settings import ConfigurationError, access_cache_seconds
from tally.tables import ADMIN_GROUP

from .org import PLACES, org_snapshot, team_scope


class CountingSource:
    """An in-memory AccessSource that counts its reads."""

    def __init__(self, snapshot: OrgSnapshot, profiles: dict[str, AccessProfile]) -> None:
        self.stored_snapshot = snapshot
        self.stored = dict(profiles)
        self.snapshot_reads = 0
        self.profile_reads: list[set[str]] = []

    def snapshot(self) -> OrgSnapshot:
        self.snapshot_reads += 1
        return self.stored_snapshot

    def profiles(self, user_ids: Collection[str]) -> dict[str, AccessProfile]:
        self.profile_reads.append(set(user_ids))
        return {u: self.stored[u] for u in user_ids if u in self.stored}


def caller(user_id: str, *groups: str, needs_mfa: bool = False) -> Caller:
    return Caller(user_id, user_id, None, frozenset(groups), admin_needs_mfa=needs_mfa)


def source(**profiles: AccessProfile) -> CountingSource:
    return CountingSource(org_snapshot(), {**PLACES, **profiles})


def test_a_member_on_a_foreign_user_is_refused_with_todays_body_and_one_read() -> None:
    store = source()
    authz = Authorizer(caller("alice"), store)
    with pytest.raises(Forbidden) as refused:
        authz.require("costs:read", Target.user("bob"))
    assert refused.value.detail == FORBIDDEN_USER == "you may only access your own data"
    # A member holds nothing team-scoped: the target's profile is never read.
    assert store.profile_reads == [{"alice"}]
    assert store.snapshot_reads == 1
    authz.require("costs:read", Target.user("alice"))
    assert store.profile_reads == [{"alice"}]


def test_refusals_elsewhere_are_neutral_and_not_found_when_asked() -> None:
    authz = Authorizer(caller("alice"), source())
    with pytest.raises(Forbidden) as refused:
        authz.require("audit:read", Target.org())
    assert refused.value.detail == FORBIDDEN == "you do not have access to this"
    with pytest.raises(Forbidden, match=FORBIDDEN):
        authz.require("teams:write", Target.team("payments"))
    with pytest.raises(NotFound, match="no such budget"):
        authz.require("budgets:write", Target.user("bob"), not_found="no such budget")


def test_an_organisation_wide_role_never_reads_the_target() -> None:
    store = source(fiona=AccessProfile("fiona", grants=(Grant("finance", ORG_SCOPE),)))
    authz = Authorizer(caller("fiona"), store)
    assert authz.allows("costs:read", Target.user("alice"))
    assert not authz.allows("budgets:write", Target.user("alice"))
    assert store.profile_reads == [{"fiona"}]


def test_a_team_manager_reads_the_target_once_and_only_when_needed() -> None:
    store = source()
    authz = Authorizer(caller("dave"), store)  # manages payments
    assert authz.allows("costs:read", Target.user("dave"))  # own data: no target read
    assert authz.allows("budgets:write", Target.team("payments"))  # a team: no target read
    assert store.profile_reads == [{"dave"}]
    assert authz.allows("costs:read", Target.user("alice"))
    assert authz.allows("budgets:read", Target.user("alice"))  # memoised
    assert not authz.allows("costs:read", Target.user("zed"))
    assert store.profile_reads == [{"dave"}, {"alice"}, {"zed"}]
    assert store.snapshot_reads == 1


def test_prefetched_targets_come_in_the_callers_read() -> None:
    store = source()
    authz = Authorizer(caller("dave"), store, prefetch=["alice", "dave"])
    assert authz.allows("costs:read", Target.user("alice"))
    assert store.profile_reads == [{"dave", "alice"}]
    assert authz.allows("costs:read", Target.user("bob"))
    assert store.profile_reads == [{"dave", "alice"}, {"bob"}]  # bob was not prefetched


def test_one_profiles_call_for_a_request_of_many_decisions() -> None:
    store = source()
    authz = Authorizer(caller("alice"), store, prefetch=["bob"])
    for action in ("costs:read", "budgets:read", "budgets:write", "assignments:read"):
        authz.allows(action, Target.user("alice"))
        authz.allows(action, Target.user("bob"))
        authz.allows(action, Target.org())
    authz.effective_access()
    authz.is_admin()
    assert len(store.profile_reads) == 1
    assert store.snapshot_reads == 1


def test_defaults_from_the_token_when_nothing_is_stored() -> None:
    store = CountingSource(org_snapshot(), {})
    admin = Authorizer(caller("root", ADMIN_GROUP), store)
    assert admin.is_admin()
    assert admin.allows("roles:assign", Target.user("anyone"))
    member = Authorizer(caller("ann", "users"), store)
    assert not member.is_admin()
    assert member.allows("budgets:write", Target.user("ann"))
    assert not member.allows("costs:read", Target.org())
    # No access table at all (tools, tests): the token's defaults too.
    assert Authorizer(caller("root", ADMIN_GROUP), None).allows("audit:read", Target.org())
    assert Authorizer(caller("ann"), None).profile == AccessProfile("ann")


def test_an_admin_waiting_for_two_step_sign_in_holds_member_of_self_only() -> None:
    store = source(root=AccessProfile("root", grants=(Grant("admin", ORG_SCOPE),)))
    waiting = Authorizer(caller("root", ADMIN_GROUP, needs_mfa=True), store)
    assert not waiting.is_admin()
    assert waiting.profile.grants == (Grant("member", SELF_SCOPE),)
    assert waiting.allows("costs:read", Target.user("root"))
    assert not waiting.allows("costs:read", Target.org())
    assert Authorizer(caller("root", ADMIN_GROUP), store).is_admin()


def test_stored_grants_decide_over_the_token_group() -> None:
    store = source(
        exadmin=AccessProfile("exadmin", grants=(Grant("member", SELF_SCOPE),)),
        newadmin=AccessProfile("newadmin", grants=(Grant("admin", ORG_SCOPE),)),
    )
    assert not Authorizer(caller("exadmin", ADMIN_GROUP), store).is_admin()
    assert Authorizer(caller("newadmin"), store).is_admin()


def test_effective_access_of_the_caller() -> None:
    authz = Authorizer(caller("dave"), source())
    lines = {(line.permission, line.scope.key) for line in authz.effective_access()}
    assert ("budgets:write", "team:payments") in lines
    assert ("budgets:write", "self") in lines
    assert ("account:use", "self") in lines


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_cache_trusts_a_read_for_its_time_then_reads_again() -> None:
    store = source()
    clock = FakeClock()
    cached = CachedAccessSource(store, 60, clock=clock)
    assert cached.profiles(["alice", "ghost"]) == {"alice": PLACES["alice"]}
    cached.snapshot()
    clock.now += 59.9
    cached.profiles(["alice", "ghost"])  # a missing profile is remembered too
    cached.snapshot()
    assert store.profile_reads == [{"alice", "ghost"}]
    assert store.snapshot_reads == 1
    cached.profiles(["alice", "bob"])  # only the one not yet read
    assert store.profile_reads[-1] == {"bob"}
    # A revocation reaches this container when the time is up.
    store.stored["alice"] = AccessProfile("alice", grants=())
    clock.now += 0.1
    assert cached.profiles(["alice"]) == {"alice": AccessProfile("alice", grants=())}
    cached.snapshot()
    assert store.snapshot_reads == 2


def test_a_revoked_role_stops_working_when_the_cache_time_is_up() -> None:
    viewer = Grant("finance", ORG_SCOPE)
    store = source(fiona=AccessProfile("fiona", grants=(viewer,)))
    clock = FakeClock()
    cached = CachedAccessSource(store, 60, clock=clock)
    assert Authorizer(caller("fiona"), cached).allows("costs:read", Target.org())
    store.stored["fiona"] = AccessProfile("fiona", grants=())
    clock.now += 30
    assert Authorizer(caller("fiona"), cached).allows("costs:read", Target.org())
    clock.now += 30
    assert not Authorizer(caller("fiona"), cached).allows("costs:read", Target.org())


def test_no_cache_at_zero_seconds() -> None:
    store = source()
    cached = CachedAccessSource(store, 0, clock=FakeClock())
    cached.snapshot()
    cached.snapshot()
    assert store.snapshot_reads == 2


@pytest.mark.parametrize(
    ("raw", "seconds"), [(None, 60.0), ("", 60.0), ("0", 0.0), ("300", 300.0), ("12.5", 12.5)]
)
def test_cache_seconds_setting(raw: str | None, seconds: float) -> None:
    env = {} if raw is None else {"TALLY_ACCESS_CACHE_SECONDS": raw}
    assert access_cache_seconds(env) == seconds


@pytest.mark.parametrize("raw", ["301", "-1", "a minute", "nan"])
def test_cache_seconds_is_at_most_five_minutes(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="TALLY_ACCESS_CACHE_SECONDS"):
        access_cache_seconds({"TALLY_ACCESS_CACHE_SECONDS": raw})


def test_the_cache_defaults_to_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALLY_ACCESS_CACHE_SECONDS", "45")
    assert CachedAccessSource(source()).seconds == 45
    monkeypatch.delenv("TALLY_ACCESS_CACHE_SECONDS")
    assert CachedAccessSource(source()).seconds == 60


def test_team_scoped_grant_on_a_user_in_a_team_under_it() -> None:
    store = source(
        lead=AccessProfile("lead", grants=(Grant("finance", team_scope("engineering")),))
    )
    authz = Authorizer(caller("lead"), store)
    assert authz.allows("costs:read", Target.user("alice"))
    assert not authz.allows("costs:read", Target.user("dave"))
    assert not authz.allows("costs:read", Target.user("ghost"))  # no profile: under the org only


def test_the_settings_refuse_a_cache_longer_than_five_minutes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tally.settings import Settings
    from tally.tables import ALL_TABLES

    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for spec in ALL_TABLES:
        monkeypatch.setenv(spec.env_var, spec.local_name("t"))
    monkeypatch.setenv("TALLY_ACCESS_CACHE_SECONDS", "120")
    assert Settings.from_env().access_cache_seconds == 120
    monkeypatch.setenv("TALLY_ACCESS_CACHE_SECONDS", "600")
    with pytest.raises(ConfigurationError, match="between 0 and 300"):
        Settings.from_env()


def test_the_package_loads_cedar_only_with_the_first_decision() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tally.authz, tally.authz.authorizer, tally.authz.permissions, "
        "tally.authz.policies; print('cedarpy' in sys.modules)"
    )
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    path = os.pathsep.join(str(root / p) for p in ("layers", "functions", "."))
    env = {**os.environ, "PYTHONPATH": path}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "False"
