"""What each alert says, independent of how it is rendered (email, in-app, chat): subjects
that read well in an inbox list, a headline, and the figures behind them. Pure: the date is a
parameter, amounts stay Decimal with their currency and are formatted only here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from tally.alerts.levels import AlertLevel, DueAlert
from tally.alerts.restatement import RestatementNotice
from tally.calendar import MONTH_NAMES, first_day, following_first, period_name
from tally.email.formatting import format_money, format_percent
from tally.models import Metric, ResourceCost

TOP_DRIVERS = 3
DASHBOARD_LINK = "#/dashboard"  # the dashboard's route, appended to its URL by the renderer


def month_name(period: str) -> str:
    """``November`` for ``2026-11`` (the period's name, whichever days it covers)."""
    return MONTH_NAMES[int(period[5:7]) - 1]


def month_label(period: str) -> str:
    """``November 2026`` for ``2026-11``; with billing periods other than calendar months,
    their days too (``tally.calendar.period_name``)."""
    return period_name(period)


def days_left(period: str, today: date) -> int:
    """Calendar days of ``period`` still to come, today included (the 31st of December has 1);
    0 once the period is over, all of them before it starts."""
    first = first_day(period)
    following = following_first(first)
    if today < first:
        return (following - first).days
    return max(0, (following - today).days)


@dataclass(frozen=True)
class Driver:
    """One of the month's top cost drivers."""

    resource_id: str
    service: str
    amount: Decimal


@dataclass(frozen=True)
class AlertMessage:
    """A budget alert's content. ``percent`` is None for a zero budget, ``projection`` when no
    forecast stood on enough days."""

    level: AlertLevel
    period: str
    currency: str
    subject: str
    headline: str
    spent: Decimal
    limit: Decimal
    percent: Decimal | None
    days_left: int
    projection: Decimal | None
    drivers: tuple[Driver, ...]
    link: str
    urgent: bool  # the over-budget alert

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.currency)


@dataclass(frozen=True)
class RestatementMessage:
    """The notice that a closed month's costs changed."""

    period: str
    currency: str
    subject: str
    headline: str
    old: Decimal
    new: Decimal
    link: str

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.currency)


def top_drivers(
    resources: Sequence[ResourceCost], metric: Metric, count: int = TOP_DRIVERS
) -> tuple[Driver, ...]:
    """The ``count`` largest by ``metric`` (ties by resource id, as on the summary)."""
    ranked = sorted(resources, key=lambda r: (-r.amounts.amount(metric), r.resource_id))
    return tuple(Driver(r.resource_id, r.service, r.amounts.amount(metric)) for r in ranked[:count])


def _texts(alert: DueAlert, left: int, team: str | None = None) -> tuple[str, str]:
    """Subject and headline, about the reader's own budget, or about ``team``'s (to each of
    its managers)."""

    def money(amount: Decimal) -> str:
        return format_money(amount, alert.currency)

    who, whom = (team, team) if team else ("You", "you")
    have, are, your = ("has", "is", "its") if team else ("have", "are", "your")
    month, label = month_name(alert.period), month_label(alert.period)
    spent, limit = money(alert.spent), money(alert.limit)
    # Late figures can cross a line of a month already over (``LATE_FIGURES_DAYS``).
    remaining = (
        f"{left} day{'' if left == 1 else 's'} left in the month" if left else "the month is over"
    )
    if alert.level is AlertLevel.FORECAST:
        assert alert.projection is not None  # the forecast level is due only with one
        projection = money(alert.projection)
        over = money(alert.projection - alert.limit)
        lead = "At this rate" if alert.projection_bound == "point" else "Even at a low estimate"
        return (
            f"At this rate {whom} will spend {projection} of {your} {limit} {month} budget",
            f"{lead} {whom} will spend {projection} by the end of {label}, "
            f"{over} over {your} {limit} budget ({remaining}).",
        )
    if alert.limit == 0:
        subject = (
            f"{who} {are} over {your} {month} AWS budget"
            if alert.level is AlertLevel.EXCEEDED
            else f"{who} {have} started spending against {your} zero {month} AWS budget"
        )
        return subject, f"{who} {have} spent {spent} in {label}, where {your} budget is zero."
    if alert.level is AlertLevel.EXCEEDED:
        return (
            f"{who} {are} over {your} {month} AWS budget",
            f"{who} {have} spent {spent} in {label}: {money(alert.spent - alert.limit)} over "
            f"{your} {limit} budget, with {remaining}.",
        )
    # Words round the share down, from the exact figures: 99.996% is not "100%" while the
    # budget is not exceeded (the summary's rounded ``percent`` would say so).
    share = alert.spent * 100 / alert.limit
    whole = share.to_integral_value(rounding=ROUND_DOWN)
    tenth = share.quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    return (
        f"{who} {have} used {whole}% of {your} {month} AWS budget",
        f"{who} {have} spent {spent} of {your} {limit} budget for {label} "
        f"({format_percent(tenth)}), with {remaining}.",
    )


def alert_message(
    alert: DueAlert,
    *,
    today: date,
    drivers: Sequence[ResourceCost] = (),
    metric: Metric = Metric.EFFECTIVE,
    team: str | None = None,
) -> AlertMessage:
    """The content of ``alert`` on ``today``; ``drivers`` are the month's top resources (the
    roll-up's ``top_resources``), ranked by ``metric`` and cut to three here. With ``team``
    (its name), the alert of a team's budget, as its managers read it."""
    left = days_left(alert.period, today)
    subject, headline = _texts(alert, left, team)
    return AlertMessage(
        level=alert.level,
        period=alert.period,
        currency=alert.currency,
        subject=subject,
        headline=headline,
        spent=alert.spent,
        limit=alert.limit,
        percent=alert.percent,
        days_left=left,
        projection=alert.projection,
        drivers=top_drivers(drivers, metric),
        link=DASHBOARD_LINK,
        urgent=alert.level is AlertLevel.EXCEEDED,
    )


def restatement_message(notice: RestatementNotice) -> RestatementMessage:
    """ "November changed: $X -> $Y": a closed month's billed total, revised by AWS."""
    old, new = (format_money(x, notice.currency) for x in (notice.old, notice.new))
    change = format_money(abs(notice.change), notice.currency)
    direction = "up" if notice.change > 0 else "down"
    label = month_label(notice.period)
    return RestatementMessage(
        period=notice.period,
        currency=notice.currency,
        subject=f"{month_name(notice.period)} changed: {old} -> {new}",
        headline=(
            f"AWS revised your billed costs for {label} after the month closed: "
            f"{old} is now {new} ({direction} {change})."
        ),
        old=notice.old,
        new=notice.new,
        link=DASHBOARD_LINK,
    )
