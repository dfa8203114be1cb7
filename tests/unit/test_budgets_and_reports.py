"""Budgets and reports, domain only (in-memory stores)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tally import budgets, reports
from tally.allocation import OwnerTagRule
from tally.errors import Conflict, Forbidden, Invalid, NotFound
from tally.identity import Caller
from tally.ingest import ingest_days
from tally.models import Budget, BudgetStatus, CostLine, Metric
from tally.store import Stores, memory_stores
from tally.view import View
from tests.conftest import ADMIN, ALICE, BOB, profile

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 1, tzinfo=UTC)


@pytest.fixture
def stores() -> Stores:
    s = memory_stores()
    for c in (ALICE, BOB, ADMIN):
        s.users.put(profile(c))
    return s


def on(caller: Caller, stores: Stores) -> View:
    """The request ``caller`` makes on TODAY, in billed cost."""
    return View(caller, stores, TODAY, Metric.BILLED, "USD")


def b(limit: str, threshold: int = 80) -> Budget:
    return Budget("b", "u", Decimal(limit), threshold, "USD", NOW, NOW, 1)


@pytest.mark.parametrize(
    ("spent", "limit", "threshold", "status"),
    [
        ("0", "100", 80, BudgetStatus.UNDER),
        ("79.99", "100", 80, BudgetStatus.UNDER),
        ("80", "100", 80, BudgetStatus.WARNING),
        ("99.99", "100", 80, BudgetStatus.WARNING),
        ("100", "100", 80, BudgetStatus.OVER),
        ("0", "100", 0, BudgetStatus.WARNING),
        ("0", "0", 80, BudgetStatus.UNDER),
        ("0.01", "0", 80, BudgetStatus.OVER),
    ],
)
def test_status(spent: str, limit: str, threshold: int, status: BudgetStatus) -> None:
    assert budgets.budget_status(Decimal(spent), b(limit, threshold)) is status


def test_budget_lifecycle_and_access(stores: Stores) -> None:
    req = budgets.BudgetRequest("u-alice", Decimal("100"), 80)
    with pytest.raises(Forbidden):
        budgets.create_budget(on(BOB, stores), req)
    created = budgets.create_budget(on(ALICE, stores), req)
    with pytest.raises(Conflict):
        budgets.create_budget(on(ADMIN, stores), req)
    with pytest.raises(NotFound):  # someone else's budget id: not found, not forbidden
        budgets.update_budget(on(BOB, stores), created.budget_id, budgets.BudgetChanges(Decimal(1)))
    updated = budgets.update_budget(
        on(ADMIN, stores), created.budget_id, budgets.BudgetChanges(alert_threshold=50)
    )
    assert (updated.monthly_limit, updated.alert_threshold, updated.version) == (
        Decimal(100),
        50,
        2,
    )
    with pytest.raises(Conflict):
        budgets.update_budget(
            on(ALICE, stores),
            created.budget_id,
            budgets.BudgetChanges(Decimal(5)),
            expected_version=1,
        )
    assert budgets.get_budget(on(ALICE, stores), "u-alice").alert_threshold == 50
    with pytest.raises(NotFound):
        budgets.get_budget(on(BOB, stores), "u-bob")


def test_budget_for_unknown_user_is_invalid(stores: Stores) -> None:
    with pytest.raises(Invalid) as err:
        budgets.create_budget(on(ADMIN, stores), budgets.BudgetRequest("u-ghost", Decimal(1)))
    assert err.value.errors[0].field == "userId"


def seed_costs(stores: Stores) -> None:
    days = [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 19)]
    lines = [
        CostLine(d, svc, rid, Decimal(amount), Decimal(amount), "USD", tags={"Owner": "alice"})
        for d in days
        for svc, rid, amount in [("AmazonEC2", "i-1", "10"), ("AmazonS3", "bucket-1", "0.5")]
    ]
    ingest_days(lines, days, stores=stores, rule=OwnerTagRule(), source="t", now=NOW)


def test_cost_report_zero_fills_and_spans_months(stores: Stores) -> None:
    seed_costs(stores)
    r = reports.cost_report(
        on(ALICE, stores), "u-alice", start=date(2026, 10, 30), end=date(2026, 11, 3)
    )
    assert [(d.isoformat(), a) for d, a in r.daily] == [
        ("2026-10-30", 0),
        ("2026-10-31", Decimal("10.5")),
        ("2026-11-01", Decimal("10.5")),
        ("2026-11-02", Decimal("10.5")),
        ("2026-11-03", 0),
    ]
    assert r.total == Decimal("31.5") and r.by_service == [
        ("AmazonEC2", Decimal(30)),
        ("AmazonS3", Decimal("1.5")),
    ]


def test_cost_report_default_and_bad_ranges(stores: Stores) -> None:
    r = reports.cost_report(on(ALICE, stores), "u-alice", start=None, end=None)
    # The last 30 complete days: today never has data yet.
    assert (r.start, r.end, len(r.daily)) == (date(2026, 10, 21), date(2026, 11, 19), 30)
    for start, end in [
        (date(2026, 11, 5), date(2026, 11, 1)),
        (date(2025, 1, 1), date(2026, 1, 2)),
    ]:
        with pytest.raises(Invalid):
            reports.cost_report(on(ALICE, stores), "u-alice", start=start, end=end)


def test_summary_against_budget(stores: Stores) -> None:
    seed_costs(stores)
    s0 = reports.month_summary(on(ALICE, stores), "u-alice")
    assert (
        s0.budget is None
        and s0.status is None
        and s0.remaining is None
        and s0.total == Decimal("31.5")
    )
    budgets.create_budget(on(ALICE, stores), budgets.BudgetRequest("u-alice", Decimal("40"), 75))
    s = reports.month_summary(on(ALICE, stores), "u-alice")
    assert (s.remaining, s.remaining_pct, s.percent_used, s.status) == (
        Decimal("8.5"),
        Decimal("21.3"),
        Decimal("78.8"),
        BudgetStatus.WARNING,
    )
    assert [d.resource_id for d in s.top_drivers] == ["i-1", "bucket-1"]
    with pytest.raises(Forbidden):
        reports.month_summary(on(BOB, stores), "u-alice")


def test_summary_with_budget_in_another_currency_says_so(stores: Stores) -> None:
    seed_costs(stores)
    budgets.create_budget(
        on(ALICE, stores), budgets.BudgetRequest("u-alice", Decimal("40"), 75, "EUR")
    )
    s = reports.month_summary(on(ALICE, stores), "u-alice")
    assert s.currency_mismatch and s.status is None and s.other_currencies[0].currency == "USD"


def test_all_users_is_admin_only_and_pages(stores: Stores) -> None:
    seed_costs(stores)
    with pytest.raises(Forbidden):
        reports.all_users(on(ALICE, stores), month="2026-11", limit=10, start_key=None)
    first = reports.all_users(on(ADMIN, stores), month="2026-11", limit=2, start_key=None)
    assert [r.user.username for r in first.users.items] == ["admin", "alice"]
    assert first.org_total == Decimal("31.5") and first.unallocated == 0
    rest = reports.all_users(
        on(ADMIN, stores), month="2026-11", limit=2, start_key=first.users.next_key
    )
    assert [r.user.username for r in rest.users.items] == ["bob"] and rest.users.next_key is None


def test_cost_lines_filter_sort_search_and_page(stores: Stores) -> None:
    seed_costs(stores)

    def lines(**kw):  # type: ignore[no-untyped-def]
        return reports.cost_lines(
            on(ALICE, stores), "u-alice", start=date(2026, 10, 31), end=date(2026, 11, 19), **kw
        )

    everything = lines()
    assert everything.total_count == 8 and everything.services == ["AmazonEC2", "AmazonS3"]
    assert [r.billed_cost for r in everything.lines][:4] == [Decimal(10)] * 4  # cost, high first
    assert [r.day for r in lines(sort="date").lines][:2] == [date(2026, 10, 31)] * 2
    assert {r.service for r in lines(service="AmazonS3").lines} == {"AmazonS3"}
    assert {r.resource_id for r in lines(search="BUCKET").lines} == {"bucket-1"}
    first = lines(limit=3)
    second = lines(limit=3, offset=first.next_offset)
    rest = lines(limit=3, offset=second.next_offset)
    seen = [r.line_id + r.day.isoformat() for p in (first, second, rest) for r in p.lines]
    assert len(seen) == len(set(seen)) == 8 and rest.next_offset is None
    with pytest.raises(Invalid):
        reports.cost_lines(
            on(ALICE, stores), "u-alice", start=date(2026, 1, 1), end=date(2026, 6, 1)
        )
    with pytest.raises(Forbidden):
        reports.cost_lines(on(BOB, stores), "u-alice", start=None, end=None)
