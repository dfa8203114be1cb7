"""Forecasts that survive one-off charges, and the forecast of a new month from its 1st.

Usage is fitted; tax, purchases, credits and refunds count as posted and, when they recur,
are expected once more (the rule is in ``tally.forecast.projection``'s docstring). Expected
figures are worked out here by hand from the series the tests build.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest

from tally.allocation import OwnerTagRule
from tally.forecast import Forecast
from tally.forecast.projection import expected_charges, forecast
from tally.identity import Role
from tally.ingest import ingest_days, refresh_forecasts
from tally.models import ORG, UNALLOCATED, CostLine, Metric, UserProfile
from tally.reports import month_summary
from tally.sources.focus import FocusSource
from tally.store import Stores, memory_stores
from tally.view import View
from tests.conftest import ALICE, BOB, profile
from tests.demo_org import USERS, demo_export, demo_stores, ingest_export
from tests.focus_files import FOCUS_SAMPLE, TEAMS, needs_focus_sample, shared_sample

CENT = Decimal("0.01")
T = TypeVar("T")
NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def days(start: date, end: date) -> list[date]:
    """[start, end)"""
    return [start + timedelta(days=n) for n in range((end - start).days)]


def month_after(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def days_in_month(day: date) -> int:
    first = day.replace(day=1)
    return (month_after(first) - first).days


def flat(start: date, end: date, amount: str = "10") -> dict[date, Decimal]:
    return {d: Decimal(amount) for d in days(start, end)}


def noisy(start: date, end: date, seed: int = 3) -> dict[date, Decimal]:
    rng = random.Random(seed)
    return {d: Decimal(str(round(20 + rng.gauss(0, 4), 2))) for d in days(start, end)}


def monthly_tax(usage: dict[date, Decimal], rate: str = "0.05") -> dict[date, dict[str, Decimal]]:
    """Tax on each month's usage, posted whole on its 1st (as the demo's export does)."""
    per_month: dict[date, Decimal] = {}
    for d, amount in usage.items():
        per_month[d.replace(day=1)] = per_month.get(d.replace(day=1), Decimal(0)) + amount
    return {first: {"Tax": total * Decimal(rate)} for first, total in per_month.items()}


def before(series: Mapping[date, T], as_of: date) -> dict[date, T]:
    return {d: v for d, v in series.items() if d <= as_of}


def stored_forecast(stores: Stores, owner: str, month: str) -> Forecast:
    """The forecast the ingest stored on ``owner``'s roll-up of ``month``, in USD."""
    rollup = stores.rollups.get(owner, month)
    assert rollup is not None and rollup.forecast is not None
    return rollup.forecast["USD"]


def stored_total(stores: Stores, owner: str, month: str) -> Decimal:
    rollup = stores.rollups.get(owner, month)
    assert rollup is not None
    return rollup.sections["USD"].totals.effective


def assert_never_collapses(result: Forecast) -> None:
    """Bands nested around the point, with room below it: only a day the model is sure costs
    nothing (its fitted line far below zero) may sit on the floor of zero."""
    end = result.month_end
    assert end.lower95 <= end.lower80 < end.projected_total < end.upper80 <= end.upper95
    for point in result.daily:
        assert point.lower95 <= point.lower80 <= point.amount < point.upper80 <= point.upper95
        assert point.lower80 < point.amount or point.amount == 0


# -- one-off charges ------------------------------------------------------------------------


def test_an_upfront_purchase_counts_once_and_bends_nothing() -> None:
    usage = flat(date(2026, 9, 1), date(2026, 11, 11))  # .. 10 November
    charges = {date(2026, 11, 4): {"Purchase": Decimal("5000")}}
    result = forecast(usage, charges=charges, as_of=date(2026, 11, 10))

    assert {p.amount for p in result.daily} == {Decimal("10.00")}
    end = result.month_end
    assert end.actual_to_date == Decimal("5100.00")  # ten days of usage and the purchase
    assert end.expected_charges == Decimal("0.00")
    assert end.projected_total == Decimal("5300.00")  # 30 days of usage + the purchase once
    # Next month, from its 1st: bought in one month only, so not expected again.
    december = forecast(usage, charges=charges, as_of=date(2026, 11, 30)).month_end
    assert december.expected_charges == Decimal("0.00")


