"""ETag and If-None-Match through the handler: 304 on an unchanged summary, decided from the
versions alone; a new ETag after a budget edit, an ingest, a new day; never one user's 304 for
another; no ETag on problems or writes; every other GET revalidates by its body."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pynamodb.connection.base import Connection

from tally import budgets
from tally.allocation import OwnerTagRule
from tally.clock import fixed_clock
from tally.ingest import ingest_days
from tally.models import CostLine
from tally.view import View
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api, Reply

TODAY = date(2026, 11, 20)  # the root conftest's TALLY_TODAY
SUMMARY = "/api/billing/user/u-alice/summary"


def ingest(api: Api, days: list[date], amount: str, at: datetime) -> None:
    lines = [
        CostLine(
            d,
            "AmazonEC2",
            "i-alice",
            Decimal(amount),
            Decimal(amount),
            "USD",
            tags={"Owner": "alice"},
        )
        for d in days
    ]
    ingest_days(lines, days, stores=api.stores, rule=OwnerTagRule(), source="t", now=at)


@pytest.fixture
def org(api: Api) -> Api:
    """alice's October and November to the 19th, and her budget."""
    days = [date(2026, 10, 1) + timedelta(days=n) for n in range(50)]
    ingest(api, days, "10.25", datetime.combine(TODAY, time(0, 30), UTC))
    budgets.create_budget(
        View(ADMIN, api.stores, TODAY),
        budgets.BudgetRequest("u-alice", Decimal(500), 80),
        clock=fixed_clock(datetime.combine(TODAY, time(1), UTC)),
    )
    return api


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every DynamoDB request pynamodb sends, with its parameters (calls go through)."""
    seen: list[tuple[str, dict[str, Any]]] = []
    real = Connection.dispatch

    def recording(self: Connection, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        seen.append((operation, kwargs))
        return real(self, operation, kwargs)

    monkeypatch.setattr(Connection, "dispatch", recording)
    yield seen


def revalidate(api: Api, url: str, caller: Any, etag: str) -> Reply:
    return api.call("GET", url, caller, headers={"If-None-Match": etag})


def test_an_unchanged_summary_is_304_without_reading_the_figures(
    org: Api, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    first = org.call("GET", SUMMARY, ALICE)
    assert first.status == 200 and first.body["total"]["amount"] == "194.75"
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert "Authorization" in first.headers["Vary"]

    calls.clear()
    again = revalidate(org, SUMMARY, ALICE, etag)
    assert again.status == 304 and again.body is None
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "private, no-cache"
    assert "Content-Type" not in again.headers
    # The roll-ups' versions (one Query) and the budget's (one GetItem), each projected: the
    # figures (what the summary reads, unprojected) are never read.
    data = [
        (op, kw) for op, kw in calls if "rollups" in kw["TableName"] or "budgets" in kw["TableName"]
    ]
    assert sorted(op for op, _ in data) == ["GetItem", "Query"]
    assert all("ProjectionExpression" in kw for _, kw in data)
    # Weak and listed forms name it too (RFC 9110 weak comparison).
    assert revalidate(org, SUMMARY, ALICE, f'"nope", W/{etag}').status == 304


def test_a_miss_reads_as_usual_and_a_plain_read_costs_no_version_read(
    org: Api, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    etag = org.call("GET", SUMMARY, ALICE).headers["ETag"]
    calls.clear()
    assert org.call("GET", SUMMARY, ALICE).headers["ETag"] == etag
    plain = Counter(
        op for op, kw in calls if "rollups" in kw["TableName"] or "budgets" in kw["TableName"]
    )
    assert plain == Counter({"Query": 1, "GetItem": 1})  # as before ETags: no extra request
    stale = revalidate(org, SUMMARY, ALICE, '"an-old-one"')
    assert stale.status == 200 and stale.headers["ETag"] == etag


def test_a_budget_edit_changes_the_summary_etag(org: Api) -> None:
    first = org.call("GET", SUMMARY, ALICE)
    budget = org.call("GET", "/api/billing/budgets/u-alice", ALICE)
    edit = org.call(
        "PUT",
        f"/api/billing/budgets/{budget.body['budgetId']}",
        ADMIN,
        body={"monthlyLimit": "600"},
        headers={"If-Match": budget.headers["ETag"]},
    )
    assert edit.status == 200, edit.body
    after = revalidate(org, SUMMARY, ALICE, first.headers["ETag"])
    assert after.status == 200 and after.body["budget"]["monthlyLimit"]["amount"] == "600.00"
    assert after.headers["ETag"] != first.headers["ETag"]
    assert revalidate(org, SUMMARY, ALICE, after.headers["ETag"]).status == 304


def test_an_ingest_that_writes_the_rollup_changes_the_etag(org: Api) -> None:
    first = org.call("GET", SUMMARY, ALICE)
    # A restatement of the 18th: the same day, a new amount.
    ingest(org, [date(2026, 11, 18)], "12.00", datetime.combine(TODAY, time(6), UTC))
    after = revalidate(org, SUMMARY, ALICE, first.headers["ETag"])
    assert after.status == 200 and after.body["total"]["amount"] == "196.50"
    assert after.headers["ETag"] != first.headers["ETag"]


def test_a_new_day_changes_the_etag(org: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same data is another summary on another day (the verdict of a month, the forecast's
    # day, when costs are expected): the 1st of a month on purpose.
    first = org.call("GET", SUMMARY, ALICE)
    monkeypatch.setenv("TALLY_TODAY", "2026-11-21")
    nxt = revalidate(org, SUMMARY, ALICE, first.headers["ETag"])
    assert nxt.status == 200 and nxt.headers["ETag"] != first.headers["ETag"]
    monkeypatch.setenv("TALLY_TODAY", "2026-12-01")
    december = revalidate(org, SUMMARY, ALICE, nxt.headers["ETag"])
    assert december.status == 200 and december.body["month"] == "2026-12"


def test_never_a_304_across_users(org: Api) -> None:
    alice = org.call("GET", SUMMARY, ALICE).headers["ETag"]
    admin = revalidate(org, SUMMARY, ADMIN, alice)
    assert admin.status == 200 and admin.headers["ETag"] != alice
    me = org.call("GET", "/api/me", ALICE).headers["ETag"]
    assert revalidate(org, "/api/me", BOB, me).status == 200


def test_problems_and_writes_carry_no_etag(org: Api) -> None:
    etag = org.call("GET", SUMMARY, ALICE).headers["ETag"]
    refused = revalidate(org, SUMMARY, BOB, etag)
    assert refused.status == 403 and "ETag" not in refused.headers
    assert refused.headers["Cache-Control"] == "no-store"
    missing = revalidate(org, "/api/billing/nothing-here", ALICE, "*")
    assert missing.status == 404 and "ETag" not in missing.headers
    bad = org.call("GET", "/api/billing/user/u-alice/costs?startDate=yesterday", ALICE)
    assert bad.status == 422 and "ETag" not in bad.headers
    read = org.call("POST", "/api/notifications/read-all", ALICE)
    assert read.status < 300 and "ETag" not in read.headers
    assert "Authorization" in read.headers["Vary"]


def test_other_gets_revalidate_by_their_body(org: Api) -> None:
    url = "/api/billing/user/u-alice/costs?startDate=2026-11-01&endDate=2026-11-19"
    first = org.call("GET", url, ALICE)
    assert first.status == 200 and first.headers["Cache-Control"] == "private, no-cache"
    again = revalidate(org, url, ALICE, first.headers["ETag"])
    assert (
        again.status == 304
        and again.body is None
        and again.headers["ETag"] == first.headers["ETag"]
    )
    # Another query is another response, and new costs another body.
    other = revalidate(org, url.replace("2026-11-01", "2026-11-02"), ALICE, first.headers["ETag"])
    assert other.status == 200
    ingest(org, [date(2026, 11, 18)], "12.00", datetime.combine(TODAY, time(6), UTC))
    assert revalidate(org, url, ALICE, first.headers["ETag"]).status == 200


def test_a_budget_keeps_its_version_etag_for_if_match(org: Api) -> None:
    # Its ETag is the If-Match token (the version); it is left as it is and answered in full.
    read = org.call("GET", "/api/billing/budgets/u-alice", ALICE)
    assert read.headers["ETag"] == f'"{read.body["version"]}"'
    assert (
        revalidate(org, "/api/billing/budgets/u-alice", ALICE, read.headers["ETag"]).status == 200
    )
