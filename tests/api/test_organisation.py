"""The organisation's and the unallocated views agree everywhere: a total and its lines, the
organisation and its parts, across months, through the API an admin uses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tally.allocation import OwnerTagRule
from tally.ingest import ingest_days
from tally.models import CostLine
from tests.conftest import ADMIN, ALICE
from tests.harness import Api

# A window across a month end and a year end, with usage, tax and a credit.
FIRST = date(2025, 12, 28)
DAYS = [FIRST + timedelta(days=n) for n in range(8)]  # 28 Dec .. 4 Jan


def _lines() -> list[CostLine]:
    lines = []
    for n, day in enumerate(DAYS):
        lines += [
            CostLine(
                day,
                "AmazonEC2",
                "i-alice",
                Decimal("3.10"),
                Decimal("2.90"),
                "USD",
                tags={"Owner": "alice"},
            ),
            CostLine(
                day, "AmazonS3", "bucket-nobody", Decimal("0.333333"), Decimal("0.333333"), "USD"
            ),
            CostLine(
                day,
                "AmazonRDS",
                "db-former",
                Decimal(n + 1),
                Decimal(n + 1),
                "USD",
                tags={"Owner": "someone-who-left"},
            ),
        ]
    lines.append(
        CostLine(
            DAYS[3], "Tax", None, Decimal("4.20"), Decimal("4.20"), "USD", charge_category="Tax"
        )
    )
    lines.append(
        CostLine(
            DAYS[5],
            "AmazonEC2",
            "i-alice",
            Decimal("-1.00"),
            Decimal("-1.00"),
            "USD",
            charge_category="Credit",
            tags={"Owner": "alice"},
        )
    )
    return lines


@pytest.fixture
def ingested(api: Api) -> Api:
    now = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
    ingest_days(_lines(), DAYS, stores=api.stores, rule=OwnerTagRule(), source="t", now=now)
    return api


def _all_lines(api: Api, path: str, query: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    token = ""
    while True:
        reply = api.call("GET", f"{path}?{query}&limit=100{token}", ADMIN)
        assert reply.status == 200, reply.body
        lines += reply.body["lines"]
        if not reply.body["nextToken"]:
            return lines
        token = f"&nextToken={reply.body['nextToken']}"


def _total(api: Api, path: str, query: str) -> Decimal:
    reply = api.call("GET", f"{path}?{query}", ADMIN)
    assert reply.status == 200, reply.body
    return Decimal(reply.body["total"]["amount"])


QUERY = f"startDate={DAYS[0]}&endDate={DAYS[-1]}"


def test_each_scope_total_equals_the_sum_of_its_lines(ingested: Api) -> None:
    for scope in (
        "/api/billing/organisation",
        "/api/billing/unallocated",
        "/api/billing/user/u-alice",
    ):
        lines = _all_lines(ingested, f"{scope}/cost-lines", QUERY)
        assert lines, scope
        assert _total(ingested, f"{scope}/costs", QUERY) == sum(
            Decimal(line["cost"]["amount"]) for line in lines
        ), scope


def test_organisation_is_its_users_plus_unallocated_to_the_digit(ingested: Api) -> None:
    expected = sum((line.effective_cost for line in _lines()), Decimal(0))
    org = _total(ingested, "/api/billing/organisation/costs", QUERY)
    parts = _total(ingested, "/api/billing/user/u-alice/costs", QUERY) + _total(
        ingested, "/api/billing/unallocated/costs", QUERY
    )
    assert org == parts == expected


def test_organisation_lines_are_as_billed_before_allocation(ingested: Api) -> None:
    lines = _all_lines(ingested, "/api/billing/organisation/cost-lines", QUERY)
    assert {line["allocation"] for line in lines} == {"organisation"}
    assert len(lines) == len(_lines())
    unallocated = _all_lines(ingested, "/api/billing/unallocated/cost-lines", QUERY)
    assert {line["allocation"] for line in unallocated} == {"unallocated"}


def test_all_users_month_agrees_with_the_organisation_routes(ingested: Api) -> None:
    for month, first, last in (
        ("2025-12", "2025-12-01", "2025-12-31"),
        ("2026-01", "2026-01-01", "2026-01-31"),
    ):
        view = ingested.call("GET", f"/api/billing/all-users?month={month}", ADMIN).body
        query = f"startDate={first}&endDate={last}"
        assert Decimal(view["organisationTotal"]["amount"]) == _total(
            ingested, "/api/billing/organisation/costs", query
        )
        assert Decimal(view["unallocated"]["amount"]) == _total(
            ingested, "/api/billing/unallocated/costs", query
        )


def test_a_user_may_not_read_the_organisation(ingested: Api) -> None:
    for path in ("organisation/costs", "unallocated/cost-lines"):
        assert ingested.call("GET", f"/api/billing/{path}", ALICE).status == 403
