"""tally.estate.metrics, pure: which resource an ARN is, the range's rules, the period from
CloudWatch's retention, the queries of one panel, alarms by dimension, the one-minute cache
and the daily cost on the panel's axis."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tally.errors import Invalid
from tally.estate.metrics import (
    MAX_POINTS,
    PANELS,
    TtlCache,
    alarms_on,
    align,
    choose_period,
    daily_cost,
    daily_usage,
    metric_queries,
    parse_resource,
    read_errors,
    read_series,
    validate_range,
)
from tally.identity import Caller
from tally.models import CostRecord
from tally.store import memory_stores
from tally.view import View

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("arn", "kind", "name", "key"),
    [
        (f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc", "ec2", "i-0abc", "ec2:i-0abc"),
        (f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:orders", "rds", "orders", "rds:orders"),
        (f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f", "lambda", "f", "lambda:f"),
        (f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f:live", "lambda", "f", "lambda:f"),
        ("arn:aws:s3:::my-bucket", "s3", "my-bucket", "s3:my-bucket"),
    ],
)
def test_a_panel_resource_from_its_arn(arn: str, kind: str, name: str, key: str) -> None:
    r = parse_resource(arn)
    assert (r.kind, r.name, r.key) == (kind, name, key)


@pytest.mark.parametrize(
    "arn",
    [
        "i-0abc",
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-1",
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:queue",
        "arn:aws:s3:::bucket/key",
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:",
    ],
)
def test_other_arns_are_refused_on_the_field(arn: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_resource(arn)
    assert refused.value.errors[0].field == "resourceArn"


def at(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (at(1), at(2), "end"),
        (at(1), at(1), "end"),
        (at(100), at(1), "end"),  # 99 days: over 93
        (at(456), at(455), "start"),  # older than CloudWatch keeps
        (at(1), NOW + timedelta(hours=1), "end"),
        (datetime(2026, 11, 19), NOW, "start"),  # no time zone
    ],
)
def test_the_range_rules(start: datetime, end: datetime, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        validate_range(start, end, NOW)
    assert refused.value.errors[0].field == field


def test_a_range_within_the_rules() -> None:
    validate_range(at(93), NOW, NOW)
    validate_range(at(455), at(454), NOW)
    validate_range(at(1), NOW + timedelta(minutes=4), NOW)  # a client's clock a little ahead


@pytest.mark.parametrize(
    ("start", "end", "period"),
    [
        (at(1), NOW, 60),  # a day of minutes: 1,440 points
        (at(2), NOW, 300),  # two days: 5 minutes
        (at(7), NOW, 900),
        (at(20), at(19), 300),  # a day, but older than 15 days: 5-minute data only
        (at(70), at(69), 3600),  # older than 63 days: hourly only
        (at(93), NOW, 21600),  # a quarter: under 1,440 points
    ],
)
def test_the_period_follows_retention_and_the_point_cap(
    start: datetime, end: datetime, period: int
) -> None:
    assert choose_period("lambda", start, end, NOW) == period
    assert (end - start).total_seconds() / period <= MAX_POINTS


def test_s3_storage_metrics_are_daily_and_ranges_align_to_periods() -> None:
    assert choose_period("s3", at(1), NOW, NOW) == 86400
    start, end = align(
        datetime(2026, 11, 20, 10, 7, 30, tzinfo=UTC),
        datetime(2026, 11, 20, 11, 2, tzinfo=UTC),
        300,
    )
    assert (start, end) == (
        datetime(2026, 11, 20, 10, 5, tzinfo=UTC),
        datetime(2026, 11, 20, 11, 5, tzinfo=UTC),
    )


def test_one_panel_is_one_batch_of_queries() -> None:
    for kind, arn in (
        ("ec2", f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-1"),
        ("rds", f"arn:aws:rds:us-east-1:{ACCOUNT}:db:d"),
        ("lambda", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"),
        ("s3", "arn:aws:s3:::b"),
    ):
        queries = metric_queries(parse_resource(arn), 300)
        assert [q["Id"] for q in queries] == [s.id for s in PANELS[kind]]
        assert all(q["MetricStat"]["Period"] == 300 for q in queries)
    s3 = metric_queries(parse_resource("arn:aws:s3:::b"), 86400)
    assert s3[0]["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "BucketName", "Value": "b"},
        {"Name": "StorageType", "Value": "StandardStorage"},
    ]
    stats = [
        q["MetricStat"]["Stat"]
        for q in metric_queries(
            parse_resource(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"), 60
        )
    ]
    assert {"p50", "p95", "p99"} <= set(stats)


class FakeCloudWatch:
    """GetMetricData's answer shape: values may be missing a percentile (None)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def get_metric_data(self, **kwargs: object) -> dict[str, object]:
        self.calls.append(kwargs)
        t = [at(0.1), at(0.2)]
        return {
            "MetricDataResults": [
                {"Id": "invocations", "Timestamps": t, "Values": [2.0, 1.0]},
                {"Id": "durationP99", "Timestamps": t, "Values": [None, 120.5]},
            ]
        }


