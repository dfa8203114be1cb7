"""One realistic email of every kind, for the screenshots in docs/screenshots, the browser test
that renders them (tests/browser/test_emails_render.py) and ``make bench``.

Built as the alert evaluation builds them (``tally.alerts.content`` for what an alert says,
``tally.alerts.compose`` for the email), on the date the tests pin (Friday 20 November 2026:
11 days left in the month); the figures are those of a mid-sized team's month.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from tally.alerts.compose import Links, alert_email, digest_email, restatement_email
from tally.alerts.content import alert_message, restatement_message
from tally.alerts.digest import Digest, digest_window
from tally.alerts.levels import AlertLevel, DueAlert, percent_used
from tally.alerts.restatement import RestatementNotice
from tally.email.model import EmailContent
from tally.models import Amounts, DigestCadence, ResourceCost

TODAY = date(2026, 11, 20)
PERIOD = "2026-11"
NAME = "priya.raman"  # the evaluation greets people by their user name (UserProfile.username)
LINKS = Links("https://tally.example.com/")
UNSUBSCRIBE = (
    "https://api.tally.example.com/api/unsubscribe"
    "?token=eyJ1IjoiOWM0ZTJhMWItZjNkNiIsImUiOjE3Njc0ODQ4MDB9.Qm9kF2w1xY8cT0aLrPz3vN6sUeHj4iGd"
)
ACCOUNT = "arn:aws:{service}:us-east-1:123456789012:{resource}"


def _resource(service: str, resource: str, name: str, amount: str) -> ResourceCost:
    arn = ACCOUNT.format(service=service, resource=resource)
    return ResourceCost(arn, name, Amounts(Decimal(amount), Decimal(amount)))


# The month's top resources, as a roll-up's ``top_resources`` holds them (a fourth, smaller
# one shows the email keeps three).
RESOURCES = (
    _resource("ec2", "instance/i-0a7f3c9e21b4d5680", "Amazon Elastic Compute Cloud", "431.2874"),
    _resource("rds", "db:orders-db-prod", "Amazon Relational Database Service", "214.90"),
    _resource("s3", "tally-analytics-raw", "Amazon Simple Storage Service", "96.4411"),
    _resource("lambda", "function:image-resizer", "AWS Lambda", "12.37"),
)
SERVICES = (
    ("Amazon Elastic Compute Cloud", Decimal("471.12")),
    ("Amazon Relational Database Service", Decimal("214.90")),
    ("Amazon Simple Storage Service", Decimal("101.02")),
)
BUDGET = Decimal("1000")
THRESHOLD = 80

# The file names the screenshots and text parts are saved under: email-<kind>-desktop.png.
KINDS = (
    "threshold",
    "exceeded",
    "forecast",
    "digest-daily",
    "digest-weekly",
    "restatement",
    "zero-budget",
)


def _alert(
    level: AlertLevel,
    spent: str,
    projection: str | None,
    *,
    limit: Decimal = BUDGET,
    resources: tuple[ResourceCost, ...] = RESOURCES,
) -> EmailContent:
    due = DueAlert(
        level=level,
        period=PERIOD,
        currency="USD",
        spent=Decimal(spent),
        limit=limit,
        threshold=THRESHOLD,
        percent=percent_used(Decimal(spent), limit),
        projection=Decimal(projection) if projection else None,
        projection_bound="point",
        estimated=False,
    )
    message = alert_message(due, today=TODAY, drivers=resources)
    return alert_email(message, to_name=NAME, links=LINKS)


WEEK = ("38.12", "41.87", "44.05", "40.66", "52.31", "19.40", "18.95")


def _digest(cadence: DigestCadence) -> EmailContent:
    days: tuple[tuple[date, Decimal], ...]
    if cadence is DigestCadence.DAILY:
        # Sent on Friday the 20th about Thursday.
        window = digest_window(cadence, TODAY)
        days = ((TODAY - timedelta(days=1), Decimal("41.87")),)
        spent, left, projection = Decimal("852.40"), 11, Decimal("1291.75")
    else:
        # Sent on Monday the 16th about the week of the 9th; the month as it stood then.
        window = digest_window(cadence, date(2026, 11, 16))
        assert window is not None
        days = tuple((window.first + timedelta(days=i), Decimal(a)) for i, a in enumerate(WEEK))
        spent, left, projection = Decimal("598.77"), 15, Decimal("1214.60")
    assert window is not None
    digest = Digest(
        window=window,
        currency="USD",
        days=days,
        spent=spent,
        limit=BUDGET,
        percent=percent_used(spent, BUDGET),
        days_left=left,
        projection=projection,
        services=SERVICES,
    )
    return digest_email(digest, to_name=NAME, links=LINKS, unsubscribe_url=UNSUBSCRIBE)


def _restatement() -> EmailContent:
    notice = RestatementNotice(
        period="2026-10",
        currency="USD",
        old=Decimal("1204.33"),
        new=Decimal("1187.90"),
        at="2026-11-20T04:10:00+00:00",
        keys=("2026-10#USD#2026-11-20T04:10:00+00:00",),
    )
    return restatement_email(restatement_message(notice), to_name=NAME, links=LINKS)


def sample_emails() -> dict[str, EmailContent]:
    """Every kind, by the name its screenshots carry (``KINDS``)."""
    samples = {
        "threshold": _alert(AlertLevel.THRESHOLD, "852.40", "1291.75"),
        "exceeded": _alert(AlertLevel.EXCEEDED, "1032.75", "1512.00"),
        "forecast": _alert(AlertLevel.FORECAST, "610.00", "1150.00"),
        "digest-daily": _digest(DigestCadence.DAILY),
        "digest-weekly": _digest(DigestCadence.WEEKLY),
        "restatement": _restatement(),
        # A zero budget ("alert me on any spend"): the first few dollars are over it.
        "zero-budget": _alert(
            AlertLevel.EXCEEDED,
            "12.37",
            "23.10",
            limit=Decimal(0),
            resources=RESOURCES[3:],
        ),
    }
    assert tuple(samples) == KINDS
    return samples
