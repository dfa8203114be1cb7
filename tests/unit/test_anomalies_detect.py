"""Anomaly detection, the pure part: the robust weekday-aware baseline, what is flagged and
what is not, and the root cause."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tally.anomalies.detect import baseline, detect, history_start, judged_days
from tally.anomalies.model import AnomalyRules, anomaly_id, cause_key, parse_anomaly_id
from tally.models import CostRecord, Metric

TODAY = date(2026, 11, 20)
FETCHED = datetime(2026, 11, 20, tzinfo=UTC)
RULES = AnomalyRules()


def record(
    day: date,
    amount: str | Decimal,
    *,
    service: str = "AmazonEC2",
    resource: str | None = "i-1",
    unit: str | None = "Hrs",
    category: str = "Usage",
    billed: str | Decimal | None = None,
) -> CostRecord:
    value = Decimal(amount)
    return CostRecord(
        owner="u-1",
        day=day,
        line_id=f"{day}-{service}-{resource}-{category}",
        service=service,
        resource_id=resource,
        usage_quantity=Decimal(24),
        usage_unit=unit,
        billed_cost=Decimal(billed) if billed is not None else value,
        effective_cost=value,
        currency="USD",
        charge_category=category,
        estimated=False,
        source="test",
        fetched_at=FETCHED,
        allocation="assignment",
    )


def history(
    level: float,
    *,
    days: int = 70,
    weekend: float = 1.0,
    noise: float = 0.05,
    seed: int = 3,
    extra: dict[date, float] | None = None,
    step: tuple[date, float] | None = None,
    **fields: object,
) -> list[CostRecord]:
    """``days`` days before TODAY of one resource's cost, with a seeded noise."""
    rng = random.Random(seed)
    out = []
    for n in range(days, 0, -1):
        day = TODAY - timedelta(days=n)
        x = level * (weekend if day.weekday() >= 5 else 1.0) * rng.gauss(1, noise)
        if step is not None and day >= step[0]:
            x *= step[1]
        x += (extra or {}).get(day, 0.0)
        out.append(record(day, f"{x:.2f}", **fields))  # type: ignore[arg-type]
    return out


def test_the_window_is_the_look_back_days_before_today_and_the_weeks_before_them() -> None:
    days = judged_days(TODAY, RULES)
    assert (days[0], days[-1], len(days)) == (date(2026, 11, 6), date(2026, 11, 19), 14)
    assert history_start(TODAY, RULES) == date(2026, 11, 6) - timedelta(weeks=8)


def test_a_steady_series_with_quiet_weekends_has_no_anomaly() -> None:
    assert detect(history(100, weekend=0.3), today=TODAY, rules=RULES) == []


def test_the_baseline_expects_the_weekday_rhythm() -> None:
    values = {r.day: float(r.effective_cost) for r in history(100, weekend=0.3, noise=0)}
    saturday, monday = date(2026, 11, 14), date(2026, 11, 16)
    sat = baseline(values, saturday, first=min(values), weeks=8, min_days=14)
    mon = baseline(values, monday, first=min(values), weeks=8, min_days=14)
    assert sat is not None and mon is not None
    assert sat.expected == pytest.approx(30, rel=0.01)
    assert mon.expected == pytest.approx(100, rel=0.01)


def test_a_spike_is_found_with_its_figures() -> None:
    spike = date(2026, 11, 10)
    found = detect(history(50, extra={spike: 200}), today=TODAY, rules=RULES)
    assert [(f.day, f.service, f.resource_id, f.usage_unit) for f in found] == [
        (spike, "AmazonEC2", "i-1", "Hrs")
    ]
    assert found[0].expected == pytest.approx(Decimal(50), rel=Decimal("0.1"))
    assert found[0].impact > 150
    assert found[0].score > RULES.threshold


def test_a_spike_on_a_quiet_weekend_day_is_found() -> None:
    saturday = date(2026, 11, 14)
    found = detect(history(100, weekend=0.2, extra={saturday: 60}), today=TODAY, rules=RULES)
    assert [f.day for f in found] == [saturday]  # a weekday's cost on a Saturday


def test_a_drop_is_no_alarm() -> None:
    records = [r for r in history(100) if r.day != date(2026, 11, 12)]
    assert detect(records, today=TODAY, rules=RULES) == []


