"""The summary judges a budget in its own currency (issue 17): a GBP budget on USD costs is
judged on the month converted into GBP day by day, as the budget alerts judge it, with the
rates said; without a rate for some day there is no verdict. The same for a team's summary,
which also converts its month for ``?currency=``. Domain only: in-memory stores, worked
numbers to the cent."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from tally.authz.authorizer import Authorizer
from tally.identity import Caller
from tally.models import AuditEntry, Budget, BudgetStatus, BudgetTerms, Metric
from tally.org.costs import team_summary
from tally.org.model import team_owner
from tally.rates import ECB, NoRate, Rate
from tally.reports import month_summary
from tally.store import Stores, memory_stores
from tally.view import View
from tests.unit.test_team_costs import ADMIN, ALICE, NOW, put, record, team

TODAY = date(2026, 11, 20)
D = Decimal


def view(stores: Stores, caller: Caller = ALICE) -> View:
    bound = replace(caller, authorizer=None)
    bound = replace(bound, authorizer=Authorizer(bound, stores.access))
    return View(bound, stores, TODAY, Metric.EFFECTIVE, "USD")


def budget(stores: Stores, owner: str, limit: str, since: str = "2026-11") -> None:
    terms = BudgetTerms(since, D(limit), 80, "GBP")
    stores.budgets.create(
        Budget("b-" + owner, owner, terms.monthly_limit, 80, "GBP", NOW, NOW, 0, (terms,)),
        AuditEntry(owner, NOW, "u-admin", "budget.created", "b-" + owner, {}),
    )


def ecb(day: date, usd: str, gbp: str) -> list[Rate]:
    return [Rate(day, "EUR", "USD", D(usd), ECB), Rate(day, "EUR", "GBP", D(gbp), ECB)]


@pytest.fixture
def stores() -> Stores:
    """alice: 40.00 USD on Mon 2 Nov, 25.00 on Tue 3 Nov, 10.00 on Wed 4 Nov. The ECB's rates
    of the 2nd (1 EUR = 1.25 USD = 0.85 GBP: 1 USD = 0.68 GBP) and the 3rd (1.25 USD = 0.875
    GBP: 1 USD = 0.70 GBP); none of the 4th (it falls back to the 3rd's)."""
    s = memory_stores()
    team(s, "payments", members=("u-alice", "u-bob"))
    put(
        s,
        "u-alice",
        record("u-alice", date(2026, 11, 2), "40.00"),
        record("u-alice", date(2026, 11, 3), "25.00"),
        record("u-alice", date(2026, 11, 4), "10.00"),
    )
    s.rates.put_many(
        [*ecb(date(2026, 11, 2), "1.25", "0.85"), *ecb(date(2026, 11, 3), "1.25", "0.875")]
    )
    return s


def test_a_gbp_budget_on_usd_costs_is_judged_in_gbp_day_by_day(stores: Stores) -> None:
    # Given a 60 GBP budget (alert at 80%) and 75.00 USD billed.
    budget(stores, "u-alice", "60")

    s = month_summary(view(stores), "u-alice")

    # Then 40 x 0.68 + 25 x 0.70 + 10 x 0.70 = 27.20 + 17.50 + 7.00 = 51.70 GBP: 86.2% used,
    # 8.30 GBP left (13.8%), past the 80% threshold: warning.
    assert s.judged_in is not None
    assert (s.judged_in.currency, s.judged_in.spent) == ("GBP", D("51.70"))
    assert (s.status, s.percent_used, s.remaining, s.remaining_pct) == (
        BudgetStatus.WARNING,
        D("86.2"),
        D("8.30"),
        D("13.8"),
    )
    # The rates said: each distinct one once (the 4th used the 3rd's: a fallback).
    assert [(r.rate_day, r.rate, r.source) for r in s.judged_in.rates] == [
        (date(2026, 11, 2), D("0.68"), "ecb+cross"),
        (date(2026, 11, 3), D("0.70"), "ecb+cross"),
    ]
    assert s.judged_in.fallback
    # The originals are not replaced: nothing was billed in GBP, the USD stays beside it.
    assert s.currency_mismatch and (s.currency, s.total) == ("GBP", D("0"))
    assert [(m.currency, m.amount) for m in s.other_currencies] == [("USD", D("75.00"))]
    # The rates are not in the summary's version: no version ETag for it.
    assert s.version is None


def test_over_the_limit_in_gbp_is_over(stores: Stores) -> None:
    budget(stores, "u-alice", "50")
    s = month_summary(view(stores), "u-alice")
    assert (s.status, s.percent_used, s.remaining) == (BudgetStatus.OVER, D("103.4"), D("-1.70"))


def test_without_a_rate_for_some_day_there_is_no_verdict() -> None:
    s = memory_stores()
    put(s, "u-alice", record("u-alice", date(2026, 11, 1), "5.00"))  # Sunday, before any rate
    s.rates.put_many(ecb(date(2026, 11, 2), "1.25", "0.85"))
    budget(s, "u-alice", "60")

    summary = month_summary(view(s), "u-alice")

    assert summary.currency_mismatch and summary.judged_in is None
    assert (summary.status, summary.percent_used, summary.remaining) == (None, None, None)
    assert summary.version is None  # a rate may come: never a 304 from the versions


def test_a_budget_in_the_billed_currency_reads_no_rate_and_keeps_its_version(
    stores: Stores,
) -> None:
    terms = BudgetTerms("2026-11", D("100"), 80, "USD")
    stores.budgets.create(
        Budget("b", "u-alice", D("100"), 80, "USD", NOW, NOW, 0, (terms,)),
        AuditEntry("u-alice", NOW, "u-admin", "budget.created", "b", {}),
    )
    s = month_summary(view(stores), "u-alice")
    assert (s.judged_in, s.currency_mismatch, s.status) == (None, False, BudgetStatus.UNDER)
    assert s.remaining == D("25.00") and s.version is not None


def test_last_month_is_judged_in_its_budgets_currency_too(stores: Stores) -> None:
    # 30.00 USD on Fri 30 October at that day's 1 EUR = 1.25 USD = 0.80 GBP (1 USD = 0.64
    # GBP): 19.20 GBP of October's 60: 32.0% used, 40.80 GBP left.
    put(stores, "u-alice", record("u-alice", date(2026, 10, 30), "30.00"))
    stores.rates.put_many(ecb(date(2026, 10, 30), "1.25", "0.80"))
    budget(stores, "u-alice", "60", since="2026-10")

    previous = month_summary(view(stores), "u-alice").previous_month

    assert previous is not None and previous.judged_in is not None
    assert (previous.currency, previous.total) == ("USD", D("30.00"))  # as billed
    assert previous.judged_in.spent == D("19.20")
    assert (previous.status, previous.percent_used, previous.remaining) == (
        BudgetStatus.UNDER,
        D("32.0"),
        D("40.80"),
    )


def test_a_team_budget_in_gbp_is_judged_on_the_teams_usd_month(stores: Stores) -> None:
    # bob's 20.00 USD on the 3rd joins alice's 75.00 in payments: 51.70 + 20 x 0.70 = 65.70
    # GBP against 60: over, 109.5%, 5.70 GBP over.
    put(stores, "u-bob", record("u-bob", date(2026, 11, 3), "20.00"))
    budget(stores, team_owner("payments"), "60")

    result = team_summary(view(stores, ADMIN), "payments")

    s = result.summary
    assert s.judged_in is not None and s.judged_in.spent == D("65.70")
    assert (s.status, s.percent_used, s.remaining) == (BudgetStatus.OVER, D("109.5"), D("-5.70"))
    assert result.converted is None  # no ?currency= asked


def test_a_team_summary_converts_its_month_for_a_currency(stores: Stores) -> None:
    put(stores, "u-bob", record("u-bob", date(2026, 11, 3), "20.00"))

    result = team_summary(view(stores, ADMIN), "payments", quote="EUR")

    # 1 USD = 0.8 EUR (1 / 1.25) every day: 95.00 USD is 76.00 EUR, the sum of its days.
    assert result.converted is not None
    assert (result.converted.quote, result.converted.total) == ("EUR", D("76.00"))
    assert result.converted.daily() == {
        date(2026, 11, 2): D("32.00"),
        date(2026, 11, 3): D("36.00"),
        date(2026, 11, 4): D("8.00"),
    }
    assert (result.summary.currency, result.summary.total) == ("USD", D("95.00"))  # as billed
    with pytest.raises(NoRate):
        team_summary(view(stores, ADMIN), "payments", quote="JPY")
