"""Forecasts of daily cost: the rest of the month and the next 30 days, with 80%/95% bands.

**Usage is forecast; the other charges are not fitted.** The models below see the daily
*usage* series only. Tax, purchases, credits, refunds and adjustments arrive as lumps on one
day (an upfront Savings Plan, a month's tax): fitted as daily usage they bend the trend, send
the remaining days to zero and blow the interval up (the FOCUS sample at day 10: every day
0.00, the 80% upper bound twelve times the real month). Charges of those categories already
posted this month count in the actual-to-date as they are. **Recurring charges are added as
known amounts** (``expected_charges``), by one rule:

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

Two models, both ordinary least squares on the recent daily usage:

* ``linear``: cost = a + b*t over the last ``window`` days (the seed plan's "linear
  regression on the recent daily series"). A trend needs two weeks of history; before that
  the model is the plain average (``mean``), whose slope-free intervals are honest about a
  level known from a few days, where a slope from a few days is mostly noise.
* ``weekday``: the same trend plus one effect per day of the week, over the same window.
  Same window on purpose: the backtest then measures what the weekday effects add, not what
  a longer history adds.

**The 1st of a month is its own term** in both. Monthly usage (FOCUS rows whose charge period
spans the month, Cost Explorer's monthly fees) is booked whole on the 1st; as an ordinary day
it would bend the trend, and left out it would be missing from next month. With its own term
it does neither: a future 1st is forecast with the excess the last one had. The window
therefore always reaches back to the 1st of the month of ``as_of`` (at most 31 days).

Prediction intervals are the textbook OLS ones: for a future day with features x0 the
half-width is t(df) * s * sqrt(1 + x0'(X'X)^-1 x0), s the residual standard error, so the
bands widen the further the day is from the fitted window. For the month's remainder (a sum of
future days) the variance is s^2 * (m + c'(X'X)^-1 c), c the sum of the m future feature
vectors, which accounts for the days sharing one estimated trend.

**Costs are never negative, and the lower bound never collapses onto the point.** A day's
forecast is the mean of its prediction distribution censored at zero, E[max(X, 0)] with X
normal (the fit's mean, its prediction standard error): where the fitted line runs low the
point stays above zero as long as the day is uncertain, instead of sitting on a bound clipped
to zero. The bands keep their half-width around that point, clipped at zero below. With a
single day of history there is no residual to measure the noise from; it is then taken as
large as the level itself rather than as zero. Only an exact fit (a perfectly regular
series) has a zero-width interval.

``select_model`` backtests both on the series' own recent past (rolling origins, daily
absolute error over the next two weeks) and picks ``weekday`` only when it is clearly more
accurate; ``forecast(model="auto")`` uses it. ``backtest_month_end`` measures the month-end
projection made on chosen days of past months (the width of its intervals beside their
coverage), for ``make bench``.

The statistics run in floats (estimates, not money movements); actual costs are summed as
``Decimal`` and every amount in the output is a ``Decimal`` rounded to cents. Pure Python: a
handful of small matrices per series.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from tally.money import ZERO, to_cents, to_decimal

ModelName = Literal["linear", "weekday"]
MODELS: tuple[ModelName, ...] = ("linear", "weekday")
# The model actually used can also be a fallback for short histories.
FALLBACK_MEAN = "mean"  # under two weeks: the average, no trend
NO_HISTORY = "none"  # nothing to go on: zero

WINDOW = 28  # four weeks: recent enough to follow changes, every weekday four times
# A slope fitted on fewer days is mostly noise and weekly rhythm, and it is extrapolated up
# to a month ahead (make bench, the FOCUS sample at day 10: 75% mean error with a trend from
# ten days, 23% without).
MIN_LINEAR_DAYS = 14
MIN_WEEKDAY_DAYS = 14
HORIZON_DAYS = 30

USAGE = "Usage"
NEVER_EXPECTED = frozenset({"Credit", "Refund"})  # money coming back is not counted on
SCALED_WITH_USAGE = frozenset({"Tax"})  # a share of what is used
RECURRING_MONTHS = 2  # charged in each of this many complete months before: a monthly charge

Series = Mapping[date, Decimal] | Iterable[tuple[date, Decimal]]
# Charges other than usage: day -> charge category (Tax, Purchase, Credit, ...) -> amount.
Charges = Mapping[date, Mapping[str, Decimal]]


# -- output -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyForecast:
    """One future day: expected cost and its 80% / 95% prediction interval."""

    day: date
    amount: Decimal
    lower80: Decimal
    upper80: Decimal
    lower95: Decimal
    upper95: Decimal


@dataclass(frozen=True)
class MonthEndProjection:
    """ "At this rate you will spend X this month": actuals so far plus the forecast rest."""

    month: str  # YYYY-MM
    actual_to_date: Decimal
    forecast_remainder: Decimal
    projected_total: Decimal
    lower80: Decimal
    upper80: Decimal
    lower95: Decimal
    upper95: Decimal
    days_elapsed: int
    days_remaining: int
    # Part of ``forecast_remainder``: recurring charges besides usage still expected this month.
    expected_charges: Decimal = ZERO
    expected_by_category: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelChoice:
    """Which model the backtest picked, and the mean absolute daily error of each."""

    model: ModelName
    errors: dict[str, float | None]
    origins: int


@dataclass(frozen=True)
class Forecast:
    as_of: date  # last day of actuals; forecasts start the day after
    model: str  # linear | weekday | mean | none
    history_days: int
    month_end: MonthEndProjection
    daily: tuple[DailyForecast, ...]
    choice: ModelChoice | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (amounts as decimal strings), e.g. for the monthly roll-up."""

        def money(value: Decimal) -> str:
            return format(value, "f")

        month_end = self.month_end
        return {
            "asOf": self.as_of.isoformat(),
            "model": self.model,
            "historyDays": self.history_days,
            "monthEnd": {
                "month": month_end.month,
                "actualToDate": money(month_end.actual_to_date),
                "forecastRemainder": money(month_end.forecast_remainder),
                "projectedTotal": money(month_end.projected_total),
                "lower80": money(month_end.lower80),
                "upper80": money(month_end.upper80),
                "lower95": money(month_end.lower95),
                "upper95": money(month_end.upper95),
                "daysElapsed": month_end.days_elapsed,
                "daysRemaining": month_end.days_remaining,
                "expectedCharges": money(month_end.expected_charges),
                "expectedByCategory": {
                    category: money(amount)
                    for category, amount in month_end.expected_by_category.items()
                },
            },
            "daily": [
                {
                    "day": point.day.isoformat(),
                    "amount": money(point.amount),
                    "lower80": money(point.lower80),
                    "upper80": money(point.upper80),
                    "lower95": money(point.lower95),
                    "upper95": money(point.upper95),
                }
                for point in self.daily
            ],
        }


