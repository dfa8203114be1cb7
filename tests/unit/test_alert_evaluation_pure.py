"""The pure parts the evaluation drives: which digest is due and its figures (``digest``),
and each message for each channel (``compose``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tally.alerts import compose
from tally.alerts.content import alert_message, restatement_message
from tally.alerts.digest import (
    DigestWindow,
    build_digest,
    cadence_of,
    digest_window,
    iso_week,
    window_of,
)
from tally.alerts.levels import AlertLevel, DueAlert
from tally.alerts.restatement import RestatementNotice
from tally.email.model import EmailKind
from tally.email.render import render
from tally.models import (
    Amounts,
    BudgetTerms,
    CostRecord,
    DigestCadence,
    Metric,
    MonthlyRollup,
    ResourceCost,
    RollupSection,
)

D = Decimal
DAILY, WEEKLY = DigestCadence.DAILY, DigestCadence.WEEKLY
NOW = datetime(2026, 11, 20, 6, tzinfo=UTC)
LINKS = compose.Links("https://tally.example.com/")
TERMS = BudgetTerms("2026-11", D("1000"), 80, "USD")


# --- which digest is due ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cadence", "today", "period", "first", "last"),
    [
        (DAILY, date(2026, 11, 20), "2026-11-19", date(2026, 11, 19), date(2026, 11, 19)),
        (DAILY, date(2026, 12, 1), "2026-11-30", date(2026, 11, 30), date(2026, 11, 30)),
        (DAILY, date(2027, 1, 1), "2026-12-31", date(2026, 12, 31), date(2026, 12, 31)),
        (DAILY, date(2028, 3, 1), "2028-02-29", date(2028, 2, 29), date(2028, 2, 29)),
        (DAILY, date(2028, 2, 29), "2028-02-28", date(2028, 2, 28), date(2028, 2, 28)),
        (WEEKLY, date(2026, 11, 23), "2026-W47", date(2026, 11, 16), date(2026, 11, 22)),
        (WEEKLY, date(2027, 1, 4), "2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
        (WEEKLY, date(2026, 1, 5), "2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
        (WEEKLY, date(2028, 3, 6), "2028-W09", date(2028, 2, 28), date(2028, 3, 5)),
    ],
)
def test_the_digest_due(
    cadence: DigestCadence, today: date, period: str, first: date, last: date
) -> None:
    window = digest_window(cadence, today)
    assert window == DigestWindow(cadence, period, first, last)
    assert window_of(cadence_of(period), period) == window  # a deferred one reads back


@pytest.mark.parametrize(
    "today", [date(2026, 11, 24), date(2026, 11, 22), date(2027, 1, 1), date(2028, 2, 29)]
)
def test_weekly_only_on_mondays(today: date) -> None:
    assert digest_window(WEEKLY, today) is None


def test_no_digest_when_off() -> None:
    assert digest_window(DigestCadence.OFF, date(2026, 11, 23)) is None
    assert digest_window("off", date(2026, 11, 23)) is None


def test_iso_weeks_at_the_year_edges() -> None:
    assert iso_week(date(2025, 12, 29)) == "2026-W01"
    assert iso_week(date(2027, 1, 3)) == "2026-W53"
    assert iso_week(date(2027, 1, 4)) == "2027-W01"


# --- a digest's figures ----------------------------------------------------------------


def record(day: date, amount: str, currency: str = "USD", billed: str | None = None) -> CostRecord:
    return CostRecord(
        owner="u-alice",
        day=day,
        line_id=f"l-{day}-{amount}",
        service="Amazon S3",
        resource_id=None,
        usage_quantity=D(1),
        usage_unit=None,
        billed_cost=D(billed or amount),
        effective_cost=D(amount),
        currency=currency,
        charge_category="Usage",
        estimated=False,
        source="test",
        fetched_at=NOW,
        allocation="assignment",
    )


def rollup(total: str, services: dict[str, str]) -> MonthlyRollup:
    def amounts(x: str) -> Amounts:
        return Amounts(D(x), D(x))

    section = RollupSection(
        totals=amounts(total),
        by_service={k: amounts(v) for k, v in services.items()},
        by_category={"Usage": amounts(total)},
        daily={},
        daily_by_service={},
        top_resources=[],
    )
    return MonthlyRollup("u-alice", "2026-11", {"USD": section}, False, 3, NOW)


WEEK = DigestWindow(WEEKLY, "2026-W47", date(2026, 11, 16), date(2026, 11, 22))


def test_a_weekly_digest_lists_every_day_and_the_month_to_date() -> None:
    month = rollup("500", {"EC2": "300", "S3": "150", "RDS": "40", "Lambda": "10"})
    digest = build_digest(
        WEEK,
        [
            record(date(2026, 11, 17), "10"),
            record(date(2026, 11, 17), "5"),
            record(date(2026, 11, 22), "1"),
        ],
        month,
        TERMS,
    )
    assert digest is not None
    assert [amount for _, amount in digest.days] == [D(0), D(15), D(0), D(0), D(0), D(0), D(1)]
    assert digest.total == D(16)
    assert (digest.spent, digest.limit, digest.percent) == (D(500), D(1000), D("50.0"))
    assert digest.days_left == 8  # 23 to 30 November
    assert digest.services == (("EC2", D(300)), ("S3", D(150)), ("RDS", D(40)))
    assert digest.projection is None  # no forecast on the roll-up


def test_no_digest_full_of_zeros() -> None:
    month = rollup("500", {"EC2": "500"})
    assert build_digest(WEEK, [], month, TERMS) is None
    # Only days outside the window, or only another currency: still nothing to tell.
    assert build_digest(WEEK, [record(date(2026, 11, 23), "9")], month, TERMS) is None
    assert build_digest(WEEK, [record(date(2026, 11, 17), "9", "EUR")], month, TERMS) is None
    assert build_digest(WEEK, [record(date(2026, 11, 17), "9")], month, None) is None


def test_the_digest_follows_the_metric_and_a_zero_budget() -> None:
    zero = BudgetTerms("2026-11", D(0), 80, "USD")
    day = DigestWindow(DAILY, "2026-11-19", date(2026, 11, 19), date(2026, 11, 19))
    digest = build_digest(
        day, [record(date(2026, 11, 19), "3", billed="4")], None, zero, metric=Metric.BILLED
    )
    assert digest is not None
    assert digest.days == ((date(2026, 11, 19), D(4)),)
    assert (digest.spent, digest.percent, digest.days_left) == (D(0), None, 11)


# --- compose ---------------------------------------------------------------------------


def due(level: AlertLevel, spent: str = "850", limit: str = "1000") -> DueAlert:
    return DueAlert(
        level=level,
        period="2026-11",
        currency="USD",
        spent=D(spent),
        limit=D(limit),
        threshold=80,
        percent=D("85.0"),
        projection=D("1240") if level is AlertLevel.FORECAST else None,
        projection_bound="point",
        estimated=False,
    )


DRIVERS = [ResourceCost("i-0abc", "Amazon EC2", Amounts(D(500), D(500)))]


@pytest.mark.parametrize("level", list(AlertLevel))
def test_each_alert_becomes_an_email_a_chat_message_and_a_notification(
    level: AlertLevel,
) -> None:
    message = alert_message(due(level), today=date(2026, 11, 20), drivers=DRIVERS)
    content = compose.alert_email(message, to_name="Ada", links=LINKS)
    assert content.kind is EmailKind(level.value)
    assert content.dashboard_url == "https://tally.example.com/#/budget"
    assert content.settings_url == "https://tally.example.com/#/settings"
    assert content.drivers[0].name == "i-0abc (Amazon EC2)"
    assert render(content).subject == message.subject  # it renders
    chat = compose.alert_chat(message, links=LINKS)
    assert (chat.title, chat.text, chat.level) == (message.subject, message.headline, level.value)
    note = compose.alert_notification(message, user_id="u-1", threshold=80, at=NOW)
    assert (note.notification_id, note.kind, note.link) == (
        f"2026-11_{level.value}_1000_80",
        level.value,
        "#/budget",
    )


def test_one_notification_id_per_amount_whatever_its_spelling() -> None:
    assert compose.alert_notification_id("2026-11", "threshold", D("100.00"), 80) == (
        compose.alert_notification_id("2026-11", "threshold", D("1E+2"), 80)
    )
    assert compose.admin_notification_id("u-1", "2026-11", D("2500.50")) == (
        "admin_u-1_2026-11_exceeded_2500.5"
    )


def test_the_admin_topic_message() -> None:
    message = alert_message(due(AlertLevel.EXCEEDED, "1032.75"), today=date(2026, 11, 20))
    subject, body, attributes = compose.admin_topic_message(
        message, user_id="u-1", user_name="Zoë " + "x" * 120
    )
    assert attributes == {"level": "exceeded", "userId": "u-1", "period": "2026-11"}
    assert subject.isascii() and len(subject) <= 100 and subject.startswith("Zo? xxx")
    assert "$1,032.75 of a $1,000.00 budget for November 2026 (85%)" in body
    note = compose.admin_notification(
        message, admin_id="u-root", user_id="u 1", user_name="Ada", at=NOW
    )
    assert (note.user_id, note.kind, note.link) == (
        "u-root",
        "admin-exceeded",
        "#/budget?user=u%201",
    )


def test_a_restatement_notice() -> None:
    notice = RestatementNotice(
        "2026-10", "USD", D("1204.33"), D("1187.90"), "2026-11-04T00:00:00+00:00", ("k",)
    )
    message = restatement_message(notice)
    content = compose.restatement_email(message, to_name="Ada", links=LINKS)
    assert content.subject == "October changed: $1,204.33 -> $1,187.90"
    assert "That is $16.43 less than before." in render(content).text
    note = compose.restatement_notification(
        message, user_id="u-1", level="restated#USD#2026-11-04T00:00:00+00:00", at=NOW
    )
    assert (note.notification_id, note.link) == (
        "2026-10_restated-USD-2026-11-04T00:00:00-00:00",
        "#/dashboard",
    )
    assert compose.restatement_chat(message, links=LINKS).link == (
        "https://tally.example.com/#/dashboard"
    )


def test_a_digest_email_carries_its_unsubscribe_link() -> None:
    digest = build_digest(
        DigestWindow(DAILY, "2026-11-19", date(2026, 11, 19), date(2026, 11, 19)),
        [record(date(2026, 11, 19), "42.10")],
        rollup("850", {"EC2": "850"}),
        TERMS,
    )
    assert digest is not None
    url = "https://api.tally.example.com/api/unsubscribe?token=abc"
    content = compose.digest_email(digest, to_name="Ada", links=LINKS, unsubscribe_url=url)
    assert (
        content.subject
        == "Tally daily: $42.10 on Thu 19 Nov, $850.00 of $1,000.00 in November 2026"
    )
    assert content.period_label == "Thursday 19 November 2026"
    assert render(content).headers["List-Unsubscribe"] == f"<{url}>"
    assert compose.digest_chat(digest, links=LINKS).level == "digest"


def test_links_keep_one_fragment() -> None:
    assert compose.Links("https://t.example.com/#/old").page("#/budget") == (
        "https://t.example.com/#/budget"
    )
