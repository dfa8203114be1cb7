"""Budgets in time and the first days of a month, domain only (in-memory stores).

A month is judged by the budget in force during it; until a month's first costs arrive it is
not judged at all, and last month's result is shown beside it. Run on the calendar's edges.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from tally import budgets, reports
from tally.clock import fixed_clock
from tally.errors import Invalid
from tally.identity import Caller
from tally.models import (
    ORG,
    UNALLOCATED,
    Amounts,
    Budget,
    BudgetStatus,
    BudgetTerms,
    Metric,
    MonthlyRollup,
    RollupSection,
)
from tally.store import Stores, memory_stores
from tally.view import View
from tests.conftest import ADMIN, ALICE, BOB, profile


@pytest.fixture
def stores() -> Stores:
    s = memory_stores()
    for c in (ALICE, BOB, ADMIN):
        s.users.put(profile(c))
    return s


def at(day: date) -> datetime:
    return datetime.combine(day, time(9, 30), tzinfo=UTC)


def on(stores: Stores, today: date, caller: Caller = ADMIN) -> View:
    """``caller``'s request on ``today``, in amortized cost."""
    return View(caller, stores, today, Metric.EFFECTIVE, "USD")


def put_month(
    stores: Stores,
    owner: str,
    month: str,
    amount: str,
    *,
    estimated_days: tuple[str, ...] = (),
) -> None:
    a = Amounts(Decimal(amount), Decimal(amount))
    section = RollupSection(a, {"AmazonEC2": a}, {"Usage": a}, {f"{month}-01": a}, {}, [])
    stores.rollups.put(
        MonthlyRollup(
            owner,
            month,
            {"USD": section},
            bool(estimated_days),
            1,
            at(date(2026, 1, 1)),
            estimated_days=list(estimated_days),
        )
    )


def put_org_month(stores: Stores, month: str, per_user: dict[str, str], unallocated: str) -> None:
    for owner, amount in per_user.items():
        put_month(stores, owner, month, amount)
    put_month(stores, UNALLOCATED, month, unallocated)
    total = sum((Decimal(v) for v in per_user.values()), Decimal(unallocated))
    put_month(stores, ORG, month, str(total))


def create(
    stores: Stores,
    limit: str,
    today: date,
    effective_from: str | None = None,
    user: str = "u-alice",
) -> Budget:
    return budgets.create_budget(
        on(stores, today),
        budgets.BudgetRequest(user, Decimal(limit), 80, effective_from=effective_from),
        clock=fixed_clock(at(today)),
    )


def change(
    stores: Stores, budget: Budget, limit: str, today: date, effective_from: str | None = None
) -> Budget:
    return budgets.update_budget(
        on(stores, today),
        budget.budget_id,
        budgets.BudgetChanges(Decimal(limit), effective_from=effective_from),
        clock=fixed_clock(at(today)),
    )


def summary(stores: Stores, today: date, user: str = "u-alice") -> reports.Summary:
    return reports.month_summary(on(stores, today), user)


def org(stores: Stores, month: str, today: date) -> reports.OrgMonth:
    return reports.all_users(on(stores, today), month=month, limit=10, start_key=None)


def row(view: reports.OrgMonth, username: str) -> reports.UserMonth:
    return next(r for r in view.users.items if r.user.username == username)


# --- budget in force -------------------------------------------------------------------


def test_budget_in_force_is_the_latest_change_at_or_before_the_month(stores: Stores) -> None:
    budget = create(stores, "100", date(2026, 11, 20), effective_from="2026-09")
    budget = change(stores, budget, "300", date(2026, 11, 20))
    limits = {
        m: (t.monthly_limit if (t := budgets.budget_for_month(budget, m)) else None)
        for m in ["2026-08", "2026-09", "2026-10", "2026-11", "2026-12", "2028-02"]
    }
    assert limits == {
        "2026-08": None,  # before the first change: no budget then
        "2026-09": Decimal(100),
        "2026-10": Decimal(100),
        "2026-11": Decimal(300),
        "2026-12": Decimal(300),  # the future: the current budget, as planned
        "2028-02": Decimal(300),
    }
    assert budgets.budget_for_month(None, "2026-11") is None


def test_budget_stored_before_history_counts_from_its_creation_month() -> None:
    legacy = Budget(
        "b", "u", Decimal(50), 70, "USD", at(date(2026, 10, 31)), at(date(2026, 11, 2)), 3
    )
    assert legacy.changes == (BudgetTerms("2026-10", Decimal(50), 70, "USD"),)
    assert budgets.budget_for_month(legacy, "2026-09") is None
    assert budgets.budget_for_month(legacy, "2026-11") == legacy.changes[0]


