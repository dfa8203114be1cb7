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
    BudgetTerms,
    Claim,
    ClaimStatus,
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


def assignment(
    aid: str,
    user: str,
    rid: str = "i-0abc",
    share: str = "100",
    *,
    start: date = date(2026, 11, 1),
) -> Assignment:
    return Assignment(aid, user, "ec2", rid, Decimal(share), "cc-1", "u-admin", NOW, start)


NOV20 = date(2026, 11, 20)


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
    def test_create_get_list_end(self, stores: Stores) -> None:
        a = assignment("a1", "u-alice")
        stores.assignments.create(a, audit("u-alice"))
        assert stores.assignments.get("a1") == a
        assert stores.assignments.list_for_user("u-alice", 10).items == [a]
        assert stores.assignments.list_for_user("u-bob", 10).items == []
        ended = stores.assignments.end(a, date(2026, 11, 20), audit("u-alice"))
        assert ended == replace(a, effective_to=date(2026, 11, 20))
        # The record stays (the ingest allocates the days it was in force) but leaves the list.
        assert stores.assignments.get("a1") == ended
        assert stores.assignments.all() == [ended]
        assert stores.assignments.list_for_user("u-alice", 10).items == []
        with pytest.raises(NotFound):
            stores.assignments.end(a, date(2026, 11, 21), audit("u-alice"))
        with pytest.raises(NotFound):
            stores.assignments.end(assignment("a-none", "u-alice"), NOV20, audit("u-alice"))

    def test_same_resource_same_user_conflicts_even_by_arn(self, stores: Stores) -> None:
        stores.assignments.create(assignment("a1", "u-alice", "i-0abc", "50"), audit("u-alice"))
        arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"
        with pytest.raises(Conflict):
            stores.assignments.create(assignment("a2", "u-alice", arn, "10"), audit("u-alice"))

    def test_shares_never_exceed_100_and_free_up_on_end(self, stores: Stores) -> None:
        first = assignment("a1", "u-alice", share="60")
        stores.assignments.create(first, audit("u-alice"))
        with pytest.raises(Conflict, match="100"):
            stores.assignments.create(assignment("a2", "u-bob", share="40.01"), audit("u-bob"))
        stores.assignments.create(assignment("a3", "u-bob", share="40"), audit("u-bob"))
        stores.assignments.end(first, NOV20, audit("u-alice"))
        stores.assignments.create(
            assignment("a4", "u-carol", share="60", start=NOV20), audit("u-carol")
        )
        assert {a.assignment_id for a in stores.assignments.all()} == {"a1", "a3", "a4"}

    def test_a_new_assignment_may_not_start_inside_the_settled_past(self, stores: Stores) -> None:
        """alice 60% ended on the 20th: bob 60% from the 10th would make 120% on 10-19."""
        alice = assignment("a1", "u-alice", share="60")
        stores.assignments.create(alice, audit("u-alice"))
        stores.assignments.end(alice, NOV20, audit("u-alice"))
        with pytest.raises(Conflict, match="2026-11-20") as refused:
            stores.assignments.create(
                assignment("a2", "u-bob", share="60", start=date(2026, 11, 10)), audit("u-bob")
            )
        assert [e.field for e in refused.value.errors] == ["effectiveFrom"]
        assert stores.assignments.get("a2") is None
        assert stores.audit.list_for_user("u-bob", 10).items == []
        stores.assignments.create(
            assignment("a3", "u-bob", share="60", start=NOV20), audit("u-bob")
        )
        assert stores.assignments.list_for_user("u-bob", 10).items[0].effective_from == NOV20

    def test_shares_are_refused_before_the_settled_past(self, stores: Stores) -> None:
        # Both rules broken: the share message, the one a client can act on first.
        alice = assignment("a1", "u-alice", share="60")
        stores.assignments.create(alice, audit("u-alice"))
        stores.assignments.create(assignment("a2", "u-bob", share="40"), audit("u-bob"))
        stores.assignments.end(alice, NOV20, audit("u-alice"))
        with pytest.raises(Conflict, match="100"):
            stores.assignments.create(
                assignment("a3", "u-carol", share="61", start=date(2026, 11, 2)), audit("u-carol")
            )

    def test_the_same_user_may_take_the_resource_again_after_it_ended(self, stores: Stores) -> None:
        first = assignment("a1", "u-alice")
        stores.assignments.create(first, audit("u-alice"))
        stores.assignments.end(first, NOV20, audit("u-alice"))
        again = assignment("a2", "u-alice", start=date(2026, 11, 25))
        stores.assignments.create(again, audit("u-alice"))
        assert stores.assignments.list_for_user("u-alice", 10).items == [again]
        assert sorted(a.assignment_id for a in stores.assignments.all()) == ["a1", "a2"]

    def test_an_assignment_ended_before_it_began_settles_nothing(self, stores: Stores) -> None:
        planned = assignment("a1", "u-alice", start=date(2026, 12, 1))
        stores.assignments.create(planned, audit("u-alice"))
        stores.assignments.end(planned, date(2026, 12, 1), audit("u-alice"))
        stores.assignments.create(assignment("a2", "u-bob"), audit("u-bob"))  # from 1 Nov

    def test_the_settled_past_keeps_the_latest_end(self, stores: Stores) -> None:
        """Ends arriving out of order (a business date pinned back) never move it earlier."""
        a = assignment("a1", "u-alice", share="50")
        b = assignment("a2", "u-bob", share="50")
        stores.assignments.create(a, audit("u-alice"))
        stores.assignments.create(b, audit("u-bob"))
        stores.assignments.end(a, NOV20, audit("u-alice"))
        ended = stores.assignments.end(b, date(2026, 11, 10), audit("u-bob"))
        assert ended.effective_to == date(2026, 11, 10)
        assert stores.assignments.get("a2") == ended
        with pytest.raises(Conflict, match="2026-11-20"):
            stores.assignments.create(
                assignment("a3", "u-carol", start=date(2026, 11, 15)), audit("u-carol")
            )

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
        stores.assignments.end(stores.assignments.get("a3"), NOV20, audit("u-alice"))  # type: ignore[arg-type]
        seen, key = [], None
        while True:
            page = stores.assignments.list_for_user("u-alice", 3, key)
            seen += [a.assignment_id for a in page.items]
            key = page.next_key
            if not key:
                break
        assert seen == [f"a{n}" for n in range(7) if n != 3]

    def test_audit_written_with_each_change(self, stores: Stores) -> None:
        a = assignment("a1", "u-alice")
        stores.assignments.create(a, audit("u-alice", "assignment.created"))
        stores.assignments.end(a, NOV20, audit("u-alice", "assignment.ended"))
        actions = [e.action for e in stores.audit.list_for_user("u-alice", 10).items]
        assert sorted(actions) == ["assignment.created", "assignment.ended"]


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

    def test_history_is_kept_with_the_budget(self, stores: Stores) -> None:
        first = BudgetTerms("2026-09", Decimal("100.00"), 80, "USD")
        stores.budgets.create(replace(budget(), history=(first,)), audit("u-alice"))
        read = stores.budgets.get_for_user("u-alice")
        assert read is not None and read.history == (first,)
        second = BudgetTerms("2026-11", Decimal("250.50"), 60, "USD")
        saved = stores.budgets.update(
            replace(read, monthly_limit=Decimal("250.50"), history=(first, second)),
            audit("u-alice"),
        )
        for got in (saved, stores.budgets.get_for_user("u-alice")):
            assert got is not None and got.history == (first, second)
            assert all(isinstance(t.monthly_limit, Decimal) for t in got.history)
        assert stores.budgets.get_many(["u-alice"])["u-alice"].history == (first, second)

    def test_a_budget_without_history_reads_back_without_one(self, stores: Stores) -> None:
        stores.budgets.create(budget(), audit("u-alice"))
        got = stores.budgets.get_for_user("u-alice")
        assert got is not None and got.history == ()
        assert got.changes == (BudgetTerms(NOW.strftime("%Y-%m"), Decimal("100.00"), 80, "USD"),)


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
            daily_by_category={
                f"{month}-01": {"Usage": a, "Tax": Amounts(Decimal("0.05"), Decimal("0.05"))}
            },
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
        both = stores.rollups.get_many_months(["u-alice", "u-bob", "u-x"], ["2026-11", "2026-10"])
        assert set(both) == {("u-alice", "2026-11"), ("u-alice", "2026-10"), ("u-bob", "2026-11")}
        assert both[("u-alice", "2026-10")] == self.rollup("u-alice", "2026-10", "2.5")
        assert stores.rollups.get_many_months([], ["2026-11"]) == {}

    def test_a_month_with_no_costs_yet_keeps_its_forecast(self, stores: Stores) -> None:
        # On the 1st the ingest stores the new month's forecast before any cost has arrived.
        forecast: dict[str, object] = {"USD": {"asOf": "2026-11-30", "model": "linear"}}
        empty = MonthlyRollup("u-alice", "2026-12", {}, False, 0, NOW, forecast=forecast)
        stores.rollups.put(empty)
        assert stores.rollups.get("u-alice", "2026-12") == empty


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