def test_the_same_lines_fitted_as_usage_were_what_went_wrong() -> None:
    # The old input: the purchase inside the daily series. Kept to show what the split buys.
    usage = noisy(date(2026, 9, 1), date(2026, 11, 11))
    bought = date(2026, 11, 4)
    usage[bought] += Decimal("5000")
    mixed = forecast(usage, as_of=date(2026, 11, 10)).month_end
    usage[bought] -= Decimal("5000")
    split = forecast(
        usage, charges={bought: {"Purchase": Decimal("5000")}}, as_of=date(2026, 11, 10)
    ).month_end
    assert (split.upper80 - split.lower80) * 10 < mixed.upper80 - mixed.lower80
    assert abs(split.projected_total - (Decimal(5000) + 30 * 20)) < 60
    assert abs(mixed.projected_total - (Decimal(5000) + 30 * 20)) > 1000


def test_a_monthly_tax_is_expected_once_scaled_by_usage() -> None:
    usage = flat(date(2026, 9, 1), date(2026, 12, 1))
    usage.update(flat(date(2026, 11, 1), date(2026, 12, 1), "12"))  # November: more usage
    tax = monthly_tax(usage)
    # On 1 December, with November complete: December's tax is not posted yet.
    result = forecast(usage, charges=tax, as_of=date(2026, 11, 30))
    end = result.month_end
    assert end.month == "2026-12"
    assert end.actual_to_date == Decimal("0.00")
    usage_december = Decimal(12 * 31)  # the fitted level of the last weeks
    assert end.expected_by_category == {"Tax": (usage_december * Decimal("0.05")).quantize(CENT)}
    assert end.projected_total == (usage_december * Decimal("1.05")).quantize(CENT)

    # Once posted (on the 1st), nothing more is expected.
    usage.update(flat(date(2026, 12, 1), date(2026, 12, 11), "12"))
    tax[date(2026, 12, 1)] = {"Tax": usage_december * Decimal("0.05")}
    posted = forecast(usage, charges=tax, as_of=date(2026, 12, 10)).month_end
    assert posted.expected_charges == Decimal("0.00")
    assert posted.projected_total == (usage_december * Decimal("1.05")).quantize(CENT)


def test_a_tax_posted_day_by_day_is_topped_up_once() -> None:
    usage = flat(date(2026, 9, 1), date(2026, 11, 11))
    tax = {d: {"Tax": Decimal("0.50")} for d in usage}  # 5% of each day's usage
    end = forecast(usage, charges=tax, as_of=date(2026, 11, 10)).month_end
    # November: 300 of usage, 15 of tax, 5 of it posted.
    assert end.actual_to_date == Decimal("105.00")
    assert end.expected_by_category == {"Tax": Decimal("10.00")}
    assert end.projected_total == Decimal("315.00")


def test_recurring_fees_need_two_months_and_credits_are_never_expected() -> None:
    usage = {d: Decimal(10) for d in days(date(2026, 9, 1), date(2026, 12, 1))}
    charges = {
        date(2026, 9, 1): {"Purchase": Decimal("4000")},  # upfront, once
        date(2026, 10, 1): {"Purchase": Decimal("100"), "Adjustment": Decimal("7")},
        date(2026, 11, 1): {"Purchase": Decimal("120"), "Credit": Decimal("-50")},
        date(2026, 11, 2): {"Refund": Decimal("-3"), "Support": Decimal("29")},
    }
    expected = expected_charges(
        charges, usage, as_of=date(2026, 11, 30), projected_usage=Decimal(310)
    )
    # Purchase in October and November: a monthly fee, at the smaller amount. The adjustment
    # (October only), the support fee (November only), the credit and refund: not expected.
    assert expected == {"Purchase": Decimal("100.00")}
    # Not before two complete months: on 1 November, September and October are the two.
    assert expected_charges(
        charges, usage, as_of=date(2026, 10, 31), projected_usage=Decimal(300)
    ) == {"Purchase": Decimal("100.00")}
    assert (
        expected_charges(charges, usage, as_of=date(2026, 9, 30), projected_usage=Decimal(310))
        == {}
    )