# -- statistics ---------------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _regularized_beta(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def student_t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * _regularized_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@lru_cache(maxsize=1024)
def student_t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile (0.5 < p < 1) of Student's t, by bisection on the exact CDF."""
    if not 0.5 <= p < 1.0 or df < 1:
        raise ValueError("need 0.5 <= p < 1 and df >= 1")
    low, high = 0.0, 1.0
    while student_t_cdf(high, df) < p:
        high *= 2.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if student_t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-12:
            break
    return (low + high) / 2.0


def _invert(matrix: list[list[float]]) -> list[list[float]]:
    """Gauss-Jordan inverse with partial pivoting; raises on a singular matrix."""
    size = len(matrix)
    work = [[*row, *(1.0 if i == j else 0.0 for j in range(size))] for i, row in enumerate(matrix)]
    scale = max((abs(v) for row in matrix for v in row), default=1.0) or 1.0
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(work[r][col]))
        if abs(work[pivot][col]) < 1e-12 * scale:
            raise ZeroDivisionError("singular design matrix")
        work[col], work[pivot] = work[pivot], work[col]
        factor = work[col][col]
        work[col] = [v / factor for v in work[col]]
        for row in range(size):
            if row != col and work[row][col] != 0.0:
                ratio = work[row][col]
                work[row] = [v - ratio * p for v, p in zip(work[row], work[col], strict=True)]
    return [row[size:] for row in work]


def _quad(vector: Sequence[float], matrix: Sequence[Sequence[float]]) -> float:
    return sum(
        vector[i] * sum(matrix[i][j] * vector[j] for j in range(len(vector)))
        for i in range(len(vector))
    )


def _features(model: str, day: date, as_of: date, monthly: bool) -> list[float]:
    t = float((day - as_of).days)
    first = [1.0 if day.day == 1 else 0.0] if monthly else []
    if model == FALLBACK_MEAN:
        return [1.0, *first]
    if model == "linear":
        return [1.0, t, *first]
    weekday = day.weekday()  # Monday is the baseline
    return [1.0, t, *(1.0 if weekday == k else 0.0 for k in range(1, 7)), *first]


def _normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def censored_mean(mean: float, sd: float) -> float:
    """E[max(X, 0)] for X ~ N(mean, sd^2): a cost's expectation when it cannot go below zero."""
    if sd <= 0.0:
        return max(mean, 0.0)
    z = mean / sd
    density = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return max(mean * _normal_cdf(z) + sd * density, 0.0)