@pytest.mark.parametrize(
    ("today", "month"),
    [
        (date(2026, 12, 1), "2026-12"),
        (date(2026, 11, 30), "2026-11"),
        (date(2026, 12, 31), "2026-12"),
        (date(2027, 1, 1), "2027-01"),
        (date(2028, 2, 29), "2028-02"),
        (date(2028, 3, 1), "2028-03"),
    ],
)
def test_a_new_budget_takes_effect_in_the_month_of_the_request(
    stores: Stores, today: date, month: str
) -> None:
    budget = create(stores, "100", today)
    assert budget.effective_from == month
    assert budget.history == (BudgetTerms(month, Decimal(100), 80, "USD"),)
    stored = stores.budgets.get_for_user("u-alice")
    assert stored is not None and stored.history == budget.history


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "2026-1", "202611", "0000-01", "٢٠٢٦-11"])
def test_a_malformed_effective_month_is_refused(stores: Stores, bad: str) -> None:
    with pytest.raises(Invalid) as err:
        create(stores, "100", date(2026, 11, 20), effective_from=bad)
    assert err.value.errors[0].field == "effectiveFrom"
    assert stores.budgets.get_for_user("u-alice") is None


def test_a_change_cannot_take_effect_in_a_later_month(stores: Stores) -> None:
    with pytest.raises(Invalid) as err:
        create(stores, "100", date(2026, 11, 30), effective_from="2026-12")
    assert err.value.errors[0].field == "effectiveFrom"
    budget = create(stores, "100", date(2026, 12, 31), effective_from="2026-12")
    with pytest.raises(Invalid):
        change(stores, budget, "200", date(2026, 12, 31), effective_from="2027-01")
    # On 1 January that month is the current one.
    assert change(stores, budget, "200", date(2027, 1, 1)).effective_from == "2027-01"


def test_a_backdated_change_replaces_the_changes_from_its_month_on(stores: Stores) -> None:
    budget = create(stores, "100", date(2026, 9, 15))
    budget = change(stores, budget, "150", date(2026, 10, 15))
    budget = change(stores, budget, "200", date(2026, 11, 15))
    assert [(t.effective_from, t.monthly_limit) for t in budget.history] == [
        ("2026-09", 100),
        ("2026-10", 150),
        ("2026-11", 200),
    ]
    budget = change(stores, budget, "120", date(2026, 11, 20), effective_from="2026-10")
    assert [(t.effective_from, t.monthly_limit) for t in budget.history] == [
        ("2026-09", 100),
        ("2026-10", 120),
    ]
    assert (budget.monthly_limit, budget.effective_from, budget.version) == (120, "2026-10", 4)
    # A second change in the same month replaces the first: one set of terms per month.
    budget = change(stores, budget, "130", date(2026, 11, 28))
    budget = change(stores, budget, "140", date(2026, 11, 29))
    assert [(t.effective_from, t.monthly_limit) for t in budget.history][-1] == ("2026-11", 140)
    assert len(budget.history) == 3
    assert stores.budgets.get_for_user("u-alice") == budget
    details = stores.audit.list_for_user("u-alice", 1).items[0].details
    assert details["effectiveFrom"] == "2026-11" and details["monthlyLimit"] == "140"


def test_a_threshold_only_change_keeps_the_current_limit(stores: Stores) -> None:
    budget = create(stores, "100", date(2026, 10, 2))
    budget = budgets.update_budget(
        on(stores, date(2026, 11, 1), ALICE),
        budget.budget_id,
        budgets.BudgetChanges(alert_threshold=50),
        clock=fixed_clock(at(date(2026, 11, 1))),
    )
    assert [(t.effective_from, t.monthly_limit, t.alert_threshold) for t in budget.history] == [
        ("2026-10", 100, 80),
        ("2026-11", 100, 50),
    ]


# --- the acceptance cases --------------------------------------------------------------


def test_a_budget_created_on_1_december_does_not_mark_november_over(stores: Stores) -> None:
    december_1st = date(2026, 12, 1)
    put_org_month(stores, "2026-11", {"u-alice": "500"}, "20")
    create(stores, "100", december_1st)

    s = summary(stores, december_1st)
    assert s.month == "2026-12" and s.no_costs_yet
    assert s.budget is not None and s.budget.terms.monthly_limit == 100  # December's, in force
    assert (s.status, s.percent_used, s.remaining, s.remaining_pct) == (None, None, None, None)
    last = s.previous_month
    assert last is not None and last.month == "2026-11" and last.total == 500
    assert (last.budget, last.status) == (None, None)  # November had no budget

    november = org(stores, "2026-11", december_1st)
    assert (row(november, "alice").budget, row(november, "alice").status) == (None, None)
    december = org(stores, "2026-12", december_1st)
    assert row(december, "alice").previous_month == reports.UserPreviousMonth(
        "USD", Decimal(500), None, None
    )