def test_usage_in_the_charges_is_refused() -> None:
    with pytest.raises(ValueError, match="usage"):
        forecast({}, charges={date(2026, 11, 1): {"Usage": Decimal(1)}}, as_of=date(2026, 11, 1))


# -- the 1st's own term -----------------------------------------------------------------------


def test_monthly_usage_booked_on_the_1st_neither_bends_the_trend_nor_is_lost() -> None:
    usage = noisy(date(2026, 9, 1), date(2026, 11, 11))
    for first in (date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)):
        usage[first] += Decimal("600")  # storage billed for the whole month on its 1st
    mid_month = forecast(usage, as_of=date(2026, 11, 10))
    assert all(Decimal(14) < p.amount < Decimal(26) for p in mid_month.daily[:20])
    assert_never_collapses(mid_month)

    from_the_first = forecast(before(usage, date(2026, 10, 31)), as_of=date(2026, 10, 31))
    november_1st, *rest = from_the_first.daily
    assert november_1st.day == date(2026, 11, 1)
    assert Decimal(580) < november_1st.amount < Decimal(660)
    assert all(Decimal(14) < p.amount < Decimal(26) for p in rest)


# -- the interval ---------------------------------------------------------------------------


def test_a_trend_running_to_zero_keeps_a_lower_bound_below_the_point() -> None:
    rng = random.Random(5)
    usage = {
        d: Decimal(str(round(max(60 - 1.6 * i + rng.gauss(0, 6), 0), 2)))
        for i, d in enumerate(days(date(2026, 9, 20), date(2026, 10, 21)))
    }  # the fitted line reaches zero in early November
    result = forecast(usage, as_of=date(2026, 10, 20), model="linear")
    assert_never_collapses(result)
    # The points fade towards the floor instead of dropping onto it with the fitted line.
    assert result.daily[0].amount > 10 and 0 < result.daily[-1].amount < 1
    end = result.month_end
    assert end.actual_to_date < end.lower80 < end.projected_total


@pytest.mark.parametrize(
    "as_of",
    [
        date(2026, 12, 1),  # on the 1st: the 1st is the last actual
        date(2026, 12, 2),
        date(2026, 12, 15),
        date(2026, 11, 30),  # end of a 30-day month: December from its 1st
        date(2026, 12, 31),  # end of a 31-day month and of the year: January from its 1st
        date(2027, 1, 1),
        date(2028, 2, 28),
        date(2028, 2, 29),  # leap day: March from its 1st
        date(2028, 3, 1),
    ],
)
def test_calendar_edges(as_of: date) -> None:
    usage = flat(date(2026, 8, 1), date(2028, 4, 1))
    tax = monthly_tax(usage)  # on each 1st: 5% of that month's usage
    exact = forecast(before(usage, as_of), charges=before(tax, as_of), as_of=as_of)
    month = as_of + timedelta(days=1)
    elapsed = month.day - 1
    length = days_in_month(month)
    end = exact.month_end
    assert end.month == month.strftime("%Y-%m")
    assert (end.days_elapsed, end.days_remaining) == (elapsed, length - elapsed)
    assert exact.daily[0].day == month
    assert len(exact.daily) == max(30, length - elapsed)
    month_tax = Decimal(10 * length) * Decimal("0.05")
    assert end.actual_to_date == Decimal(10 * elapsed) + (month_tax if elapsed else 0)
    assert end.expected_charges == (0 if elapsed else month_tax)
    assert end.projected_total == Decimal(10 * length) + month_tax

    uncertain = forecast(
        before(noisy(date(2026, 8, 1), date(2028, 4, 1)), as_of), as_of=as_of, model="linear"
    )
    assert uncertain.month_end.days_remaining == length - elapsed
    assert_never_collapses(uncertain)


