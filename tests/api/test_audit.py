"""The audit log through the API (moto): every role and team change with who, what, before
and after, newest first; read by auditors (audit:read), a subject at a time or all, page
tokens bound to the caller and the filter."""

from __future__ import annotations

import json

import pytest

from tally.identity import Caller, Role
from tally.models import UserProfile
from tally.tables import USER_GROUP
from tests.conftest import ADMIN, ALICE
from tests.harness import Api

AUDREY = Caller("u-audrey", "audrey", "audrey@example.com", frozenset({USER_GROUP}))
FIONA = Caller("u-fiona", "fiona", "fiona@example.com", frozenset({USER_GROUP}))


@pytest.fixture
def logged(api: Api) -> Api:
    """A role made, a team made and changed, and two people given roles, in that order."""
    for c in (AUDREY, FIONA):
        api.stores.users.put(UserProfile(c.user_id, c.username, c.email, Role.USER))
    steps = [
        ("POST", "/api/roles", {"name": "Viewer", "permissions": ["costs:read"]}),
        ("POST", "/api/teams", {"name": "Data", "members": ["u-alice"]}),
        ("PUT", "/api/teams/data", {"name": "Data", "members": ["u-alice", "u-bob"]}),
        ("PUT", "/api/users/u-fiona/roles", {"roles": [{"roleId": "finance", "scope": "org"}]}),
        ("PUT", "/api/users/u-audrey/roles", {"roles": [{"roleId": "auditor", "scope": "org"}]}),
    ]
    for method, url, body in steps:
        reply = api.call(method, url, ADMIN, body=body)
        assert reply.status in (200, 201), reply.body
    return api


def test_an_auditor_reads_every_change_newest_first(logged: Api) -> None:
    reply = logged.call("GET", "/api/audit", AUDREY)
    assert reply.status == 200, reply.body
    items = reply.body["items"]
    assert [(e["action"], e["subject"]) for e in items] == [
        ("roles.assigned", "u-audrey"),
        ("roles.assigned", "u-fiona"),
        ("team.updated", "team:data"),
        ("team.created", "team:data"),
        ("role.created", "role:viewer"),
    ]
    assert {e["actor"] for e in items} == {"u-admin"}
    change = items[2]
    assert change["entityId"] == "data"
    assert json.loads(change["details"]["before"])["members"] == ["u-alice"]
    assert json.loads(change["details"]["after"])["members"] == ["u-alice", "u-bob"]
    assert json.loads(items[4]["details"]["before"]) is None
    assert reply.body["nextToken"] is None


def test_one_subject_and_pages(logged: Api) -> None:
    team = logged.call("GET", "/api/audit?subject=team:data", AUDREY)
    assert [e["action"] for e in team.body["items"]] == ["team.updated", "team.created"]

    seen: list[str] = []
    token = None
    while True:
        url = "/api/audit?limit=2" + (f"&nextToken={token}" if token else "")
        page = logged.call("GET", url, AUDREY)
        assert page.status == 200 and len(page.body["items"]) <= 2
        seen += [e["action"] for e in page.body["items"]]
        token = page.body["nextToken"]
        if not token:
            break
    assert len(seen) == 5

    first = logged.call("GET", "/api/audit?limit=1", AUDREY).body["nextToken"]
    assert first
    # A token is the caller's, for the listing and filter it came from
    for caller, url in (
        (ADMIN, f"/api/audit?limit=1&nextToken={first}"),
        (AUDREY, f"/api/audit?limit=1&subject=u-fiona&nextToken={first}"),
    ):
        refused = logged.call("GET", url, caller)
        assert refused.status == 422
        assert [e["field"] for e in refused.problem["errors"]] == ["nextToken"]


def test_only_audit_readers_read_it(logged: Api) -> None:
    for caller in (ALICE, FIONA):  # finance reads every cost, not the audit log
        assert logged.call("GET", "/api/audit", caller).status == 403
    assert logged.call("GET", "/api/audit", ADMIN).status == 200
