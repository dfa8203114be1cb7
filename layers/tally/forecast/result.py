"""What a forecast says, as types: the ingest stores it on the month's roll-up (the store
encodes it, ``tally.store.codec``), the summary reads it back and the API converts it.

Light on purpose: the store and the API import these without the statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from tally.money import ZERO

ModelName = Literal["linear", "weekday"]
# The model actually used can also be a fallback for short histories.
FALLBACK_MEAN = "mean"  # under two weeks: the average, no trend
NO_HISTORY = "none"  # nothing to go on: zero

USAGE = "Usage"  # the charge category the models fit; every other one is a charge


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