# -- the ingest: a forecast for the new month from its 1st --------------------------------------


def usage_line(day: date, amount: str, owner: str | None, category: str = "Usage") -> CostLine:
    return CostLine(
        day=day,
        service="AmazonEC2" if category == "Usage" else category,
        resource_id="i-1" if category == "Usage" else None,
        billed_cost=Decimal(amount),
        effective_cost=Decimal(amount),
        currency="USD",
        charge_category=category,
        tags={"Owner": owner} if owner else {},
    )


def run(stores: Stores, lines: list[CostLine], window: list[date], now: datetime) -> None:
    ingest_days(lines, window, stores=stores, rule=OwnerTagRule(), source="test", now=now)


@pytest.fixture
def stores() -> Stores:
    s = memory_stores()
    s.users.put(profile(ALICE))
    s.users.put(profile(BOB))
    return s


def test_on_the_1st_everyone_with_costs_last_month_has_this_months_forecast(
    stores: Stores,
) -> None:
    autumn = days(date(2026, 9, 1), date(2026, 12, 1))
    lines = [usage_line(d, "10", "alice") for d in autumn]
    lines += [usage_line(d, "3", None) for d in autumn]  # unallocated
    lines += [usage_line(d, "4", "bob") for d in days(date(2026, 9, 1), date(2026, 10, 1))]
    lines += [usage_line(d.replace(day=1), "20", None, "Tax") for d in autumn if d.day == 1]
    run(stores, lines, autumn, datetime(2026, 11, 30, 0, 30, tzinfo=UTC))

    # The run of 1 December reads the last days of November only.
    window = days(date(2026, 11, 28), date(2026, 12, 1))
    run(
        stores,
        [x for x in lines if x.day in window],
        window,
        datetime(2026, 12, 1, 0, 30, tzinfo=UTC),
    )

    for owner, daily in (("u-alice", 10), (UNALLOCATED, 3), (ORG, 13)):
        december = stores.rollups.get(owner, "2026-12")
        assert december is not None and december.sections == {} and december.forecast
        fc = stored_forecast(stores, owner, "2026-12")
        assert fc.as_of == date(2026, 11, 30)
        end = fc.month_end
        assert end.month == "2026-12" and end.days_remaining == 31
        assert end.actual_to_date == 0
        # Tax follows usage: November's 20 over 30 days of it, December has 31.
        tax = (Decimal(20) * 31 / 30).quantize(CENT) if owner in (UNALLOCATED, ORG) else 0
        assert end.expected_charges == tax
        assert end.projected_total == 31 * daily + tax
        assert len(fc.daily) == 31
    # Bob's costs stopped in September: no December roll-up is made up for him.
    assert stores.rollups.get("u-bob", "2026-12") is None

    summary = month_summary(View(ALICE, stores, date(2026, 12, 1), Metric.EFFECTIVE), "u-alice")
    assert summary.no_costs_yet and summary.total == 0
    assert summary.forecast is not None and summary.forecast.as_of == date(2026, 11, 30)

    # The 2nd: the 1st's costs are in; the roll-up gets its figures and keeps a forecast.
    window = [date(2026, 12, 1)]
    run(
        stores,
        [usage_line(date(2026, 12, 1), "10", "alice")],
        window,
        datetime(2026, 12, 2, 0, 30, tzinfo=UTC),
    )
    december = stores.rollups.get("u-alice", "2026-12")
    assert december is not None and december.sections["USD"].totals.billed == 10
    assert stored_forecast(stores, "u-alice", "2026-12").as_of == date(2026, 12, 1)