@dataclass(frozen=True)
class _Fit:
    model: str
    monthly: bool  # the 1st of a month has its own term
    as_of: date
    beta: list[float]
    cov: list[list[float]]  # (X'X)^-1
    s: float  # residual standard error
    df: int
    n: int

    def mean(self, day: date) -> tuple[float, list[float]]:
        x = _features(self.model, day, self.as_of, self.monthly)
        return sum(b * v for b, v in zip(self.beta, x, strict=True)), x

    def point(self, day: date) -> tuple[float, list[float], float]:
        """The day's censored mean, its features and its variance factor (1 + leverage)."""
        mean, x = self.mean(day)
        factor = 1.0 + _quad(x, self.cov)
        return censored_mean(mean, self.s * math.sqrt(max(factor, 0.0))), x, factor

    def half_width(self, level: float, variance_factor: float) -> float:
        if self.df < 1 or self.s == 0.0:
            return 0.0
        quantile = student_t_quantile(0.5 + level / 2.0, self.df)
        return quantile * self.s * math.sqrt(max(variance_factor, 0.0))


def _fit(
    model: str, days: Sequence[date], values: Sequence[float], as_of: date, monthly: bool
) -> _Fit:
    rows = [_features(model, day, as_of, monthly) for day in days]
    k = len(rows[0])
    xtx = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    xty = [sum(r[i] * y for r, y in zip(rows, values, strict=True)) for i in range(k)]
    cov = _invert(xtx)
    beta = [sum(cov[i][j] * xty[j] for j in range(k)) for i in range(k)]
    residuals = [
        y - sum(b * v for b, v in zip(beta, r, strict=True))
        for r, y in zip(rows, values, strict=True)
    ]
    df = len(values) - k
    if df < 1:
        # One day to go on: no residual measures the noise. Take it as large as the level
        # rather than pretend the rest of the month is certain.
        return _Fit(model, monthly, as_of, beta, cov, abs(beta[0]), 1, len(values))
    sse = sum(e * e for e in residuals)
    s = math.sqrt(sse / df)
    if s < 1e-9 * (1.0 + max(abs(v) for v in values)):
        s = 0.0  # an exact fit: float noise is not uncertainty
    return _Fit(model, monthly, as_of, beta, cov, s, df, len(values))


# -- series handling ----------------------------------------------------------------------


def _normalise(series: Series) -> dict[date, Decimal]:
    items = series.items() if isinstance(series, Mapping) else series
    result: dict[date, Decimal] = {}
    for day, amount in items:
        result[day] = result.get(day, ZERO) + to_decimal(amount)
    return result


def _history(
    series: Mapping[date, Decimal], as_of: date, window: int
) -> tuple[list[date], list[float]]:
    """The last ``window`` days up to ``as_of``, and at least back to the 1st of its month (the
    1st's own term needs it); days without a record cost zero.

    The history starts at the series' first day: before it the owner had no costs recorded,
    which says nothing about the trend.
    """
    known = [day for day in series if day <= as_of]
    if not known:
        return [], []
    begin = max(min(known), min(as_of - timedelta(days=window - 1), as_of.replace(day=1)))
    days = [begin + timedelta(days=i) for i in range((as_of - begin).days + 1)]
    return days, [float(series.get(day, ZERO)) for day in days]


def _fit_for(
    model: str,
    series: Mapping[date, Decimal],
    as_of: date,
    *,
    window: int,
) -> _Fit | None:
    """The requested model, or ``None`` when the history is too short for it."""
    days, values = _history(series, as_of, window)
    if not days or (model == "weekday" and len(days) < MIN_WEEKDAY_DAYS):
        return None
    # The 1st gets its own term as soon as another day can carry the level.
    monthly = len(days) > 1 and any(day.day == 1 for day in days)
    if model == "linear" and len(days) - monthly < MIN_LINEAR_DAYS:
        model = FALLBACK_MEAN
    try:
        return _fit(model, days, values, as_of, monthly)
    except ZeroDivisionError:
        return None


def _month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


# -- model selection ----------------------------------------------------------------------


