"""Currencies through the API (moto): rates in force and their provenance, manual rates
(finance and admins, validated, audited), the billing settings' currency section, and
``?currency=`` on the summary, costs and all-users: converted figures beside the originals,
day by day. The business date is the root conftest's 2026-11-20."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tally.allocation import OwnerTagRule
from tally.identity import Caller, Role
from tally.ingest import ingest_days
from tally.models import ORG, CostLine, UserProfile
from tally.rates import ECB, Rate
from tally.tables import USER_GROUP
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api

FIONA = Caller("u-fiona", "fiona", "fiona@example.com", frozenset({USER_GROUP}))
NOV = [date(2026, 11, 1) + timedelta(days=n) for n in range(19)]  # 1st to 19th: costs so far


def ecb_rates() -> list[Rate]:
    """EUR->USD moving a little every business day from Friday 30 October; no weekends."""
    days = [date(2026, 10, 30)] + [d for d in NOV if d.weekday() < 5]
    return [
        Rate(d, "EUR", q, Decimal(base) + Decimal(n) / 1000, ECB)
        for n, d in enumerate(days)
        for q, base in (("USD", "1.0500"), ("GBP", "0.8300"))
    ]


@pytest.fixture
def costs(api: Api) -> Api:
    """Alice's November so far: 3.2100 USD a day, plus 0.10 more each day; the rates."""
    lines = [
        CostLine(d, "AmazonEC2", "i-web", c, c, "USD", Decimal(24), "Hrs", tags={"Owner": "alice"})
        for n, d in enumerate(NOV)
        for c in [Decimal("3.2100") + Decimal(n) / 10]
    ]
    now = datetime.combine(date(2026, 11, 20), time(0, 30), UTC)
    ingest_days(lines, NOV, stores=api.stores, rule=OwnerTagRule(), source="t", now=now)
    api.stores.rates.put_many(ecb_rates())
    api.stores.users.put(UserProfile(FIONA.user_id, FIONA.username, FIONA.email, Role.USER))
    reply = api.call(
        "PUT",
        "/api/users/u-fiona/roles",
        ADMIN,
        body={"roles": [{"roleId": "finance", "scope": "org"}]},
    )
    assert reply.status == 200, reply.body
    return api


def amount(money: dict[str, str]) -> Decimal:
    return Decimal(money["amount"])


def test_a_month_in_eur_is_the_sum_of_its_converted_days_beside_the_original(costs: Api) -> None:
    reply = costs.call(
        "GET",
        "/api/billing/user/u-alice/costs?startDate=2026-11-01&endDate=2026-11-19&currency=EUR",
        ALICE,
    )
    assert reply.status == 200, reply.body
    body = reply.body
    converted = body["converted"]
    # The originals stay as billed.
    assert body["total"]["currency"] == "USD"
    assert amount(body["total"]) == sum(Decimal("3.21") + Decimal(n) / 10 for n in range(19))
    # The sum of the converted days equals the converted total, exactly.
    assert converted["total"]["currency"] == "EUR"
    assert sum(amount(d["cost"]) for d in converted["daily"]) == amount(converted["total"])
    # Each day at its own rate: a weekend day says it used Friday's.
    sunday = next(d for d in converted["daily"] if d["date"] == "2026-11-01")
    assert sunday["rates"] == [
        {
            "base": "USD",
            "quote": "EUR",
            "rate": "0.9523809524",  # 1 / 1.0500, Friday 30 October's
            "rateDate": "2026-10-30",
            "source": "ecb+inverse",
            "fallback": True,
        }
    ]
    assert amount(sunday["cost"]) == Decimal("3.0571428572")  # 3.21 x 0.9523809524, 10 places
    assert converted["fallback"] is True
    monday = next(d for d in converted["daily"] if d["date"] == "2026-11-02")
    assert monday["rates"][0]["rateDate"] == "2026-11-02"
    assert monday["rates"][0]["fallback"] is False
    # Not the month at one rate.
    last_rate = Decimal(converted["daily"][-1]["rates"][0]["rate"])
    assert amount(converted["total"]) != (amount(body["total"]) * last_rate).quantize(
        Decimal("0.0000000001")
    )


