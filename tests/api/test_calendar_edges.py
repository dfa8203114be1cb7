"""The calendar's edges, on purpose: the same organisation read through the API on the 1st and
2nd of a month, the 15th, the last day of 30- and 31-day months, 1 January, 29 February and
1 March of a leap year. Every expected figure is computed here from the lines themselves, not
by the code under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from ingest.handler import resolve_job
from tally import budgets
from tally.allocation import OwnerTagRule
from tally.clock import fixed_clock
from tally.ingest import ingest_days
from tally.models import CostLine
from tally.view import View
from tests.conftest import ADMIN, ALICE
from tests.harness import Api

EDGES = [
    date(2026, 11, 1),
    date(2026, 11, 2),
    date(2026, 11, 15),
    date(2026, 11, 30),  # last day of a 30-day month
    date(2026, 12, 31),  # last day of a 31-day month, and of a year
    date(2027, 1, 1),
    date(2028, 2, 29),
    date(2028, 3, 1),
]
HISTORY_DAYS = 75
DAILY = Decimal("10.25")  # alice's instance, every day
LIMIT = Decimal("200")


def month_of(day: date) -> str:
    return day.strftime("%Y-%m")


def first_of_previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def spent(first: date, last: date) -> Decimal:
    """alice's cost over [first, last], from the lines this test wrote."""
    return DAILY * ((last - first).days + 1) if last >= first else Decimal(0)


@pytest.fixture(params=EDGES, ids=str)
def on(request: pytest.FixtureRequest, api: Api, monkeypatch: pytest.MonkeyPatch) -> date:
    """The organisation as the daily ingest leaves it on the morning of ``today``."""
    today: date = request.param
    monkeypatch.setenv("TALLY_TODAY", today.isoformat())
    start = today - timedelta(days=HISTORY_DAYS)
    days = [start + timedelta(days=n) for n in range(HISTORY_DAYS)]  # up to yesterday
    lines = [
        CostLine(d, "AmazonEC2", "i-alice", DAILY, DAILY, "USD", tags={"Owner": "alice"})
        for d in days
    ]
    now = datetime.combine(today, time(0, 30), UTC)
    ingest_days(lines, days, stores=api.stores, rule=OwnerTagRule(), source="t", now=now)
    budgets.create_budget(
        View(ADMIN, api.stores, today),
        budgets.BudgetRequest("u-alice", LIMIT, 80, effective_from=month_of(start)),
        clock=fixed_clock(now),
    )
    return today


def test_default_ranges_are_the_last_30_complete_days(api: Api, on: date) -> None:
    yesterday = on - timedelta(days=1)
    first = on - timedelta(days=30)
    costs = api.call("GET", "/api/billing/user/u-alice/costs", ALICE).body
    assert (costs["startDate"], costs["endDate"]) == (first.isoformat(), yesterday.isoformat())
    assert Decimal(costs["total"]["amount"]) == spent(first, yesterday)
    assert len(costs["daily"]) == 30
    lines = api.call("GET", "/api/billing/user/u-alice/cost-lines?limit=100", ALICE).body
    assert (lines["startDate"], lines["endDate"]) == (first.isoformat(), yesterday.isoformat())
    assert lines["totalCount"] == 30


def test_summary_judges_this_month_and_last_by_their_own_figures(api: Api, on: date) -> None:
    summary = api.call("GET", "/api/billing/user/u-alice/summary", ALICE).body
    assert summary["today"] == on.isoformat()
    assert summary["month"] == month_of(on)
    if on.day == 1:
        # Nothing of the new month has arrived: no "under budget at 0%".
        assert summary["noCostsYet"] is True
        assert summary["status"] is None and summary["percentUsed"] is None
        assert summary["firstCostsExpected"] == (on + timedelta(days=2)).isoformat()
    else:
        this_month = spent(on.replace(day=1), on - timedelta(days=1))
        assert summary["noCostsYet"] is False
        assert Decimal(summary["total"]["amount"]) == this_month
        expected = (
            "over"
            if this_month >= LIMIT
            else "warning"
            if this_month >= LIMIT * Decimal("0.8")
            else "under"
        )
        assert summary["status"] == expected
    assert summary["forecast"] is not None, "a forecast for the month exists from its 1st day"
    previous = summary["previousMonth"]
    last_month_first = first_of_previous_month(on)
    assert previous["month"] == month_of(last_month_first)
    assert Decimal(previous["total"]["amount"]) == spent(
        last_month_first, on.replace(day=1) - timedelta(days=1)
    )
    assert previous["status"] == "over"  # a whole month at 10.25 a day is past 200
    assert Decimal(previous["budget"]["monthlyLimit"]["amount"]) == LIMIT


def test_admin_view_reads_the_business_month(api: Api, on: date) -> None:
    view = api.call("GET", "/api/billing/all-users", ADMIN).body
    assert view["month"] == month_of(on)
    assert view["noCostsYet"] is (on.day == 1)
    previous = view["previousMonth"]
    assert previous["month"] == month_of(first_of_previous_month(on))
    assert Decimal(previous["organisationTotal"]["amount"]) == spent(
        first_of_previous_month(on), on.replace(day=1) - timedelta(days=1)
    )


def test_restatement_window_reaches_back_at_most_to_last_months_first_day(on: date) -> None:
    floor = first_of_previous_month(on)
    job = resolve_job({"source": "aws.scheduler"}, today=on)
    assert (job.start, job.end) == (max(on - timedelta(days=3), floor), on)
    # A day still estimated pulls the window back to it, but never past last month's 1st.
    still_estimated = floor + timedelta(days=1)
    late = resolve_job({}, today=on, estimated=frozenset({still_estimated}))
    assert late.start == min(still_estimated, max(on - timedelta(days=3), floor))
    ancient = resolve_job({}, today=on, estimated=frozenset({floor - timedelta(days=1)}))
    assert ancient.start == job.start