def test_a_budget_changed_mid_history_judges_each_month_by_its_own_terms(
    stores: Stores,
) -> None:
    # As the demo does: created backdated to the first month of its history, changed later.
    budget = create(stores, "100", date(2026, 11, 15), effective_from="2026-09")
    change(stores, budget, "300", date(2026, 11, 15))
    put_org_month(stores, "2026-09", {"u-alice": "50"}, "0")
    put_org_month(stores, "2026-10", {"u-alice": "200"}, "0")
    put_org_month(stores, "2026-11", {"u-alice": "200"}, "0")

    s = summary(stores, date(2026, 11, 15))
    assert s.budget is not None and s.budget.terms.monthly_limit == 300
    assert (s.status, s.percent_used) == (BudgetStatus.UNDER, Decimal("66.7"))
    assert s.previous_month is not None
    assert s.previous_month.budget is not None
    assert s.previous_month.budget.terms.monthly_limit == 100
    assert (s.previous_month.status, s.previous_month.percent_used) == (
        BudgetStatus.OVER,
        Decimal(200),
    )
    assert s.previous_month.remaining == -100

    verdicts = {
        m: (row(v, "alice").budget.monthly_limit, row(v, "alice").status)  # type: ignore[union-attr]
        for m in ("2026-09", "2026-10", "2026-11", "2026-12")
        if (v := org(stores, m, date(2026, 11, 15)))
    }
    assert verdicts == {
        "2026-09": (100, BudgetStatus.UNDER),
        "2026-10": (100, BudgetStatus.OVER),
        "2026-11": (300, BudgetStatus.UNDER),
        "2026-12": (300, None),  # planned; no costs in a future month, so no verdict
    }
    november = org(stores, "2026-11", date(2026, 11, 15))
    assert row(november, "alice").previous_month == reports.UserPreviousMonth(
        "USD",
        Decimal(200),
        BudgetTerms("2026-09", Decimal(100), 80, "USD"),
        BudgetStatus.OVER,
    )


# --- the first days of a month, on the calendar's edges --------------------------------

EDGES = [
    # today, this month, previous month, costs expected (this month empty), previous final
    (date(2026, 12, 1), "2026-12", "2026-11", date(2026, 12, 3), False),
    (date(2026, 12, 2), "2026-12", "2026-11", date(2026, 12, 3), True),
    (date(2026, 12, 3), "2026-12", "2026-11", date(2026, 12, 3), True),
    (date(2026, 12, 4), "2026-12", "2026-11", None, True),
    (date(2026, 11, 15), "2026-11", "2026-10", None, True),
    (date(2026, 11, 30), "2026-11", "2026-10", None, True),  # last day of a 30-day month
    (date(2026, 12, 31), "2026-12", "2026-11", None, True),  # last day of a 31-day month
    (date(2027, 1, 1), "2027-01", "2026-12", date(2027, 1, 3), False),
    (date(2027, 1, 2), "2027-01", "2026-12", date(2027, 1, 3), True),
    (date(2028, 2, 29), "2028-02", "2028-01", None, True),
    (date(2028, 3, 1), "2028-03", "2028-02", date(2028, 3, 3), False),
    (date(2028, 3, 2), "2028-03", "2028-02", date(2028, 3, 3), True),
]


@pytest.mark.parametrize(("today", "month", "previous", "expected", "final"), EDGES)
def test_summary_before_the_months_first_costs(
    stores: Stores, today: date, month: str, previous: str, expected: date | None, final: bool
) -> None:
    create(stores, "100", date(2026, 1, 10), effective_from="2026-01")
    put_month(stores, "u-alice", previous, "90")

    s = summary(stores, today)
    assert (s.month, s.today, s.no_costs_yet, s.first_costs_expected) == (
        month,
        today,
        True,
        expected,
    )
    assert (s.total, s.status, s.percent_used, s.remaining, s.remaining_pct) == (
        0,
        None,
        None,
        None,
        None,
    )
    assert s.budget is not None and s.budget.terms.monthly_limit == 100
    assert s.previous_month == reports.MonthResult(
        month=previous,
        currency="USD",
        total=Decimal(90),
        budget=s.budget,
        status=BudgetStatus.WARNING,
        percent_used=Decimal("90.0"),
        remaining=Decimal(10),
        final=final,
    )


@pytest.mark.parametrize(("today", "month", "previous", "expected", "final"), EDGES)
def test_summary_once_the_months_costs_arrived(
    stores: Stores, today: date, month: str, previous: str, expected: date | None, final: bool
) -> None:
    create(stores, "100", date(2026, 1, 10), effective_from="2026-01")
    put_month(stores, "u-alice", month, "100")

    s = summary(stores, today)
    assert (s.no_costs_yet, s.first_costs_expected) == (False, None)
    assert (s.status, s.percent_used, s.remaining) == (BudgetStatus.OVER, Decimal(100), 0)
    # Nothing last month but a budget: it was under it, at nothing spent.
    assert s.previous_month is not None
    assert (s.previous_month.month, s.previous_month.total, s.previous_month.status) == (
        previous,
        0,
        BudgetStatus.UNDER,
    )


