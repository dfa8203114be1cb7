"""The savings rules and the pricing, on plain values: thresholds at their edges, the
completeness of the metric window (across month ends and leap days), and the monthly price."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tally.models import CostRecord, Metric
from tally.recommendations import rules
from tally.recommendations.collectors import (
    Address,
    Bucket,
    Database,
    Function,
    Instance,
    Inventory,
    Snapshot,
    Usage,
    Volume,
)
from tally.recommendations.pricing import monthly_cost

TODAY = date(2026, 11, 20)
MB = 1024 * 1024


def days_before(today: date, n: int) -> list[date]:
    return [today - timedelta(days=k) for k in range(n, 0, -1)]


def series(today: date, value: float, n: int = 14) -> dict[date, float]:
    return dict.fromkeys(days_before(today, n), value)


def idle_usage(rid: str, today: date = TODAY, **override: dict[date, float]) -> Usage:
    parts = {
        "cpu_max": series(today, 1.0),
        "cpu_average": series(today, 0.5),
        "network_in": series(today, 1.0 * MB),
        "network_out": series(today, 1.0 * MB),
    } | override
    return Usage(**{k: {rid: v} for k, v in parts.items()})  # type: ignore[arg-type]


def running(rid: str = "i-1", itype: str = "t3.medium", state: str = "running") -> Instance:
    return Instance(rid, itype, state, None, {"Name": "runner"})


def test_an_instance_idle_on_all_14_days_is_found_with_its_evidence() -> None:
    [found] = rules.idle_instances([running()], idle_usage("i-1"), TODAY)
    assert found.kind == "idle-ec2"
    assert found.title == "Stop idle instance runner"
    assert found.evidence == {
        "days": "14",
        "maxCpuPercent": "1.00",
        "averageCpuPercent": "0.50",
        "maxDailyNetworkMB": "2.00",
        "instanceType": "t3.medium",
    }
    assert (found.cost_fraction, found.list_price, found.needs_cost) == (Decimal(1), None, False)


@pytest.mark.parametrize(
    ("cpu", "network_mb", "idle"),
    [(4.99, 4.99, True), (5.0, 1.0, False), (1.0, 5.0, False)],
)
def test_the_thresholds_are_strict(cpu: float, network_mb: float, idle: bool) -> None:
    usage = idle_usage(
        "i-1",
        cpu_max=series(TODAY, 1.0) | {TODAY - timedelta(days=3): cpu},
        network_in=series(TODAY, 0.0) | {TODAY - timedelta(days=5): network_mb * MB},
        network_out=series(TODAY, 0.0),
    )
    assert bool(rules.idle_instances([running()], usage, TODAY)) is idle


@pytest.mark.parametrize("missing", ["cpu_max", "network_in", "network_out"])
def test_a_day_without_data_points_means_not_judged(missing: str) -> None:
    short = series(TODAY, 0.0, n=13)  # the earliest day of the 14 is missing
    usage = idle_usage("i-1", TODAY, **{missing: short})
    assert rules.idle_instances([running()], usage, TODAY) == []


def test_points_outside_the_window_do_not_count() -> None:
    # 14 days of points ending the day before yesterday: today's window lacks yesterday.
    stale = series(TODAY - timedelta(days=1), 0.0)
    usage = idle_usage("i-1", cpu_max=stale)
    assert rules.idle_instances([running()], usage, TODAY) == []


@pytest.mark.parametrize(
    "today",
    [date(2028, 3, 1), date(2028, 2, 29), date(2027, 1, 1), date(2026, 12, 1), date(2026, 12, 2)],
)
def test_the_window_crosses_month_ends_and_leap_days(today: date) -> None:
    window = days_before(today, 14)
    assert len(set(window)) == 14 and window[-1] == today - timedelta(days=1)
    assert rules.idle_instances([running()], idle_usage("i-1", today), today)


def test_only_running_instances_are_judged() -> None:
    assert rules.idle_instances([running(state="stopped")], idle_usage("i-1"), TODAY) == []


def test_previous_generation_suggests_the_current_family() -> None:
    found = rules.previous_generation(
        [
            running("i-1", "t2.micro"),
            running("i-2", "m3.medium"),
            running("i-3", "c4.xlarge"),
            running("i-4", "m5.large"),
            running("i-5", "r4.large", state="stopped"),
            running("i-6", "t1.micro"),
        ],
        idle=set(),
    )
    assert [(f.resource_id, f.evidence["suggested"]) for f in found] == [
        ("i-1", "t3.micro"),
        ("i-2", "m6i"),
        ("i-3", "c6i.xlarge"),
        ("i-6", "t3"),
    ]
    assert all(f.cost_fraction == Decimal("0.10") for f in found)
    assert rules.previous_generation([running("i-1", "t2.micro")], idle={"i-1"}) == []


def test_volumes_unattached_and_gp2() -> None:
    volumes = [
        Volume("vol-loose", "gp2", 100, "available"),
        Volume("vol-io", "io2", 10, "available"),
        Volume("vol-odd", "future-type", 10, "available"),
        Volume("vol-root", "gp2", 8, "in-use"),
        Volume("vol-gp3", "gp3", 8, "in-use"),
    ]
    unattached = {f.resource_id: f.list_price for f in rules.unattached_volumes(volumes)}
    assert unattached == {
        "vol-loose": Decimal("10.00"),
        "vol-io": Decimal("1.250"),
        "vol-odd": Decimal("1.00"),  # an unknown type is priced as gp2
    }
    [gp3] = rules.gp2_volumes(volumes)
    assert (gp3.resource_id, gp3.cost_fraction, gp3.list_price) == (
        "vol-root",
        Decimal("0.20"),
        Decimal("0.160"),
    )


def test_addresses_without_an_association() -> None:
    found = rules.unassociated_addresses(
        [Address("eipalloc-1", "1.2.3.4", None), Address("eipalloc-2", "1.2.3.5", "eipassoc-1")]
    )
    assert [(f.resource_id, f.list_price) for f in found] == [("eipalloc-1", Decimal("3.60"))]


def test_snapshots_older_than_90_days() -> None:
    def taken(days_ago: int) -> Snapshot:
        at = datetime.combine(TODAY - timedelta(days=days_ago), datetime.min.time(), UTC)
        return Snapshot(f"snap-{days_ago}", 20, at)

    found = rules.old_snapshots([taken(90), taken(91), taken(400), taken(-3)], TODAY)
    assert [(f.resource_id, f.list_price, f.evidence["ageDays"]) for f in found] == [
        ("snap-91", Decimal("1.00"), "91"),
        ("snap-400", Decimal("1.00"), "400"),
    ]


def test_databases_need_seven_days_of_zero_connections() -> None:
    dbs = [Database(n, f"arn:{n}", "db.t3.micro", "available", None) for n in "abc"]
    dbs.append(Database("d", "arn:d", "db.t3.micro", "stopped", None))
    usage = Usage(
        connections_max={
            "a": series(TODAY, 0.0, 7),
            "b": series(TODAY, 0.0, 7) | {TODAY - timedelta(days=1): 1.0},
            "c": series(TODAY, 0.0, 6),
            "d": series(TODAY, 0.0, 7),
        }
    )
    assert [f.resource_id for f in rules.idle_databases(dbs, usage, TODAY)] == ["a"]


def test_functions_without_invocations_need_cost_and_some_age() -> None:
    old = datetime(2026, 1, 1, tzinfo=UTC)
    functions = [
        Function("quiet", "arn:quiet", old),
        Function("busy", "arn:busy", old),
        Function("new", "arn:new", datetime(2026, 11, 15, tzinfo=UTC)),
        Function("future", "arn:future", datetime(2026, 12, 25, tzinfo=UTC)),
    ]
    usage = Usage(invocations={"busy": {TODAY - timedelta(days=14): 1.0}})
    found = rules.idle_functions(functions, usage, TODAY)
    assert [f.resource_id for f in found] == ["arn:quiet", "arn:future"]
    assert all(f.needs_cost for f in found)


def test_buckets_without_lifecycle_rules_only_when_known() -> None:
    found = rules.buckets_without_lifecycle(
        [Bucket("plain", False), Bucket("tidy", True), Bucket("unreadable", None)]
    )
    assert [(f.resource_id, f.cost_fraction, f.needs_cost) for f in found] == [
        ("plain", Decimal("0.30"), True)
    ]
    assert "estimate" in found[0].detail


def test_evaluate_never_counts_one_saving_twice_and_orders_by_kind() -> None:
    inventory = Inventory(
        instances=[running("i-1", "t2.medium"), running("i-2", "t2.medium")],
        volumes=[Volume("vol-1", "gp2", 10, "available")],
    )
    found = rules.evaluate(inventory, idle_usage("i-1"), today=TODAY)
    assert [(f.kind, f.resource_id) for f in found] == [
        ("idle-ec2", "i-1"),
        ("unattached-ebs", "vol-1"),
        ("previous-generation", "i-2"),
    ]


def record(day: date, amount: str, currency: str = "USD", billed: str | None = None) -> CostRecord:
    return CostRecord(
        owner="u-alice",
        day=day,
        line_id=f"{day}{amount}{currency}",
        service="AmazonEC2",
        resource_id="i-1",
        usage_quantity=Decimal(24),
        usage_unit="Hrs",
        billed_cost=Decimal(billed or amount),
        effective_cost=Decimal(amount),
        currency=currency,
        charge_category="Usage",
        estimated=False,
        source="test",
        fetched_at=datetime(2026, 11, 20, tzinfo=UTC),
        allocation="assignment",
    )


def test_the_monthly_cost_is_the_daily_average_of_days_with_lines_times_30_4() -> None:
    days = days_before(TODAY, 10)
    records = [record(d, "2.00") for d in days] + [record(days[0], "1.00")]  # two lines one day
    cost = monthly_cost(records, Metric.EFFECTIVE)
    assert cost is not None
    assert (cost.days, cost.daily, cost.amount) == (10, Decimal("2.1"), Decimal("63.84"))
    billed = monthly_cost([record(days[0], "1.00", billed="3.00")], Metric.BILLED)
    assert billed is not None and billed.amount == Decimal("91.200")
    assert monthly_cost([], Metric.EFFECTIVE) is None


def test_lines_in_two_currencies_are_priced_in_the_one_with_more_days() -> None:
    days = days_before(TODAY, 3)
    records = [record(d, "1.00", "EUR") for d in days] + [record(days[0], "50.00", "USD")]
    cost = monthly_cost(records, Metric.EFFECTIVE)
    assert cost is not None and (cost.currency, cost.amount) == ("EUR", Decimal("30.400"))