def select_model(
    series: Series,
    *,
    as_of: date,
    horizon: int = 14,
    origins: int = 6,
    step: int = 7,
    margin: float = 0.05,
    window: int = WINDOW,
) -> ModelChoice:
    """Backtest both models on the series up to ``as_of`` and pick the more accurate.

    From each origin (``as_of - horizon``, then every ``step`` days earlier) both models are
    fitted on the data up to the origin and scored on the next ``horizon`` days by mean
    absolute daily error. ``weekday`` wins only if its error is lower by more than
    ``margin`` (relative), so a tie, or too little history to compare, keeps ``linear``.
    """
    data = _normalise(series)
    first = min(data) if data else as_of
    errors: dict[str, list[float]] = {name: [] for name in MODELS}
    used = 0
    for index in range(origins):
        origin = as_of - timedelta(days=horizon + index * step)
        if origin < first:
            break
        fits = {name: _fit_for(name, data, origin, window=window) for name in MODELS}
        if any(fit is None for fit in fits.values()):
            continue
        used += 1
        for name, fit in fits.items():
            assert fit is not None
            for offset in range(1, horizon + 1):
                day = origin + timedelta(days=offset)
                predicted = max(fit.mean(day)[0], 0.0)
                errors[name].append(abs(predicted - float(data.get(day, ZERO))))
    mae: dict[str, float | None] = {
        name: (sum(values) / len(values) if values else None) for name, values in errors.items()
    }
    linear_error, weekday_error = mae["linear"], mae["weekday"]
    chosen: ModelName = "linear"
    if (
        linear_error is not None
        and weekday_error is not None
        and weekday_error < linear_error * (1.0 - margin)
    ):
        chosen = "weekday"
    return ModelChoice(model=chosen, errors=mae, origins=used)


# -- forecasting --------------------------------------------------------------------------


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


def _normalise_charges(charges: Charges | None) -> dict[date, dict[str, Decimal]]:
    result: dict[date, dict[str, Decimal]] = {}
    for day, per_category in (charges or {}).items():
        for category, amount in per_category.items():
            if category == USAGE:
                raise ValueError("usage belongs in the series, not in the charges")
            into = result.setdefault(day, {})
            into[category] = into.get(category, ZERO) + to_decimal(amount)
    return result


def _category_totals(
    charges: Mapping[date, Mapping[str, Decimal]], start: date, end: date
) -> dict[str, Decimal]:
    """Charges of ``[start, end)`` per category."""
    totals: dict[str, Decimal] = {}
    for day, per_category in charges.items():
        if start <= day < end:
            for category, amount in per_category.items():
                totals[category] = totals.get(category, ZERO) + amount
    return totals


def _previous_month(month_start: date) -> date:
    return (month_start - timedelta(days=1)).replace(day=1)


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
    month_start, _ = _month_bounds(as_of + timedelta(days=1))
    recent = [month_start]
    for _ in range(RECURRING_MONTHS):
        recent.append(_previous_month(recent[-1]))
    # recent[1] is the last complete month, recent[2] the one before, ...
    months = [_category_totals(charges, recent[i + 1], recent[i]) for i in range(RECURRING_MONTHS)]
    posted = _category_totals(charges, month_start, as_of + timedelta(days=1))
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
    data = _normalise(series)
    other = _normalise_charges(charges)
    first_forecast_day = as_of + timedelta(days=1)
    month_start, month_end = _month_bounds(first_forecast_day)
    remaining = [
        first_forecast_day + timedelta(days=i) for i in range((month_end - first_forecast_day).days)
    ]
    horizon = max(horizon_days, len(remaining))
    future = [first_forecast_day + timedelta(days=i) for i in range(horizon)]
    usage_to_date = sum(
        (amount for day, amount in data.items() if month_start <= day <= as_of), start=ZERO
    )
    charges_to_date = sum(_category_totals(other, month_start, first_forecast_day).values(), ZERO)

    choice: ModelChoice | None = None
    wanted: str = model
    if model == "auto":
        choice = select_model(data, as_of=as_of, window=window)
        wanted = choice.model
    fit = _fit_for(wanted, data, as_of, window=window)
    if fit is None and wanted == "weekday":
        fit = _fit_for("linear", data, as_of, window=window)

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
        month=month_start.strftime("%Y-%m"),
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


def _remainder(fit: _Fit, remaining: Sequence[date]) -> tuple[float, float, float]:
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
    variance_factor = len(remaining) + _quad(summed, fit.cov)
    return rest, fit.half_width(0.80, variance_factor), fit.half_width(0.95, variance_factor)


# -- backtest for make bench --------------------------------------------------------------


