"""GET /api/billing/user/{userId}/month-over-month through the handler, on records stored in
(moto) DynamoDB by the ingest. The business date is the root conftest's 2026-11-20."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from pynamodb.connection.base import Connection

from tally.allocation import OwnerTagRule
from tally.ingest import ingest_days
from tally.models import CostLine
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api

D = Decimal
TAG = {"Owner": "alice"}
URL = "/api/billing/user/u-alice/month-over-month"


def span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def run(api: Api, lines: list[CostLine], days: list[date], on: date) -> None:
    now = datetime.combine(on, time(0, 30), UTC)
    ingest_days(lines, days, stores=api.stores, rule=OwnerTagRule(), source="t", now=now)


def usage(day: date, resource: str, cost: str, hours: int, service: str = "AmazonEC2") -> CostLine:
    return CostLine(day, service, resource, D(cost), D(cost), "USD", D(hours), "Hrs", tags=TAG)


@pytest.fixture
def seeded(api: Api) -> Api:
    """October: a web server (24 h at 0.10 a day) and an old instance; November to the 19th:
    the web server at 48 h for 0.20 an hour-day more, a new database, a monthly credit, and
    a tax line. October is restated on the 30th, after it closed."""
    october = span(date(2026, 10, 1), date(2026, 10, 31))
    november = span(date(2026, 11, 1), date(2026, 11, 19))
    oct_lines = [usage(d, "i-web", "2.40", 24) for d in october]
    oct_lines += [usage(d, "i-old", "1.00", 24) for d in october]
    oct_lines.append(
        CostLine(
            october[0],
            "AmazonEC2",
            None,
            D("-5"),
            D("-5"),
            "USD",
            charge_category="Credit",
            tags=TAG,
        )
    )
    run(api, oct_lines, october, date(2026, 11, 1))  # October as first reported
    nov_lines = [usage(d, "i-web", "7.20", 48) for d in november]
    nov_lines += [usage(d, "orders-db", "3.00", 24, "AmazonRDS") for d in november]
    nov_lines.append(
        CostLine(
            november[0],
            "AmazonEC2",
            None,
            D("-8"),
            D("-8"),
            "USD",
            charge_category="Credit",
            tags=TAG,
        )
    )
    nov_lines.append(
        CostLine(
            november[0], "Tax", None, D("4.25"), D("4.25"), "USD", charge_category="Tax", tags=TAG
        )
    )
    run(api, nov_lines, november, date(2026, 11, 20))
    restated = date(2026, 10, 30)
    run(
        api,
        [usage(restated, "i-web", "3.40", 24), usage(restated, "i-old", "1.00", 24)],
        [restated],
        date(2026, 11, 20),
    )
    return api


def amounts(body: dict) -> list[Decimal]:  # type: ignore[type-arg]
    return [D(s["amount"]) for s in body["waterfall"]["steps"]]


def test_this_month_to_date_against_last_month(seeded: Api) -> None:
    reply = seeded.call("GET", URL, ALICE)
    assert reply.status == 200, reply.body
    body = reply.body
    assert set(body) == {
        "userId", "month", "previousMonth", "currency", "metric", "estimated", "daysCompared",
        "currentTotal", "previousSameDaysTotal", "previousTotal", "services", "waterfall",
    }  # fmt: skip
    assert (body["month"], body["previousMonth"], body["daysCompared"]) == (
        "2026-11",
        "2026-10",
        19,
    )
    assert (body["currency"], body["metric"], body["userId"]) == ("USD", "effective", "u-alice")
    # November to the 19th: 19 x (7.20 + 3.00) - 8 + 4.25
    assert body["currentTotal"] == "190.05"
    # October 1-19: 19 x (2.40 + 1.00) - 5; all of it now: 31 x 3.40 + 1.00 (restated) - 5
    assert body["previousSameDaysTotal"] == "59.60"
    assert body["previousTotal"] == "101.40"
    services = {s["service"]: s for s in body["services"]}
    assert services["AmazonRDS"] == {
        "service": "AmazonRDS",
        "current": "57.00",
        "previousSameDays": "0.00",
        "previous": "0.00",
        "change": "57.00",
        "changePct": None,
    }
    assert services["AmazonEC2"]["changePct"] == "116.1"  # 128.80 against 59.60

    w = body["waterfall"]
    assert w["start"] == "100.40"  # October as first reported
    assert w["end"] == body["currentTotal"]
    assert D(w["start"]) + sum(amounts(body), D(0)) == D(w["end"])
    steps = [
        (s["kind"], s["label"], s["amount"], s["service"], s["resourceId"]) for s in w["steps"]
    ]
    assert steps == [
        ("restatement", "2026-10 restated since it closed", "1.00", None, None),
        ("removed", "i-old", "-31.00", "AmazonEC2", "i-old"),
        ("new", "orders-db", "57.00", "AmazonRDS", "orders-db"),
        # 912 h against 744 h at October's rate (75.40 / 744 h): 17.0258...
        ("usage", "i-web", "17.03", "AmazonEC2", "i-web"),
        ("rate", "i-web", "44.37", "AmazonEC2", "i-web"),
        ("credits", "AmazonEC2 (no resource)", "-3.00", "AmazonEC2", None),
        ("other", "Tax (no resource)", "4.25", "Tax", None),
    ]

    costs = seeded.call(
        "GET", "/api/billing/user/u-alice/costs?startDate=2026-11-01&endDate=2026-11-19", ALICE
    ).body
    assert costs["total"] == {"amount": body["currentTotal"], "currency": "USD"}


def test_a_closed_month(seeded: Api) -> None:
    body = seeded.call("GET", URL + "?month=2026-10", ADMIN).body
    assert (body["month"], body["previousMonth"], body["daysCompared"]) == (
        "2026-10",
        "2026-09",
        31,
    )
    assert (body["currentTotal"], body["previousTotal"]) == ("101.40", "0.00")
    w = body["waterfall"]
    assert (w["start"], w["end"]) == ("0.00", "101.40")
    assert [(s["kind"], s["label"], s["amount"]) for s in w["steps"]] == [
        ("new", "i-web", "75.40"),
        ("new", "i-old", "31.00"),
        ("credits", "AmazonEC2 (no resource)", "-5.00"),
    ]
    assert D(w["start"]) + sum(amounts(body), D(0)) == D(w["end"])
    october = seeded.call(
        "GET", "/api/billing/user/u-alice/costs?startDate=2026-10-01&endDate=2026-10-31", ALICE
    ).body
    assert october["total"]["amount"] == w["end"]


def test_the_route_queries_and_never_scans(seeded: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: Counter[str] = Counter()
    real = Connection.dispatch

    def counting(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:  # type: ignore[type-arg]
        seen[operation_name] += 1
        return real(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", counting)
    assert seeded.call("GET", URL, ALICE).status == 200
    assert "Scan" not in seen
    assert seen["Query"] == 2  # the roll-ups of both months; both months' records


def test_others_and_bad_months_are_refused(seeded: Api) -> None:
    assert seeded.call("GET", URL, BOB).status == 403
    for month, status in [("2026-12", 422), ("2026-13", 422), ("nov", 422), ("2026-11", 200)]:
        reply = seeded.call("GET", f"{URL}?month={month}", ALICE)
        assert reply.status == status, reply.body
        if status == 422:
            assert [e["field"] for e in reply.problem["errors"]] == ["month"]
