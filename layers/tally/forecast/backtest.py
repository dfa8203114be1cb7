"""Backtest of the month-end projection, for ``make bench`` only.

``backtest_month_end`` measures the month-end projection made on chosen days of past months:
the error of the point, and the width of its intervals beside their coverage (coverage alone
rewards a useless interval).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Literal

from tally.calendar import month_bounds, month_of
from tally.forecast.fitting import WINDOW, Series, normalise
from tally.forecast.projection import Charges, category_totals, forecast, normalise_charges
from tally.money import ZERO, to_cents


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
    data = normalise(series)
    other = normalise_charges(charges)
    if not data:
        return {name: BacktestSummary(name) for name in models}
    first, last = min(data), max(data)
    cases: dict[str, list[BacktestCase]] = {name: [] for name in models}
    month_start, _ = month_bounds(first)
    while True:
        _, next_month = month_bounds(month_start)
        if next_month - timedelta(days=1) > last:
            break
        actual = sum(
            (amount for day, amount in data.items() if month_start <= day < next_month),
            start=ZERO,
        ) + sum(category_totals(other, month_start, next_month).values(), ZERO)
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
                            month=month_of(month_start),
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
