"""Each message for each channel: an alert, a restatement notice or a digest as an email
(``EmailContent``, rendered by ``tally.email.render``), a chat message (``ChatMessage``) and an
in-app notification (``Notification``). Pure: the content and the links in, values out.

An in-app notification's id is its idempotency key: adding it twice keeps one. An alert's is
``<period>#<level>#<limit>#<threshold>``: retries of one alert add it once, while a level that a
budget change re-armed and that fires again under the new terms is news, and gets a new one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

from tally.alerts.content import AlertMessage, RestatementMessage, month_label
from tally.alerts.digest import Digest
from tally.alerts.levels import AlertLevel
from tally.anomalies.model import Anomaly
from tally.email.formatting import format_day, format_money, format_percent
from tally.email.model import (
    AnomalyFacts,
    DaySpend,
    Driver,
    EmailContent,
    EmailKind,
    Figures,
    Restatement,
)
from tally.models import DigestCadence, Notification
from tally.notify.ports import ChatMessage
from tally.org.model import TEAM_OWNER_PREFIX, cost_center_of_owner
from tally.resources import parse_arn

BUDGET_LINK = "#/budget"
DASHBOARD_LINK = "#/dashboard"
SETTINGS_LINK = "#/settings"
ADMIN_KIND = "admin-exceeded"
RESTATEMENT_KIND = "restatement"


@dataclass(frozen=True)
class Links:
    """Where messages point: the dashboard's address (``https://tally.example.com/``) and the
    dashboard routes appended to it."""

    dashboard_url: str

    def page(self, route: str) -> str:
        """The dashboard's address with ``route`` (``#/budget``) as its fragment."""
        return self.dashboard_url.split("#", 1)[0] + route

    @property
    def settings_url(self) -> str:
        return self.page(SETTINGS_LINK)


def _limit_key(limit: Decimal) -> str:
    # One spelling per amount whatever its exponent (100, 100.00 and 1E+2 are one budget).
    return f"{limit.normalize():f}"


def _id(*parts: object) -> str:
    """A notification id from its parts, safe in a URL path as it is: the dashboard marks a
    notification at /api/notifications/{id}/read, and a "#" or "+" there would be read as a
    fragment or a space by some hop between the browser and the API."""
    return "_".join(re.sub(r"[^A-Za-z0-9.:-]", "-", str(part)) for part in parts)


def alert_notification_id(period: str, level: str, limit: Decimal, threshold: int) -> str:
    return _id(period, level, _limit_key(limit), threshold)


def admin_notification_id(user_id: str, period: str, limit: Decimal) -> str:
    return _id("admin", user_id, period, "exceeded", _limit_key(limit))


def restatement_notification_id(period: str, level: str) -> str:
    return _id(period, level)


# --- alerts ----------------------------------------------------------------------------


def _kind(level: AlertLevel) -> EmailKind:
    return EmailKind(level.value)


def _driver_name(resource_id: str, service: str) -> str:
    """``i-0a7f... (Amazon Elastic Compute Cloud)``: an ARN by its last part, which names the
    resource (the account and region would fill a phone's row and be cut in the text part).
    The resource first: a long service name is what a narrow row shortens."""
    parsed = parse_arn(resource_id)
    name = parsed[1] if parsed is not None and parsed[1] else resource_id
    return f"{name} ({service})"


def alert_email(message: AlertMessage, *, to_name: str, links: Links) -> EmailContent:
    """The alert's email: its figures, the top drivers, links to the budget and settings."""
    return EmailContent(
        kind=_kind(message.level),
        to_name=to_name,
        subject=message.subject,
        # The body spells the figures out: the heading says what happened, as the subject does
        # (the content's headline, a sentence of figures, is the in-app and chat text).
        headline=message.subject,
        period_label=month_label(message.period),
        currency=message.currency,
        dashboard_url=links.page(BUDGET_LINK),
        settings_url=links.settings_url,
        figures=Figures(
            spent=message.spent,
            limit=message.limit,
            percent=message.percent,
            days_left=message.days_left,
            projection=message.projection,
        ),
        drivers=tuple(
            Driver(_driver_name(d.resource_id, d.service), d.amount) for d in message.drivers
        ),
    )


def alert_chat(message: AlertMessage, *, links: Links) -> ChatMessage:
    return ChatMessage(
        title=message.subject,
        text=message.headline,
        link=links.page(BUDGET_LINK),
        level=message.level.value,
    )


def alert_notification(
    message: AlertMessage, *, user_id: str, threshold: int, at: datetime
) -> Notification:
    return Notification(
        notification_id=alert_notification_id(
            message.period, message.level.value, message.limit, threshold
        ),
        user_id=user_id,
        kind=message.level.value,
        title=message.subject,
        body=message.headline,
        link=BUDGET_LINK,
        created_at=at,
    )


# --- team and cost center budgets: each of its managers is told ---------------------------

TEAMS_LINK = "#/teams"
CHARGEBACK_LINK = "#/chargeback"  # where cost centers and their budgets are shown