def test_an_empty_month_does_not_beget_another(stores: Stores) -> None:
    november = days(date(2026, 11, 1), date(2026, 12, 1))
    run(
        stores,
        [usage_line(d, "10", "alice") for d in november],
        november,
        datetime(2026, 11, 30, 0, 30, tzinfo=UTC),
    )
    refresh_forecasts(stores, now=datetime(2026, 12, 1, 0, 30, tzinfo=UTC))
    assert stores.rollups.get("u-alice", "2026-12") is not None
    # December brought nothing: January gets no forecast roll-up from an empty December.
    refresh_forecasts(stores, now=datetime(2027, 1, 1, 0, 30, tzinfo=UTC))
    assert stores.rollups.get("u-alice", "2027-01") is None


def test_the_rollup_splits_each_day_by_category(stores: Stores) -> None:
    day = date(2026, 11, 3)
    lines = [
        usage_line(day, "10", None),
        usage_line(day, "2.5", None, "Tax"),
        usage_line(day, "-1", None, "Credit"),
    ]
    run(stores, lines, [day], datetime(2026, 11, 4, tzinfo=UTC))
    section = stores.rollups.get(UNALLOCATED, "2026-11").sections["USD"]  # type: ignore[union-attr]
    split = {k: v.billed for k, v in section.daily_by_category["2026-11-03"].items()}
    assert split == {"Usage": Decimal(10), "Tax": Decimal("2.5"), "Credit": Decimal(-1)}
    org = stores.rollups.get(ORG, "2026-11").sections["USD"]  # type: ignore[union-attr]
    assert org.daily_by_category == section.daily_by_category


def test_a_rollup_stored_before_the_split_counts_as_usage() -> None:
    from tally.ingest import _series
    from tally.models import Amounts, MonthlyRollup, RollupSection
    from tally.store.codec import section_from_doc, section_to_doc

    a = Amounts(Decimal("12.5"), Decimal("12"))
    section = RollupSection(a, {"AmazonEC2": a}, {"Usage": a}, {"2026-10-05": a}, {}, [])
    doc = section_to_doc(section)
    del doc["daily_by_category"]  # an item written before the field existed
    old = MonthlyRollup(UNALLOCATED, "2026-10", {"USD": section_from_doc(doc)}, False, 1, NOW)
    assert old.sections["USD"].daily_by_category == {}
    usage, charges = _series([old], "USD", Metric.BILLED, date(2026, 10, 31))
    assert usage == {date(2026, 10, 5): Decimal("12.5")} and charges == {}


# -- the demo organisation and the FOCUS sample -------------------------------------------------


@pytest.mark.parametrize("month", [date(2026, 9, 1), date(2026, 10, 1)])
def test_demo_projections_at_day_10_are_close(month: date) -> None:
    """The demo's monthly tax made the unallocated projection 58-77% too high at day 10."""
    start = month - timedelta(days=120)
    end = month_after(month)
    stores = demo_stores(since=start)
    export = demo_export(end=end, days=(end - start).days)
    cut = month + timedelta(days=10)  # the run of the 11th: actuals to the 10th
    ingest_export(stores, export, start, cut)
    projected = {
        owner: stored_forecast(stores, owner, month.strftime("%Y-%m")).month_end
        for owner in (*USERS, UNALLOCATED, ORG)
    }
    ingest_export(stores, export, cut, end)
    for owner, end_of_month in projected.items():
        actual = stored_total(stores, owner, month.strftime("%Y-%m"))
        point = end_of_month.projected_total
        assert abs(point - actual) / actual < Decimal("0.08"), owner
        assert end_of_month.lower80 < point < end_of_month.upper80
        assert end_of_month.upper80 < actual * Decimal("1.25"), owner


