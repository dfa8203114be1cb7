"""Forecasts: deterministic series in, sensible projections and honest intervals out."""

from __future__ import annotations

import itertools
import json
import math
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tally.forecast import Forecast
from tally.forecast.backtest import backtest_month_end
from tally.forecast.fitting import select_model
from tally.forecast.projection import forecast
from tally.forecast.stats import student_t_cdf, student_t_quantile
from tally.store.codec import forecast_from_doc, forecast_to_doc

START = date(2026, 1, 1)
CENT = Decimal("0.01")


def series(values: list[float], start: date = START) -> dict[date, Decimal]:
    return {start + timedelta(days=i): Decimal(str(round(v, 2))) for i, v in enumerate(values)}


def weekly(days: int, seed: int) -> dict[date, Decimal]:
    rng = random.Random(seed)
    return series(
        [
            (100.0 if (START + timedelta(days=i)).weekday() < 5 else 20.0) + rng.gauss(0, 3)
            for i in range(days)
        ]
    )


def trend(days: int, seed: int, *, slope: float = 0.5, noise: float = 3.0) -> dict[date, Decimal]:
    rng = random.Random(seed)
    return series([50.0 + slope * i + rng.gauss(0, noise) for i in range(days)])


def all_amounts(result: Forecast) -> list[Decimal]:
    month_end = result.month_end
    amounts = [
        month_end.actual_to_date,
        month_end.forecast_remainder,
        month_end.projected_total,
        month_end.lower80,
        month_end.upper80,
        month_end.lower95,
        month_end.upper95,
    ]
    for point in result.daily:
        amounts += [point.amount, point.lower80, point.upper80, point.lower95, point.upper95]
    return amounts


# -- the t distribution -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [
        (0.975, 1, 12.706205),
        (0.975, 2, 4.302653),
        (0.9, 5, 1.475884),
        (0.975, 10, 2.228139),
        (0.9, 26, 1.314972),
        (0.975, 26, 2.055529),
        (0.975, 1000, 1.962339),
    ],
)
def test_student_t_quantiles_match_tables(p: float, df: int, expected: float) -> None:
    assert student_t_quantile(p, df) == pytest.approx(expected, abs=1e-5)
    assert student_t_cdf(student_t_quantile(p, df), df) == pytest.approx(p, abs=1e-10)


# -- exact series ---------------------------------------------------------------------------


def test_flat_series_projects_the_same_amount_every_day() -> None:
    history = series([10.0] * 45)  # Jan 1 .. Feb 14
    result = forecast(history, as_of=date(2026, 2, 14), model="linear")

    assert result.model == "linear"
    assert {p.amount for p in result.daily} == {Decimal("10.00")}
    month_end = result.month_end
    assert month_end.month == "2026-02"
    assert month_end.actual_to_date == Decimal("140.00")
    assert month_end.days_elapsed == 14
    assert month_end.days_remaining == 14
    assert month_end.forecast_remainder == Decimal("140.00")
    assert month_end.projected_total == Decimal("280.00")
    # A perfect fit leaves no residual uncertainty.
    assert month_end.lower95 == month_end.upper95 == Decimal("280.00")


def test_exact_linear_trend_is_continued() -> None:
    history = series([10.0 + 2.0 * i for i in range(40)])  # Jan 1 .. Feb 9: 10, 12, ...
    result = forecast(history, as_of=date(2026, 2, 9))

    assert result.model == "linear"  # a weekday model cannot beat a perfect fit
    assert result.daily[0].day == date(2026, 2, 10)
    assert result.daily[0].amount == Decimal("90.00")
    assert result.daily[9].amount == Decimal("108.00")
    expected_rest = sum(10 + 2 * (40 + i) for i in range(19))  # Feb 10 .. Feb 28
    assert result.month_end.forecast_remainder == Decimal(expected_rest).quantize(CENT)
    actual = sum(10 + 2 * i for i in range(31, 40))  # Feb 1 .. Feb 9
    assert result.month_end.actual_to_date == Decimal(actual).quantize(CENT)


def test_daily_series_covers_thirty_days_or_the_rest_of_the_month() -> None:
    history = series([5.0] * 31)  # January
    on_the_first = forecast(history, as_of=date(2026, 1, 31))
    assert on_the_first.month_end.month == "2026-02"
    assert on_the_first.month_end.actual_to_date == Decimal("0.00")
    assert on_the_first.month_end.days_remaining == 28
    assert len(on_the_first.daily) == 30

    mid_month = forecast(series([5.0] * 61), as_of=date(2026, 3, 1))  # March: 30 days left
    assert mid_month.month_end.days_remaining == 30
    assert len(mid_month.daily) == 30
    longest = forecast(series([5.0] * 31), as_of=date(2025, 12, 31))  # January: 31 days left
    assert len(longest.daily) == 31