# --- claims ----------------------------------------------------------------------------


def test_assignments_for_resource_are_those_not_ended_by_any_name(stores: Stores) -> None:
    stores.assignments.create(assignment("a1", "u-alice", share="60"), audit("u-alice"))
    stores.assignments.create(
        replace(assignment("a2", "u-bob", share="40"), assigned_at=NOW + timedelta(seconds=1)),
        audit("u-bob"),
    )
    arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"
    assert [a.assignment_id for a in stores.assignments.for_resource("ec2", arn)] == ["a1", "a2"]
    first = stores.assignments.get("a1")
    assert first is not None
    stores.assignments.end(first, NOV20, audit("u-alice"))
    assert [a.assignment_id for a in stores.assignments.for_resource("ec2", "i-0abc")] == ["a2"]
    assert stores.assignments.for_resource("ec2", "i-0other") == []


def a_claim(cid: str, claimant: str, approvers: tuple[str, ...], seconds: int = 0) -> Claim:
    return Claim(
        claim_id=cid,
        claimant_id=claimant,
        resource_type="ec2",
        resource_id="i-0abc",
        share_pct=Decimal("50"),
        note="mine since May",
        status=ClaimStatus.PENDING,
        approver_ids=approvers,
        created_at=NOW + timedelta(seconds=seconds),
    )


