"""Team budgets, a team's own resources and the team summary, through the API (moto)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tally.identity import Caller
from tally.models import AuditEntry, CostRecord
from tally.org.model import Team, TeamKind, team_owner
from tally.rollups import compute_rollup
from tally.store import Stores
from tally.tables import USER_GROUP
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api, Demo

DAVE = Caller("u-dave", "dave", "dave@example.com", frozenset({USER_GROUP}))
CAROL = Caller("u-carol", "carol", "carol@example.com", frozenset({USER_GROUP}))
NOW = datetime(2026, 11, 20, 1, tzinfo=UTC)


def save(stores: Stores, team: Team) -> None:
    access = stores.access
    audit = AuditEntry(team_owner(team.team_id), NOW, "u-admin", "team.created", team.team_id, {})
    access.save_team(
        team, previous=access.get_team(team.team_id), snapshot=access.snapshot(), audit=audit
    )


@pytest.fixture
def org(api: Api) -> Api:
    """engineering > payments {alice, bob; managed by dave}; data {carol manages}."""
    save(api.stores, Team("engineering", "Engineering", TeamKind.DEPARTMENT, None))
    save(
        api.stores,
        Team(
            "payments",
            "Payments",
            TeamKind.TEAM,
            "engineering",
            members=frozenset({"u-alice", "u-bob"}),
            managers=frozenset({"u-dave"}),
        ),
    )
    save(api.stores, Team("data", "Data", managers=frozenset({"u-carol"})))
    return api


def spend(stores: Stores, owner: str, day: date, amount: str, resource: str = "i-1") -> None:
    record = CostRecord(
        owner=owner,
        day=day,
        line_id=f"{owner}-{day}-{resource}",
        service="EC2",
        resource_id=resource,
        usage_quantity=Decimal(1),
        usage_unit="Hrs",
        billed_cost=Decimal(amount),
        effective_cost=Decimal(amount),
        currency="USD",
        charge_category="Usage",
        estimated=False,
        source="test",
        fetched_at=NOW,
        allocation="assignment",
    )
    stores.rollups.put(compute_rollup(owner, day.isoformat()[:7], [record], now=NOW))


def test_a_manager_budgets_for_their_team(org: Api) -> None:
    made = org.call(
        "POST", "/api/billing/budgets", DAVE, body={"teamId": "payments", "monthlyLimit": "500"}
    )
    assert made.status == 201, made.body
    assert made.body["teamId"] == "payments"
    assert made.body["userId"] == "team:payments"
    assert made.headers["ETag"] == '"1"'

    read = org.call("GET", "/api/billing/budgets/team/payments", DAVE)
    assert read.status == 200
    assert read.body["budgetId"] == made.body["budgetId"]
    assert read.body["monthlyLimit"] == {"amount": "500.00", "currency": "USD"}

    changed = org.call(
        "PUT",
        f"/api/billing/budgets/{made.body['budgetId']}",
        DAVE,
        body={"monthlyLimit": "650", "alertThreshold": 90},
        headers={"If-Match": '"1"'},
    )
    assert changed.status == 200, changed.body
    assert changed.body["monthlyLimit"]["amount"] == "650.00"
    assert [h["monthlyLimit"]["amount"] for h in changed.body["history"]] == ["650.00"]
    # The same history, versions and audit as a user's budget.
    audit = org.stores.audit.list_for_user(team_owner("payments"), 10).items
    assert {a.action for a in audit} >= {"budget.created", "budget.updated"}


def test_others_may_not_touch_a_teams_budget(org: Api) -> None:
    made = org.call(
        "POST", "/api/billing/budgets", ADMIN, body={"teamId": "payments", "monthlyLimit": "5"}
    )
    assert made.status == 201
    budget_id = made.body["budgetId"]

    for caller in (CAROL, ALICE):  # another team's manager; a member of the team
        assert org.call("GET", "/api/billing/budgets/team/payments", caller).status == 403
        put = org.call(
            "PUT", f"/api/billing/budgets/{budget_id}", caller, body={"monthlyLimit": "9"}
        )
        assert put.status == 404  # someone else's budget id: not found
        post = org.call(
            "POST", "/api/billing/budgets", caller, body={"teamId": "payments", "monthlyLimit": "1"}
        )
        assert post.status == 403
    assert org.call("GET", "/api/billing/budgets/team/payments", ADMIN).status == 200


def test_a_team_that_does_not_exist(org: Api) -> None:
    body = {"teamId": "ghost", "monthlyLimit": "5"}
    missing = org.call("POST", "/api/billing/budgets", ADMIN, body=body)
    assert missing.status == 404
    assert missing.problem["detail"] == "no such team"
    # Someone who may not act on teams they do not manage learns nothing from the answer.
    assert org.call("POST", "/api/billing/budgets", DAVE, body=body).status == 403
    assert org.call("GET", "/api/billing/budgets/team/ghost", ADMIN).status == 404
    no_budget = org.call("GET", "/api/billing/budgets/team/data", ADMIN)
    assert no_budget.status == 404
    assert no_budget.problem["detail"] == "this team has no budget yet"


@pytest.mark.parametrize(
    "body",
    [
        {"monthlyLimit": "5"},  # neither
        {"userId": "u-alice", "teamId": "payments", "monthlyLimit": "5"},  # both
        {"teamId": "Payments!", "monthlyLimit": "5"},
        {"teamId": "", "monthlyLimit": "5"},
        {"teamId": 7, "monthlyLimit": "5"},
    ],
)
def test_exactly_one_subject(org: Api, body: dict[str, object]) -> None:
    assert org.call("POST", "/api/billing/budgets", ADMIN, body=body).status == 422


def test_the_team_summary(org: Api) -> None:
    spend(org.stores, "u-alice", date(2026, 11, 2), "30")
    spend(org.stores, "u-bob", date(2026, 11, 2), "50")
    spend(org.stores, team_owner("payments"), date(2026, 11, 3), "20", resource="db")
    org.call(
        "POST", "/api/billing/budgets", ADMIN, body={"teamId": "payments", "monthlyLimit": "200"}
    )

    reply = org.call("GET", "/api/billing/team/payments/summary", DAVE)

    assert reply.status == 200, reply.body
    s = reply.body
    assert (s["teamId"], s["teamName"], s["userId"]) == ("payments", "Payments", "team:payments")
    assert s["total"] == {"amount": "100.00", "currency": "USD"}
    assert s["budget"]["monthlyLimit"]["amount"] == "200.00"
    assert (s["status"], s["percentUsed"]) == ("under", "50.0")
    assert [(m["userId"], m["username"], m["amount"]["amount"]) for m in s["members"]] == [
        ("u-bob", "bob", "50.00"),
        ("u-alice", "alice", "30.00"),
    ]
    assert s["teamResources"] == {"amount": "20.00", "currency": "USD"}
    # The department: its teams' people and resources.
    dept = org.call("GET", "/api/billing/team/engineering/summary", ADMIN).body
    assert dept["total"]["amount"] == "100.00"
    # An earlier month; a later one is refused.
    october = org.call("GET", "/api/billing/team/payments/summary?month=2026-10", DAVE)
    assert october.status == 200 and october.body["noCostsYet"] is True
    assert org.call("GET", "/api/billing/team/payments/summary?month=2026-12", DAVE).status == 422


def test_who_reads_a_team_summary(org: Api) -> None:
    assert org.call("GET", "/api/billing/team/payments/summary", CAROL).status == 403
    assert org.call("GET", "/api/billing/team/payments/summary", BOB).status == 403
    assert org.call("GET", "/api/billing/team/ghost/summary", DAVE).status == 403
    assert org.call("GET", "/api/billing/team/ghost/summary", ADMIN).status == 404
    assert org.call("GET", "/api/billing/team/Not_A_Slug/summary", ADMIN).status == 422


def test_a_resource_assigned_to_a_team(org: Api, demo: Demo) -> None:
    body = {"teamId": "payments", "resourceType": "s3", "resourceId": demo.buckets[0]}
    made = org.call("POST", "/api/billing/assign-resource", ADMIN, body=body)
    assert made.status == 201, made.body
    assert (made.body["userId"], made.body["teamId"]) == ("team:payments", "payments")
    stored = org.stores.assignments.get(made.body["assignmentId"])
    assert stored is not None and stored.user_id == team_owner("payments")
    summary = org.call("GET", "/api/billing/team/payments/summary", DAVE).body
    assert [(r["resourceId"], r["teamId"]) for r in summary["resources"]] == [
        (demo.buckets[0], "payments")
    ]

    # A team manager budgets, but does not assign resources.
    assert org.call("POST", "/api/billing/assign-resource", DAVE, body=body).status == 403
    ghost = org.call(
        "POST", "/api/billing/assign-resource", ADMIN, body={**body, "teamId": "ghost"}
    )
    assert ghost.status == 404
    both = org.call(
        "POST", "/api/billing/assign-resource", ADMIN, body={**body, "userId": "u-alice"}
    )
    assert both.status == 422
    # The user listing is unchanged: a team's resource is no user's.
    listed = org.call("GET", "/api/billing/user/u-alice/resources", ADMIN).body["items"]
    assert all(i["resourceId"] != demo.buckets[0] for i in listed)


def test_a_team_summary_costs_batched_reads_and_no_scan(
    org: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The roll-ups of a team's people come in batches of 100 keys: a team of 80 costs one
    BatchGetItem more than a team of two, the other calls stay as they are, nothing scans."""
    from collections import Counter

    from pynamodb.connection.base import Connection

    seen: Counter[str] = Counter()
    real = Connection.dispatch

    def counting(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:  # type: ignore[type-arg]
        seen[operation_name] += 1
        return real(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", counting)
    people = [f"u-{n:03}" for n in range(80)]
    save(org.stores, Team("big", "Big", members=frozenset(people)))
    for person in people[:5]:
        spend(org.stores, person, date(2026, 11, 2), "1")

    def measure(team_id: str) -> Counter[str]:
        org.call("GET", f"/api/billing/team/{team_id}/summary", ADMIN)  # warm the access cache
        seen.clear()
        reply = org.call("GET", f"/api/billing/team/{team_id}/summary", ADMIN)
        assert reply.status == 200, reply.body
        return Counter(seen)

    small, big = measure("payments"), measure("big")

    assert "Scan" not in small and "Scan" not in big
    # 81 owners x 2 months = 162 keys: two calls where the small team's 6 keys take one.
    assert big["BatchGetItem"] == small["BatchGetItem"] + 1
    assert {k: v for k, v in big.items() if k != "BatchGetItem"} == {
        k: v for k, v in small.items() if k != "BatchGetItem"
    }
    assert big["Query"] == small["Query"] == 1  # the team's own resources
