"""Cost center budgets and the cost center summary, through the API (moto): the team budget's
machinery on the teams that name a cost center, read and written at the organisation only."""

from __future__ import annotations

from datetime import date

import pytest

from tally.identity import Caller, Role
from tally.models import UserProfile
from tally.org.model import Team, TeamKind, cost_center_owner, team_owner
from tally.tables import USER_GROUP
from tests.api.test_team_budgets import CAROL, DAVE, save, spend
from tests.conftest import ADMIN, ALICE
from tests.harness import Api

FIONA = Caller("u-fiona", "fiona", "fiona@example.com", frozenset({USER_GROUP}))
BUDGETS = "/api/billing/budgets"


@pytest.fixture
def org(api: Api) -> Api:
    """engineering (department, CC-900) > payments {alice, bob; dave manages; CC-100};
    data {bob, carol; carol manages; CC-100}; infra {dave; CC-200}. Fiona is finance."""
    save(api.stores, Team("engineering", "Engineering", TeamKind.DEPARTMENT, cost_center="CC-900"))
    save(
        api.stores,
        Team(
            "payments",
            "Payments",
            TeamKind.TEAM,
            "engineering",
            cost_center="CC-100",
            members=frozenset({"u-alice", "u-bob"}),
            managers=frozenset({"u-dave"}),
        ),
    )
    save(
        api.stores,
        Team(
            "data",
            "Data",
            cost_center="CC-100",
            members=frozenset({"u-bob", "u-carol"}),
            managers=frozenset({"u-carol"}),
        ),
    )
    save(api.stores, Team("infra", "Infra", cost_center="CC-200", members=frozenset({"u-dave"})))
    api.stores.users.put(UserProfile(FIONA.user_id, FIONA.username, FIONA.email, Role.USER))
    body = {"roles": [{"roleId": "finance", "scope": "org"}]}
    assert api.call("PUT", "/api/users/u-fiona/roles", ADMIN, body=body).status == 200
    return api


def test_an_admin_budgets_for_a_cost_center(org: Api) -> None:
    made = org.call("POST", BUDGETS, ADMIN, body={"costCenter": "CC-100", "monthlyLimit": "500"})
    assert made.status == 201, made.body
    assert (made.body["userId"], made.body["costCenter"], made.body["teamId"]) == (
        "costcenter:CC-100",
        "CC-100",
        None,
    )

    read = org.call("GET", f"{BUDGETS}/cost-center/CC-100", FIONA)  # finance reads it
    assert read.status == 200, read.body
    assert read.body["budgetId"] == made.body["budgetId"]
    assert read.headers["ETag"] == '"1"'

    changed = org.call(
        "PUT",
        f"{BUDGETS}/{made.body['budgetId']}",
        ADMIN,
        body={"monthlyLimit": "650"},
        headers={"If-Match": '"1"'},
    )
    assert changed.status == 200, changed.body
    assert changed.body["monthlyLimit"]["amount"] == "650.00"
    audit = org.stores.audit.list_for_user(cost_center_owner("CC-100"), 10).items
    assert {a.action for a in audit} == {"budget.created", "budget.updated"}
    # A team's budget is apart: the cost center's is not the team's.
    assert org.call("GET", f"{BUDGETS}/team/payments", ADMIN).status == 404


def test_only_the_organisation_reads_and_writes_a_cost_centers_budget(org: Api) -> None:
    made = org.call("POST", BUDGETS, ADMIN, body={"costCenter": "CC-100", "monthlyLimit": "5"})
    budget_id = made.body["budgetId"]
    # Finance reads every budget and changes none.
    post = {"costCenter": "CC-200", "monthlyLimit": "1"}
    assert org.call("POST", BUDGETS, FIONA, body=post).status == 403
    put = org.call("PUT", f"{BUDGETS}/{budget_id}", FIONA, body={"monthlyLimit": "9"})
    assert put.status == 404  # a budget one may not change is not found, as elsewhere
    # A manager of a team naming the cost center, and a member of one: it spans teams.
    for caller in (DAVE, CAROL, ALICE):
        assert org.call("GET", f"{BUDGETS}/cost-center/CC-100", caller).status == 403
        assert org.call("GET", "/api/billing/cost-center/CC-100/summary", caller).status == 403
        assert org.call("POST", BUDGETS, caller, body=post).status == 403
        put = org.call("PUT", f"{BUDGETS}/{budget_id}", caller, body={"monthlyLimit": "9"})
        assert put.status == 404
    stored = org.stores.budgets.get_for_user(cost_center_owner("CC-100"))
    assert stored is not None and str(stored.monthly_limit) == "5"


