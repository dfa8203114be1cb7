"""Preferences through the handler: defaults, changes, the threshold kept on the budget, and
optimistic locking across both."""

from __future__ import annotations

from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api, World


def test_defaults_with_the_budgets_threshold(api: Api, world: World) -> None:
    reply = api.call("GET", "/api/preferences", ALICE)
    assert reply.status == 200
    assert reply.body == {
        "emailAlerts": True,
        "digest": "off",
        "alertThreshold": 80,
        "updatedAt": None,
        "version": "0.1",
    }
    assert reply.headers["ETag"] == '"0.1"'
    assert reply.headers["Cache-Control"] == "private, no-cache"


def test_without_a_budget_there_is_no_threshold(api: Api, world: World) -> None:
    assert api.call("GET", "/api/preferences", BOB).body["alertThreshold"] is None
    reply = api.call("PUT", "/api/preferences", BOB, body={"alertThreshold": 70, "digest": "daily"})
    assert reply.status == 422
    assert [e["field"] for e in reply.problem["errors"]] == ["alertThreshold"]
    assert "create a budget" in reply.problem["errors"][0]["message"]
    # Refused whole: the digest was not saved either.
    assert api.call("GET", "/api/preferences", BOB).body["digest"] == "off"


def test_update_keeps_the_fields_not_given(api: Api, world: World) -> None:
    reply = api.call("PUT", "/api/preferences", ALICE, body={"digest": "weekly"})
    assert reply.status == 200
    assert (reply.body["digest"], reply.body["emailAlerts"]) == ("weekly", True)
    assert reply.body["updatedAt"] is not None
    assert reply.headers["ETag"] == '"1.1"'
    reply = api.call("PUT", "/api/preferences", ALICE, body={"emailAlerts": False})
    assert (reply.body["digest"], reply.body["emailAlerts"]) == ("weekly", False)
    got = api.call("GET", "/api/preferences", ALICE).body
    assert (got["digest"], got["emailAlerts"], got["version"]) == ("weekly", False, "2.1")
    # Someone else's preferences are untouched: the admin's are the admin's own.
    assert api.call("GET", "/api/preferences", ADMIN).body["digest"] == "off"


def test_threshold_change_is_a_budget_change(api: Api, world: World) -> None:
    reply = api.call("PUT", "/api/preferences", ALICE, body={"alertThreshold": 90})
    assert reply.status == 200
    assert (reply.body["alertThreshold"], reply.body["version"]) == (90, "0.2")
    budget = api.call("GET", "/api/billing/budgets/u-alice", ALICE).body
    assert (budget["alertThreshold"], budget["version"]) == (90, 2)
    assert budget["monthlyLimit"]["amount"] == "100.00"
    audit = api.stores.audit.list_for_user("u-alice", 10).items
    assert [e.action for e in audit].count("budget.updated") == 1
    # The same threshold again changes nothing on the budget.
    api.call("PUT", "/api/preferences", ALICE, body={"alertThreshold": 90})
    assert api.call("GET", "/api/billing/budgets/u-alice", ALICE).body["version"] == 2
    # And a change on the budget screen shows here.
    api.call("PUT", f"/api/billing/budgets/{world.budget_id}", ALICE, body={"alertThreshold": 60})
    assert api.call("GET", "/api/preferences", ALICE).body["alertThreshold"] == 60


def test_stale_if_match_is_a_conflict(api: Api, world: World) -> None:
    first = api.call(
        "PUT", "/api/preferences", ALICE, body={"digest": "daily"}, headers={"If-Match": '"0.1"'}
    )
    second = api.call(
        "PUT", "/api/preferences", ALICE, body={"digest": "weekly"}, headers={"If-Match": '"0.1"'}
    )
    assert (first.status, second.status) == (200, 409)
    assert api.call("GET", "/api/preferences", ALICE).body["digest"] == "daily"


def test_a_budget_change_since_the_read_is_a_conflict(api: Api, world: World) -> None:
    etag = api.call("GET", "/api/preferences", ALICE).headers["ETag"]
    api.call("PUT", f"/api/billing/budgets/{world.budget_id}", ALICE, body={"alertThreshold": 60})
    stale = api.call(
        "PUT", "/api/preferences", ALICE, body={"alertThreshold": 95}, headers={"If-Match": etag}
    )
    assert stale.status == 409
    assert api.call("GET", "/api/billing/budgets/u-alice", ALICE).body["alertThreshold"] == 60
