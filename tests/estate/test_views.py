"""tally.estate.views, pure: a resource's cost figures (window, trend, month to date, other
currencies), the index by resource, cost per million invocations, network cost kinds and
savings, the caller's reach and the estate's regions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tally.errors import Invalid
from tally.estate.models import (
    FunctionMetrics,
    LambdaFunction,
    NatGateway,
    PublicAddress,
    VpcEndpoint,
)
from tally.estate.ownership import Owners
from tally.estate.views import (
    CostIndex,
    EstateLocation,
    FunctionView,
    NetworkCost,
    Reach,
    cost_figures,
    network_kind,
    network_savings,
)
from tally.models import CostRecord, Metric

TODAY = date(2026, 11, 20)  # a Friday; the window ends yesterday
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"


def record(
    day: date,
    amount: str,
    *,
    resource: str | None = ARN,
    service: str = "AWSLambda",
    currency: str = "USD",
    unit: str | None = None,
    quantity: str = "0",
    billed: str | None = None,
) -> CostRecord:
    return CostRecord(
        owner="ORG",
        day=day,
        line_id=f"{day}{resource}{unit}{amount}",
        service=service,
        resource_id=resource,
        usage_quantity=Decimal(quantity),
        usage_unit=unit,
        billed_cost=Decimal(billed or amount),
        effective_cost=Decimal(amount),
        currency=currency,
        charge_category="Usage",
        estimated=False,
        source="t",
        fetched_at=NOW,
        allocation="unallocated",
    )


def figures(*records: CostRecord, metric: Metric = Metric.EFFECTIVE, currency: str = "USD"):  # type: ignore[no-untyped-def]
    return cost_figures(records, today=TODAY, metric=metric, currency=currency)


def test_the_last_30_complete_days_the_30_before_and_the_month() -> None:
    f = figures(
        record(TODAY, "99"),  # today: not complete, left out
        record(TODAY - timedelta(days=1), "2", unit="Requests", quantity="10"),
        record(TODAY - timedelta(days=30), "3"),  # the window's first day (Oct 21)
        record(TODAY - timedelta(days=31), "5"),  # the 30 before
        record(TODAY - timedelta(days=60), "7"),  # their first day
        record(TODAY - timedelta(days=61), "100"),  # outside both
        record(date(2026, 11, 1), "1"),
    )
    assert f.last_30_days == Decimal(6)
    assert f.previous_30_days == Decimal(12)
    assert f.month_to_date == Decimal(3)  # Nov 1 and Nov 19
    assert f.trend_pct == Decimal("-50.0")
    assert len(f.daily) == 30 and f.daily[0] == (date(2026, 10, 21), Decimal(3))
    assert f.daily[-1] == (date(2026, 11, 19), Decimal(2))
    assert f.usage == {"Requests": Decimal(10)}


def test_no_trend_without_a_base_and_the_metric_chosen() -> None:
    yesterday = TODAY - timedelta(days=1)
    assert figures(record(yesterday, "4")).trend_pct is None
    billed = figures(record(yesterday, "4", billed="5"), metric=Metric.BILLED)
    assert billed.last_30_days == Decimal(5)


def test_other_currencies_are_left_out_never_converted() -> None:
    yesterday = TODAY - timedelta(days=1)
    f = figures(record(yesterday, "4"), record(yesterday, "9", currency="EUR"))
    assert (f.currency, f.last_30_days) == ("USD", Decimal(4))


def test_the_index_groups_by_resource_and_picks_the_commonest_currency() -> None:
    yesterday = TODAY - timedelta(days=1)
    eur = "arn:aws:lambda:eu-west-1:123456789012:function:abroad"
    index = CostIndex(
        [
            record(yesterday, "1"),
            record(yesterday - timedelta(days=1), "2"),
            record(yesterday, "3", resource=eur, currency="EUR"),
            record(yesterday, "4", resource=None, service="Tax"),
        ],
        today=TODAY,
        metric=Metric.EFFECTIVE,
        currency="USD",
    )
    assert index.of("lambda:orders").last_30_days == Decimal(3)
    assert index.of("lambda:abroad").currency == "EUR"
    assert index.of("lambda:none").last_30_days == 0 and index.of("lambda:none").currency == "USD"
    assert [r.service for r in index.unkeyed] == ["Tax"]


def view_of(metrics: FunctionMetrics | None, last_30: str) -> FunctionView:
    fn = LambdaFunction("orders", ARN, "us-east-1", "python3.12", "arm64", 128, 3, "x", None, {})
    cost = figures(*(record(TODAY - timedelta(days=d), last_30) for d in range(1, 31)))
    return FunctionView(fn, Owners({}), cost, metrics, [], NOW)


def test_cost_per_million_invocations() -> None:
    week = FunctionMetrics("orders", NOW - timedelta(days=7), NOW, 70_000, 0)
    # 0.50 a day over 10,000 calls a day: 50.00 per million
    assert view_of(week, "0.50").cost_per_million == Decimal("50.0000")
    assert (
        view_of(FunctionMetrics("orders", NOW - timedelta(days=7), NOW, 0, 0), "1").cost_per_million
        is None
    )
    assert view_of(None, "1").cost_per_million is None


@pytest.mark.parametrize(
    ("service", "resource", "unit", "kind"),
    [
        ("AmazonEC2", "arn:aws:ec2:us-east-1:1:natgateway/nat-1", "Hrs", "nat-hours"),
        ("AmazonEC2", "arn:aws:ec2:us-east-1:1:natgateway/nat-1", "GB", "nat-data"),
        ("AmazonEC2", "nat-0abc", "Bytes", "nat-data"),
        ("AmazonVPC", "arn:aws:ec2:us-east-1:1:vpc-endpoint/vpce-1", "Hrs", "endpoints"),
        ("AmazonVPC", "arn:aws:ec2:us-east-1:1:elastic-ip/eipalloc-1", "Hrs", "public-ipv4"),
        ("AmazonVPC", "", "IPv4-Hrs", "public-ipv4"),
        ("AWS Data Transfer", "", "GB", "data-transfer"),
        ("AWSLambda", ARN, "Requests", None),
        ("AmazonEC2", "arn:aws:ec2:us-east-1:1:instance/i-1", "Hrs", None),
    ],
)
def test_network_kind(service: str, resource: str, unit: str, kind: str | None) -> None:
    r = record(TODAY, "1", resource=resource or None, service=service, unit=unit)
    assert network_kind(r) == kind


def test_network_savings() -> None:
    yesterday = TODAY - timedelta(days=1)
    hours = figures(*(record(yesterday - timedelta(days=d), "1.08") for d in range(30)))
    zero = figures()
    cost = NetworkCost(hours, zero, zero, zero, zero)
    nats = [
        NatGateway("nat-idle", "vpc-a", "subnet-1", "available", ()),
        NatGateway("nat-busy", "vpc-b", "subnet-2", "available", ()),
        NatGateway("nat-gone", "vpc-b", "subnet-3", "deleted", ()),
    ]
    addresses = [
        PublicAddress("1.1.1.1", "eipalloc-free", None, None),
        PublicAddress("2.2.2.2", "eipalloc-used", "eipassoc-1", "eni-1"),
        PublicAddress("3.3.3.3", None, None, "eni-2"),  # not elastic: the instance's own
    ]
    endpoints = [
        VpcEndpoint("vpce-1", "vpc-b", "com.amazonaws.us-east-1.s3", "Gateway", "available")
    ]
    savings = network_savings(
        nats=nats,
        addresses=addresses,
        endpoints=endpoints,
        cost=cost,
        nat_bytes={"nat-busy": Decimal(5)},
        region="us-east-1",
    )
    assert [(s.code, s.resource) for s in savings] == [
        ("network.idle-nat-gateway", "nat-idle"),
        ("network.unattached-eip", "eipalloc-free"),
        ("network.s3-gateway-endpoint", "vpc-a"),
    ]
    # a third of the NAT hours (three gateways), and 730 hours of an address
    assert savings[0].monthly == Decimal("10.80")
    assert savings[1].monthly == Decimal("3.65")


def test_reach_and_regions() -> None:
    mine = Owners({"u-alice": Decimal(40), "u-bob": Decimal(60)})
    assert Reach(False, "u-alice").sees(mine) and not Reach(False, "u-carol").sees(mine)
    assert Reach(True, "u-carol").sees(Owners({}))
    where = EstateLocation("1", ("eu-west-1", "us-east-1"))
    assert where.region(None) == "eu-west-1" and where.region("us-east-1") == "us-east-1"
    with pytest.raises(Invalid) as refused:
        where.region("ap-south-1")
    assert refused.value.errors[0].field == "region"