# -- intervals --------------------------------------------------------------------------------


def test_intervals_widen_with_the_horizon_and_nest() -> None:
    history = trend(60, seed=7, slope=0.0, noise=5.0)
    result = forecast(history, as_of=START + timedelta(days=59), model="linear")

    widths80 = [p.upper80 - p.lower80 for p in result.daily]
    assert widths80[0] > 0
    assert widths80[-1] > widths80[0]
    assert all(b >= a for a, b in itertools.pairwise(widths80))
    for point in result.daily:
        assert point.lower95 <= point.lower80 <= point.amount <= point.upper80 <= point.upper95
    month_end = result.month_end
    assert month_end.lower95 <= month_end.lower80 <= month_end.projected_total
    assert month_end.projected_total <= month_end.upper80 <= month_end.upper95


def test_prediction_interval_uses_the_leverage_term() -> None:
    values = [12.0, 15.0, 11.0, 18.0, 16.0, 21.0, 17.0, 22.0] * 2  # two weeks: a trend is fitted
    start = date(2026, 1, 5)  # no 1st in the window: plain simple regression
    history = series(values, start)
    as_of = start + timedelta(days=len(values) - 1)
    result = forecast(history, as_of=as_of, model="linear")

    # Textbook simple regression: half-width = t * s * sqrt(1 + 1/n + (x0 - mean)^2 / Sxx).
    n = len(values)
    xs = list(range(n))
    x_mean = sum(xs) / n
    y_mean = sum(values) / n
    sxx = sum((x - x_mean) ** 2 for x in xs)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, values, strict=True)) / sxx
    intercept = y_mean - slope * x_mean
    sse = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, values, strict=True))
    s = math.sqrt(sse / (n - 2))
    for h in (1, 10, 30):
        x0 = n - 1 + h
        mean = intercept + slope * x0
        half = (
            student_t_quantile(0.975, n - 2) * s * math.sqrt(1 + 1 / n + (x0 - x_mean) ** 2 / sxx)
        )
        point = result.daily[h - 1]
        assert point.amount == Decimal(str(mean)).quantize(CENT)
        assert point.upper95 == Decimal(str(mean + half)).quantize(CENT)


# -- never negative, always cents -------------------------------------------------------------


def test_falling_costs_never_forecast_below_zero() -> None:
    history = trend(30, seed=3, slope=-3.0, noise=4.0)  # reaches zero around day 17 after
    result = forecast(history, as_of=START + timedelta(days=29), model="linear")

    assert all(amount >= 0 for amount in all_amounts(result))
    assert result.daily[-1].amount == Decimal("0.00")
    assert result.month_end.projected_total >= result.month_end.actual_to_date


def test_every_amount_is_a_decimal_in_cents() -> None:
    result = forecast(weekly(90, seed=1), as_of=START + timedelta(days=89))
    for amount in all_amounts(result):
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -2
    stored = forecast_to_doc({"USD": result})
    assert forecast_from_doc(json.loads(json.dumps(stored))) == {"USD": result}  # storable


# -- model choice -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_weekday_model_is_chosen_on_weekly_rhythm(seed: int) -> None:
    history = weekly(120, seed)
    as_of = START + timedelta(days=119)  # Apr 30, a Thursday
    choice = select_model(history, as_of=as_of)
    assert choice.model == "weekday"
    assert choice.origins > 0

    result = forecast(history, as_of=as_of)
    assert result.model == "weekday"
    by_day = {p.day: p.amount for p in result.daily}
    saturday, monday = date(2026, 5, 2), date(2026, 5, 4)
    assert by_day[saturday] < Decimal("40") < Decimal("80") < by_day[monday]


@pytest.mark.parametrize("seed", range(5))
def test_plain_regression_is_kept_on_trend_only_data(seed: int) -> None:
    history = trend(120, seed)
    as_of = START + timedelta(days=119)
    assert select_model(history, as_of=as_of).model == "linear"
    assert forecast(history, as_of=as_of).model == "linear"


