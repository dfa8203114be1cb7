"""Teams through the API (moto): created, read by whom may, changed with ETags, deleted
(not with teams under it), and what managing one gives."""

from __future__ import annotations

from typing import Any

import pytest

from tally.identity import Caller, Role
from tally.models import UserProfile
from tally.tables import USER_GROUP
from tests.conftest import ADMIN, ALICE
from tests.harness import Api

CAROL = Caller("u-carol", "carol", "carol@example.com", frozenset({USER_GROUP}))
DAVE = Caller("u-dave", "dave", "dave@example.com", frozenset({USER_GROUP}))
PAYMENTS = {
    "name": "Payments",
    "parentId": "engineering",
    "members": ["u-alice", "u-bob"],
    "managers": ["u-dave"],
    "costCenter": "CC-42",
}


@pytest.fixture
def org(api: Api) -> Api:
    for c in (CAROL, DAVE):
        api.stores.users.put(UserProfile(c.user_id, c.username, c.email, Role.USER))
    made = [
        api.call("POST", "/api/teams", ADMIN, body={"name": "Engineering", "kind": "department"}),
        api.call("POST", "/api/teams", ADMIN, body=PAYMENTS),
    ]
    assert [m.status for m in made] == [201, 201], [m.body for m in made]
    return api


def ids(reply: Any) -> list[str]:
    assert reply.status == 200, reply.body
    return [t["teamId"] for t in reply.body["items"]]


def test_a_team_reads_back_as_it_was_made(org: Api) -> None:
    reply = org.call("GET", "/api/teams/payments", ADMIN)
    assert reply.status == 200 and reply.headers["ETag"] == '"1"'
    assert reply.body == {
        "teamId": "payments",
        "name": "Payments",
        "kind": "team",
        "parentId": "engineering",
        "costCenter": "CC-42",
        "members": ["u-alice", "u-bob"],
        "managers": ["u-dave"],
        "roles": [],
        "source": "tally",
        "version": 1,
        "displayCurrency": None,  # the organisation's
    }


def test_who_reads_which_teams(org: Api) -> None:
    assert ids(org.call("GET", "/api/teams", ADMIN)) == ["engineering", "payments"]
    assert ids(org.call("GET", "/api/teams", ALICE)) == ["engineering", "payments"]
    assert ids(org.call("GET", "/api/teams", DAVE)) == ["payments"]
    assert ids(org.call("GET", "/api/teams", CAROL)) == []
    assert org.call("GET", "/api/teams/payments", DAVE).status == 200
    refused = org.call("GET", "/api/teams/payments", CAROL)
    missing = org.call("GET", "/api/teams/ghosts", CAROL)
    assert (refused.status, missing.status) == (403, 403)
    assert refused.body == {**missing.body, "instance": refused.body["instance"]}
    assert org.call("GET", "/api/teams/ghosts", ADMIN).status == 404


def test_a_manager_reaches_the_teams_people_and_no_one_else(org: Api) -> None:
    url = "/api/billing/user/{}/costs?startDate=2026-11-01&endDate=2026-11-19"
    assert org.call("GET", url.format("u-alice"), DAVE).status == 200
    assert org.call("GET", url.format("u-carol"), DAVE).status == 403
    assert org.call("GET", url.format("u-alice"), CAROL).status == 403
    # ...and changes no team
    assert org.call("PUT", "/api/teams/payments", DAVE, body=PAYMENTS).status == 403


def test_changes_are_versioned_and_the_tree_stays_a_tree(org: Api) -> None:
    url = "/api/teams/payments"
    change = {**PAYMENTS, "members": ["u-alice"], "managers": ["u-carol"]}
    first = org.call("PUT", url, ADMIN, body=change, headers={"If-Match": '"1"'})
    stale = org.call("PUT", url, ADMIN, body=PAYMENTS, headers={"If-Match": '"1"'})
    assert (first.status, first.headers.get("ETag"), stale.status) == (200, '"2"', 409)
    assert ids(org.call("GET", "/api/teams", CAROL)) == ["payments"]  # manages it now
    assert ids(org.call("GET", "/api/teams", DAVE)) == []

    cycle = org.call(
        "PUT",
        "/api/teams/engineering",
        ADMIN,
        body={"name": "Engineering", "kind": "department", "parentId": "payments"},
    )
    assert cycle.status == 422
    assert [e["field"] for e in cycle.problem["errors"]] == ["parentId"]
    taken = org.call("POST", "/api/teams", ADMIN, body={"name": "Payments"})
    assert taken.status == 409


def test_a_team_with_teams_under_it_stays(org: Api) -> None:
    assert org.call("DELETE", "/api/teams/engineering", ADMIN).status == 409
    assert org.call("DELETE", "/api/teams/payments", ALICE).status == 403
    assert org.call("DELETE", "/api/teams/payments", ADMIN).status == 204
    assert org.call("DELETE", "/api/teams/engineering", ADMIN).status == 204
    assert ids(org.call("GET", "/api/teams", ADMIN)) == []
    assert ids(org.call("GET", "/api/teams", ALICE)) == []
