"""The admin's attribution coverage: the share of the month's cost that has an owner."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tally import reports
from tally.allocation import OwnerTagRule
from tally.ingest import ingest_days
from tally.models import Amounts, CostLine, Metric, ResourceCost
from tally.store import Stores, memory_stores
from tally.view import View
from tests.conftest import ADMIN, ALICE, profile

NOW = datetime(2026, 11, 20, 1, tzinfo=UTC)


def org_month(stores: Stores, month: str, today: date) -> reports.OrgMonth:
    return reports.all_users(
        View(ADMIN, stores, today, Metric.BILLED, "USD"), month=month, limit=10, start_key=None
    )


def line(day: date, rid: str, amount: str, owner: str | None = None) -> CostLine:
    tags = {"Owner": owner} if owner else {}
    return CostLine(day, "AmazonEC2", rid, Decimal(amount), Decimal(amount), "USD", tags=tags)


def test_coverage_is_the_owned_share_with_the_largest_unowned_first() -> None:
    # Given a month with 90 owned and, across seven unowned resources, 10.55 unowned
    # (one of them a credit, which no one needs to be pointed at)
    stores = memory_stores()
    stores.users.put(profile(ALICE))
    days = [date(2026, 11, 1), date(2026, 11, 19)]
    unowned = [("i-a", "1"), ("i-b", "0.5"), ("i-c", "2"), ("i-d", "0.25"), ("i-e", "1.5")]
    unowned += [("i-f", "0.05"), ("i-credit", "-0.025")]
    lines = [line(d, "i-alice", "45", "alice") for d in days]
    lines += [line(d, rid, amount) for d in days for rid, amount in unowned]
    ingest_days(lines, days, stores=stores, rule=OwnerTagRule(), source="t", now=NOW)

    # When the admin looks at the month
    a = org_month(stores, "2026-11", date(2026, 11, 20)).attribution

    # Then 90 of 100.55 is owned: 89.507...% shown to one decimal
    assert a.owned == Decimal("90") and a.unallocated == Decimal("10.55")
    assert a.coverage == Decimal("89.5")
    assert [r.resource_id for r in a.top_unowned] == ["i-c", "i-e", "i-a", "i-b", "i-d"]
    assert a.top_unowned[0].amounts.billed == Decimal("4")


def test_a_month_without_costs_has_no_coverage() -> None:
    stores = memory_stores()
    stores.users.put(profile(ALICE))
    a = org_month(stores, "2026-12", date(2026, 12, 1)).attribution
    assert a.coverage is None and a.owned == 0 and a.top_unowned == []


def test_everything_owned_is_full_coverage() -> None:
    stores = memory_stores()
    stores.users.put(profile(ALICE))
    day = date(2026, 2, 28)
    ingest_days(
        [line(day, "i-alice", "3", "alice")],
        [day],
        stores=stores,
        rule=OwnerTagRule(),
        source="t",
        now=NOW,
    )
    a = org_month(stores, "2026-02", date(2026, 3, 1)).attribution
    assert a.coverage == Decimal("100.0") and a.unallocated == 0 and a.top_unowned == []


def cost(rid: str, amount: str) -> ResourceCost:
    return ResourceCost(rid, "AmazonS3", Amounts(billed=Decimal(amount), effective=Decimal(amount)))


def test_coverage_rounds_half_up_and_is_none_when_credits_net_to_zero() -> None:
    # 2/3 owned: 66.666...% -> 66.7; 0.05% rounds up to 0.1
    assert reports.attribution(
        Decimal(3), Decimal(1), [], Metric.BILLED, costs=True
    ).coverage == Decimal("66.7")
    assert reports.attribution(
        Decimal(2000), Decimal("1999"), [], Metric.BILLED, costs=True
    ).coverage == Decimal("0.1")
    netted = reports.attribution(
        Decimal(0), Decimal(5), [cost("b", "5")], Metric.BILLED, costs=True
    )
    assert netted.coverage is None and netted.owned == Decimal(-5)
    # ties broken by id, so the list is stable between loads
    tied = reports.attribution(
        Decimal(10), Decimal(2), [cost("b", "1"), cost("a", "1")], Metric.BILLED, costs=True
    )
    assert [r.resource_id for r in tied.top_unowned] == ["a", "b"]