def test_the_summary_and_all_users_convert_beside_the_originals(costs: Api) -> None:
    summary = costs.call("GET", "/api/billing/user/u-alice/summary?currency=GBP", ALICE)
    assert summary.status == 200, summary.body
    assert summary.body["total"]["currency"] == "USD"
    converted = summary.body["converted"]
    assert converted["total"]["currency"] == "GBP"
    assert {r["source"] for r in converted["ratesUsed"]} == {"ecb+cross"}
    costs_gbp = costs.call(
        "GET",
        "/api/billing/user/u-alice/costs?startDate=2026-11-01&endDate=2026-11-19&currency=GBP",
        ALICE,
    ).body["converted"]
    assert converted["total"] == costs_gbp["total"]  # the month so far, the same days
    plain = costs.call("GET", "/api/billing/user/u-alice/summary", ALICE).body
    assert plain["converted"] is None
    assert {k: v for k, v in plain.items() if k != "converted"} == {
        k: v for k, v in summary.body.items() if k != "converted"
    }

    everyone = costs.call("GET", "/api/billing/all-users?currency=EUR", ADMIN)
    assert everyone.status == 200, everyone.body
    alice = next(u for u in everyone.body["users"] if u["userId"] == "u-alice")
    assert alice["total"]["currency"] == "USD"
    assert alice["converted"]["total"]["currency"] == "EUR"
    assert everyone.body["convertedOrganisationTotal"]["total"]["currency"] == "EUR"


@pytest.mark.parametrize(
    "url",
    [
        "/api/billing/user/u-alice/costs?currency=XXX",
        "/api/billing/user/u-alice/summary?currency=usd",
        "/api/billing/all-users?currency=EURO",
    ],
)
def test_an_unknown_currency_is_422_on_currency(costs: Api, url: str) -> None:
    reply = costs.call("GET", url, ADMIN)
    assert reply.status == 422, reply.body
    assert reply.problem["errors"][0]["field"].endswith("currency")


def test_a_range_before_any_rate_is_a_clear_problem_not_a_500(costs: Api) -> None:
    reply = costs.call(
        "GET",
        "/api/billing/user/u-alice/costs?startDate=2026-11-01&endDate=2026-11-05&currency=JPY",
        ALICE,
    )
    assert reply.status == 422, reply.body
    assert reply.problem["errors"] == [
        {"field": "currency", "message": "no USD to JPY rate on or before 2026-11-01"}
    ]


def test_the_rate_in_force_says_its_day_and_source(costs: Api) -> None:
    reply = costs.call("GET", "/api/rates?date=2026-11-08&base=EUR&quote=USD", BOB)
    assert reply.status == 200, reply.body
    assert reply.body["inForce"] == {
        "base": "EUR",
        "quote": "USD",
        "rate": "1.055",
        "rateDate": "2026-11-06",
        "source": "ecb",
        "fallback": True,
    }
    assert [r["date"] for r in reply.body["items"]][:2] == ["2026-11-19", "2026-11-18"]


def manual(**over: Any) -> dict[str, Any]:
    return {"date": "2026-11-09", "base": "USD", "quote": "GBP", "rate": "0.7800", **over}


def test_finance_sets_a_transfer_price_that_wins_that_day_and_is_audited(costs: Api) -> None:
    before = costs.call("GET", "/api/rates?date=2026-11-09&base=USD&quote=GBP", FIONA).body
    assert before["inForce"]["source"] == "ecb+cross"
    made = costs.call("POST", "/api/rates", FIONA, body=manual(note="Q4 transfer price"))
    assert made.status == 201, made.body
    assert made.body["source"] == "manual" and made.body["enteredBy"] == "u-fiona"
    after = costs.call("GET", "/api/rates?date=2026-11-09&base=USD&quote=GBP", ALICE).body
    assert after["inForce"] == {
        "base": "USD",
        "quote": "GBP",
        "rate": "0.78",
        "rateDate": "2026-11-09",
        "source": "manual",
        "fallback": False,
    }
    # The next business day's market rate is newer: it wins again.
    tuesday = costs.call("GET", "/api/rates?date=2026-11-10&base=USD&quote=GBP", ALICE).body
    assert tuesday["inForce"]["source"] == "ecb+cross"
    audit = costs.stores.audit.list_for_user(ORG, 10).items
    assert [(e.action, e.actor) for e in audit if e.action == "rate.set"] == [
        ("rate.set", "u-fiona")
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"base": "XYZ"}, "base"),
        ({"quote": "usd"}, "quote"),
        ({"rate": "0"}, "rate"),
        ({"rate": "-1"}, "rate"),
        ({"rate": True}, "rate"),
        ({"date": "2026-13-01"}, "date"),
        ({"quote": "USD"}, "quote"),  # the same currency both sides
    ],
)
def test_a_bad_manual_rate_is_422_on_its_field_and_changes_nothing(
    costs: Api, change: dict[str, Any], field: str
) -> None:
    def stored() -> list[Rate]:
        return costs.stores.rates.list(100, None).items

    before = stored()
    reply = costs.call("POST", "/api/rates", ADMIN, body=manual(**change))
    assert reply.status == 422, reply.body
    assert reply.problem["errors"][0]["field"].endswith(field), reply.problem
    assert stored() == before


