"""A team's display currency and budgets judged in their own currency, through the API (moto):
the team's GET shows ``displayCurrency``, PATCH sets or clears it (its managers, finance,
admins; 422 on the field for a code that is not ISO 4217), the team summary converts for
``?currency=``, and a GBP budget on USD costs is judged in GBP (``budgetJudgedIn``) on a
user's summary and a team's. Alice's November of test_currencies; the business date is the
root conftest's 2026-11-20."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tally.rates import Converter
from tally.reports.currency import daily_by_currency
from tests.api.test_currencies import FIONA, NOV, amount, costs  # noqa: F401 (the fixture)
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api

TEAM = "/api/teams/payments"


@pytest.fixture
def team(costs: Api) -> Api:  # noqa: F811 (the fixture imported above)
    """payments: alice its member, bob its manager."""
    made = costs.call(
        "POST",
        "/api/teams",
        ADMIN,
        body={
            "teamId": "payments",
            "name": "Payments",
            "members": ["u-alice"],
            "managers": ["u-bob"],
        },
    )
    assert made.status == 201, made.body
    return costs


def gbp_in_november(api: Api, owner: str) -> Decimal:
    """``owner``'s November converted into GBP day by day, as tally.rates does it."""
    rollups = api.stores.rollups.months(owner, "2026-11", "2026-11")
    days = daily_by_currency(rollups, _metric())
    return Converter(api.stores.rates, "GBP", NOV[0], date(2026, 11, 30)).convert_all(days).total


def _metric():  # type: ignore[no-untyped-def]
    from tally.models import Metric

    return Metric.EFFECTIVE


