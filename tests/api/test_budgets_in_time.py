"""Budget history, and the summary and all-users views in the first days of a month, through
the API handler against DynamoDB (moto), on a pinned business date."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tally.models import ORG, UNALLOCATED, Amounts, MonthlyRollup, RollupSection
from tests.conftest import ADMIN, ALICE
from tests.harness import Api


def pin(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setenv("TALLY_TODAY", day)


def put_month(api: Api, owner: str, month: str, amount: str) -> None:
    a = Amounts(Decimal(amount), Decimal(amount))
    section = RollupSection(a, {"AmazonEC2": a}, {"Usage": a}, {f"{month}-01": a}, {}, [])
    api.stores.rollups.put(
        MonthlyRollup(owner, month, {"USD": section}, False, 1, datetime(2026, 1, 1, tzinfo=UTC))
    )


def put_org_month(api: Api, month: str, alice: str, unallocated: str) -> None:
    put_month(api, "u-alice", month, alice)
    put_month(api, UNALLOCATED, month, unallocated)
    put_month(api, ORG, month, str(Decimal(alice) + Decimal(unallocated)))


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


def test_budget_history_through_create_update_and_read(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin(monkeypatch, "2026-11-20")
    created = api.call(
        "POST",
        "/api/billing/budgets",
        ALICE,
        body={"userId": "u-alice", "monthlyLimit": "100", "effectiveFrom": "2026-09"},
    )
    assert created.status == 201, created.body
    september = {
        "effectiveFrom": "2026-09",
        "monthlyLimit": usd("100.00"),
        "alertThreshold": 80,
        "currency": "USD",
    }
    assert created.body["effectiveFrom"] == "2026-09"
    assert created.body["history"] == [september]

    url = f"/api/billing/budgets/{created.body['budgetId']}"
    updated = api.call("PUT", url, ALICE, body={"monthlyLimit": "300"}, headers={"If-Match": '"1"'})
    assert updated.status == 200, updated.body
    assert updated.headers["ETag"] == '"2"'
    november = {**september, "effectiveFrom": "2026-11", "monthlyLimit": usd("300.00")}
    assert updated.body["history"] == [september, november]
    assert (updated.body["effectiveFrom"], updated.body["monthlyLimit"]) == (
        "2026-11",
        usd("300.00"),
    )
    read = api.call("GET", "/api/billing/budgets/u-alice", ALICE)
    assert read.body == updated.body

    # Only the month moves: the current terms are backdated to October.
    moved = api.call("PUT", url, ADMIN, body={"effectiveFrom": "2026-10"})
    assert moved.status == 200, moved.body
    assert [h["effectiveFrom"] for h in moved.body["history"]] == ["2026-09", "2026-10"]
    assert moved.body["history"][-1]["monthlyLimit"] == usd("300.00")


def test_on_1_december_november_is_judged_by_novembers_budget(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_org_month(api, "2026-11", "500", "12.5")
    pin(monkeypatch, "2026-12-01")
    created = api.call(
        "POST", "/api/billing/budgets", ALICE, body={"userId": "u-alice", "monthlyLimit": "100"}
    )
    assert created.status == 201 and created.body["effectiveFrom"] == "2026-12"

    summary = api.call("GET", "/api/billing/user/u-alice/summary", ALICE)
    assert summary.status == 200, summary.body
    body = summary.body
    assert (body["month"], body["today"], body["noCostsYet"], body["firstCostsExpected"]) == (
        "2026-12",
        "2026-12-01",
        True,
        "2026-12-03",
    )
    assert body["total"] == usd("0.00")
    assert [body[k] for k in ("status", "percentUsed", "remaining", "remainingPct")] == [None] * 4
    assert body["budget"]["monthlyLimit"] == usd("100.00")
    assert body["budget"]["effectiveFrom"] == "2026-12"
    assert body["previousMonth"] == {
        "month": "2026-11",
        "total": usd("500.00"),
        "budget": None,  # created in December: November had none, so it is not "over"
        "status": None,
        "percentUsed": None,
        "remaining": None,
        "final": False,  # 30 November's costs arrive on 2 December
        "budgetJudgedIn": None,  # no budget, nothing converted into its currency
    }

    admin = api.call("GET", "/api/billing/all-users", ADMIN)
    assert admin.status == 200, admin.body
    view = admin.body
    assert (view["month"], view["today"], view["noCostsYet"], view["firstCostsExpected"]) == (
        "2026-12",
        "2026-12-01",
        True,
        "2026-12-03",
    )
    assert view["previousMonth"] == {
        "month": "2026-11",
        "organisationTotal": usd("512.50"),
        "unallocated": usd("12.50"),
        "final": False,
    }
    alice = next(r for r in view["users"] if r["userId"] == "u-alice")
    assert (alice["budget"], alice["status"]) == (usd("100.00"), None)
    assert alice["previousMonth"] == {"total": usd("500.00"), "budget": None, "status": None}

    november = api.call("GET", "/api/billing/all-users?month=2026-11", ADMIN).body
    alice = next(r for r in november["users"] if r["userId"] == "u-alice")
    assert (alice["total"], alice["budget"], alice["status"]) == (usd("500.00"), None, None)
    assert (november["noCostsYet"], november["firstCostsExpected"]) == (False, None)


def test_each_month_is_judged_by_its_own_terms(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    pin(monkeypatch, "2026-11-15")
    created = api.call(
        "POST",
        "/api/billing/budgets",
        ADMIN,
        body={"userId": "u-alice", "monthlyLimit": "100", "effectiveFrom": "2026-09"},
    ).body
    api.call(
        "PUT", f"/api/billing/budgets/{created['budgetId']}", ADMIN, body={"monthlyLimit": 300}
    )
    put_org_month(api, "2026-10", "200", "0")
    put_org_month(api, "2026-11", "200", "0")

    body = api.call("GET", "/api/billing/user/u-alice/summary", ALICE).body
    assert (body["noCostsYet"], body["status"], body["percentUsed"]) == (False, "under", "66.7")
    assert body["budget"]["monthlyLimit"] == usd("300.00")
    last = body["previousMonth"]
    assert (last["month"], last["status"], last["percentUsed"], last["final"]) == (
        "2026-10",
        "over",
        "200.0",
        True,
    )
    assert (last["budget"]["monthlyLimit"], last["budget"]["effectiveFrom"]) == (
        usd("100.00"),
        "2026-09",
    )
    assert last["remaining"] == usd("-100.00")

    october = api.call("GET", "/api/billing/all-users?month=2026-10", ADMIN).body
    alice = next(r for r in october["users"] if r["userId"] == "u-alice")
    assert (alice["budget"], alice["status"]) == (usd("100.00"), "over")
    november = api.call("GET", "/api/billing/all-users?month=2026-11", ADMIN).body
    alice = next(r for r in november["users"] if r["userId"] == "u-alice")
    assert (alice["budget"], alice["status"]) == (usd("300.00"), "under")
    assert alice["previousMonth"] == {
        "total": usd("200.00"),
        "budget": usd("100.00"),
        "status": "over",
    }
    planned = api.call("GET", "/api/billing/all-users?month=2027-03", ADMIN).body
    alice = next(r for r in planned["users"] if r["userId"] == "u-alice")
    assert (alice["budget"], alice["status"], planned["noCostsYet"]) == (
        usd("300.00"),
        None,
        True,
    )
