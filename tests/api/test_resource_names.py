"""Names people recognise over the API (issue 16): every response that shows a resource id
shows its ``resourceName`` beside it (the id staying the id), and cost lines carry what a
unit of usage cost where that means something."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import boto3
import pytest

from tally.allocation import OwnerTagRule
from tally.identity import Caller
from tally.ingest import ingest_days
from tally.models import Assignment, AuditEntry, CostLine
from tally.tables import USER_GROUP
from tests.conftest import ADMIN, ALICE, BOB, profile
from tests.harness import Api, an_image

CAROL = Caller("u-carol", "carol", "carol@example.com", frozenset({USER_GROUP}))

TODAY = date(2026, 11, 20)  # the pinned business date
WEB = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def567890"
BUCKET = "arn:aws:s3:::alice-reports"


def _world(api: Api) -> None:
    at = datetime(2026, 10, 1, tzinfo=UTC)
    api.stores.assignments.create(
        Assignment("a-web", "u-alice", "ec2", WEB, Decimal(100), None, "u-admin", at,
                   effective_from=date(2026, 10, 1)),
        AuditEntry("u-alice", at, "u-admin", "assignment.created", "a-web", {}),
    )  # fmt: skip
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(19)]
    lines = [
        line
        for d in days
        for line in (
            CostLine(d, "AmazonEC2", WEB, Decimal("0.9984"), Decimal("0.9984"), "USD",
                     Decimal(24), "Hrs", tags={"Name": "web-1"}),
            CostLine(d, "AmazonS3", BUCKET, Decimal("0.50"), Decimal("0.50"), "USD",
                     Decimal("10"), "GB-Mo", tags={"Owner": "alice"}),
            CostLine(d, "AmazonEC2", WEB, Decimal("0.10"), Decimal("0.10"), "USD",
                     Decimal(24), "Hrs", charge_category="Tax"),
        )
    ]  # fmt: skip
    now = datetime.combine(TODAY, time(1), tzinfo=UTC)
    ingest_days(lines, days, stores=api.stores, rule=OwnerTagRule(), source="test", now=now)


def test_cost_lines_carry_the_name_and_a_unit_price(api: Api) -> None:
    _world(api)
    reply = api.call(
        "GET",
        "/api/billing/user/u-alice/cost-lines?startDate=2026-11-03&endDate=2026-11-03",
        ALICE,
    )
    assert reply.status == 200, reply.body
    lines = {(x["resourceId"], x["chargeCategory"]): x for x in reply.body["lines"]}
    web = lines[(WEB, "Usage")]
    assert web["resourceName"] == "web-1"  # the Name tag
    assert web["usageQuantity"] == "24" and web["usageUnit"] == "Hrs"
    assert web["costPerUnit"] == {"amount": "0.0416", "currency": "USD", "unit": "Hrs"}
    bucket = lines[(BUCKET, "Usage")]
    assert bucket["resourceName"] == "alice-reports"  # derived from the bucket's ARN
    assert bucket["costPerUnit"] == {"amount": "0.05", "currency": "USD", "unit": "GB-Mo"}
    assert lines[(WEB, "Tax")]["costPerUnit"] is None  # tax per hour means nothing
    # A search finds a resource by its name as well as by its id.
    found = api.call(
        "GET",
        "/api/billing/user/u-alice/cost-lines?startDate=2026-11-03&endDate=2026-11-03&q=WEB-1",
        ALICE,
    ).body
    assert {x["resourceId"] for x in found["lines"]} == {WEB}


def test_summary_and_resources_name_the_resources_they_list(api: Api) -> None:
    _world(api)
    summary = api.call("GET", "/api/billing/user/u-alice/summary", ALICE).body
    drivers = {d["resourceId"]: d["resourceName"] for d in summary["topDrivers"]}
    assert drivers == {WEB: "web-1", BUCKET: "alice-reports"}
    resources = api.call("GET", "/api/billing/user/u-alice/resources", ALICE).body
    assert [(r["resourceId"], r["resourceName"]) for r in resources["items"]] == [(WEB, "web-1")]


def test_one_resource_of_the_list_by_any_of_its_names(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``?resourceId=`` answers the list's item for that resource, the same figures and name,
    asked by its ARN or its plain instance id, from that resource's own cost lines (the
    index's Query) rather than the user's every line."""
    from pynamodb.connection.base import Connection

    _world(api)
    url = "/api/billing/user/u-alice/resources"
    (whole,) = api.call("GET", url, ALICE).body["items"]
    assert whole["cost"] is not None and whole["resourceName"] == "web-1"
    queries: list[str | None] = []
    real = Connection.dispatch

    def meter(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:  # type: ignore[type-arg]
        if operation_name == "Query" and operation_kwargs["TableName"].endswith("costs"):
            queries.append(operation_kwargs.get("IndexName"))
        return real(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", meter)
    for asked in (WEB, "i-0abc1234def567890"):
        reply = api.call("GET", f"{url}?{urlencode({'resourceId': asked})}", ALICE)
        assert reply.status == 200, reply.body
        assert reply.body["items"] == [whole]
    assert queries == ["by-resource", "by-resource"]
    # Another resource, or one of hers that is not assigned (the bucket is hers by its tag).
    for other in ("i-0fff1234def567890", BUCKET):
        asked = f"{url}?{urlencode({'resourceId': other})}"
        assert api.call("GET", asked, ALICE).body["items"] == []
    assert api.call("GET", f"{url}?{urlencode({'resourceId': WEB})}", BOB).status == 403
    bad = api.call("GET", f"{url}?{urlencode({'resourceId': 'i-0abc 1234'})}", ALICE)
    assert bad.status == 422 and "resourceId" in str(bad.body), bad.body


# --- the name directory: screens without cost records at hand name as the cost lines do ----


@pytest.fixture
def carols_web(api: Api) -> str:
    """Carol's EC2 instance (moto, so a claim of it passes the existence check), costed by
    its ARN with the Name tag "carol-web", before anyone claims it by its plain id."""
    api.stores.users.put(profile(CAROL))
    ec2 = boto3.client("ec2", region_name="us-east-1")
    made = ec2.run_instances(
        ImageId=an_image(ec2),
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Owner", "Value": "carol@example.com"}]}
        ],
    )
    instance = str(made["Instances"][0]["InstanceId"])
    arn = f"arn:aws:ec2:us-east-1:123456789012:instance/{instance}"
    days = [date(2026, 11, 1), date(2026, 11, 2)]
    lines = [
        CostLine(d, "AmazonEC2", arn, Decimal("1"), Decimal("1"), "USD", Decimal(24), "Hrs",
                 tags={"Name": "carol-web", "Owner": "carol@example.com"})
        for d in days
    ]  # fmt: skip
    now = datetime.combine(date(2026, 11, 3), time(1), tzinfo=UTC)
    ingest_days(lines, days, stores=api.stores, rule=OwnerTagRule(), source="test", now=now)
    return instance


def test_claims_and_assignments_by_plain_id_show_the_name_the_costs_show(
    api: Api, carols_web: str
) -> None:
    # Bob claims the instance by its plain id: the claim shows the Name tag ingest learnt from
    # the instance's ARN, as carol's cost lines do.
    made = api.call(
        "POST",
        "/api/billing/claims",
        BOB,
        body={"resourceType": "ec2", "resourceId": carols_web, "sharePct": "50"},
    )
    assert made.status == 201, made.body
    assert (made.body["resourceId"], made.body["resourceName"]) == (carols_web, "carol-web")
    waiting = api.call("GET", "/api/billing/claims?view=to-approve", CAROL).body["items"]
    assert [(c["resourceId"], c["resourceName"]) for c in waiting] == [(carols_web, "carol-web")]
    mine = api.call("GET", "/api/billing/claims?view=mine", BOB).body["items"]
    assert [c["resourceName"] for c in mine] == ["carol-web"]
    approved = api.call("POST", f"/api/billing/claims/{made.body['claimId']}/approve", CAROL)
    assert approved.status == 200 and approved.body["resourceName"] == "carol-web"

    # Bob's resources: his assignment has no cost record yet (it starts today), so the name
    # comes from the directory, and agrees with the cost lines'.
    resources = api.call("GET", "/api/billing/user/u-bob/resources", BOB).body["items"]
    assert [(r["resourceId"], r["resourceName"]) for r in resources] == [(carols_web, "carol-web")]
    lines = api.call(
        "GET",
        "/api/billing/user/u-carol/cost-lines?startDate=2026-11-01&endDate=2026-11-02",
        CAROL,
    ).body["lines"]
    assert {x["resourceName"] for x in lines} == {"carol-web"}

    # An admin's assignment by the plain id answers with the name too.
    assigned = api.call(
        "POST",
        "/api/billing/assign-resource",
        ADMIN,
        body={"userId": "u-alice", "resourceType": "ec2", "resourceId": carols_web,
              "sharePct": "0.5"},
    )  # fmt: skip
    assert assigned.status == 201, assigned.body
    assert assigned.body["resourceName"] == "carol-web"


def test_a_resource_the_directory_does_not_know_is_named_by_its_id(api: Api) -> None:
    api.stores.users.put(profile(CAROL))
    ec2 = boto3.client("ec2", region_name="us-east-1")
    made = ec2.run_instances(ImageId=an_image(ec2), MinCount=1, MaxCount=1)
    instance = str(made["Instances"][0]["InstanceId"])
    claim = api.call(
        "POST", "/api/billing/claims", BOB, body={"resourceType": "ec2", "resourceId": instance}
    ).body
    assert claim["resourceName"] == instance


def test_a_claims_page_reads_the_directory_once(
    api: Api, carols_web: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One BatchGetItem names a page of claims' resources, however many it holds (and one
    more its claimants)."""
    from collections import Counter

    from pynamodb.connection.base import Connection

    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = an_image(ec2)
    others = [
        str(i["InstanceId"])
        for i in ec2.run_instances(ImageId=image, MinCount=3, MaxCount=3)["Instances"]
    ]
    for instance in [carols_web, *others]:
        reply = api.call(
            "POST", "/api/billing/claims", BOB, body={"resourceType": "ec2", "resourceId": instance}
        )
        assert reply.status == 201, reply.body
    url = "/api/billing/claims?view=mine"
    api.call("GET", url, BOB)  # the access facts, kept by the warm container
    seen: Counter[str] = Counter()
    real = Connection.dispatch

    def counting(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:  # type: ignore[type-arg]
        seen[operation_name] += 1
        return real(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", counting)
    items = api.call("GET", url, BOB).body["items"]
    assert len(items) == 4
    assert {c["resourceName"] for c in items} == {"carol-web", *others}
    # The claimant's claims (one Query), their resources' names and their claimants' user names
    # (one BatchGetItem each): no read per claim.
    assert seen["BatchGetItem"] == 2, seen
    assert "Scan" not in seen and "GetItem" not in seen, seen
