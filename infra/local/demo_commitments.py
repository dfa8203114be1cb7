"""The demo organisation's reserved capacity: a Compute Savings Plan ending 20 days after the
demo's today (so finance is told it ends within 30 days), a reservation of two m6i.large with
months to run, three months of utilisation and coverage, and two purchase recommendations.

moto serves none of Cost Explorer's reservation and Savings Plans calls, so the demo answers
them with recorded responses through botocore's ``Stubber`` on real ``ce`` and
``savingsplans`` clients: each request and response is validated against the services' models,
and the stored snapshot and the expiry notices come from the same code as in AWS
(``tally.commitments.refresh``). The local reports function's own daily refresh asks moto,
which refuses; the refresh then keeps this snapshot (a ``CommitmentsRefreshFailed`` metric).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import boto3
from botocore.stub import Stubber

from tally.commitments.cost_explorer import EC2_SERVICE, LOOKBACK, PAYMENT, SP_STATES, TERM, window

ACCOUNT = "123456789012"
SAVINGS_PLAN_ID = "a1b2c3d4-demo-0001"
SAVINGS_PLAN_ARN = f"arn:aws:savingsplans::{ACCOUNT}:savingsplan/{SAVINGS_PLAN_ID}"
RESERVATION_ID = "ri-0demo4f1a2b3c4d5"
SAVINGS_PLAN_DAYS_LEFT = 20


def _months(today: date) -> list[tuple[str, str]]:
    start, end = window(today)
    months = []
    first = start
    while first < end:
        nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        months.append((first.isoformat(), min(nxt, end).isoformat()))
        first = nxt
    return months


def recorded_clients(today: date, *, region: str) -> tuple[Any, Any, list[Stubber]]:
    """``ce`` and ``savingsplans`` clients that answer one refresh of ``today``."""
    ce = boto3.client("ce", region_name=region)
    sp = boto3.client("savingsplans", region_name=region)
    ce_stub, sp_stub = Stubber(ce), Stubber(sp)
    start, end = window(today)
    monthly = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "MONTHLY",
    }
    months = _months(today)
    sp_used = ["91.4", "94.2", "96.8", "97.5"]
    ri_used = ["78.0", "82.5", "85.0", "88.0"]
    ce_stub.add_response(
        "get_savings_plans_utilization",
        {
            "SavingsPlansUtilizationsByTime": [
                {
                    "TimePeriod": {"Start": s, "End": e},
                    "Utilization": {
                        "TotalCommitment": "744.00",
                        "UsedCommitment": f"{744 * float(p) / 100:.2f}",
                        "UnusedCommitment": f"{744 - 744 * float(p) / 100:.2f}",
                        "UtilizationPercentage": p,
                    },
                    "Savings": {"NetSavings": "212.60"},
                }
                for (s, e), p in zip(months, sp_used, strict=False)
            ],
            "Total": {"Utilization": {"UtilizationPercentage": "95"}},
        },
        monthly,
    )
    ce_stub.add_response(
        "get_reservation_utilization",
        {
            "UtilizationsByTime": [
                {
                    "TimePeriod": {"Start": s, "End": e},
                    "Total": {
                        "UtilizationPercentage": p,
                        "TotalAmortizedFee": "140.16",
                        "RICostForUnusedHours": f"{140.16 * (100 - float(p)) / 100:.2f}",
                        "NetRISavings": "41.20",
                    },
                }
                for (s, e), p in zip(months, ri_used, strict=False)
            ]
        },
        monthly,
    )
    ce_stub.add_response(
        "get_savings_plans_coverage",
        {
            "SavingsPlansCoverages": [
                {
                    "TimePeriod": {"Start": s, "End": e},
                    "Coverage": {"CoveragePercentage": c, "OnDemandCost": "318.40"},
                }
                for (s, e), c in zip(months, ["58.0", "61.5", "63.0", "64.2"], strict=False)
            ]
        },
        monthly,
    )
    ce_stub.add_response(
        "get_reservation_coverage",
        {
            "CoveragesByTime": [
                {
                    "TimePeriod": {"Start": s, "End": e},
                    "Total": {
                        "CoverageHours": {"CoverageHoursPercentage": c},
                        "CoverageCost": {"OnDemandCost": "96.00"},
                    },
                }
                for (s, e), c in zip(months, ["35.0", "38.0", "40.0", "41.0"], strict=False)
            ]
        },
        monthly,
    )
    plan_end = today + timedelta(days=SAVINGS_PLAN_DAYS_LEFT)
    plan_start = plan_end - timedelta(days=365)
    sp_stub.add_response(
        "describe_savings_plans",
        {
            "savingsPlans": [
                {
                    "savingsPlanId": SAVINGS_PLAN_ID,
                    "savingsPlanArn": SAVINGS_PLAN_ARN,
                    "start": f"{plan_start.isoformat()}T00:00:00.000Z",
                    "end": f"{plan_end.isoformat()}T00:00:00.000Z",
                    "state": "active",
                    "savingsPlanType": "Compute",
                    "currency": "USD",
                    "commitment": "1.00",
                    "paymentOption": "No Upfront",
                }
            ]
        },
        {"states": SP_STATES},
    )
    ri_end = today + timedelta(days=240)
    ri_start = ri_end - timedelta(days=365)
    ce_stub.add_response(
        "get_reservation_utilization",
        {
            "UtilizationsByTime": [
                {
                    "TimePeriod": {"Start": months[-1][0], "End": months[-1][1]},
                    "Groups": [
                        {
                            "Key": "SUBSCRIPTION_ID",
                            "Value": "demo-sub-1",
                            "Attributes": {
                                "leaseId": RESERVATION_ID,
                                "instanceType": "m6i.large",
                                "numberOfInstances": "2",
                                "region": region,
                                "startDateTime": f"{ri_start.isoformat()}T00:00:00.000Z",
                                "endDateTime": f"{ri_end.isoformat()}T00:00:00.000Z",
                            },
                        }
                    ],
                }
            ]
        },
        {**monthly, "GroupBy": [{"Type": "DIMENSION", "Key": "SUBSCRIPTION_ID"}]},
    )
    recommendation = {
        "TermInYears": TERM,
        "PaymentOption": PAYMENT,
        "LookbackPeriodInDays": LOOKBACK,
    }
    ce_stub.add_response(
        "get_savings_plans_purchase_recommendation",
        {
            "SavingsPlansPurchaseRecommendation": {
                "SavingsPlansPurchaseRecommendationDetails": [
                    {
                        "HourlyCommitmentToPurchase": "0.40",
                        "UpfrontCost": "0",
                        "EstimatedMonthlySavingsAmount": "86.72",
                        "EstimatedSavingsPercentage": "22.9",
                        "CurrencyCode": "USD",
                    }
                ]
            }
        },
        {"SavingsPlansType": "COMPUTE_SP", **recommendation},
    )
    ce_stub.add_response(
        "get_reservation_purchase_recommendation",
        {
            "Recommendations": [
                {
                    "RecommendationDetails": [
                        {
                            "InstanceDetails": {
                                "EC2InstanceDetails": {
                                    "InstanceType": "r6g.large",
                                    "Region": region,
                                }
                            },
                            "RecommendedNumberOfInstancesToPurchase": "1",
                            "UpfrontCost": "420.00",
                            "EstimatedMonthlySavingsAmount": "31.54",
                            "EstimatedMonthlySavingsPercentage": "27.0",
                            "CurrencyCode": "USD",
                        }
                    ]
                }
            ]
        },
        {"Service": EC2_SERVICE, **recommendation},
    )
    ce_stub.activate()
    sp_stub.activate()
    return ce, sp, [ce_stub, sp_stub]


def seed_demo_commitments(stores: Any, topic: Any, *, today: date, now: Any, region: str) -> Any:
    """Run one reserved-capacity refresh of the demo through the recorded clients."""
    from tally.commitments.refresh import refresh_commitments

    ce, sp, stubs = recorded_clients(today, region=region)
    clients: dict[str, Any] = {"ce": ce, "savingsplans": sp}
    client: Callable[[str], Any] = clients.__getitem__
    try:
        return refresh_commitments(stores, client, topic=topic, today=today, now=now)
    finally:
        for stub in stubs:
            stub.deactivate()
