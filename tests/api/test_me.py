"""GET /api/me tells the dashboard what the caller may do, the API's limits and the resource
types by name, so the dashboard copies none of them (no group names, no constants)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tally.access import permissions_of
from tally.reports import MAX_LINES_RANGE_DAYS, MAX_RANGE_DAYS
from tally.resource_types import RESOURCE_TYPES
from tally.tables import ADMIN_GROUP
from tests.authz_oracle import role_permissions, self_service
from tests.conftest import ADMIN, ALICE
from tests.harness import Api

NOTHING = {"viewAllUsers": False, "manageAssignments": False, "decideAnyClaim": False}
EVERYTHING = {"viewAllUsers": True, "manageAssignments": True, "decideAnyClaim": True}


def test_a_user_may_do_only_their_own_things(api: Api) -> None:
    me = api.call("GET", "/api/me", ALICE).body
    assert me["role"] == "user"
    assert {k: me["permissions"][k] for k in NOTHING} == NOTHING
    # member@self by default: the member role's permissions and the self-service ones, at self.
    granted = {(g["permission"], g["scope"]) for g in me["permissions"]["granted"]}
    assert granted == {(p, "self") for p in role_permissions("member") | self_service()}
    assert me["permissions"]["roles"] == [
        {"roleId": "member", "scope": "self", "via": "default", "teamId": None}
    ]


def test_an_admin_may_do_everything(api: Api) -> None:
    me = api.call("GET", "/api/me", ADMIN).body
    assert me["role"] == "admin"
    assert {k: me["permissions"][k] for k in EVERYTHING} == EVERYTHING
    granted = {(g["permission"], g["scope"]) for g in me["permissions"]["granted"]}
    assert {(p, "org") for p in role_permissions("admin")} <= granted
    assert {(p, "self") for p in self_service()} <= granted
    assert me["permissions"]["roles"] == [
        {"roleId": "admin", "scope": "org", "via": "default", "teamId": None}
    ]


def test_an_admin_who_still_needs_two_step_sign_in_has_a_users_permissions() -> None:
    # What tally.mfa makes of such an admin: the group is dropped, the flag set.
    pending = replace(ADMIN, groups=ADMIN.groups - {ADMIN_GROUP}, admin_needs_mfa=True)
    assert permissions_of(pending) == permissions_of(ALICE)
    # The flag alone is enough: never an admin while two-step sign-in is missing.
    assert not permissions_of(replace(ADMIN, admin_needs_mfa=True)).view_all_users


def test_limits_are_the_apis_own() -> None:
    assert (MAX_LINES_RANGE_DAYS, MAX_RANGE_DAYS) == (92, 366)


def test_limits_are_given_to_everyone(api: Api) -> None:
    for caller in (ALICE, ADMIN):
        limits = api.call("GET", "/api/me", caller).body["limits"]
        assert limits == {"costLinesMaxDays": MAX_LINES_RANGE_DAYS, "costsMaxDays": MAX_RANGE_DAYS}


def test_resource_types_come_from_the_registry(api: Api) -> None:
    types = api.call("GET", "/api/me", ALICE).body["resourceTypes"]
    assert [(t["key"], t["name"]) for t in types] == [
        (t.key, t.display_name) for t in RESOURCE_TYPES
    ]
    # What the dashboard showed before the registry, and how it maps a Cost Explorer service.
    names = {t["key"]: t["name"] for t in types}
    assert {k: names[k] for k in ("ec2", "s3", "rds", "lambda")} == {
        "ec2": "EC2 instance",
        "s3": "S3 bucket",
        "rds": "RDS database",
        "lambda": "Lambda function",
    }
    by_service = {s: t["key"] for t in types for s in t["serviceNames"]}
    assert by_service["amazonec2"] == "ec2"
    assert by_service["awslambda"] == "lambda"
    assert all(s == s.lower() for s in by_service)


def test_granted_permissions_and_roles_come_from_the_callers_grants(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team manager's grants: what they hold, where, and which role gives it."""
    from functools import lru_cache

    from api import context
    from tally.org.model import AccessProfile, Grant, OrgSnapshot, Scope, TeamKind, TeamNode

    class Source:
        def snapshot(self) -> OrgSnapshot:
            node = TeamNode("payments", "Payments", TeamKind.TEAM, None, None)
            return OrgSnapshot(teams={"payments": node}, version=424_242)

        def profiles(self, user_ids: object) -> dict[str, AccessProfile]:
            grants = (Grant("team-manager", Scope.parse("team:payments")),)
            return {ALICE.user_id: AccessProfile(ALICE.user_id, grants=grants)}

    monkeypatch.setattr(context, "access_source", lru_cache(maxsize=1)(lambda: Source()))
    me = api.call("GET", "/api/me", ALICE).body
    assert me["role"] == "user"
    assert {k: me["permissions"][k] for k in NOTHING} == NOTHING
    granted = {(g["permission"], g["scope"]) for g in me["permissions"]["granted"]}
    assert {(p, "team:payments") for p in role_permissions("team-manager")} <= granted
    assert not any(scope == "org" for _, scope in granted)
    assert {(p, "self") for p in self_service()} <= granted
    assert {"roleId": "team-manager", "scope": "team:payments", "via": "direct"} in [
        {k: r[k] for k in ("roleId", "scope", "via")} for r in me["permissions"]["roles"]
    ]
