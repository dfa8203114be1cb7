"""The public forecast: daily usage after the last day of actuals, and the month's end.

**Usage is forecast; the other charges are not fitted.** The models (``tally.forecast.fitting``)
see the daily *usage* series only. Tax, purchases, credits, refunds and adjustments arrive as
lumps on one day (an upfront Savings Plan, a month's tax): fitted as daily usage they bend the
trend, send the remaining days to zero and blow the interval up (the FOCUS sample at day 10:
every day 0.00, the 80% upper bound twelve times the real month). Charges of those categories
already posted this month count in the actual-to-date as they are. **Recurring charges are
added as known amounts** (``expected_charges``), by one rule:

* a category other than usage, credits and refunds *recurs* when it was charged (a positive
  total) in each of the two complete months before the projected one;
* the month then expects the smaller of those two months' amounts (the part that recurred: an
  upfront purchase in one of them does not count), except tax, which is a share of what is
  used: last month's tax scaled by this month's projected usage over last month's usage;
* what was already posted this month in the category is deducted, never below zero, so a tax
  posted on the 1st adds nothing more and a tax posted day by day is topped up once;
* credits and refunds are never expected (a forecast does not count on money coming back),
  nor is a category charged in only one of the two months (an upfront purchase, a one-off
  adjustment).

Expected charges move the point and both bounds alike: the intervals measure usage, and a
purchase nobody has made before is outside them by design.

For the month's remainder (a sum of future days) the variance is s^2 * (m + c'(X'X)^-1 c), c
the sum of the m future feature vectors, which accounts for the days sharing one estimated
trend.

**Costs are never negative, and the lower bound never collapses onto the point.** A day's
forecast is the mean of its prediction distribution censored at zero, E[max(X, 0)] with X
normal (the fit's mean, its prediction standard error): where the fitted line runs low the
point stays above zero as long as the day is uncertain, instead of sitting on a bound clipped
to zero. The bands keep their half-width around that point, clipped at zero below.

Actual costs are summed as ``Decimal`` and every amount in the output is a ``Decimal`` rounded
to cents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from tally.calendar import month_bounds, month_of, previous_month_start
from tally.forecast.fitting import WINDOW, Fit, Series, fit_for, normalise, select_model
from tally.forecast.result import (
    NO_HISTORY,
    USAGE,
    DailyForecast,
    Forecast,
    ModelChoice,
    MonthEndProjection,
)
from tally.forecast.stats import quad
from tally.money import ZERO, to_cents, to_decimal

HORIZON_DAYS = 30

NEVER_EXPECTED = frozenset({"Credit", "Refund"})  # money coming back is not counted on
SCALED_WITH_USAGE = frozenset({"Tax"})  # a share of what is used
RECURRING_MONTHS = 2  # charged in each of this many complete months before: a monthly charge

# Charges other than usage: day -> charge category (Tax, Purchase, Credit, ...) -> amount.
Charges = Mapping[date, Mapping[str, Decimal]]


def _band(point: float, half80: float, half95: float) -> tuple[Decimal, ...]:
    def cents(value: float) -> Decimal:
        return to_cents(to_decimal(max(value, 0.0)))

    return (
        cents(point),
        cents(point - half80),
        cents(point + half80),
        cents(point - half95),
        cents(point + half95),
    )


def normalise_charges(charges: Charges | None) -> dict[date, dict[str, Decimal]]:
    result: dict[date, dict[str, Decimal]] = {}
    for day, per_category in (charges or {}).items():
        for category, amount in per_category.items():
            if category == USAGE:
                raise ValueError("usage belongs in the series, not in the charges")
            into = result.setdefault(day, {})
            into[category] = into.get(category, ZERO) + to_decimal(amount)
    return result


def category_totals(
    charges: Mapping[date, Mapping[str, Decimal]], start: date, end: date
) -> dict[str, Decimal]:
    """Charges of ``[start, end)`` per category."""
    totals: dict[str, Decimal] = {}
    for day, per_category in charges.items():
        if start <= day < end:
            for category, amount in per_category.items():
                totals[category] = totals.get(category, ZERO) + amount
    return totals


def expected_charges(
    charges: Charges,
    usage: Mapping[date, Decimal],
    *,
    as_of: date,
    projected_usage: Decimal,
) -> dict[str, Decimal]:
    """Recurring charges besides usage still expected in the month of ``as_of + 1``, per
    category, in cents (the rule is in the module docstring). ``projected_usage`` is that
    month's usage, actual and forecast, which tax is scaled by."""
    month_start, _ = month_bounds(as_of + timedelta(days=1))
    recent = [month_start]
    for _ in range(RECURRING_MONTHS):
        recent.append(previous_month_start(recent[-1]))
    # recent[1] is the last complete month, recent[2] the one before, ...
    months = [category_totals(charges, recent[i + 1], recent[i]) for i in range(RECURRING_MONTHS)]
    posted = category_totals(charges, month_start, as_of + timedelta(days=1))
    last_usage = sum(
        (amount for day, amount in usage.items() if recent[1] <= day < month_start), start=ZERO
    )
    expected: dict[str, Decimal] = {}
    for category in sorted(months[0]):
        amounts = [totals.get(category, ZERO) for totals in months]
        if category in NEVER_EXPECTED or min(amounts) <= 0:
            continue
        if category in SCALED_WITH_USAGE and last_usage > 0:
            amount = amounts[0] * max(projected_usage, ZERO) / last_usage
        else:
            amount = min(amounts)
        rest = to_cents(amount - posted.get(category, ZERO))
        if rest > 0:
            expected[category] = rest
    return expected


