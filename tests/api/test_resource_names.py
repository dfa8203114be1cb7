"""Names people recognise over the API (issue 16): every response that shows a resource id
shows its ``resourceName`` beside it (the id staying the id), and cost lines carry what a
unit of usage cost where that means something."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from tally.allocation import OwnerTagRule
from tally.ingest import ingest_days
from tally.models import Assignment, AuditEntry, CostLine
from tests.conftest import ALICE
from tests.harness import Api

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