def test_below_the_minimum_impact_nobody_is_told() -> None:
    spike = date(2026, 11, 10)
    records = history(2, noise=0.01, extra={spike: 6})  # x4, but $6
    assert detect(records, today=TODAY, rules=RULES) == []
    lower = AnomalyRules(min_impact=Decimal("5.00"))
    assert [f.day for f in detect(records, today=TODAY, rules=lower)] == [spike]


def test_a_step_up_is_anomalous_on_its_first_days_then_the_new_normal() -> None:
    step = date(2026, 11, 6)
    found = detect(history(100, step=(step, 2.0)), today=TODAY, rules=RULES)
    days = [f.day for f in found]
    assert days[0] == step
    assert days == [step + timedelta(days=n) for n in range(len(days))]  # consecutive
    assert len(days) <= 4  # not every day after


def test_a_trend_is_no_anomaly() -> None:
    rng = random.Random(1)
    records = [
        record(TODAY - timedelta(days=n), f"{100 * 1.01 ** (70 - n) * rng.gauss(1, 0.03):.2f}")
        for n in range(70, 0, -1)
    ]
    assert detect(records, today=TODAY, rules=RULES) == []


def test_without_two_weeks_of_history_nothing_is_judged() -> None:
    records = history(50, days=13, extra={date(2026, 11, 15): 300})
    assert detect(records, today=TODAY, rules=RULES) == []


def test_tax_credits_and_purchases_are_not_usage() -> None:
    first = date(2026, 11, 1)
    records = [
        *history(50),
        record(first, "400", service="Tax", resource=None, category="Tax"),
        record(first, "-300", category="Credit", resource=None),
        record(date(2026, 11, 9), "900", category="Purchase"),
    ]
    assert detect(records, today=TODAY, rules=RULES) == []


def test_the_root_cause_is_the_resource_behind_the_excess() -> None:
    spike = date(2026, 11, 12)
    records = (
        history(80, resource="i-big", seed=1)
        + history(10, resource="i-small", seed=2, unit="GB-Mo", extra={spike: 60})
        + history(30, resource=None, seed=4, unit=None)
    )
    found = detect(records, today=TODAY, rules=RULES)
    assert [(f.day, f.resource_id, f.usage_unit) for f in found] == [(spike, "i-small", "GB-Mo")]


def test_a_large_resource_is_judged_on_its_own() -> None:
    # Within the service, another resource's fall hides i-big's rise; on its own it shows.
    day = date(2026, 11, 12)
    records = history(100, resource="i-big", seed=1, extra={day: 60}) + [
        r if r.day != day else record(day, "1.00", resource="i-other")
        for r in history(60, resource="i-other", seed=2)
    ]
    found = detect(records, today=TODAY, rules=RULES)
    assert [(f.day, f.resource_id) for f in found] == [(day, "i-big")]


def test_the_metric_chooses_the_cost() -> None:
    spike = date(2026, 11, 10)
    records = [
        record(r.day, r.effective_cost, billed=r.effective_cost + (500 if r.day == spike else 0))
        for r in history(50)
    ]
    assert detect(records, today=TODAY, rules=RULES) == []
    billed = AnomalyRules(metric=Metric.BILLED)
    assert [f.day for f in detect(records, today=TODAY, rules=billed)] == [spike]


@pytest.mark.parametrize(
    "today", [date(2028, 3, 1), date(2028, 2, 29), date(2027, 1, 1), date(2026, 12, 1)]
)
def test_calendar_edges_change_nothing(today: date) -> None:
    rng = random.Random(9)
    spike = today - timedelta(days=3)
    records = [
        record(today - timedelta(days=n), f"{40 * rng.gauss(1, 0.04) + (90 if n == 3 else 0):.2f}")
        for n in range(80, 0, -1)
    ]
    assert [f.day for f in detect(records, today=today, rules=RULES)] == [spike]


def test_ids_are_path_safe_and_name_their_parts() -> None:
    cause = cause_key("AmazonEC2", "arn:aws:ec2:us-east-1:1:instance/i-1", "USD")
    made = anomaly_id("user+x@example.com", date(2026, 11, 8), cause)
    assert all(c.isalnum() or c in "._-" for c in made)
    assert parse_anomaly_id(made) == ("user+x@example.com", date(2026, 11, 8), cause)
    for bad in ("", "x", "a.b.c", made + "0", made.replace(".2026", ".2026x"), "..", "%2e.a.b"):
        assert parse_anomaly_id(bad) is None