def forecast(
    series: Series,
    *,
    as_of: date,
    model: Literal["auto", "linear", "weekday"] = "auto",
    horizon_days: int = HORIZON_DAYS,
    window: int = WINDOW,
    charges: Charges | None = None,
) -> Forecast:
    """Forecast daily usage after ``as_of`` (the last day with actuals) and the month's end.

    ``series`` is the daily usage; ``charges`` the other charges by day and category (tax,
    purchases, credits, ...), which count in the actual-to-date and, when they recur, are
    expected once more (module docstring). The month projected is the one containing
    ``as_of + 1``: on the 1st, with actuals up to the last day of the previous month, it is
    the new month with nothing spent yet. The daily series covers the next ``horizon_days``
    days, or the rest of the month if that is longer. ``model="auto"`` uses
    ``select_model``; a history too short for the weekday model falls back to ``linear``,
    and one shorter than two weeks to the plain average (no trend).
    """
    data = normalise(series)
    other = normalise_charges(charges)
    first_forecast_day = as_of + timedelta(days=1)
    month_start, month_end = month_bounds(first_forecast_day)
    remaining = [
        first_forecast_day + timedelta(days=i) for i in range((month_end - first_forecast_day).days)
    ]
    horizon = max(horizon_days, len(remaining))
    future = [first_forecast_day + timedelta(days=i) for i in range(horizon)]
    usage_to_date = sum(
        (amount for day, amount in data.items() if month_start <= day <= as_of), start=ZERO
    )
    charges_to_date = sum(category_totals(other, month_start, first_forecast_day).values(), ZERO)

    choice: ModelChoice | None = None
    wanted: str = model
    if model == "auto":
        choice = select_model(data, as_of=as_of, window=window)
        wanted = choice.model
    fit = fit_for(wanted, data, as_of, window=window)
    if fit is None and wanted == "weekday":
        fit = fit_for("linear", data, as_of, window=window)

    if fit is None:
        zero = to_cents(ZERO)
        daily = tuple(DailyForecast(day, zero, zero, zero, zero, zero) for day in future)
        rest = (0.0, 0.0, 0.0)
    else:
        points = []
        for day in future:
            point, _, factor = fit.point(day)
            points.append(
                DailyForecast(
                    day,
                    *_band(point, fit.half_width(0.80, factor), fit.half_width(0.95, factor)),
                )
            )
        daily = tuple(points)
        rest = _remainder(fit, remaining)

    usage_rest, low80, high80, low95, high95 = _band(*rest)
    expected = expected_charges(
        other, data, as_of=as_of, projected_usage=usage_to_date + usage_rest
    )
    extra = sum(expected.values(), to_cents(ZERO))
    actual = to_cents(usage_to_date + charges_to_date)
    projection = MonthEndProjection(
        month=month_of(month_start),
        actual_to_date=actual,
        forecast_remainder=usage_rest + extra,
        projected_total=actual + usage_rest + extra,
        lower80=actual + low80 + extra,
        upper80=actual + high80 + extra,
        lower95=actual + low95 + extra,
        upper95=actual + high95 + extra,
        days_elapsed=(first_forecast_day - month_start).days,
        days_remaining=len(remaining),
        expected_charges=extra,
        expected_by_category=expected,
    )
    if fit is None:
        return Forecast(as_of, NO_HISTORY, 0, projection, daily, choice)
    return Forecast(as_of, fit.model, fit.n, projection, daily, choice)


def _remainder(fit: Fit, remaining: Sequence[date]) -> tuple[float, float, float]:
    """The rest of the month's usage: the sum of the days' points, and the 80%/95%
    half-widths of that sum."""
    if not remaining:
        return 0.0, 0.0, 0.0
    rest = 0.0
    summed = [0.0] * len(fit.beta)
    for day in remaining:
        point, x, _ = fit.point(day)
        rest += point  # the same daily figures the chart shows
        summed = [a + b for a, b in zip(summed, x, strict=True)]
    variance_factor = len(remaining) + quad(summed, fit.cov)
    return rest, fit.half_width(0.80, variance_factor), fit.half_width(0.95, variance_factor)