def test_previous_month_is_null_without_costs_or_budget(stores: Stores) -> None:
    put_month(stores, "u-alice", "2026-11", "5")
    s = summary(stores, date(2026, 11, 15))
    assert s.previous_month is None and s.budget is None and s.status is None
    assert not s.no_costs_yet


def test_previous_month_with_estimated_days_is_not_final(stores: Stores) -> None:
    put_month(stores, "u-alice", "2026-10", "5", estimated_days=("2026-10-30",))
    s = summary(stores, date(2026, 11, 15))
    assert s.previous_month is not None and not s.previous_month.final
    assert s.previous_month.budget is None and s.previous_month.status is None


def test_a_forecast_only_rollup_has_no_costs_yet_but_keeps_its_forecast(stores: Stores) -> None:
    create(stores, "100", date(2026, 12, 1))
    from tally.forecast.projection import forecast as project

    forecast = {"USD": project({date(2026, 11, 30): Decimal(5)}, as_of=date(2026, 11, 30))}
    stores.rollups.put(
        MonthlyRollup("u-alice", "2026-12", {}, False, 0, at(date(2026, 12, 1)), forecast)
    )
    s = summary(stores, date(2026, 12, 1))
    assert s.no_costs_yet and s.status is None and s.first_costs_expected == date(2026, 12, 3)
    assert s.forecast == forecast["USD"]


def test_a_budget_in_another_currency_is_not_compared_last_month_either(stores: Stores) -> None:
    budgets.create_budget(
        on(stores, date(2026, 11, 2)),
        budgets.BudgetRequest("u-alice", Decimal(10), 80, "EUR", effective_from="2026-10"),
        clock=fixed_clock(at(date(2026, 11, 2))),
    )
    put_month(stores, "u-alice", "2026-10", "50")
    s = summary(stores, date(2026, 11, 2))
    assert s.previous_month is not None
    assert (s.previous_month.currency, s.previous_month.total, s.previous_month.status) == (
        "USD",  # what was billed, beside a budget it cannot be compared with
        50,
        None,
    )
    assert s.previous_month.budget is not None
    assert s.previous_month.budget.terms.currency == "EUR"


# --- all users -------------------------------------------------------------------------


@pytest.mark.parametrize(("today", "month", "previous", "expected", "final"), EDGES)
def test_all_users_before_the_months_first_costs(
    stores: Stores, today: date, month: str, previous: str, expected: date | None, final: bool
) -> None:
    create(stores, "100", date(2026, 1, 10), effective_from="2026-01")
    put_org_month(stores, previous, {"u-alice": "90", "u-bob": "30"}, "7.5")

    view = org(stores, month, today)
    assert (view.today, view.no_costs_yet, view.first_costs_expected) == (today, True, expected)
    assert view.org_total == 0 and all(r.status is None for r in view.users.items)
    alice = row(view, "alice")
    assert alice.budget is not None and alice.budget.monthly_limit == 100
    assert view.previous_month == reports.OrgPreviousMonth(
        previous, "USD", Decimal("127.5"), Decimal("7.5"), final
    )
    assert alice.previous_month is not None
    assert (alice.previous_month.total, alice.previous_month.status) == (90, BudgetStatus.WARNING)
    bob = row(view, "bob")  # no budget, but costs last month
    assert bob.previous_month == reports.UserPreviousMonth("USD", Decimal(30), None, None)
    assert row(view, "admin").previous_month is None  # neither costs nor budget


@pytest.mark.parametrize(("today", "month", "previous", "expected", "final"), EDGES)
def test_all_users_once_the_months_costs_arrived(
    stores: Stores, today: date, month: str, previous: str, expected: date | None, final: bool
) -> None:
    create(stores, "100", date(2026, 1, 10), effective_from="2026-01")
    put_org_month(stores, month, {"u-alice": "85"}, "0")

    view = org(stores, month, today)
    assert (view.no_costs_yet, view.first_costs_expected, view.previous_month) == (
        False,
        None,
        None,  # the organisation had no costs the month before
    )
    assert row(view, "alice").status is BudgetStatus.WARNING
    assert row(view, "bob").status is None  # no budget
    assert row(view, "alice").previous_month is not None  # a budget in force that month


def test_all_users_for_a_past_month_without_figures_expects_none(stores: Stores) -> None:
    view = org(stores, "2026-06", date(2026, 11, 20))
    assert view.no_costs_yet and view.first_costs_expected is None