def test_too_little_history_to_compare_keeps_plain_regression() -> None:
    history = weekly(10, seed=1)
    as_of = START + timedelta(days=9)
    choice = select_model(history, as_of=as_of)
    assert choice.model == "linear"
    assert choice.origins == 0
    # Asking for the weekday model explicitly still falls back when it cannot be fitted, and
    # under two weeks no trend is believed either: the plain average.
    assert forecast(history, as_of=as_of, model="weekday").model == "mean"
    assert forecast(
        weekly(14, seed=1), as_of=START + timedelta(days=13), model="weekday"
    ).model == ("weekday")
    assert forecast(weekly(14, seed=1), as_of=START + timedelta(days=12)).model == "mean"


# -- short or odd histories -------------------------------------------------------------------


def test_no_history_forecasts_zero() -> None:
    result = forecast({}, as_of=date(2026, 3, 10))
    assert result.model == "none"
    assert result.month_end.projected_total == Decimal("0.00")
    assert {p.amount for p in result.daily} == {Decimal("0.00")}


def test_one_or_two_days_use_the_average() -> None:
    result = forecast(
        {date(2026, 3, 9): Decimal("4"), date(2026, 3, 10): Decimal("6")}, as_of=date(2026, 3, 10)
    )
    assert result.model == "mean"
    assert result.daily[0].amount == Decimal("5.00")
    assert result.month_end.actual_to_date == Decimal("10.00")
    # 21 more days at 5; the two days' spread leaves a little weight below zero, which the
    # censored mean moves up by a cent or two.
    assert Decimal("115.00") <= result.month_end.projected_total <= Decimal("115.05")


def test_missing_days_count_as_zero_and_pairs_are_summed() -> None:
    pairs = [(START + timedelta(days=i), Decimal("10")) for i in range(0, 28, 2)]
    pairs.append((START, Decimal("0.5")))
    result = forecast(pairs, as_of=START + timedelta(days=27), model="linear")
    # 14 days at 10 (one of them 10.5) over 28 days: about 5.02 a day, not 10.
    assert Decimal("4") < result.daily[0].amount < Decimal("6")
    assert result.month_end.actual_to_date == Decimal("140.50")


def test_days_after_as_of_are_ignored() -> None:
    history = series([10.0] * 40)
    history[date(2026, 1, 25)] = Decimal("1000")  # after as_of: must not leak in
    result = forecast(history, as_of=date(2026, 1, 20), model="linear")
    assert result.daily[0].amount == Decimal("10.00")
    assert result.month_end.actual_to_date == Decimal("200.00")


# -- backtest -----------------------------------------------------------------------------


def test_backtest_reports_day_10_and_day_20_projections_of_full_months() -> None:
    history = weekly(151, seed=2)  # Jan 1 .. May 31: five full months
    summaries = backtest_month_end(history)

    assert set(summaries) == {"linear", "weekday", "auto"}
    for summary in summaries.values():
        assert len(summary.cases) == 10
        assert {case.cutoff_day for case in summary.cases} == {10, 20}
        assert summary.coverage80 is not None and 0.0 <= summary.coverage80 <= 1.0
        assert summary.mape is not None and summary.mape >= 0
    # On a weekly rhythm the chosen model is at least as good as plain regression.
    assert summaries["auto"].mape <= summaries["linear"].mape  # type: ignore[operator]
    # From February on there are two weeks of history for the weekday model at every cut-off.
    weekday_cases = summaries["weekday"].cases
    assert all(case.used == "weekday" for case in weekday_cases if case.month != "2026-01")
    # January's day 10 has ten days to go on: the plain average, no trend.
    assert {case.used for case in weekday_cases if case.month == "2026-01"} == {
        "mean",
        "weekday",
    }


def test_backtest_on_an_exact_trend_has_no_error() -> None:
    # Dec 15 .. Mar 31: two weeks of history before every cut-off; December is not whole.
    history = series([10.0 + 0.5 * i for i in range(107)], date(2025, 12, 15))
    summary = backtest_month_end(history, models=("linear",))["linear"]
    assert len(summary.cases) == 6
    assert {case.month for case in summary.cases} == {"2026-01", "2026-02", "2026-03"}
    assert summary.mape == pytest.approx(0.0, abs=0.01)
    assert summary.mape_at(10) == pytest.approx(0.0, abs=0.01)
    assert summary.coverage80 == 1.0


def test_backtest_skips_incomplete_and_empty_months() -> None:
    history = series([0.0] * 31 + [10.0] * 40)  # January costs nothing; March incomplete
    summary = backtest_month_end(history, models=("linear",))["linear"]
    assert {case.month for case in summary.cases} == {"2026-02"}
