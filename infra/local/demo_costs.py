"""A deterministic FOCUS 1.2 export for the demo organisation's resources.

The local stack gets its costs the way AWS would give them: as a FOCUS file in the export
bucket, read by the ingest job. The shape is chosen so every screen has something to show:
a weekday rhythm, one cost spike, one idle instance, untagged and unassigned resources
(unallocated cost), a monthly tax line, a credit, and the last days still estimated.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from tally.calendar import month_bounds

HEADER = [
    "BillingAccountId",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "BillingCurrency",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ServiceName",
    "ResourceId",
    "ResourceType",
    "RegionId",
    "Tags",
    "x_Estimated",
]
ACCOUNT = "123456789012"
ESTIMATED_DAYS = 2  # AWS keeps restating the most recent days


@dataclass(frozen=True)
class DemoResource:
    service: str  # FOCUS ServiceName
    resource_id: str  # as the export names it (ARN)
    resource_type: str
    daily_cost: Decimal  # a typical weekday
    unit: str
    tags: dict[str, str] = field(default_factory=dict)
    pattern: str = "weekday"  # weekday | flat | idle | spike
    name: str = ""  # a stable name (the demo plan's), so its noise does not follow random ids
    # The usage's list price per unit: the consumed quantity is the cost over it (else 24
    # hours a day, or ten units per dollar).
    unit_price: Decimal | None = None
    # Not used in the last this many days of the export (0: used to the end): no line then.
    stopped_days_before_end: int = 0


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


def daily_amount(resource: DemoResource, day: date, spike_day: date, seed: int = 7) -> Decimal:
    """What ``resource`` costs on ``day``. The noise depends on the resource and the day alone,
    not on where the window starts, so a day can be priced without generating the others and
    keeps its cost when the export is rewritten a day later (only the spike follows the end)."""
    base = resource.daily_cost
    if resource.pattern == "idle":
        # A forgotten instance idling at its on-demand price: flat, no weekday rhythm.
        return _cents(base)
    factor = Decimal("1")
    if resource.pattern == "weekday" and day.weekday() >= 5:
        factor = Decimal("0.35")  # weekends are quiet
    if resource.pattern == "spike" and spike_day <= day < spike_day + timedelta(days=2):
        factor = Decimal("6")  # someone left a load test running
    rng = random.Random(f"{seed}/{resource.name or resource.resource_id}/{day.isoformat()}")
    noise = Decimal(str(round(rng.uniform(0.9, 1.1), 4)))
    return _cents(base * factor * noise)


def _quantity(resource: DemoResource, amount: Decimal) -> Decimal:
    if resource.unit_price is not None:
        return _cents(amount / resource.unit_price)
    return Decimal(24) if resource.unit == "Hrs" else _cents(amount * 10)


def daily_usage(
    resources: list[DemoResource], *, end: date, days: int = 90, seed: int = 7
) -> Iterator[tuple[date, DemoResource, Decimal]]:
    """(day, resource, usage cost) for the ``days`` UTC days before ``end`` (exclusive)."""
    spike_day = end - timedelta(days=12)
    day = end - timedelta(days=days)
    while day < end:
        for r in resources:
            if day >= end - timedelta(days=r.stopped_days_before_end):
                continue
            yield day, r, daily_amount(r, day, spike_day, seed)
        day += timedelta(days=1)


def generate_focus_csv(
    resources: list[DemoResource], *, end: date, days: int = 90, seed: int = 7
) -> str:
    """Rows for the ``days`` UTC days before ``end`` (exclusive), one per resource and day."""
    start = end - timedelta(days=days)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    tax_months: dict[date, Decimal] = {}
    for day, r, amount in daily_usage(resources, end=end, days=days, seed=seed):
        period_start, period_end = month_bounds(day)
        estimated = "true" if day >= end - timedelta(days=ESTIMATED_DAYS) else "false"
        tax_months[period_start] = tax_months.get(period_start, Decimal(0)) + amount
        writer.writerow(
            [
                ACCOUNT,
                f"{period_start}T00:00:00Z",
                f"{period_end}T00:00:00Z",
                f"{day}T00:00:00Z",
                f"{day + timedelta(days=1)}T00:00:00Z",
                "Usage",
                "",
                f"{r.service} usage",
                amount,
                amount,
                amount,
                "USD",
                _quantity(r, amount),
                r.unit,
                r.service,
                r.resource_id,
                r.resource_type,
                "us-east-1",
                json.dumps(r.tags, sort_keys=True),
                estimated,
            ]
        )
    for period_start, usage in sorted(tax_months.items()):
        period_end = month_bounds(period_start)[1]
        tax_day = max(period_start, start)
        writer.writerow(
            [
                ACCOUNT,
                f"{period_start}T00:00:00Z",
                f"{period_end}T00:00:00Z",
                f"{tax_day}T00:00:00Z",
                f"{tax_day + timedelta(days=1)}T00:00:00Z",
                "Tax",
                "",
                "Sales tax",
                _cents(usage * Decimal("0.05")),
                _cents(usage * Decimal("0.05")),
                _cents(usage * Decimal("0.05")),
                "USD",
                "",
                "",
                "Tax",
                "",
                "",
                "",
                "{}",
                "true" if period_end > end else "false",
            ]
        )
    credit_day = end - timedelta(days=20)
    period_start, period_end = month_bounds(credit_day)
    writer.writerow(
        [
            ACCOUNT,
            f"{period_start}T00:00:00Z",
            f"{period_end}T00:00:00Z",
            f"{credit_day}T00:00:00Z",
            f"{credit_day + timedelta(days=1)}T00:00:00Z",
            "Credit",
            "",
            "Promotional credit",
            "-25.000000",
            "-25.000000",
            "-25.000000",
            "USD",
            "",
            "",
            "AmazonEC2",
            "",
            "",
            "",
            "{}",
            "false",
        ]
    )
    return out.getvalue()
