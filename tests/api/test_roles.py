"""Roles through the API (moto): the catalog, custom roles (created, changed, deleted, ETags),
people's roles (defaults, assignment, no escalation, the last admin), effective access, and a
custom role in force from the next request and revoked the same way."""

from __future__ import annotations

from typing import Any

import pytest

from tally.identity import Caller, Role
from tally.models import UserProfile
from tally.tables import USER_GROUP
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api

CAROL = Caller("u-carol", "carol", "carol@example.com", frozenset({USER_GROUP}))
FIONA = Caller("u-fiona", "fiona", "fiona@example.com", frozenset({USER_GROUP}))
FORBIDDEN = "you do not have access to this"


@pytest.fixture
def org(api: Api) -> Api:
    for c in (CAROL, FIONA):
        api.stores.users.put(UserProfile(c.user_id, c.username, c.email, Role.USER))
    return api


def give(api: Api, user_id: str, *roles: tuple[str, str], caller: Caller = ADMIN) -> Any:
    body = {"roles": [{"roleId": r, "scope": s} for r, s in roles]}
    return api.call("PUT", f"/api/users/{user_id}/roles", caller, body=body)


def test_the_catalog_lists_built_in_roles_and_permissions(org: Api) -> None:
    reply = org.call("GET", "/api/roles", ADMIN)
    assert reply.status == 200
    assert [r["roleId"] for r in reply.body["items"]] == [
        "admin",
        "finance",
        "team-manager",
        "member",
        "auditor",
    ]
    assert all(r["builtin"] and r["version"] == 0 for r in reply.body["items"])
    permissions = {p["id"]: p for p in reply.body["permissions"]}
    assert permissions["costs:read"]["readOnly"] is True
    assert permissions["roles:assign"]["readOnly"] is False
    assert "account:use" not in permissions  # self-service: never part of a role

    refused = org.call("GET", "/api/roles", ALICE)
    assert (refused.status, refused.problem["detail"]) == (403, FORBIDDEN)


def test_a_custom_role_lives_and_dies_with_etags(org: Api) -> None:
    made = org.call(
        "POST", "/api/roles", ADMIN, body={"name": "Cost viewer", "permissions": ["costs:read"]}
    )
    assert made.status == 201, made.body
    assert made.headers["ETag"] == '"1"'
    assert made.body == {
        "roleId": "cost-viewer",
        "name": "Cost viewer",
        "description": "",
        "permissions": ["costs:read"],
        "builtin": False,
        "version": 1,
    }
    assert org.call("GET", "/api/roles/cost-viewer", FIONA).status == 403
    url = "/api/roles/cost-viewer"
    change = {"name": "Cost viewer", "permissions": ["costs:read", "budgets:read"]}
    first = org.call("PUT", url, ADMIN, body=change, headers={"If-Match": '"1"'})
    stale = org.call("PUT", url, ADMIN, body=change, headers={"If-Match": '"1"'})
    assert (first.status, first.headers["ETag"], stale.status) == (200, '"2"', 409)
    assert org.call("GET", url, ADMIN).body["permissions"] == ["budgets:read", "costs:read"]
    assert org.call("DELETE", url, ADMIN, headers={"If-Match": '"1"'}).status == 409
    assert org.call("DELETE", url, ADMIN).status == 204
    assert org.call("GET", url, ADMIN).status == 404
    taken = org.call(
        "POST", "/api/roles", ADMIN, body={"roleId": "finance", "name": "F", "permissions": []}
    )
    assert taken.status == 422  # no permissions: refused before the id is looked at
    for method in ("PUT", "DELETE"):
        reply = org.call(method, "/api/roles/finance", ADMIN, body=change)
        assert reply.status == 409, reply.body


def test_a_custom_role_is_in_force_on_the_next_request_and_revoked_the_same_way(
    org: Api,
) -> None:
    org_costs = "/api/billing/organisation/costs?startDate=2026-11-01&endDate=2026-11-19"
    assert org.call("GET", org_costs, BOB).status == 403
    org.call(
        "POST", "/api/roles", ADMIN, body={"name": "Org reader", "permissions": ["costs:read"]}
    )
    assert give(org, "u-bob", ("org-reader", "org"), ("member", "self")).status == 200
    assert org.call("GET", org_costs, BOB).status == 200
    assert give(org, "u-bob", ("member", "self")).status == 200
    assert org.call("GET", org_costs, BOB).status == 403


def test_peoples_roles_defaults_and_assignment(org: Api) -> None:
    alice = org.call("GET", "/api/users/u-alice/roles", ADMIN)
    assert alice.status == 200 and alice.headers["ETag"] == '"0"'
    assert alice.body == {
        "userId": "u-alice",
        "roles": [{"roleId": "member", "scope": "self"}],
        "explicit": False,
        "version": 0,
    }
    assert org.call("GET", "/api/users/u-admin/roles", ADMIN).body["roles"] == [
        {"roleId": "admin", "scope": "org"}
    ]
    assert org.call("GET", "/api/users/u-alice/roles", ALICE).status == 403  # no roles:read
    assert org.call("GET", "/api/users/u-nobody/roles", ADMIN).status == 404

    saved = give(org, "u-fiona", ("finance", "org"))
    assert saved.status == 200 and saved.headers["ETag"] == '"1"'
    assert saved.body["explicit"] is True
    # fiona reads roles now, and changes none
    assert org.call("GET", "/api/users/u-alice/roles", FIONA).status == 200
    assert give(org, "u-alice", ("finance", "org"), caller=FIONA).status == 403
    stale = org.call(
        "PUT",
        "/api/users/u-fiona/roles",
        ADMIN,
        body={"roles": []},
        headers={"If-Match": '"0"'},
    )
    assert stale.status == 409


def test_no_one_grants_more_than_they_hold_and_an_admin_always_remains(org: Api) -> None:
    org.call(
        "POST",
        "/api/roles",
        ADMIN,
        body={"name": "Assigner", "permissions": ["roles:assign", "roles:read"]},
    )
    give(org, "u-carol", ("assigner", "org"))
    refused = give(org, "u-bob", ("finance", "org"), caller=CAROL)
    assert refused.status == 403 and "costs:read" in refused.problem["detail"]
    assert give(org, "u-bob", ("assigner", "org"), caller=CAROL).status == 200

    assert give(org, "u-admin", ("admin", "org")).status == 200
    last = give(org, "u-admin", ("finance", "org"))
    assert last.status == 403 and "admin" in last.problem["detail"]
    assert org.call("GET", "/api/users/u-admin/roles", ADMIN).body["roles"] == [
        {"roleId": "admin", "scope": "org"}
    ]


def test_effective_access_is_ones_own_or_needs_roles_read(org: Api) -> None:
    mine = org.call("GET", "/api/users/u-alice/access", ALICE)
    assert mine.status == 200
    assert mine.body["roles"] == [
        {"roleId": "member", "scope": "self", "via": "default", "teamId": None, "deleted": False}
    ]
    lines = {(p["permission"], p["scope"]): p["grantedBy"] for p in mine.body["permissions"]}
    assert lines[("costs:read", "self")][0]["roleId"] == "member"
    assert lines[("account:use", "self")] == []  # everyone's, through no role
    assert not any(scope == "org" for _, scope in lines)

    other = org.call("GET", "/api/users/u-alice/access", BOB)
    missing = org.call("GET", "/api/users/u-nobody/access", BOB)
    assert (other.status, missing.status) == (404, 404)
    assert other.problem["detail"] == missing.problem["detail"]
    give(org, "u-fiona", ("finance", "org"))
    assert org.call("GET", "/api/users/u-alice/access", FIONA).status == 200