def team_alert_notification_id(
    team_id: str, period: str, level: str, limit: Decimal, threshold: int
) -> str:
    # Apart from the manager's own budget alerts, which share the period, level and terms.
    return _id("team", team_id, period, level, _limit_key(limit), threshold)


def cost_center_alert_notification_id(
    code: str, period: str, level: str, limit: Decimal, threshold: int
) -> str:
    # A code may hold characters ``_id`` replaces ("CC 100" and "CC-100" would meet): a digest
    # of the code itself keeps two cost centers apart.
    digest = hashlib.sha256(code.encode()).hexdigest()[:12]
    return _id("costcenter", code, digest, period, level, _limit_key(limit), threshold)


def _group_alert_notification_id(
    owner: str, period: str, level: str, limit: Decimal, threshold: int
) -> str:
    code = cost_center_of_owner(owner)
    if code is not None:
        return cost_center_alert_notification_id(code, period, level, limit, threshold)
    return team_alert_notification_id(
        owner.removeprefix(TEAM_OWNER_PREFIX), period, level, limit, threshold
    )


def _group_link(owner: str) -> str:
    return CHARGEBACK_LINK if cost_center_of_owner(owner) is not None else TEAMS_LINK


def team_alert_email(
    message: AlertMessage, *, team_name: str, to_name: str, links: Links, owner: str = ""
) -> EmailContent:
    """A team's or a cost center's budget alert (``message`` made with its name) to one of
    its managers: the alert templates with the team's (or "Cost center <code>") name.
    ``owner`` (``team:<id>`` or ``costcenter:<code>``) decides where the link points."""
    content = alert_email(message, to_name=to_name, links=links)
    return replace(
        content,
        team_name=team_name,
        cost_center=cost_center_of_owner(owner),
        dashboard_url=links.page(_group_link(owner)),
    )


def team_alert_notification(
    message: AlertMessage, *, owner: str, user_id: str, threshold: int, at: datetime
) -> Notification:
    """The in-app alert of a team's (``owner`` ``team:<id>``) or a cost center's
    (``costcenter:<code>``) budget to one of its managers."""
    return Notification(
        notification_id=_group_alert_notification_id(
            owner, message.period, message.level.value, message.limit, threshold
        ),
        user_id=user_id,
        kind=message.level.value,
        title=message.subject,
        body=message.headline,
        link=_group_link(owner),
        created_at=at,
    )


def _admin_texts(message: AlertMessage, user_name: str) -> tuple[str, str]:
    money = message.money
    percent = f" ({format_percent(message.percent)})" if message.percent is not None else ""
    return (
        f"{user_name} is over their {month_label(message.period)} AWS budget",
        f"{user_name} has spent {money(message.spent)} of a {money(message.limit)} budget "
        f"for {month_label(message.period)}{percent}, with {message.days_left} "
        f"day{'' if message.days_left == 1 else 's'} left in the month.",
    )


def admin_topic_message(
    message: AlertMessage, *, user_id: str, user_name: str
) -> tuple[str, str, dict[str, str]]:
    """The admin topic's (subject, message, attributes) for an exceeded alert. SNS subjects
    are ASCII and at most 100 characters."""
    subject, body = _admin_texts(message, user_name)
    ascii_subject = subject.encode("ascii", "replace").decode()[:100]
    attributes = {"level": message.level.value, "userId": user_id, "period": message.period}
    return ascii_subject, f"{body}\nUser id: {user_id}", attributes


def admin_notification(
    message: AlertMessage, *, admin_id: str, user_id: str, user_name: str, at: datetime
) -> Notification:
    title, body = _admin_texts(message, user_name)
    return Notification(
        notification_id=admin_notification_id(user_id, message.period, message.limit),
        user_id=admin_id,
        kind=ADMIN_KIND,
        title=title,
        body=body,
        link=f"{BUDGET_LINK}?user={quote(user_id, safe='')}",  # the admin's view of that user
        created_at=at,
    )


def admin_chat(message: AlertMessage, *, user_name: str, links: Links) -> ChatMessage:
    title, body = _admin_texts(message, user_name)
    return ChatMessage(title=title, text=body, link=links.page(DASHBOARD_LINK), level="exceeded")


# --- restatements ----------------------------------------------------------------------


def restatement_email(message: RestatementMessage, *, to_name: str, links: Links) -> EmailContent:
    return EmailContent(
        kind=EmailKind.RESTATEMENT,
        to_name=to_name,
        subject=message.subject,
        headline=message.headline,
        period_label=month_label(message.period),
        currency=message.currency,
        dashboard_url=links.page(DASHBOARD_LINK),
        settings_url=links.settings_url,
        restatement=Restatement(before=message.old, after=message.new),
    )


def restatement_chat(message: RestatementMessage, *, links: Links) -> ChatMessage:
    return ChatMessage(
        title=message.subject,
        text=message.headline,
        link=links.page(DASHBOARD_LINK),
        level=RESTATEMENT_KIND,
    )