@needs_focus_sample
@pytest.mark.parametrize(
    ("metric", "column", "tolerance"),
    # Effective: the sample's daily usage is noise (its coefficient of variation is near 1)
    # and its last three days are empty; billed: purchases after day 10 cannot be foreseen.
    [("effective", "EffectiveCost", "0.45"), ("billed", "BilledCost", "0.15")],
)
def test_focus_sample_at_day_10_has_a_bounded_interval(
    metric: str, column: str, tolerance: str
) -> None:
    """Before: every remaining day 0.00 and the 80% upper bound 12 times the real month."""
    stores = memory_stores()
    for team in TEAMS:
        stores.users.put(UserProfile(team, team, None, Role.USER))
    now = datetime.combine(date(2026, 5, 11), time(1), tzinfo=UTC)
    from tally.ingest import run_source

    run_source(
        FocusSource.from_path(FOCUS_SAMPLE, today=date(2026, 5, 11)),
        date(2026, 5, 1),
        date(2026, 5, 11),
        stores=stores,
        rule=OwnerTagRule(),
        now=now,
        metric=Metric(metric),
    )
    actual = shared_sample().totals(column, key="Owner")
    for team in TEAMS:
        fc = stored_forecast(stores, team, "2026-05")
        end = fc.month_end
        month = actual[team]
        assert end.actual_to_date < end.lower80 < end.projected_total < end.upper80
        assert end.upper80 < 2 * month, team  # was 12 times
        assert abs(end.projected_total - month) / month < Decimal(tolerance), team
        assert all(p.amount > 0 for p in fc.daily)  # was 0.00 every day


@needs_focus_sample
def test_focus_sample_forecast_for_june_from_its_1st() -> None:
    stores = memory_stores()
    for team in TEAMS:
        stores.users.put(UserProfile(team, team, None, Role.USER))
    from tally.ingest import run_source

    run_source(
        FocusSource.from_path(FOCUS_SAMPLE, today=date(2026, 6, 1)),
        date(2026, 5, 1),
        date(2026, 6, 1),
        stores=stores,
        rule=OwnerTagRule(),
        now=datetime(2026, 6, 1, 0, 30, tzinfo=UTC),
    )
    for team in TEAMS:
        june = stores.rollups.get(team, "2026-06")
        assert june is not None and june.sections == {}
        fc = stored_forecast(stores, team, "2026-06")
        assert fc.month_end.month == "2026-06" and fc.month_end.days_remaining == 30
        first, *rest = (p.amount for p in fc.daily)
        # May's storage was billed for the month on the 1st: June's 1st is expected to be too.
        assert first > 5 * max(rest)


def test_project_export_purchase_and_tax_through_the_focus_source(tmp_path: Path) -> None:
    """The project's own FOCUS export (April and May 2026: monthly tax, a credit, a Savings
    Plan bought upfront on 4 May): what the shared sample checks, on any clone."""
    from tally.ingest import run_source
    from tests.focus_files import project_export

    export = project_export(tmp_path)
    stores = memory_stores()
    for team in TEAMS:
        stores.users.put(UserProfile(team, team, None, Role.USER))

    def run_until(end: date) -> None:
        run_source(
            FocusSource.from_path(export.path, today=end),
            date(2026, 4, 1),
            end,
            stores=stores,
            rule=OwnerTagRule(),
            now=datetime.combine(end, time(1), tzinfo=UTC),
            metric=Metric.BILLED,
        )

    run_until(date(2026, 5, 11))
    actual = export.totals("BilledCost", key="Owner")
    platform = stored_forecast(stores, "team-platform", "2026-05").month_end
    # The purchase is in the actuals once and nowhere in the forecast rest.
    assert platform.actual_to_date > 365
    assert platform.forecast_remainder < 365
    month = actual["team-platform"]
    assert abs(platform.projected_total - month) / month < Decimal("0.05")
    assert platform.upper80 < month * Decimal("1.1")

    run_until(date(2026, 6, 1))
    june = stores.rollups.get(UNALLOCATED, "2026-06")
    assert june is not None and june.sections == {}
    end = stored_forecast(stores, UNALLOCATED, "2026-06").month_end
    # Tax was charged in April and May: June expects it once, though nothing is posted yet.
    assert end.actual_to_date == 0 and set(end.expected_by_category) == {"Tax"}
    may_tax = export.totals("BilledCost", key="ChargeCategory")["Tax"]
    assert abs(end.expected_charges - may_tax) < may_tax * Decimal("0.1")
