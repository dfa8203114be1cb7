"""What alerts say, and which restated months to tell about."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tally.alerts import (
    AlertLevel,
    AlertRules,
    Driver,
    MonthFigures,
    alert_message,
    days_left,
    due_levels,
    format_money,
    format_percent,
    month_label,
    pending_restatements,
    restatement_key,
    restatement_message,
)
from tally.forecast.result import Forecast, MonthEndProjection
from tally.models import Amounts, BudgetTerms, Metric, MonthlyRollup, ResourceCost

D = Decimal
NOV = "2026-11"
TODAY = date(2026, 11, 20)


def due(spent: str, limit: str = "1000", *, currency: str = "USD", **kw: object):
    fig = MonthFigures(NOV, currency, D(spent), **kw)  # type: ignore[arg-type]
    rules = AlertRules()
    return due_levels(
        fig, BudgetTerms(NOV, D(limit), 80, currency), set(), today=TODAY, rules=rules
    )


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (D("1234.5"), "USD", "$1,234.50"),
        (D("0"), "USD", "$0.00"),
        (D("-12.345"), "USD", "-$12.34"),  # half to even
        (D("1234567.891"), "EUR", "1,234,567.89 EUR"),
        (D("0.005"), "GBP", "0.00 GBP"),
    ],
)
def test_format_money(amount, currency, text):
    assert format_money(amount, currency) == text


def test_format_percent():
    assert format_percent(D("85.3")) == "85.3%"
    assert format_percent(D("80.0")) == "80%"


@pytest.mark.parametrize(
    ("period", "today", "left"),
    [
        ("2026-11", date(2026, 11, 1), 30),
        ("2026-11", date(2026, 11, 2), 29),
        ("2026-11", date(2026, 11, 15), 16),
        ("2026-11", date(2026, 11, 30), 1),
        ("2026-12", date(2026, 12, 31), 1),
        ("2026-12", date(2027, 1, 1), 0),  # December judged late, on 1 January
        ("2027-01", date(2027, 1, 1), 31),
        ("2028-02", date(2028, 2, 29), 1),
        ("2028-02", date(2028, 3, 1), 0),
        ("2028-03", date(2028, 3, 1), 31),
        ("2028-03", date(2028, 2, 29), 31),  # not started yet
    ],
)
def test_days_left(period, today, left):
    assert days_left(period, today) == left


def test_month_names_are_english():
    assert month_label("2026-11") == "November 2026"
    assert month_label("2028-02") == "February 2028"


def test_threshold_message():
    (alert,) = due("853")
    drivers = [
        ResourceCost("i-small", "EC2", Amounts(D("10"), D("9"))),
        ResourceCost("db-1", "RDS", Amounts(D("400"), D("500"))),
        ResourceCost("i-big", "EC2", Amounts(D("300"), D("200"))),
        ResourceCost("bucket", "S3", Amounts(D("100"), D("100"))),
    ]
    message = alert_message(alert, today=TODAY, drivers=drivers, metric=Metric.EFFECTIVE)
    assert message.subject == "You have used 85% of your November AWS budget"
    assert message.headline == (
        "You have spent $853.00 of your $1,000.00 budget for November 2026 (85.3%), "
        "with 11 days left in the month."
    )
    assert (message.spent, message.limit, message.percent, message.days_left) == (
        D("853"),
        D("1000"),
        D("85.3"),
        11,
    )
    assert message.drivers == (
        Driver("db-1", "RDS", D("500")),
        Driver("i-big", "EC2", D("200")),
        Driver("bucket", "S3", D("100")),
    )
    assert message.link == "#/dashboard"
    assert message.urgent is False
    billed = alert_message(alert, today=TODAY, drivers=drivers, metric=Metric.BILLED)
    assert [d.resource_id for d in billed.drivers] == ["db-1", "i-big", "bucket"]
    assert billed.drivers[0].amount == D("400")


def test_the_subject_floors_the_share_so_it_never_claims_100_before_exceeded():
    (alert,) = due("999.99")
    assert alert.percent == D("100.0")  # as the summary shows it
    message = alert_message(alert, today=TODAY)
    assert message.subject == "You have used 99% of your November AWS budget"
    assert "(99.9%)" in message.headline


def test_exceeded_message_is_urgent():
    _, alert = due("1020", currency="EUR")
    message = alert_message(alert, today=date(2026, 11, 30))
    assert alert.level is AlertLevel.EXCEEDED
    assert message.subject == "You are over your November AWS budget"
    assert message.headline == (
        "You have spent 1,020.00 EUR in November 2026: 20.00 EUR over your 1,000.00 EUR "
        "budget, with 1 day left in the month."
    )
    assert message.urgent is True
    assert message.money(D("5")) == "5.00 EUR"


def test_zero_budget_messages():
    threshold, exceeded = due("5", "0")
    assert alert_message(threshold, today=TODAY).subject == (
        "You have started spending against your zero November AWS budget"
    )
    message = alert_message(exceeded, today=TODAY)
    assert message.subject == "You are over your November AWS budget"
    assert message.headline == "You have spent $5.00 in November 2026, where your budget is zero."
    assert message.percent is None


def _forecast(point: str, lower: str) -> Forecast:
    end = MonthEndProjection(
        NOV, D("500"), D("0"), D(point), D(lower), D(point), D(lower), D(point), 19, 11
    )
    return Forecast(date(2026, 11, 19), "linear", 40, end, ())


def test_forecast_message():
    (alert,) = due("500", forecast=_forecast("1234.5", "1100"), forecast_ready=True)
    message = alert_message(alert, today=TODAY)
    assert (
        message.subject == "At this rate you will spend $1,234.50 of your $1,000.00 November budget"
    )
    assert message.headline == (
        "At this rate you will spend $1,234.50 by the end of November 2026, $234.50 over "
        "your $1,000.00 budget (11 days left in the month)."
    )
    assert message.projection == D("1234.5")


def _rollup(restatements: list[dict[str, object]], month: str = "2026-10") -> MonthlyRollup:
    return MonthlyRollup(
        owner="u1",
        month=month,
        sections={},
        estimated=False,
        record_count=0,
        updated_at=datetime(2026, 11, 5, tzinfo=UTC),
        restatements=restatements,
    )


def _restated(at: str, old: str, new: str, currency: str = "USD") -> dict[str, object]:
    return {"at": at, "month": "2026-10", "currency": currency, "old": D(old), "new": D(new)}


def test_restatement_notices_are_told_once():
    first = _restated("2026-11-03T00:10:00+00:00", "100", "107.5")
    rollup = _rollup([first])
    (notice,) = pending_restatements(rollup, set())
    assert (notice.period, notice.currency, notice.old, notice.new) == (
        "2026-10",
        "USD",
        D("100"),
        D("107.5"),
    )
    assert notice.keys == ("2026-10#USD#2026-11-03T00:10:00+00:00",)
    assert pending_restatements(rollup, set(notice.keys)) == []
    # A later change is a new notice, from where the last one left off.
    second = _restated("2026-11-04T00:10:00+00:00", "107.5", "103")
    (later,) = pending_restatements(_rollup([first, second]), set(notice.keys))
    assert (later.old, later.new, later.change) == (D("107.5"), D("103"), D("-4.5"))


def test_restatements_not_yet_told_fold_into_one_per_currency():
    entries = [
        _restated("2026-11-04T00:10:00+00:00", "105", "110"),  # out of order on purpose
        _restated("2026-11-03T00:10:00+00:00", "100", "105"),
        _restated("2026-11-03T00:10:00+00:00", "50", "40", "EUR"),
    ]
    eur, usd = pending_restatements(_rollup(entries), set())
    assert (usd.old, usd.new, usd.at) == (D("100"), D("110"), "2026-11-04T00:10:00+00:00")
    assert len(usd.keys) == 2
    assert (eur.currency, eur.old, eur.new) == ("EUR", D("50"), D("40"))


def test_changes_that_cancel_out_give_no_notice_until_a_real_one():
    there = _restated("2026-11-03T00:10:00+00:00", "100", "105")
    back = _restated("2026-11-04T00:10:00+00:00", "105", "100")
    assert pending_restatements(_rollup([there, back]), set()) == []
    again = _restated("2026-11-05T00:10:00+00:00", "100", "90")
    (notice,) = pending_restatements(_rollup([there, back, again]), set())
    assert (notice.old, notice.new, len(notice.keys)) == (D("100"), D("90"), 3)


def test_restatement_without_a_month_takes_the_rollups_and_amounts_as_strings():
    entry: dict[str, object] = {
        "at": "2026-12-02T00:10:00+00:00",
        "currency": "USD",
        "old": "1234.5",
        "new": "1300",
    }
    (notice,) = pending_restatements(_rollup([entry], month="2026-11"), set())
    assert notice.period == "2026-11"
    assert restatement_key("2026-11", "USD", entry["at"]) in notice.keys  # type: ignore[arg-type]
    message = restatement_message(notice)
    assert message.subject == "November changed: $1,234.50 -> $1,300.00"
    assert message.headline == (
        "AWS revised your billed costs for November 2026 after the month closed: "
        "$1,234.50 is now $1,300.00 (up $65.50)."
    )
    assert (message.old, message.new, message.link) == (D("1234.5"), D("1300"), "#/dashboard")
