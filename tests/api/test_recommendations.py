"""GET /api/recommendations: a user's own, the organisation's for an admin (with what nobody
owns, userId null), ranked by saving, totals in the default currency only, money as strings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tally.models import UNALLOCATED, Recommendation
from tests.conftest import ADMIN, ALICE, BOB
from tests.harness import Api

AT = datetime(2026, 11, 19, 6, 0, tzinfo=UTC)


def rec(rec_id: str, owner: str, saving: str, currency: str = "USD") -> Recommendation:
    return Recommendation(
        recommendation_id=rec_id,
        owner=owner,
        kind="idle-ec2",
        resource_id=f"i-{rec_id}",
        resource_type="ec2",
        service="AmazonEC2",
        title=f"Stop idle instance {rec_id}",
        detail="Idle for 14 days.",
        monthly_saving=Decimal(saving),
        currency=currency,
        evidence={"maxCpuPercent": "1.20"},
        detected_at=AT,
    )


@pytest.fixture
def stored(api: Api) -> None:
    api.stores.recommendations.replace_all(
        [
            rec("a-small", "u-alice", "3.6"),
            rec("a-big", "u-alice", "42.56"),
            rec("a-euro", "u-alice", "100.00", "EUR"),
            rec("b-one", "u-bob", "10.00"),
            replace(rec("nobody", UNALLOCATED, "25.00"), kind="unassociated-eip"),
        ]
    )


def test_a_user_sees_their_own_ranked_with_the_default_currency_total(
    api: Api, stored: None
) -> None:
    reply = api.call("GET", "/api/recommendations", ALICE)
    assert reply.status == 200, reply.body
    body = reply.body
    assert [i["recommendationId"] for i in body["items"]] == ["a-euro", "a-big", "a-small"]
    # EUR is listed as it is and never added into the USD total.
    assert (body["currency"], body["totalMonthlySaving"]) == ("USD", "46.16")
    assert body["items"][1] == {
        "recommendationId": "a-big",
        "userId": "u-alice",
        "kind": "idle-ec2",
        "resourceId": "i-a-big",
        "resourceName": "i-a-big",
        "resourceType": "ec2",
        "service": "AmazonEC2",
        "title": "Stop idle instance a-big",
        "detail": "Idle for 14 days.",
        "monthlySaving": "42.56",
        "currency": "USD",
        "evidence": {"maxCpuPercent": "1.20"},
        "detectedAt": "2026-11-19T06:00:00+00:00",
    }
    assert body["items"][2]["monthlySaving"] == "3.60"
    assert api.call("GET", "/api/recommendations?userId=u-alice", ALICE).body == body


def test_another_users_are_refused_and_their_own_is_empty(api: Api, stored: None) -> None:
    assert api.call("GET", "/api/recommendations?userId=u-alice", BOB).status == 403
    assert api.call("GET", "/api/recommendations?userId=u-nobody", BOB).status == 403
    admin_own = api.call("GET", "/api/recommendations?userId=u-admin", ADMIN).body
    assert admin_own == {"currency": "USD", "totalMonthlySaving": "0.00", "items": []}


def test_an_admin_sees_the_organisation_including_what_nobody_owns(api: Api, stored: None) -> None:
    body = api.call("GET", "/api/recommendations", ADMIN).body
    assert [(i["recommendationId"], i["userId"]) for i in body["items"]] == [
        ("a-euro", "u-alice"),
        ("a-big", "u-alice"),
        ("nobody", None),
        ("b-one", "u-bob"),
        ("a-small", "u-alice"),
    ]
    assert body["totalMonthlySaving"] == "81.16"
    bob = api.call("GET", "/api/recommendations?userId=u-bob", ADMIN).body
    assert [i["recommendationId"] for i in bob["items"]] == ["b-one"]


def test_nothing_refreshed_yet_is_an_empty_list(api: Api) -> None:
    body = api.call("GET", "/api/recommendations", ADMIN).body
    assert body == {"currency": "USD", "totalMonthlySaving": "0.00", "items": []}