@dataclass(frozen=True)
class BacktestCase:
    month: str
    cutoff_day: int  # actuals up to this day of the month; 0: from the 1st, nothing yet
    model: str  # the model requested: linear | weekday | auto
    used: str  # the model that produced the projection
    actual: Decimal
    projected: Decimal
    lower80: Decimal
    upper80: Decimal
    lower95: Decimal
    upper95: Decimal

    @property
    def ape(self) -> float | None:
        """Absolute percentage error; undefined for a month that cost nothing."""
        if self.actual == 0:
            return None
        return float(abs(self.projected - self.actual) / abs(self.actual)) * 100.0

    @property
    def inside80(self) -> bool:
        return self.lower80 <= self.actual <= self.upper80

    @property
    def inside95(self) -> bool:
        return self.lower95 <= self.actual <= self.upper95

    @property
    def width80_pct(self) -> float | None:
        """The 80% interval's width as a percentage of the actual month: coverage alone
        rewards a useless interval, so the two are read together."""
        if self.actual == 0:
            return None
        return float((self.upper80 - self.lower80) / abs(self.actual)) * 100.0


@dataclass(frozen=True)
class BacktestSummary:
    """Month-end projection accuracy of one model over the past months of a series."""

    model: str
    cases: tuple[BacktestCase, ...] = field(default_factory=tuple)

    def _mean(self, values: Iterable[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return sum(known) / len(known) if known else None

    def _at(self, cutoff_day: int | None) -> list[BacktestCase]:
        return [c for c in self.cases if cutoff_day is None or c.cutoff_day == cutoff_day]

    @property
    def mape(self) -> float | None:
        """Mean absolute percentage error of the month-end projection, in percent."""
        return self._mean(case.ape for case in self.cases)

    def mape_at(self, cutoff_day: int) -> float | None:
        return self._mean(case.ape for case in self._at(cutoff_day))

    def width80_at(self, cutoff_day: int | None = None) -> float | None:
        """Mean width of the 80% interval, in percent of the actual month."""
        return self._mean(case.width80_pct for case in self._at(cutoff_day))

    def coverage80_at(self, cutoff_day: int | None = None) -> float | None:
        cases = self._at(cutoff_day)
        return sum(case.inside80 for case in cases) / len(cases) if cases else None

    @property
    def coverage80(self) -> float | None:
        """Share of months whose actual total fell inside the 80% interval."""
        return self.coverage80_at()

    @property
    def coverage95(self) -> float | None:
        if not self.cases:
            return None
        return sum(case.inside95 for case in self.cases) / len(self.cases)


def backtest_month_end(
    series: Series,
    *,
    charges: Charges | None = None,
    cutoff_days: Sequence[int] = (10, 20),
    models: Sequence[Literal["auto", "linear", "weekday"]] = ("linear", "weekday", "auto"),
    window: int = WINDOW,
) -> dict[str, BacktestSummary]:
    """Project each complete past month's total from its first ``cutoff`` days.

    ``series`` is the daily usage and ``charges`` the other charges, as ``forecast`` takes
    them. For every month wholly inside the series and each cutoff day N, the projection uses
    the actuals up to day N of that month (and earlier history) only, and is compared with the
    month's actual total, charges included. Cutoff 0 is the forecast made on the 1st, from the
    previous months alone. Months that cost nothing are skipped (no percentage error).
    """
    data = _normalise(series)
    other = _normalise_charges(charges)
    if not data:
        return {name: BacktestSummary(name) for name in models}
    first, last = min(data), max(data)
    cases: dict[str, list[BacktestCase]] = {name: [] for name in models}
    month_start, _ = _month_bounds(first)
    while True:
        _, next_month = _month_bounds(month_start)
        if next_month - timedelta(days=1) > last:
            break
        actual = sum(
            (amount for day, amount in data.items() if month_start <= day < next_month),
            start=ZERO,
        ) + sum(_category_totals(other, month_start, next_month).values(), ZERO)
        # A month the series starts inside of is not a month's total.
        if actual != 0 and month_start >= first:
            for cutoff in cutoff_days:
                as_of = month_start + timedelta(days=cutoff - 1)
                if as_of < first or as_of >= next_month:
                    continue
                history = {day: amount for day, amount in data.items() if day <= as_of}
                known = {day: found for day, found in other.items() if day <= as_of}
                for name in models:
                    result = forecast(
                        history, as_of=as_of, model=name, window=window, charges=known
                    )
                    projection = result.month_end
                    cases[name].append(
                        BacktestCase(
                            month=month_start.strftime("%Y-%m"),
                            cutoff_day=cutoff,
                            model=name,
                            used=result.model,
                            actual=to_cents(actual),
                            projected=projection.projected_total,
                            lower80=projection.lower80,
                            upper80=projection.upper80,
                            lower95=projection.lower95,
                            upper95=projection.upper95,
                        )
                    )
        month_start = next_month
    return {name: BacktestSummary(name, tuple(found)) for name, found in cases.items()}
