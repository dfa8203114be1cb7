"""Claims over the API (issue 9, finding 1): a user can no longer take a colleague's resource
by assigning it to themselves; a claim waits for the owner or an admin."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import boto3
import pytest

from tally.allocation import OwnerTagRule
from tally.identity import Caller
from tally.ingest import ingest_days
from tally.models import CostLine
from tally.tables import USER_GROUP
from tests.conftest import ADMIN, ALICE, BOB, profile
from tests.harness import Api, an_image

CAROL = Caller("u-carol", "carol", "carol@example.com", frozenset({USER_GROUP}))
TODAY = date(2026, 11, 20)  # the pinned business date


@pytest.fixture
def carols(api: Api) -> str:
    """An EC2 instance tagged Owner=carol@example.com, and carol in the directory."""
    api.stores.users.put(profile(CAROL))
    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = an_image(ec2)
    made = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Owner", "Value": "carol@example.com"}]}
        ],
    )
    return str(made["Instances"][0]["InstanceId"])


def ingest(api: Api, instance: str, first: date, last: date) -> None:
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    lines = [
        CostLine(
            day=d,
            service="Amazon Elastic Compute Cloud - Compute",
            resource_id=instance,
            billed_cost=Decimal("10.00"),
            effective_cost=Decimal("10.00"),
            currency="USD",
            tags={"Owner": "carol@example.com"},
        )
        for d in days
    ]
    now = datetime.combine(last + timedelta(days=1), time(1), tzinfo=UTC)
    ingest_days(lines, days, stores=api.stores, rule=OwnerTagRule(), source="test", now=now)


def days_of(api: Api, user: str, first: date, last: date) -> list[date]:
    return sorted(r.day for r in api.stores.costs.for_owner(user, first, last + timedelta(days=1)))


def test_acceptance_a_claim_of_carols_instance_waits_for_carol(api: Api, carols: str) -> None:
    first, last = date(2026, 11, 1), TODAY
    ingest(api, carols, first, last)
    before = days_of(api, "u-carol", first, last)
    assert len(before) == 20

    # Bob "assigns" carol's instance to himself: the old 201 is now a pending claim (202).
    reply = api.call(
        "POST",
        "/api/billing/assign-resource",
        BOB,
        body={"userId": "u-bob", "resourceType": "ec2", "resourceId": carols},
    )
    assert reply.status == 202, reply.body
    claim = reply.body
    assert claim["status"] == "pending" and claim["approverIds"] == ["u-carol"]
    assert claim["claimantId"] == "u-bob" and claim["assignmentId"] is None
    # An instance without a name is shown by its id (issue 16): the name is never empty.
    assert claim["resourceId"] == claim["resourceName"] == carols
    assert api.stores.assignments.all() == []
    ingest(api, carols, first, last)
    assert days_of(api, "u-carol", first, last) == before
    assert days_of(api, "u-bob", first, last) == []

    # Carol sees it waiting for her; bob sees it as his; alice sees nothing.
    waiting = api.call("GET", "/api/billing/claims?view=to-approve", CAROL).body
    assert [c["claimId"] for c in waiting["items"]] == [claim["claimId"]]
    mine = api.call("GET", "/api/billing/claims?view=mine", BOB).body
    assert [c["claimId"] for c in mine["items"]] == [claim["claimId"]]
    assert api.call("GET", "/api/billing/claims?view=to-approve", ALICE).body["items"] == []

    # Bob cannot approve his own claim (403); alice cannot see it (404).
    url = f"/api/billing/claims/{claim['claimId']}"
    own = api.call("POST", f"{url}/approve", BOB)
    assert own.status == 403
    # Roles decide who approves: the refusal names the permission, not "an admin".
    assert "claims:decide" in own.problem["detail"], own.problem
    assert api.call("POST", f"{url}/approve", ALICE).status == 404
    assert api.call("POST", f"{url}/reject", ALICE).status == 404

    # Carol approves today: from today the cost is bob's, the days before stay hers.
    approved = api.call("POST", f"{url}/approve", CAROL)
    assert approved.status == 200, approved.body
    assert approved.body["status"] == "approved" and approved.body["decidedBy"] == "u-carol"
    made = api.stores.assignments.get(approved.body["assignmentId"])
    assert made is not None and made.user_id == "u-bob" and made.effective_from == TODAY
    ingest(api, carols, first, last)
    assert days_of(api, "u-bob", first, last) == [TODAY]
    assert days_of(api, "u-carol", first, last) == before[:-1]

    # Decided once.
    again = api.call("POST", f"{url}/reject", ADMIN)
    assert again.status == 409 and again.problem["status"] == 409


def test_a_rejected_claim_changes_nothing(api: Api, carols: str) -> None:
    made = api.call(
        "POST",
        "/api/billing/claims",
        BOB,
        body={"resourceType": "ec2", "resourceId": carols, "sharePct": "50", "note": "I run it"},
    )
    assert made.status == 201 and made.body["status"] == "pending", made.body
    assert (made.body["sharePct"], made.body["note"]) == ("50", "I run it")
    rejected = api.call("POST", f"/api/billing/claims/{made.body['claimId']}/reject", CAROL)
    assert rejected.status == 200 and rejected.body["status"] == "rejected"
    approve = api.call("POST", f"/api/billing/claims/{made.body['claimId']}/approve", ADMIN)
    assert approve.status == 409
    assert api.stores.assignments.all() == []
    assert api.call("GET", "/api/billing/claims?view=to-approve", ADMIN).body["items"] == []


def test_an_admins_assignment_succeeds_while_a_claim_is_pending(api: Api, carols: str) -> None:
    pending = api.call(
        "POST", "/api/billing/claims", BOB, body={"resourceType": "ec2", "resourceId": carols}
    )
    assert pending.body["status"] == "pending"
    given = api.call(
        "POST",
        "/api/billing/assign-resource",
        ADMIN,
        body={"userId": "u-carol", "resourceType": "ec2", "resourceId": carols},
    )
    assert given.status == 201, given.body
    assert given.body["userId"] == "u-carol"


def test_claims_of_another_accounts_resources_are_refused(api: Api) -> None:
    other = "arn:aws:sqs:us-east-1:999999999999:their-queue"
    for url, caller, body in (
        ("/api/billing/claims", BOB, {"resourceType": "sqs", "resourceId": other}),
        (
            "/api/billing/assign-resource",
            ADMIN,
            {"userId": "u-bob", "resourceType": "sqs", "resourceId": other},
        ),
        (
            "/api/billing/assign-resource",
            BOB,
            {"userId": "u-bob", "resourceType": "sqs", "resourceId": other},
        ),
    ):
        reply = api.call("POST", url, caller, body=body)
        assert reply.status == 422, (url, caller.username, reply.body)
        assert reply.problem["errors"][0]["field"] == "resourceId"
    # The API's own account (the function's, moto's 123456789012 here) is accepted.
    ours = "arn:aws:sqs:us-east-1:123456789012:our-queue"
    reply = api.call(
        "POST", "/api/billing/claims", BOB, body={"resourceType": "sqs", "resourceId": ours}
    )
    assert reply.status == 201, reply.body


def test_unowned_claims_accepted_at_once_by_the_setting(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tally.settings import get_settings

    monkeypatch.setenv("TALLY_CLAIM_UNOWNED", "accept")
    get_settings.cache_clear()
    queue = "arn:aws:sqs:us-east-1:123456789012:nobodys"
    reply = api.call(
        "POST",
        "/api/billing/assign-resource",
        BOB,
        body={"userId": "u-bob", "resourceType": "sqs", "resourceId": queue},
    )
    assert reply.status == 201, reply.body
    assert reply.body["userId"] == "u-bob" and reply.body["effectiveFrom"] == TODAY.isoformat()
    # Admin-only fields are refused on a user's own request, not silently dropped.
    refused = api.call(
        "POST",
        "/api/billing/assign-resource",
        BOB,
        body={
            "userId": "u-bob",
            "resourceType": "sqs",
            "resourceId": queue + "2",
            "effectiveFrom": "2026-01-01",
        },
    )
    assert refused.status == 422
    assert refused.problem["errors"][0]["field"] == "effectiveFrom"
    assert "assignments:write" in refused.problem["errors"][0]["message"]


def test_claim_lists_are_paginated_with_tokens_bound_to_the_view(api: Api) -> None:
    for n in range(3):
        arn = f"arn:aws:sqs:us-east-1:123456789012:q{n}"
        assert (
            api.call(
                "POST", "/api/billing/claims", BOB, body={"resourceType": "sqs", "resourceId": arn}
            ).status
            == 201
        )
    first = api.call("GET", "/api/billing/claims?view=to-approve&limit=2", ADMIN).body
    assert len(first["items"]) == 2 and first["nextToken"]
    rest = api.call(
        "GET", f"/api/billing/claims?view=to-approve&limit=2&nextToken={first['nextToken']}", ADMIN
    ).body
    assert len(rest["items"]) == 1 and rest["nextToken"] is None
    forged = api.call(
        "GET", f"/api/billing/claims?view=mine&limit=2&nextToken={first['nextToken']}", ADMIN
    )
    assert forged.status == 422


def test_whoever_decides_a_claim_sees_the_claimant_by_name(api: Api, carols: str) -> None:
    # Carol decides a claim of her instance: she is not an admin and cannot list users, so
    # the claim itself says who asks (an id alone would have her approve blind).
    api.stores.users.put(profile(BOB))
    reply = api.call(
        "POST",
        "/api/billing/claims",
        BOB,
        body={"resourceType": "ec2", "resourceId": carols, "sharePct": "30"},
    )
    assert reply.status == 201, reply.body
    assert reply.body["claimantName"] == BOB.username
    waiting = api.call("GET", "/api/billing/claims?view=to-approve", CAROL).body["items"]
    assert [(c["claimantId"], c["claimantName"]) for c in waiting] == [("u-bob", BOB.username)]
    # Someone no longer in Tally is named by nobody (the id stays).
    api.stores.users.remove("u-bob")
    waiting = api.call("GET", "/api/billing/claims?view=to-approve", CAROL).body["items"]
    assert [(c["claimantId"], c["claimantName"]) for c in waiting] == [("u-bob", None)]
