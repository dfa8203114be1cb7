"""Which budget alert levels are due: the month's figures and what was already sent in, the
levels to send now out. Pure: no store, no clock (``today`` is a parameter); the one read is
the rates a caller may hand ``month_figures`` to convert spend into a budget's currency.

Each (user, period, level) notifies at most once. The ledger that remembers the sent and
claimed levels is keyed by period, so a new month starts with nothing sent; within a month a
sent level is never due again, whatever the spend does, unless a raised budget re-arms it
(``rearm``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Literal

from tally.calendar import first_day, last_day
from tally.forecast.result import FALLBACK_MEAN, NO_HISTORY, Forecast
from tally.models import BudgetTerms, Metric, MonthlyRollup, RollupSection
from tally.rates import Converter, NoRate, RateReader
from tally.reports.periods import has_costs

logger = logging.getLogger(__name__)

ForecastBound = Literal["point", "lower80"]
FORECAST_BOUNDS: tuple[ForecastBound, ...] = ("point", "lower80")


class AlertLevel(StrEnum):
    FORECAST = "forecast"  # the month-end projection is above the limit
    THRESHOLD = "threshold"  # actual >= the threshold percent of the limit
    EXCEEDED = "exceeded"  # actual >= the limit


@dataclass(frozen=True)
class AlertRules:
    """The settings of alert evaluation.

    ``forecast_bound``: which projection the forecast level compares with the limit: the point
    value (default) or the lower 80% bound (alert only when even the optimistic projection is
    over). ``grace_days``: how long threshold and exceeded may wait for estimated figures to
    settle, counted from the oldest estimated day of the month (0: never wait).
    """

    forecast_bound: ForecastBound = "point"
    grace_days: int = 0

    def __post_init__(self) -> None:
        if self.forecast_bound not in FORECAST_BOUNDS:
            raise ValueError(f"forecast_bound is one of {', '.join(FORECAST_BOUNDS)}")
        if self.grace_days < 0:
            raise ValueError("grace_days is 0 or more")


@dataclass(frozen=True)
class MonthFigures:
    """A user's month as the alerts see it, in the budget's currency and metric.

    ``spent`` is None when the month has no costs at all in that currency (nothing to judge).
    ``estimated_since`` is the oldest day of the month whose figures are still estimated (None
    when every day is final). ``forecast_ready`` says whether the forecast had enough days of
    history to stand on (``forecast_has_enough_days``).
    """

    period: str  # YYYY-MM
    currency: str
    spent: Decimal | None
    estimated_since: date | None = None
    forecast: Forecast | None = None
    forecast_ready: bool = False


@dataclass(frozen=True)
class DueAlert:
    """A level to send now, with the figures that justify it."""

    level: AlertLevel
    period: str
    currency: str
    spent: Decimal
    limit: Decimal
    threshold: int  # the threshold percent in force
    percent: Decimal | None  # share of the limit used, to 0.1; None for a zero budget
    projection: Decimal | None  # the month-end projection compared (None: no usable forecast)
    projection_bound: ForecastBound
    estimated: bool  # some of the month's figures are still estimated


@dataclass(frozen=True)
class SentLevel:
    """A level in the ledger with the terms it was sent (or claimed) under: what ``rearm``
    compares a changed budget with."""

    level: AlertLevel
    limit: Decimal
    threshold: int


def forecast_has_enough_days(forecast: Forecast | None) -> bool:
    """A forecast stands on enough days once it fits a model: under two weeks of history it
    falls back to the plain average (``mean``), with none it is zero (``none``)."""
    return forecast is not None and forecast.model not in (FALLBACK_MEAN, NO_HISTORY)


def estimated_since(rollup: MonthlyRollup) -> date | None:
    """The oldest day of the roll-up's month still estimated; its 1st when the month is flagged
    estimated without the days named (roll-ups written before the days were kept)."""
    days = [date.fromisoformat(day) for day in rollup.estimated_days]
    if days:
        return min(days)
    return first_day(rollup.month) if rollup.estimated else None


def month_figures(
    rollup: MonthlyRollup | None,
    terms: BudgetTerms,
    metric: Metric,
    period: str,
    rates: RateReader | None = None,
) -> MonthFigures:
    """The figures of ``period`` from its roll-up, in the currency of the terms in force.

    Without ``rates``, a month billed only in another currency has no figures to compare (as
    on the summary). With them, what was billed in other currencies is converted into the
    budget's day by day (``tally.rates``) and added to what was billed in it: a GBP budget on
    USD costs is judged, and alerts, in GBP. The forecast is per billed currency, so a month
    with converted spend has no forecast to judge (forecast alerts need the budget's own
    currency). A day without any rate on or before it leaves the converted part out, logged:
    the month is then judged on its own currency alone, as without rates."""
    if rollup is None or not has_costs(rollup):
        return MonthFigures(period, terms.currency, None)
    section = rollup.section(terms.currency)
    others = {c: s for c, s in rollup.sections.items() if c != terms.currency}
    converted = _converted_others(rollup, others, terms, metric, period, rates)
    if section is None and converted is None:
        return MonthFigures(period, terms.currency, None)
    own = section.totals.amount(metric) if section is not None else Decimal(0)
    forecast = (rollup.forecast or {}).get(terms.currency) if converted is None else None
    return MonthFigures(
        period=period,
        currency=terms.currency,
        spent=own + (converted or Decimal(0)),
        estimated_since=estimated_since(rollup),
        forecast=forecast,
        forecast_ready=forecast_has_enough_days(forecast),
    )


def _converted_others(
    rollup: MonthlyRollup,
    others: dict[str, RollupSection],
    terms: BudgetTerms,
    metric: Metric,
    period: str,
    rates: RateReader | None,
) -> Decimal | None:
    """What was billed in other currencies than the budget's, converted into it day by day;
    None without rates, without such costs, or when a day has no rate."""
    if rates is None or not others:
        return None
    daily = {
        cur: {date.fromisoformat(d): a.amount(metric) for d, a in s.daily.items()}
        for cur, s in others.items()
    }
    converter = Converter(rates, terms.currency, first_day(period), last_day(period))
    try:
        return converter.convert_all(daily).total
    except NoRate as missing:
        logger.warning(
            "budget of %s in %s: %s; judged on its own currency only",
            rollup.owner,
            terms.currency,
            missing.detail,
        )
        return None


def percent_used(spent: Decimal, limit: Decimal) -> Decimal | None:
    """Share of the limit, to 0.1 (as the summary shows it); None for a zero budget."""
    if limit == 0:
        return None
    return (spent * 100 / limit).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _projection(figures: MonthFigures, bound: ForecastBound) -> Decimal | None:
    forecast = figures.forecast
    if forecast is None or not figures.forecast_ready:
        return None
    if forecast.month_end.month != figures.period:
        return None
    end = forecast.month_end
    return end.projected_total if bound == "point" else end.lower80


def _threshold_met(spent: Decimal, terms: BudgetTerms) -> bool:
    # Exact: the rounded percent would call 79.96% "80%".
    return spent > 0 and spent * 100 >= terms.monthly_limit * terms.alert_threshold


def _exceeded_met(spent: Decimal, terms: BudgetTerms) -> bool:
    # A zero budget means "alert on any spend"; no spend is never over anything.
    return spent > 0 and spent >= terms.monthly_limit


def _forecast_met(projection: Decimal | None, spent: Decimal, terms: BudgetTerms) -> bool:
    # Once actual spend is over the limit, "at this rate you will be over" tells nothing new.
    return (
        projection is not None
        and projection > terms.monthly_limit
        and not _exceeded_met(spent, terms)
    )


def _held(figures: MonthFigures, rules: AlertRules, today: date) -> bool:
    since = figures.estimated_since
    return since is not None and today < since + timedelta(days=rules.grace_days)


def met_levels(
    figures: MonthFigures, terms: BudgetTerms, *, rules: AlertRules = AlertRules()
) -> frozenset[AlertLevel]:
    """The levels the figures meet under ``terms``, before the ledger and the grace period."""
    if figures.spent is None or figures.currency != terms.currency:
        return frozenset()
    spent = figures.spent
    met = set()
    if _forecast_met(_projection(figures, rules.forecast_bound), spent, terms):
        met.add(AlertLevel.FORECAST)
    if _threshold_met(spent, terms):
        met.add(AlertLevel.THRESHOLD)
    if _exceeded_met(spent, terms):
        met.add(AlertLevel.EXCEEDED)
    return frozenset(met)


def due_levels(
    figures: MonthFigures,
    terms: BudgetTerms | None,
    sent: Collection[AlertLevel],
    *,
    today: date,
    rules: AlertRules = AlertRules(),
) -> list[DueAlert]:
    """The levels to send now for ``figures.period``, in the order forecast, threshold,
    exceeded.

    ``terms`` are the budget terms in force in the period (``budget_for_month``), None when
    there is no budget then; ``sent`` the levels already sent or claimed for this user and
    period (a new period's ledger is empty). Nothing is due without a budget, without costs, or
    with no positive spend. Threshold and exceeded wait while the figures are estimated and the
    oldest estimated day is younger than ``rules.grace_days``; forecast never waits, needs a
    forecast for the period that had enough days, and is no news once actual spend has met
    the limit (or exceeded was sent).
    """
    if terms is None:
        return []
    met = met_levels(figures, terms, rules=rules)
    held = _held(figures, rules, today)
    projection = _projection(figures, rules.forecast_bound)
    due = []
    for level in AlertLevel:  # declaration order: forecast, threshold, exceeded
        if level not in met or level in sent:
            continue
        if level is AlertLevel.FORECAST and AlertLevel.EXCEEDED in sent:
            continue  # told it is over; a credit taking it back under does not make it news
        if held and level is not AlertLevel.FORECAST:
            continue
        assert figures.spent is not None  # met is empty without spend
        due.append(
            DueAlert(
                level=level,
                period=figures.period,
                currency=terms.currency,
                spent=figures.spent,
                limit=terms.monthly_limit,
                threshold=terms.alert_threshold,
                percent=percent_used(figures.spent, terms.monthly_limit),
                projection=projection,
                projection_bound=rules.forecast_bound,
                estimated=figures.estimated_since is not None,
            )
        )
    return due


def covered(due: Sequence[DueAlert]) -> frozenset[AlertLevel]:
    """Of the levels due together, those the louder one already tells: a threshold crossed in
    the same run as the limit itself is said by the over-budget alert alone (two emails a
    minute apart, "85%" then "over", is noise). A covered level is recorded as sent, not sent,
    so it does not come later either."""
    levels = {alert.level for alert in due}
    if AlertLevel.EXCEEDED in levels and AlertLevel.THRESHOLD in levels:
        return frozenset({AlertLevel.THRESHOLD})
    return frozenset()


def _raised(sent: SentLevel, terms: BudgetTerms) -> bool:
    """Whether the line the level crossed moved up since it was sent."""
    if sent.level is AlertLevel.THRESHOLD:
        return terms.monthly_limit * terms.alert_threshold > sent.limit * sent.threshold
    return terms.monthly_limit > sent.limit


def rearm(
    sent: Iterable[SentLevel],
    figures: MonthFigures,
    terms: BudgetTerms | None,
    *,
    rules: AlertRules = AlertRules(),
) -> frozenset[AlertLevel]:
    """The sent levels to release from the period's ledger: those whose line a raised budget
    moved above the figures. Only a budget change re-arms: spend dipping under and back over
    the same line does not, and a lowered budget releases nothing (``due_levels`` fires the
    levels it newly meets). With no budget in force any more, nothing is released (a budget
    created again later alerts on what it finds, but the month's sent levels stay sent).
    """
    if terms is None:
        return frozenset()
    met = met_levels(figures, terms, rules=rules)
    return frozenset(
        entry.level for entry in sent if _raised(entry, terms) and entry.level not in met
    )
