"""What an email says, as plain values. The renderer decides only how it looks.

Amounts are Decimals in ``currency``; the renderer formats them (cents, thousands, symbol),
so every email spells money the same way. Text the user or AWS supplies (names, drivers)
arrives unescaped: the HTML templates escape it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal


class EmailKind(StrEnum):
    THRESHOLD = "threshold"  # actual spend reached the user's threshold percent
    EXCEEDED = "exceeded"  # actual spend reached 100%: the urgent one
    FORECAST = "forecast"  # the month-end projection is above the limit
    DIGEST = "digest"  # the daily or weekly summary
    RESTATEMENT = "restatement"  # a closed month's total changed
    ANOMALY = "anomaly"  # a day's spend well above its usual (tally.anomalies)


ALERT_KINDS = frozenset({EmailKind.THRESHOLD, EmailKind.EXCEEDED, EmailKind.FORECAST})

Cadence = Literal["daily", "weekly"]

# A link goes into an href and, for unsubscribe, into a header: only http(s), and nothing that
# could end the header or the ``<...>`` around it.
_URL = re.compile(r"https?://[^\s<>\"'\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Figures:
    """The budget period's numbers as of the message's day."""

    spent: Decimal  # actual spend in the period so far
    limit: Decimal  # the budget; zero means "alert on any spend"
    percent: Decimal | int | None  # of the limit used, as the subject says; None: zero budget
    days_left: int  # days of the period still to come, as the content counts them
    projection: Decimal | None = None  # month-end projection; None: not enough days yet


@dataclass(frozen=True)
class Driver:
    """One of the top cost drivers (a service or resource) and its spend in the period."""

    name: str
    amount: Decimal


@dataclass(frozen=True)
class DaySpend:
    """One day of a digest."""

    day: date
    amount: Decimal


@dataclass(frozen=True)
class Restatement:
    """A closed month's total before and after the ingest restated it."""

    before: Decimal
    after: Decimal


@dataclass(frozen=True)
class AnomalyFacts:
    """An anomaly episode: where the money went and how far above the usual."""

    days_label: str  # "Sunday 8 November 2026", or "8 to 9 November 2026"
    cause: str  # "alice-notebook (AmazonEC2)"
    usage_unit: str | None
    expected: Decimal
    actual: Decimal
    impact: Decimal


@dataclass(frozen=True)
class EmailContent:
    """One email to one person. Which optional parts a kind needs is checked here, so a
    message that would render with holes cannot be built."""

    kind: EmailKind
    to_name: str
    subject: str
    headline: str
    period_label: str  # "November 2026", or "Week of 16 November 2026" for a weekly digest
    currency: str
    dashboard_url: str
    figures: Figures | None = None  # every kind but RESTATEMENT
    drivers: tuple[Driver, ...] = ()  # the top ones, largest first (alerts show three)
    settings_url: str | None = None  # where email preferences change, shown in the footer
    cadence: Cadence | None = None  # DIGEST only
    days: tuple[DaySpend, ...] = ()  # DIGEST only: the day, or each day of the week
    unsubscribe_url: str | None = None  # DIGEST only: the one-click (RFC 8058) link
    restatement: Restatement | None = None  # RESTATEMENT only
    anomaly: AnomalyFacts | None = None  # ANOMALY only
    # A team budget's alert, sent to each of the team's managers: the team's name.
    team_name: str | None = None
    # A cost center budget's alert (``team_name`` is then "Cost center <code>"): its code.
    cost_center: str | None = None

    def __post_init__(self) -> None:
        if not self.subject.strip():
            raise ValueError("an email needs a subject")
        for name in ("dashboard_url", "settings_url", "unsubscribe_url"):
            url = getattr(self, name)
            if url is not None and not _URL.fullmatch(url):
                raise ValueError(f"{name} must be an http(s) URL without spaces or quotes")
        digest = self.kind is EmailKind.DIGEST
        if digest != (self.unsubscribe_url is not None):
            raise ValueError("a digest, and only a digest, carries an unsubscribe_url")
        if digest != (self.cadence is not None) or (digest and not self.days):
            raise ValueError("a digest, and only a digest, has a cadence and days")
        restated = self.kind is EmailKind.RESTATEMENT
        if restated != (self.restatement is not None):
            raise ValueError("a restatement notice, and only one, carries a restatement")
        anomalous = self.kind is EmailKind.ANOMALY
        if anomalous != (self.anomaly is not None):
            raise ValueError("an anomaly notice, and only one, carries an anomaly")
        if not restated and not anomalous and self.figures is None:
            raise ValueError(f"a {self.kind} email needs figures")
        if self.kind is EmailKind.FORECAST and (
            self.figures is None or self.figures.projection is None
        ):
            raise ValueError("a forecast alert needs the projection")


@dataclass(frozen=True)
class RenderedEmail:
    """What SES sends: ``headers`` are extra headers beyond From/To/Subject."""

    subject: str
    html: str
    text: str
    headers: dict[str, str]