def test_a_manager_sets_and_clears_the_teams_display_currency(team: Api) -> None:
    read = team.call("GET", TEAM, BOB)
    assert read.status == 200 and read.body["displayCurrency"] is None
    saved = team.call(
        "PATCH",
        TEAM,
        BOB,
        body={"displayCurrency": "GBP"},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert saved.status == 200, saved.body
    assert (saved.body["displayCurrency"], saved.body["version"]) == ("GBP", 2)
    assert saved.body["members"] == ["u-alice"]  # nothing else changed
    assert team.call("GET", TEAM, ALICE).body["displayCurrency"] == "GBP"  # a member reads it
    # A stale read refuses the change.
    stale = team.call(
        "PATCH",
        TEAM,
        BOB,
        body={"displayCurrency": "EUR"},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert stale.status == 409, stale.body
    audit = team.call("GET", "/api/audit?limit=5", ADMIN).body["items"]
    assert any(e["action"] == "team.updated" and e["actor"] == "u-bob" for e in audit)
    cleared = team.call("PATCH", TEAM, BOB, body={"displayCurrency": None})
    assert cleared.status == 200 and cleared.body["displayCurrency"] is None


def test_finance_and_admins_may_set_it_a_member_may_not(team: Api) -> None:
    assert team.call("PATCH", TEAM, FIONA, body={"displayCurrency": "EUR"}).status == 200
    assert team.call("PATCH", TEAM, ADMIN, body={"displayCurrency": "JPY"}).status == 200
    refused = team.call("PATCH", TEAM, ALICE, body={"displayCurrency": "GBP"})
    assert refused.status == 403, refused.body
    assert team.call("GET", TEAM, ADMIN).body["displayCurrency"] == "JPY"
    assert (
        team.call("PATCH", "/api/teams/ghosts", ADMIN, body={"displayCurrency": "GBP"}).status
        == 404
    )


@pytest.mark.parametrize("bad", ["gbp", "XYZ", "GB", "EURO", 12])
def test_a_bad_code_is_422_on_display_currency_and_changes_nothing(team: Api, bad: object) -> None:
    reply = team.call("PATCH", TEAM, BOB, body={"displayCurrency": bad})
    assert reply.status == 422, reply.body
    assert reply.problem["errors"][0]["field"] == "displayCurrency"
    assert team.call("GET", TEAM, BOB).body["version"] == 1


def test_a_patch_names_the_display_currency_and_nothing_else(team: Api) -> None:
    for body in ({}, {"displayCurrency": "GBP", "name": "Renamed"}):
        assert team.call("PATCH", TEAM, ADMIN, body=body).status == 422
    assert team.call("GET", TEAM, ADMIN).body["name"] == "Payments"


def test_the_team_summary_converts_for_a_currency_beside_the_originals(team: Api) -> None:
    plain = team.call("GET", "/api/billing/team/payments/summary", BOB)
    assert plain.status == 200, plain.body
    assert plain.body["converted"] is None
    reply = team.call("GET", "/api/billing/team/payments/summary?currency=GBP", BOB)
    assert reply.status == 200, reply.body
    body = reply.body
    assert body["total"] == plain.body["total"] and body["total"]["currency"] == "USD"
    converted = body["converted"]
    assert converted["total"]["currency"] == "GBP"
    assert amount(converted["total"]) == gbp_in_november(team, "u-alice")
    # Sunday the 1st used Friday 30 October's rate, and every weekend Friday's: said.
    assert converted["fallback"] is True
    assert {r["rateDate"] for r in converted["ratesUsed"]} <= {
        "2026-10-30",
        *(d.isoformat() for d in NOV),
    }
    bad = team.call("GET", "/api/billing/team/payments/summary?currency=gbp", BOB)
    assert bad.status == 422 and bad.problem["errors"][0]["field"] == "currency"


def test_a_gbp_budget_on_usd_costs_is_judged_in_gbp_on_the_users_summary(team: Api) -> None:
    made = team.call(
        "POST",
        "/api/billing/budgets",
        ALICE,
        body={"userId": "u-alice", "monthlyLimit": "50", "alertThreshold": 80, "currency": "GBP"},
    )
    assert made.status == 201, made.body
    reply = team.call("GET", "/api/billing/user/u-alice/summary", ALICE)
    assert reply.status == 200, reply.body
    body = reply.body
    spent = gbp_in_november(team, "u-alice")
    judged = body["budgetJudgedIn"]
    assert judged["currency"] == "GBP" and amount(judged["spent"]) == spent
    assert judged["fallback"] is True and judged["ratesUsed"][0]["quote"] == "GBP"
    assert body["currencyMismatch"] is True  # billed in USD: the figures as they stand differ
    limit = Decimal(50)
    assert body["remaining"]["currency"] == "GBP"
    assert amount(body["remaining"]) == limit - spent  # at the converted figures' precision
    assert Decimal(body["percentUsed"]) == (spent * 100 / limit).quantize(Decimal("0.1"))
    assert body["status"] == ("over" if spent >= limit else "warning" if spent >= 40 else "under")
    # The rates are not in the versions: the ETag is the body's, and it still answers 304.
    again = team.call(
        "GET",
        "/api/billing/user/u-alice/summary",
        ALICE,
        headers={"If-None-Match": reply.headers["ETag"]},
    )
    assert again.status == 304


def test_without_a_rate_the_summary_keeps_the_mismatch_and_no_verdict(team: Api) -> None:
    team.call(
        "POST",
        "/api/billing/budgets",
        ALICE,
        body={"userId": "u-alice", "monthlyLimit": "50", "alertThreshold": 80, "currency": "JPY"},
    )
    body = team.call("GET", "/api/billing/user/u-alice/summary", ALICE).body
    assert body["currencyMismatch"] is True
    assert (body["budgetJudgedIn"], body["status"], body["percentUsed"]) == (None, None, None)


def test_a_team_budget_in_gbp_is_judged_on_the_teams_usd_month(team: Api) -> None:
    made = team.call(
        "POST",
        "/api/billing/budgets",
        BOB,
        body={
            "teamId": "payments",
            "monthlyLimit": "1000",
            "alertThreshold": 80,
            "currency": "GBP",
        },
    )
    assert made.status == 201, made.body
    body = team.call("GET", "/api/billing/team/payments/summary", BOB).body
    spent = gbp_in_november(team, "u-alice")
    assert amount(body["budgetJudgedIn"]["spent"]) == spent
    assert body["status"] == "under"
    assert body["remaining"]["currency"] == "GBP"
    assert amount(body["remaining"]) == Decimal(1000) - spent
