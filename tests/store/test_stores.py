"""The store contract, run against DynamoDB (moto) and the in-memory fakes alike, so the
fakes the domain tests use cannot drift from the real thing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tally.errors import Conflict, NotFound
from tally.models import (
    Amounts,
    Assignment,
    AuditEntry,
    Budget,
    CostRecord,
    MonthlyRollup,
    ResourceCost,
    RollupSection,
)
from tally.store import Stores, memory_stores
from tests.conftest import ALICE, BOB, NOW, profile


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request: pytest.FixtureRequest) -> Stores:
    if request.param == "memory":
        return memory_stores()
    return request.getfixturevalue("dynamo_stores")


def audit(user: str, action: str = "x") -> AuditEntry:
    return AuditEntry(user, NOW, "u-admin", action, "e1", {"k": "v"})


def assignment(aid: str, user: str, rid: str = "i-0abc", share: str = "100") -> Assignment:
    return Assignment(aid, user, "ec2", rid, Decimal(share), "cc-1", "u-admin", NOW)


def budget(user: str = "u-alice", limit: str = "100.00") -> Budget:
    return Budget("b-" + user, user, Decimal(limit), 80, "USD", NOW, NOW, 0)


def record(
    owner: str, day: date, line: str, billed: str, *, service: str = "AmazonEC2"
) -> CostRecord:
    return CostRecord(
        owner=owner,
        day=day,
        line_id=line,
        service=service,
        resource_id="i-0abc",
        usage_quantity=Decimal("1.5"),
        usage_unit="Hrs",
        billed_cost=Decimal(billed),
        effective_cost=Decimal(billed),
        currency="USD",
        charge_category="Usage",
        estimated=False,
        source="test",
        fetched_at=NOW,
        allocation="assignment",
    )


class TestAssignments:
    def test_create_get_list_delete(self, stores: Stores) -> None:
        a = assignment("a1", "u-alice")
        stores.assignments.create(a, audit("u-alice"))
        assert stores.assignments.get("a1") == a
        assert stores.assignments.list_for_user("u-alice", 10).items == [a]
        assert stores.assignments.list_for_user("u-bob", 10).items == []
        stores.assignments.delete(a, audit("u-alice"))
        assert stores.assignments.get("a1") is None
        with pytest.raises(NotFound):
            stores.assignments.delete(a, audit("u-alice"))

    def test_same_resource_same_user_conflicts_even_by_arn(self, stores: Stores) -> None:
        stores.assignments.create(assignment("a1", "u-alice", "i-0abc", "50"), audit("u-alice"))
        arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"
        with pytest.raises(Conflict):
            stores.assignments.create(assignment("a2", "u-alice", arn, "10"), audit("u-alice"))

    def test_shares_never_exceed_100_and_free_up_on_delete(self, stores: Stores) -> None:
        first = assignment("a1", "u-alice", share="60")
        stores.assignments.create(first, audit("u-alice"))
        with pytest.raises(Conflict, match="100"):
            stores.assignments.create(assignment("a2", "u-bob", share="40.01"), audit("u-bob"))
        stores.assignments.create(assignment("a3", "u-bob", share="40"), audit("u-bob"))
        stores.assignments.delete(first, audit("u-alice"))
        stores.assignments.create(assignment("a4", "u-carol", share="60"), audit("u-carol"))
        assert {a.assignment_id for a in stores.assignments.all()} == {"a3", "a4"}

    def test_failed_create_stores_nothing(self, stores: Stores) -> None:
        stores.assignments.create(assignment("a1", "u-alice"), audit("u-alice"))
        with pytest.raises(Conflict):
            stores.assignments.create(assignment("a2", "u-bob"), audit("u-bob"))
        assert stores.assignments.get("a2") is None
        assert stores.audit.list_for_user("u-bob", 10).items == []

    def test_pagination_visits_each_once(self, stores: Stores) -> None:
        for n in range(7):
            a = replace(
                assignment(f"a{n}", "u-alice", f"i-{n}"), assigned_at=NOW + timedelta(seconds=n)
            )
            stores.assignments.create(a, audit("u-alice"))
        seen, key = [], None
        while True:
            page = stores.assignments.list_for_user("u-alice", 3, key)
            seen += [a.assignment_id for a in page.items]
            key = page.next_key
            if not key:
                break
        assert seen == [f"a{n}" for n in range(7)]

    def test_audit_written_with_each_change(self, stores: Stores) -> None:
        a = assignment("a1", "u-alice")
        stores.assignments.create(a, audit("u-alice", "assignment.created"))
        stores.assignments.delete(a, audit("u-alice", "assignment.deleted"))
        actions = [e.action for e in stores.audit.list_for_user("u-alice", 10).items]
        assert sorted(actions) == ["assignment.created", "assignment.deleted"]


class TestBudgets:
    def test_one_budget_per_user(self, stores: Stores) -> None:
        stores.budgets.create(budget(), audit("u-alice"))
        with pytest.raises(Conflict):
            stores.budgets.create(replace(budget(), budget_id="b-other"), audit("u-alice"))
        got = stores.budgets.get_for_user("u-alice")
        assert got is not None and got.version == 1 and got.monthly_limit == Decimal("100.00")
        assert isinstance(got.monthly_limit, Decimal)
        assert stores.budgets.user_of("b-u-alice") == "u-alice"
        assert stores.budgets.user_of("b-other") is None

    def test_stale_update_conflicts(self, stores: Stores) -> None:
        stores.budgets.create(budget(), audit("u-alice"))
        read = stores.budgets.get_for_user("u-alice")
        assert read is not None
        saved = stores.budgets.update(replace(read, monthly_limit=Decimal("200")), audit("u-alice"))
        assert saved.version == 2
        with pytest.raises(Conflict):
            stores.budgets.update(replace(read, monthly_limit=Decimal("300")), audit("u-alice"))
        final = stores.budgets.get_for_user("u-alice")
        assert final is not None and final.monthly_limit == Decimal("200")

    def test_get_many(self, stores: Stores) -> None:
        stores.budgets.create(budget("u-alice"), audit("u-alice"))
        stores.budgets.create(budget("u-bob", "0"), audit("u-bob"))
        got = stores.budgets.get_many(["u-alice", "u-bob", "u-nobody"])
        assert set(got) == {"u-alice", "u-bob"} and got["u-bob"].monthly_limit == 0


class TestCosts:
    def test_replace_day_replaces_the_whole_set(self, stores: Stores) -> None:
        d = date(2026, 11, 3)
        stores.costs.replace_day(
            d, [record("u-alice", d, "l1", "1.10"), record("u-bob", d, "l2", "2")]
        )
        owners = stores.costs.replace_day(d, [record("u-alice", d, "l1", "1.25")])
        assert owners == {"u-alice", "u-bob"}
        assert [r.billed_cost for r in stores.costs.for_owner("u-alice", d, d + timedelta(1))] == [
            Decimal("1.25")
        ]
        assert stores.costs.for_owner("u-bob", d, d + timedelta(1)) == []

    def test_for_owner_range_is_end_exclusive(self, stores: Stores) -> None:
        days = [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)]
        for d in days:
            stores.costs.replace_day(d, [record("u-alice", d, "l", "1")])
        got = stores.costs.for_owner("u-alice", date(2026, 11, 1), date(2026, 11, 2))
        assert [r.day for r in got] == [date(2026, 11, 1)]

    def test_money_keeps_every_digit(self, stores: Stores) -> None:
        d = date(2026, 11, 3)
        stores.costs.replace_day(d, [record("u-alice", d, "l", "0.1234567891")])
        (got,) = stores.costs.for_owner("u-alice", d, d + timedelta(1))
        assert got.billed_cost == Decimal("0.1234567891")


class TestRollups:
    def rollup(self, owner: str, month: str, total: str) -> MonthlyRollup:
        a = Amounts(Decimal(total), Decimal(total))
        section = RollupSection(
            totals=a,
            by_service={"AmazonEC2": a},
            by_category={"Usage": a},
            daily={f"{month}-01": a},
            daily_by_service={f"{month}-01": {"AmazonEC2": a}},
            top_resources=[ResourceCost("i-0abc", "AmazonEC2", a)],
        )
        return MonthlyRollup(owner, month, {"USD": section}, False, 1, NOW)

    def test_round_trip_and_queries(self, stores: Stores) -> None:
        for month, total in [("2026-09", "1"), ("2026-10", "2.5"), ("2026-11", "3.333")]:
            stores.rollups.put(self.rollup("u-alice", month, total))
        stores.rollups.put(self.rollup("u-bob", "2026-11", "7"))
        got = stores.rollups.get("u-alice", "2026-11")
        assert got == self.rollup("u-alice", "2026-11", "3.333")
        assert [r.month for r in stores.rollups.months("u-alice", "2026-10", "2026-11")] == [
            "2026-10",
            "2026-11",
        ]
        assert set(stores.rollups.get_many(["u-alice", "u-bob", "u-x"], "2026-11")) == {
            "u-alice",
            "u-bob",
        }
        assert {r.owner for r in stores.rollups.of_month("2026-11")} == {"u-alice", "u-bob"}


class TestUsers:
    def test_directory_lists_by_name(self, stores: Stores) -> None:
        for c in (BOB, ALICE):
            stores.users.put(profile(c))
        assert [u.username for u in stores.users.list(10).items] == ["alice", "bob"]
        assert stores.users.get("u-alice") == profile(ALICE)
        assert stores.users.get("u-nobody") is None


def test_directory_remove(stores: Stores) -> None:
    stores.users.put(profile(ALICE))
    stores.users.remove("u-alice")
    stores.users.remove("u-never-there")
    assert stores.users.get("u-alice") is None and stores.users.list(10).items == []
