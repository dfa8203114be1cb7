"""The admin's attribution coverage through the API: the share of the month that is owned and
the largest unowned resources, read from the roll-ups all-users already fetches."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tally.allocation import OwnerTagRule
from tally.ingest import ingest_days
from tally.models import CostLine
from tests.conftest import ADMIN
from tests.harness import Api


def test_all_users_says_how_much_is_owned_and_what_is_not(api: Api) -> None:
    # TALLY_TODAY is 2026-11-20 (root conftest): two November days, 2 x 37.50 owned by
    # alice's tag, 2 x 12.50 on a bucket and 2 x 0.01 on an instance that no one owns.
    days = [date(2026, 11, 1), date(2026, 11, 19)]
    lines = [
        CostLine(d, svc, rid, Decimal(a), Decimal(a), "USD", tags=tags)
        for d in days
        for svc, rid, a, tags in [
            ("AmazonEC2", "i-alice", "37.50", {"Owner": "alice"}),
            ("AmazonS3", "orphan-bucket", "12.50", {}),
            ("AmazonEC2", "i-stray", "0.01", {}),
        ]
    ]
    now = datetime(2026, 11, 20, 1, tzinfo=UTC)
    ingest_days(lines, days, stores=api.stores, rule=OwnerTagRule(), source="t", now=now)

    body = api.call("GET", "/api/billing/all-users", ADMIN).body

    assert body["attribution"] == {
        "coverage": "75.0",  # 75 of 100.02: 74.985%
        "owned": {"amount": "75.00", "currency": "USD"},
        "unallocated": {"amount": "25.02", "currency": "USD"},
        "topUnowned": [
            {
                "resourceId": "orphan-bucket",
                "resourceName": "orphan-bucket",
                "service": "AmazonS3",
                "cost": {"amount": "25.00", "currency": "USD"},
            },
            {
                "resourceId": "i-stray",
                "resourceName": "i-stray",
                "service": "AmazonEC2",
                "cost": {"amount": "0.02", "currency": "USD"},
            },
        ],
    }


def test_a_month_without_costs_has_null_coverage(api: Api) -> None:
    body = api.call("GET", "/api/billing/all-users?month=2026-11", ADMIN).body
    assert body["attribution"] == {
        "coverage": None,
        "owned": {"amount": "0.00", "currency": "USD"},
        "unallocated": {"amount": "0.00", "currency": "USD"},
        "topUnowned": [],
    }
