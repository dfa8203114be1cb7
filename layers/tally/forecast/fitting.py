"""Model fitting and selection: ordinary least squares on the recent daily usage.

Two models:

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
bands widen the further the day is from the fitted window. With a single day of history there
is no residual to measure the noise from; it is then taken as large as the level itself
rather than as zero. Only an exact fit (a perfectly regular series) has a zero-width interval.

``select_model`` backtests both on the series' own recent past (rolling origins, daily
absolute error over the next two weeks) and picks ``weekday`` only when it is clearly more
accurate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from tally.forecast.result import FALLBACK_MEAN, ModelChoice, ModelName
from tally.forecast.stats import censored_mean, invert, quad, student_t_quantile
from tally.money import ZERO, to_decimal

MODELS: tuple[ModelName, ...] = ("linear", "weekday")

WINDOW = 28  # four weeks: recent enough to follow changes, every weekday four times
# A slope fitted on fewer days is mostly noise and weekly rhythm, and it is extrapolated up
# to a month ahead (make bench, the FOCUS sample at day 10: 75% mean error with a trend from
# ten days, 23% without).
MIN_LINEAR_DAYS = 14
MIN_WEEKDAY_DAYS = 14

Series = Mapping[date, Decimal] | Iterable[tuple[date, Decimal]]


def _features(model: str, day: date, as_of: date, monthly: bool) -> list[float]:
    t = float((day - as_of).days)
    first = [1.0 if day.day == 1 else 0.0] if monthly else []
    if model == FALLBACK_MEAN:
        return [1.0, *first]
    if model == "linear":
        return [1.0, t, *first]
    weekday = day.weekday()  # Monday is the baseline
    return [1.0, t, *(1.0 if weekday == k else 0.0 for k in range(1, 7)), *first]


@dataclass(frozen=True)
class Fit:
    """A model fitted to a history: each day's mean, censored point and interval."""

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
        factor = 1.0 + quad(x, self.cov)
        return censored_mean(mean, self.s * math.sqrt(max(factor, 0.0))), x, factor

    def half_width(self, level: float, variance_factor: float) -> float:
        if self.df < 1 or self.s == 0.0:
            return 0.0
        quantile = student_t_quantile(0.5 + level / 2.0, self.df)
        return quantile * self.s * math.sqrt(max(variance_factor, 0.0))


def _fit(
    model: str, days: Sequence[date], values: Sequence[float], as_of: date, monthly: bool
) -> Fit:
    rows = [_features(model, day, as_of, monthly) for day in days]
    k = len(rows[0])
    xtx = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    xty = [sum(r[i] * y for r, y in zip(rows, values, strict=True)) for i in range(k)]
    cov = invert(xtx)
    beta = [sum(cov[i][j] * xty[j] for j in range(k)) for i in range(k)]
    residuals = [
        y - sum(b * v for b, v in zip(beta, r, strict=True))
        for r, y in zip(rows, values, strict=True)
    ]
    df = len(values) - k
    if df < 1:
        # One day to go on: no residual measures the noise. Take it as large as the level
        # rather than pretend the rest of the month is certain.
        return Fit(model, monthly, as_of, beta, cov, abs(beta[0]), 1, len(values))
    sse = sum(e * e for e in residuals)
    s = math.sqrt(sse / df)
    if s < 1e-9 * (1.0 + max(abs(v) for v in values)):
        s = 0.0  # an exact fit: float noise is not uncertainty
    return Fit(model, monthly, as_of, beta, cov, s, df, len(values))


# -- series handling ----------------------------------------------------------------------


def normalise(series: Series) -> dict[date, Decimal]:
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


def fit_for(
    model: str,
    series: Mapping[date, Decimal],
    as_of: date,
    *,
    window: int,
) -> Fit | None:
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
    data = normalise(series)
    first = min(data) if data else as_of
    errors: dict[str, list[float]] = {name: [] for name in MODELS}
    used = 0
    for index in range(origins):
        origin = as_of - timedelta(days=horizon + index * step)
        if origin < first:
            break
        fits = {name: fit_for(name, data, origin, window=window) for name in MODELS}
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