def test_read_series_is_one_call_oldest_first() -> None:
    cw = FakeCloudWatch()
    series = read_series(
        cw, parse_resource(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"), at(1), NOW, 60
    )
    assert len(cw.calls) == 1
    by_id = {s.id: s for s in series}
    assert [v for _, v in by_id["invocations"].points] == [1.0, 2.0]
    assert [v for _, v in by_id["durationP99"].points] == [120.5]
    assert by_id["throttles"].points == ()


def test_alarms_on_the_resource_only() -> None:
    raw = [
        {
            "AlarmName": "b",
            "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
            "StateValue": "ALARM",
            "MetricName": "Errors",
            "Namespace": "AWS/Lambda",
            "Statistic": "Sum",
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 1.0,
        },
        {
            "AlarmName": "a",
            "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
            "ExtendedStatistic": "p99",
        },
        {"AlarmName": "other", "Dimensions": [{"Name": "FunctionName", "Value": "g"}]},
        {"AlarmName": "none"},
    ]
    found = alarms_on(raw, parse_resource(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"))
    assert [(a.name, a.state, a.stat) for a in found] == [
        ("a", "INSUFFICIENT_DATA", "p99"),
        ("b", "ALARM", "Sum"),
    ]


def test_the_cache_keeps_a_minute_and_a_bounded_number() -> None:
    cache = TtlCache(seconds=60, entries=2)
    cache.put("a", 1, NOW)
    assert cache.get("a", NOW + timedelta(seconds=59)) == 1
    assert cache.get("a", NOW + timedelta(seconds=60)) is None
    cache.put("b", 2, NOW)
    cache.put("c", 3, NOW)
    assert cache.get("a", NOW) is None and cache.get("c", NOW) == 3  # the oldest went


class FakeLogs:
    def __init__(self, count: int, missing: bool = False) -> None:
        self.count, self.missing, self.calls = count, missing, 0

    def filter_log_events(self, **kwargs: object) -> dict[str, object]:
        self.calls += 1
        if self.missing:
            error = Exception("no group")
            error.response = {"Error": {"Code": "ResourceNotFoundException"}}  # type: ignore[attr-defined]
            raise error
        assert kwargs["logGroupName"] == "/aws/lambda/f"
        start = int(at(0.5).timestamp() * 1000)
        return {
            "events": [
                {"timestamp": start + n * 1000, "message": f"ERROR {n}\n", "logStreamName": "s"}
                for n in range(self.count)
            ]
        }


def test_recent_errors_newest_first_bounded_and_a_missing_group() -> None:
    logs = FakeLogs(25)
    errors, truncated, since = read_errors(logs, "f", at(3), NOW)
    assert logs.calls == 1 and since == at(1)  # the range's last day
    assert len(errors) == 20 and truncated
    assert errors[0].message == "ERROR 24"
    few, more, _ = read_errors(FakeLogs(2), "f", at(3), NOW)
    assert [e.message for e in few] == ["ERROR 1", "ERROR 0"] and not more
    assert read_errors(FakeLogs(0, missing=True), "f", at(3), NOW)[0] == ()


def test_the_daily_cost_on_the_panels_axis() -> None:
    caller = Caller("u-admin", "admin", None, frozenset())
    view = View(caller, memory_stores(), date(2026, 11, 20))

    def line(day: date, amount: str, resource: str, currency: str = "USD") -> CostRecord:
        return CostRecord(
            "ORG",
            day,
            f"{day}{resource}{amount}",
            "AWSLambda",
            resource,
            Decimal(0),
            None,
            Decimal(amount),
            Decimal(amount),
            currency,
            "Usage",
            False,
            "t",
            NOW,
            "unallocated",
        )

    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"
    records = [
        line(date(2026, 11, 17), "1.5", arn),
        line(date(2026, 11, 17), "0.5", arn),
        line(date(2026, 11, 18), "9", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:g"),
        line(date(2026, 11, 18), "7", arn, currency="EUR"),
    ]
    currency, daily = daily_cost(
        records, "lambda:f", first=date(2026, 11, 16), last=date(2026, 11, 19), view=view
    )
    assert currency == "USD"
    assert daily == (
        (date(2026, 11, 16), Decimal(0)),
        (date(2026, 11, 17), Decimal(2)),
        (date(2026, 11, 18), Decimal(0)),
        (date(2026, 11, 19), Decimal(0)),
    )


def test_the_daily_usage_beside_the_cost() -> None:
    def line(day: date, qty: str, unit: str | None, category: str = "Usage") -> CostRecord:
        return CostRecord(
            "ORG", day, f"{day}{qty}{unit}{category}", "AmazonEC2",
            f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc1234",
            Decimal(qty), unit, Decimal(1), Decimal(1), "USD", category, False, "t", NOW,
            "unallocated",
        )  # fmt: skip

    records = [
        line(date(2026, 11, 17), "12", "Hrs"),
        line(date(2026, 11, 17), "12", "Hrs"),
        line(date(2026, 11, 17), "3.5", "GB"),
        line(date(2026, 11, 17), "24", "Hrs", category="Tax"),  # not usage
        line(date(2026, 11, 18), "5", None),  # no unit: nothing to say it in
        line(date(2026, 11, 21), "24", "Hrs"),  # after the range
    ]
    usage = daily_usage(
        records, "ec2:i-0abc1234", first=date(2026, 11, 16), last=date(2026, 11, 20)
    )
    assert usage == (
        (date(2026, 11, 17), "GB", Decimal("3.5")),
        (date(2026, 11, 17), "Hrs", Decimal(24)),
    )