def test_claims_are_listed_by_claimant_approver_and_pending(stores: Stores) -> None:
    c1 = a_claim("c1", "u-bob", ("u-alice",), 0)
    c2 = a_claim("c2", "u-bob", (), 1)
    c3 = a_claim("c3", "u-carol", ("u-alice", "u-dave"), 2)
    for c in (c1, c2, c3):
        stores.claims.create(c, audit(c.claimant_id, "claim.created"))
    assert stores.claims.get("c1") == c1
    assert stores.claims.get("nope") is None

    def ids(page) -> list[str]:  # type: ignore[no-untyped-def]
        return [c.claim_id for c in page.items]

    assert ids(stores.claims.list_by_claimant("u-bob", 10)) == ["c2", "c1"]
    assert ids(stores.claims.list_for_approver("u-alice", 10)) == ["c3", "c1"]
    assert ids(stores.claims.list_for_approver("u-dave", 10)) == ["c3"]
    assert ids(stores.claims.list_pending(10)) == ["c3", "c2", "c1"]
    # Pages: one at a time, in the same order.
    first = stores.claims.list_pending(1)
    second = stores.claims.list_pending(1, first.next_key)
    assert ids(first) + ids(second) == ["c3", "c2"]


def test_a_claim_is_decided_once(stores: Stores) -> None:
    c = a_claim("c1", "u-bob", ("u-alice",))
    stores.claims.create(c, audit("u-bob", "claim.created"))
    approved = replace(
        c,
        status=ClaimStatus.APPROVED,
        decided_at=NOW,
        decided_by="u-alice",
        assignment_id="a9",
    )
    assert stores.claims.decide(approved, audit("u-bob", "claim.approved")) == approved
    assert stores.claims.get("c1") == approved
    assert stores.claims.list_for_approver("u-alice", 10).items == []
    assert stores.claims.list_pending(10).items == []
    assert [x.status for x in stores.claims.list_by_claimant("u-bob", 10).items] == [
        ClaimStatus.APPROVED
    ]
    rejected = replace(c, status=ClaimStatus.REJECTED, decided_at=NOW, decided_by="u-admin")
    with pytest.raises(Conflict):
        stores.claims.decide(rejected, audit("u-bob", "claim.rejected"))
    assert stores.claims.get("c1") == approved
    with pytest.raises(NotFound):
        stores.claims.decide(replace(rejected, claim_id="ghost"), audit("u-bob"))
    actions = [e.action for e in stores.audit.list_for_user("u-bob", 10).items]
    assert sorted(actions) == ["claim.approved", "claim.created"]


def test_a_claim_approved_at_once_is_in_no_queue(stores: Stores) -> None:
    c = replace(
        a_claim("c1", "u-bob", ()),
        status=ClaimStatus.APPROVED,
        decided_at=NOW,
        decided_by="u-bob",
        assignment_id="a1",
    )
    stores.claims.create(c, audit("u-bob", "claim.created"))
    assert stores.claims.get("c1") == c
    assert stores.claims.list_pending(10).items == []