def restatement_notification(
    message: RestatementMessage, *, user_id: str, level: str, at: datetime
) -> Notification:
    """``level`` is the ledger level the notice was claimed under (``restated#...``)."""
    return Notification(
        notification_id=restatement_notification_id(message.period, level),
        user_id=user_id,
        kind=RESTATEMENT_KIND,
        title=message.subject,
        body=message.headline,
        link=DASHBOARD_LINK,
        created_at=at,
    )


# --- digests ---------------------------------------------------------------------------


def _digest_texts(digest: Digest) -> tuple[str, str, str]:
    """(subject, headline, period label)."""

    def money(amount: Decimal) -> str:
        return format_money(amount, digest.currency)

    window = digest.window
    month = f"{money(digest.spent)} of {money(digest.limit)} in {digest.month_label}"
    if window.cadence is DigestCadence.DAILY:
        day = window.last
        return (
            f"Tally daily: {money(digest.total)} on {format_day(day)}, {month}",
            f"{money(digest.total)} spent on {day:%A}",
            f"{day:%A} {day.day} {day:%B} {day.year}",
        )
    return (
        f"Tally weekly: {money(digest.total)} last week, {month}",
        f"{money(digest.total)} spent last week",
        f"Week of {window.first.day} {window.first:%B} {window.first.year}",
    )


def digest_email(
    digest: Digest, *, to_name: str, links: Links, unsubscribe_url: str
) -> EmailContent:
    subject, headline, label = _digest_texts(digest)
    return EmailContent(
        kind=EmailKind.DIGEST,
        to_name=to_name,
        subject=subject,
        headline=headline,
        period_label=label,
        currency=digest.currency,
        dashboard_url=links.page(DASHBOARD_LINK),
        settings_url=links.settings_url,
        figures=Figures(
            spent=digest.spent,
            limit=digest.limit,
            percent=digest.percent,
            days_left=digest.days_left,
            projection=digest.projection,
        ),
        drivers=tuple(Driver(name, amount) for name, amount in digest.services),
        cadence="daily" if digest.window.cadence is DigestCadence.DAILY else "weekly",
        days=tuple(DaySpend(day, amount) for day, amount in digest.days),
        unsubscribe_url=unsubscribe_url,
    )


def digest_chat(digest: Digest, *, links: Links) -> ChatMessage:
    subject, headline, _ = _digest_texts(digest)
    return ChatMessage(
        title=subject, text=headline, link=links.page(DASHBOARD_LINK), level="digest"
    )


# --- anomalies -------------------------------------------------------------------------

ANOMALY_KIND = "anomaly"
ANOMALIES_LINK = "#/anomalies"


def anomaly_notification_id(anomaly: Anomaly) -> str:
    return _id(ANOMALY_KIND, anomaly.anomaly_id)


def _days_label(anomaly: Anomaly) -> str:
    first, last = anomaly.day, anomaly.last_day
    if first == last:
        return f"{first:%A} {first.day} {first:%B} {first.year}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day} to {last.day} {last:%B} {last.year}"
    return f"{first.day} {first:%B} to {last.day} {last:%B} {last.year}"


def _anomaly_cause(anomaly: Anomaly) -> str:
    if anomaly.resource_id is None:
        return anomaly.service
    return _driver_name(anomaly.resource_id, anomaly.service)


def _anomaly_texts(anomaly: Anomaly) -> tuple[str, str]:
    """(subject, headline)."""

    def money(amount: Decimal) -> str:
        return format_money(amount, anomaly.currency)

    return (
        f"Unusual spend on {anomaly.service}: {money(anomaly.impact)} above normal",
        f"{_anomaly_cause(anomaly)} cost {money(anomaly.actual)} on {_days_label(anomaly)}, "
        f"about {money(anomaly.expected)} expected.",
    )


def anomaly_email(anomaly: Anomaly, *, to_name: str, links: Links) -> EmailContent:
    subject, headline = _anomaly_texts(anomaly)
    return EmailContent(
        kind=EmailKind.ANOMALY,
        to_name=to_name,
        subject=subject,
        headline=headline,
        period_label=_days_label(anomaly),
        currency=anomaly.currency,
        dashboard_url=links.page(ANOMALIES_LINK),
        settings_url=links.settings_url,
        anomaly=AnomalyFacts(
            days_label=_days_label(anomaly),
            cause=_anomaly_cause(anomaly),
            usage_unit=anomaly.usage_unit,
            expected=anomaly.expected,
            actual=anomaly.actual,
            impact=anomaly.impact,
        ),
    )


def anomaly_chat(anomaly: Anomaly, *, links: Links) -> ChatMessage:
    subject, headline = _anomaly_texts(anomaly)
    return ChatMessage(
        title=subject, text=headline, link=links.page(ANOMALIES_LINK), level=ANOMALY_KIND
    )


def anomaly_notification(anomaly: Anomaly, *, at: datetime) -> Notification:
    subject, headline = _anomaly_texts(anomaly)
    return Notification(
        notification_id=anomaly_notification_id(anomaly),
        user_id=anomaly.user_id,
        kind=ANOMALY_KIND,
        title=subject,
        body=headline,
        link=ANOMALIES_LINK,
        created_at=at,
    )