def test_a_member_may_not_set_a_rate(costs: Api) -> None:
    assert costs.call("POST", "/api/rates", ALICE, body=manual()).status == 403


def test_billing_settings_default_to_the_billing_currency_and_finance_changes_them(
    costs: Api,
) -> None:
    first = costs.call("GET", "/api/settings/billing", ALICE)
    assert first.status == 200
    assert first.body == {
        "currency": {
            "billingCurrency": "USD",
            "displayCurrency": "USD",
            "updatedAt": None,
            "updatedBy": None,
        },
        "tax": {
            "mode": "add",
            "rounding": "total",
            "roundingMethod": "half-up",
            "version": 0,
            "updatedAt": None,
            "updatedBy": None,
        },
        "period": {
            "kind": "calendar",
            "startDay": 1,
            "fiscalYearStart": "01-01",
            "weekStart": "monday",
            "current": {"month": "2026-11", "start": "2026-11-01", "end": "2026-11-30"},
            "updatedAt": None,
            "updatedBy": None,
            "recompute": None,
        },
    }
    saved = costs.call(
        "PUT", "/api/settings/billing", FIONA, body={"currency": {"displayCurrency": "EUR"}}
    )
    assert saved.status == 200, saved.body
    assert saved.body["currency"]["displayCurrency"] == "EUR"
    assert saved.body["currency"]["billingCurrency"] == "USD"
    assert saved.body["currency"]["updatedBy"] == "u-fiona"
    assert costs.call("GET", "/api/settings/billing", BOB).body == saved.body
    assert (
        costs.call(
            "PUT", "/api/settings/billing", ALICE, body={"currency": {"displayCurrency": "GBP"}}
        ).status
        == 403
    )
    bad = costs.call(
        "PUT", "/api/settings/billing", ADMIN, body={"currency": {"displayCurrency": "EURO"}}
    )
    assert bad.status == 422
    unknown = costs.call("PUT", "/api/settings/billing", ADMIN, body={"tax": {"mode": "x"}})
    assert unknown.status == 422
    assert costs.call("GET", "/api/settings/billing", BOB).body == saved.body


def test_the_tax_section_is_the_tax_settings_and_a_stale_one_changes_nothing(
    costs: Api,
) -> None:
    saved = costs.call(
        "PUT",
        "/api/settings/billing",
        FIONA,
        body={"tax": {"rounding": "line", "version": 0}, "currency": {"displayCurrency": "EUR"}},
    )
    assert saved.status == 200, saved.body
    assert (saved.body["tax"]["mode"], saved.body["tax"]["rounding"]) == ("add", "line")
    assert saved.body["tax"]["version"] == 1 and saved.body["tax"]["updatedBy"] == "u-fiona"
    # The tax routes read the same settings.
    tax = costs.call("GET", "/api/tax-rules/settings", ADMIN).body
    assert (tax["rounding"], tax["version"]) == ("line", 1)
    # A change made on an older read is refused, and nothing else in the body is written.
    stale = costs.call(
        "PUT",
        "/api/settings/billing",
        ADMIN,
        body={"tax": {"mode": "replace", "version": 0}, "currency": {"displayCurrency": "GBP"}},
    )
    assert stale.status == 409, stale.body
    after = costs.call("GET", "/api/settings/billing", BOB).body
    assert after["currency"]["displayCurrency"] == "EUR"
    assert (after["tax"]["mode"], after["tax"]["version"]) == ("add", 1)


def test_a_user_chooses_their_own_display_currency(costs: Api) -> None:
    assert costs.call("GET", "/api/preferences", ALICE).body["displayCurrency"] is None
    saved = costs.call("PUT", "/api/preferences", ALICE, body={"displayCurrency": "GBP"})
    assert saved.status == 200, saved.body
    assert saved.body["displayCurrency"] == "GBP"
    assert saved.body["digest"] == "off"  # nothing else changed
    assert costs.call("GET", "/api/preferences", BOB).body["displayCurrency"] is None
    bad = costs.call("PUT", "/api/preferences", ALICE, body={"displayCurrency": "POUND"})
    assert bad.status == 422
    cleared = costs.call("PUT", "/api/preferences", ALICE, body={"displayCurrency": None})
    assert cleared.body["displayCurrency"] is None
