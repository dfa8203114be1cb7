"""The daily and weekly digests: which one is due on a day, and its figures. Pure: the cost
lines, the roll-up and the budget terms in, the digest (or None) out.

A daily digest covers yesterday; a weekly one, sent on Mondays, the previous Monday to Sunday.
Each is one ledger entry (level ``digest``) for its period, ``2026-11-30`` or ``2026-W48``
(the ISO week), so it goes once. No digest full of zeros: a user with no costs at all in the
days it covers gets none (a new month's first days, an idle account). The month-to-date figures
are those of the month of the digest's last day, so Monday 1 December's digest still tells
how November ended.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from tally.alerts.content import days_left, month_label
from tally.alerts.levels import forecast_has_enough_days, percent_used
from tally.calendar import days, month_of
from tally.models import BudgetTerms, CostRecord, DigestCadence, Metric, MonthlyRollup
from tally.reports.periods import has_costs

DIGEST_LEVEL = "digest"
TOP_SERVICES = 3


@dataclass(frozen=True)
class DigestWindow:
    """The days a digest covers, ``first`` to ``last`` inclusive, and its ledger period."""

    cadence: DigestCadence
    period: str  # YYYY-MM-DD (daily) or YYYY-Www (weekly, ISO)
    first: date
    last: date

    @property
    def month(self) -> str:
        """The month whose figures the digest gives: that of its last day."""
        return month_of(self.last)

    @property
    def end(self) -> date:
        """The day after the last (for half-open reads)."""
        return self.last + timedelta(days=1)


@dataclass(frozen=True)
class Digest:
    """A digest's figures, in the budget's currency and the evaluation's metric."""

    window: DigestWindow
    currency: str
    days: tuple[tuple[date, Decimal], ...]  # every day of the window, zero included
    spent: Decimal  # the month to date
    limit: Decimal
    percent: Decimal | None  # None for a zero budget
    days_left: int  # of the month, counted from the day after the window
    projection: Decimal | None  # month-end, once the forecast stands on enough days
    services: tuple[tuple[str, Decimal], ...]  # the month's top services, largest first

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount in self.days), Decimal(0))

    @property
    def month_label(self) -> str:
        return month_label(self.window.month)


def iso_week(day: date) -> str:
    """``2026-W48``: the ISO year and week of ``day`` (29 Dec 2025 is ``2026-W01``)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def digest_window(cadence: DigestCadence | str, today: date) -> DigestWindow | None:
    """The digest of ``cadence`` due on ``today``: daily every day (yesterday), weekly on
    Mondays (the week before); None on other days or with the digest off."""
    cadence = DigestCadence(cadence)
    if cadence is DigestCadence.DAILY:
        yesterday = today - timedelta(days=1)
        return DigestWindow(cadence, yesterday.isoformat(), yesterday, yesterday)
    if cadence is DigestCadence.WEEKLY and today.weekday() == 0:
        monday = today - timedelta(days=7)
        return DigestWindow(cadence, iso_week(monday), monday, today - timedelta(days=1))
    return None


def window_of(cadence: DigestCadence | str, period: str) -> DigestWindow:
    """The window a digest's ledger period names (a deferred digest is re-read from it)."""
    cadence = DigestCadence(cadence)
    if cadence is DigestCadence.DAILY:
        day = date.fromisoformat(period)
        return DigestWindow(cadence, period, day, day)
    year, week = period.split("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    return DigestWindow(cadence, period, monday, monday + timedelta(days=6))


def cadence_of(period: str) -> DigestCadence:
    """Which cadence a digest's ledger period belongs to."""
    return DigestCadence.WEEKLY if "-W" in period else DigestCadence.DAILY


def build_digest(
    window: DigestWindow,
    records: Iterable[CostRecord],
    rollup: MonthlyRollup | None,
    terms: BudgetTerms | None,
    *,
    metric: Metric = Metric.EFFECTIVE,
) -> Digest | None:
    """The digest of ``window`` from the user's cost lines of those days and the roll-up of
    ``window.month``; None without a budget in force (the digest reports against it) or
    without a single cost line in the budget's currency in the window."""
    if terms is None:
        return None
    per_day = {day: Decimal(0) for day in days(window.first, window.end)}
    seen = False
    for record in records:
        if record.currency != terms.currency or record.day not in per_day:
            continue
        seen = True
        per_day[record.day] += record.amount(metric)
    if not seen:
        return None
    section = rollup.section(terms.currency) if rollup is not None and has_costs(rollup) else None
    spent = section.totals.amount(metric) if section is not None else Decimal(0)
    services = (
        sorted(
            ((name, a.amount(metric)) for name, a in section.by_service.items()),
            key=lambda pair: (-pair[1], pair[0]),
        )
        if section is not None
        else []
    )
    forecast = (rollup.forecast or {}).get(terms.currency) if rollup is not None else None
    projection = (
        forecast.month_end.projected_total
        if forecast is not None
        and forecast_has_enough_days(forecast)
        and forecast.month_end.month == window.month
        else None
    )
    return Digest(
        window=window,
        currency=terms.currency,
        days=tuple(sorted(per_day.items())),
        spent=spent,
        limit=terms.monthly_limit,
        percent=percent_used(spent, terms.monthly_limit),
        days_left=days_left(window.month, window.end),
        projection=projection,
        services=tuple(services[:TOP_SERVICES]),
    )