def test_a_cost_center_no_team_names(org: Api) -> None:
    body = {"costCenter": "CC-404", "monthlyLimit": "5"}
    missing = org.call("POST", BUDGETS, ADMIN, body=body)
    assert (missing.status, missing.problem["detail"]) == (404, "no such cost center")
    for url in (f"{BUDGETS}/cost-center/CC-404", "/api/billing/cost-center/CC-404/summary"):
        assert org.call("GET", url, ADMIN).status == 404
        assert org.call("GET", url, DAVE).status == 403  # the same as for one that exists
    # Codes are matched exactly, as the chargeback groups them.
    assert org.call("GET", "/api/billing/cost-center/cc-100/summary", ADMIN).status == 404
    no_budget = org.call("GET", f"{BUDGETS}/cost-center/CC-200", ADMIN)
    assert (no_budget.status, no_budget.problem["detail"]) == (
        404,
        "this cost center has no budget yet",
    )


def test_the_cost_center_summary(org: Api) -> None:
    spend(org.stores, "u-alice", date(2026, 11, 2), "30")
    spend(org.stores, "u-bob", date(2026, 11, 2), "50")  # in payments and data: once
    spend(org.stores, "u-carol", date(2026, 11, 2), "10")
    spend(org.stores, "u-dave", date(2026, 11, 2), "1000")  # CC-200's
    spend(org.stores, team_owner("payments"), date(2026, 11, 3), "20", resource="db")
    spend(org.stores, team_owner("infra"), date(2026, 11, 3), "700", resource="vpc")
    org.call("POST", BUDGETS, ADMIN, body={"costCenter": "CC-100", "monthlyLimit": "200"})

    reply = org.call("GET", "/api/billing/cost-center/CC-100/summary", FIONA)

    assert reply.status == 200, reply.body
    s = reply.body
    assert (s["costCenter"], s["name"], s["userId"]) == (
        "CC-100",
        "Cost center CC-100",
        "costcenter:CC-100",
    )
    assert s["teams"] == [
        {"teamId": "data", "name": "Data"},
        {"teamId": "payments", "name": "Payments"},
    ]
    assert s["total"] == {"amount": "110.00", "currency": "USD"}
    assert s["budget"]["monthlyLimit"]["amount"] == "200.00"
    assert (s["status"], s["percentUsed"]) == ("under", "55.0")
    assert [(m["userId"], m["amount"]["amount"]) for m in s["members"]] == [
        ("u-bob", "50.00"),
        ("u-alice", "30.00"),
        ("u-carol", "10.00"),
    ]
    assert s["teamResources"] == {"amount": "20.00", "currency": "USD"}
    # The department's cost center carries the department alone, not the teams under it.
    dept = org.call("GET", "/api/billing/cost-center/CC-900/summary", ADMIN).body
    assert (dept["total"]["amount"], dept["members"]) == ("0.00", [])
    # An earlier month (no budget then); a later one is refused.
    october = org.call("GET", "/api/billing/cost-center/CC-100/summary?month=2026-10", ADMIN)
    assert october.status == 200 and october.body["noCostsYet"] is True
    assert october.body["budget"] is None
    later = org.call("GET", "/api/billing/cost-center/CC-100/summary?month=2026-12", ADMIN)
    assert later.status == 422


def test_a_code_with_a_space_in_the_path(org: Api) -> None:
    save(org.stores, Team("ops", "Ops", cost_center="RD 7.1", members=frozenset({"u-alice"})))
    reply = org.call("GET", "/api/billing/cost-center/RD%207.1/summary", ADMIN)
    assert reply.status == 200, reply.body
    assert reply.body["costCenter"] == "RD 7.1"
