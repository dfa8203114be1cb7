"""Refreshing recommendations against moto's AWS (the ``aws`` fixture): the collectors' reads,
ownership as the ingest allocates, pricing from each owner's cost lines, idempotency, and the
demo organisation's acceptance: its idle instance is found with its saving, its busy
resources are not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import boto3
import pytest

from infra.local import demo
from infra.local.demo_costs import daily_usage
from tally import assignments
from tally.allocation import OwnerTagRule
from tally.ingest import ingest_days
from tally.models import UNALLOCATED, CostLine, Recommendation
from tally.recommendations import refresh_recommendations
from tally.recommendations.refresh import recommendation_id
from tally.settings import Settings
from tally.store import Stores, memory_stores
from tally.view import View
from tests.conftest import ADMIN, ALICE, BOB, profile

TODAY = date(2026, 11, 20)  # the pinned business date; moto's wall clock is later
NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
CAROL = SimpleNamespace(user_id="u-carol", username="carol")


# One of moto's stock AMIs. Listing them (as the demo's _create does) serialises all 1,300
# (seconds a call), so the tests name one.
MOTO_AMI = "ami-12c6146b"


def client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1")


class _OneImage:
    """An EC2 client whose image listing is the one stock AMI: the demo's ``_create`` as it
    runs, without moto's seconds-long listing."""

    def __init__(self, ec2: Any) -> None:
        self._ec2 = ec2

    def describe_images(self, **_: Any) -> Any:
        return self._ec2.describe_images(ImageIds=[MOTO_AMI])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ec2, name)


def demo_client(service: str) -> Any:
    return _OneImage(client("ec2")) if service == "ec2" else client(service)


@pytest.fixture
def account(aws: Settings) -> Iterator[Settings]:
    """A fresh moto account for each test (the module shares one moto). EC2 and RDS are
    emptied rather than reset: a reset EC2 backend (RDS's reset resets it too) loads moto's
    1,300 stock AMIs again, most of a second; terminated instances stay listed, as in AWS,
    and are never judged."""
    from moto.backends import get_backend

    for name in ("lambda", "s3", "cloudwatch", "iam"):
        get_backend(name).reset()  # type: ignore[no-untyped-call]
    rds = client("rds")  # its reset resets EC2 too
    for db in rds.describe_db_instances()["DBInstances"]:
        rds.delete_db_instance(
            DBInstanceIdentifier=db["DBInstanceIdentifier"], SkipFinalSnapshot=True
        )
    ec2 = client("ec2")
    running = [
        i["InstanceId"]
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]
    if running:
        ec2.terminate_instances(InstanceIds=running)
    for v in ec2.describe_volumes()["Volumes"]:
        ec2.delete_volume(VolumeId=v["VolumeId"])
    for a in ec2.describe_addresses()["Addresses"]:
        ec2.release_address(AllocationId=a["AllocationId"])
    yield aws


@pytest.fixture
def stores() -> Stores:
    s = memory_stores()
    for c in (ALICE, BOB, ADMIN):
        s.users.put(profile(c))
    from tally.identity import Role
    from tally.models import UserProfile

    s.users.put(UserProfile("u-carol", "carol", "carol@example.com", Role.USER))
    return s


def launch(instance_type: str = "t3.medium", tags: dict[str, str] | None = None) -> str:
    ec2 = client("ec2")
    spec: dict[str, Any] = {}
    if tags:
        spec["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    return cast(
        str,
        ec2.run_instances(
            ImageId=MOTO_AMI, MinCount=1, MaxCount=1, InstanceType=instance_type, **spec
        )["Instances"][0]["InstanceId"],
    )


def put_daily(
    namespace: str,
    metric: str,
    dimension: str,
    value_of: str,
    values: list[float],
    *,
    end: date = TODAY,
) -> None:
    """One point at noon for each of the days before ``end`` (values[0] is the earliest)."""
    start = end - timedelta(days=len(values))
    client("cloudwatch").put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": dimension, "Value": value_of}],
                "Timestamp": datetime.combine(
                    start + timedelta(days=n), datetime.min.time()
                ).replace(hour=12, tzinfo=UTC),
                "Value": v,
            }
            for n, v in enumerate(values)
        ],
    )


def idle_metrics(instance_id: str, days: int = 14, *, end: date = TODAY) -> None:
    for metric, value in (("CPUUtilization", 1.0), ("NetworkIn", 1e5), ("NetworkOut", 1e5)):
        put_daily("AWS/EC2", metric, "InstanceId", instance_id, [value] * days, end=end)


def ingest(stores: Stores, lines: list[CostLine], *, days: int = 30) -> None:
    window = [TODAY - timedelta(days=n) for n in range(days, 0, -1)]
    ingest_days(lines, window, stores=stores, rule=OwnerTagRule(), source="test", now=NOW)


def lines_of(
    service: str, resource_id: str, daily: str, *, days: int = 30, **kw: Any
) -> list[CostLine]:
    return [
        CostLine(
            day=TODAY - timedelta(days=n),
            service=service,
            resource_id=resource_id,
            billed_cost=Decimal(daily),
            effective_cost=Decimal(daily),
            currency="USD",
            **kw,
        )
        for n in range(days, 0, -1)
    ]


class Catalog:
    """Every resource exists and carries no owner tag (assignments are what is tested)."""

    def exists(self, resource_type: str, resource_id: str) -> bool:
        return True

    def owner_tag(self, resource_type: str, resource_id: str, key: str) -> str | None:
        return None


def assign(stores: Stores, user_id: str, rtype: str, rid: str, share: str = "100") -> None:
    assignments.assign_resource(
        View(ADMIN, stores, TODAY),
        assignments.AssignRequest(
            user_id, rtype, rid, share_pct=Decimal(share), effective_from=TODAY - timedelta(days=60)
        ),
        catalog=Catalog(),
    )


def refresh(stores: Stores, settings: Settings, *, today: date = TODAY, now: datetime = NOW) -> Any:
    return refresh_recommendations(stores, client, today=today, now=now, settings=settings)


def by_kind(stores: Stores, kind: str) -> list[Recommendation]:
    return [r for r in stores.recommendations.all() if r.kind == kind]


# --- the demo organisation (acceptance) ---------------------------------------------------


def test_the_demo_idle_instance_is_recommended_with_its_saving_and_busy_resources_are_not(
    account: Settings, stores: Stores
) -> None:
    # Given a few of the demo's resources, created and metered as the local stack does
    names = [
        "alice-training",
        "bob-build-runner",
        "carol-web",
        "shared-orders-db",
        "bob-image-resize",
        "nightly-cleanup",
    ]
    plan = [p for p in demo.PLAN if p.name in names]
    local = cast(demo.LocalAws, SimpleNamespace(client=demo_client))
    created, arns = {}, {}
    for item in plan:
        created[item.name], arns[item.name] = demo._create(local, item)
        for username, share in item.assigned:
            assign(stores, f"u-{username}", item.kind, created[item.name], share)
    assert demo.publish_demo_metrics(client("cloudwatch"), created, today=TODAY) > 0
    # ... and their costs, as the demo's export gives them
    resources = [r for r in demo.demo_resources({**_others(), **arns}) if r.name in names]
    lines = [
        CostLine(
            day=day,
            service=r.service,
            resource_id=r.resource_id,
            billed_cost=amount,
            effective_cost=amount,
            currency="USD",
            tags=r.tags,
        )
        for day, r, amount in daily_usage(resources, end=TODAY, days=30)
    ]
    ingest(stores, lines)

    # When the recommendations are refreshed
    refresh(stores, account)

    # Then bob's idle build runner is recommended to bob, priced from its cost lines
    runner = created["bob-build-runner"]
    idle = by_kind(stores, "idle-ec2")
    assert [(r.owner, r.resource_id) for r in idle] == [("u-bob", runner)]
    assert idle[0].monthly_saving == Decimal("42.56")  # 1.40 a day x 30.4
    assert idle[0].currency == "USD"
    assert float(idle[0].evidence["maxCpuPercent"]) < 5
    assert idle[0].evidence["days"] == "14"
    # ... and no busy instance, database or function is called idle
    idle_kinds = {"idle-ec2", "idle-rds", "idle-lambda"}
    flagged = {r.resource_id for r in stores.recommendations.all() if r.kind in idle_kinds}
    assert flagged == {runner}


def _others() -> dict[str, str]:
    """ARNs for the plan items a test did not create (demo_resources wants every name)."""
    return {p.name: f"arn:aws:ec2:us-east-1:123456789012:instance/{p.name}" for p in demo.PLAN}


def test_the_demo_metrics_stop_the_day_before_today_and_follow_a_pinned_date(
    account: Settings,
) -> None:
    instance = launch()
    data = demo.demo_metric_data({"alice-training": instance}, today=TODAY)
    stamps = sorted(d["Timestamp"] for _, d in data)
    assert stamps[0] == datetime(2026, 11, 6, 0, tzinfo=UTC)
    assert stamps[-1] == datetime(2026, 11, 19, 23, tzinfo=UTC)


# --- idle instances -----------------------------------------------------------------------


def test_the_metric_window_is_built_from_today_not_the_wall_clock(
    account: Settings, stores: Stores
) -> None:
    # The idle points are the 14 days before 20 November; moto's clock is later than that.
    instance = launch()
    idle_metrics(instance)
    ingest(stores, lines_of("AmazonEC2", instance, "2.00"))

    refresh(stores, account, today=TODAY)
    assert [r.resource_id for r in by_kind(stores, "idle-ec2")] == [instance]

    # Five days later, five of the 14 days have no data points: not judged, so removed.
    report = refresh(stores, account, today=TODAY + timedelta(days=5))
    assert by_kind(stores, "idle-ec2") == []
    assert report.removed >= 1


def test_an_instance_with_a_missing_day_or_a_busy_day_is_not_idle(
    account: Settings, stores: Stores
) -> None:
    gap, busy, network = launch(), launch(), launch()
    idle_metrics(gap, days=13)  # the earliest day has no data point
    idle_metrics(busy)
    put_daily("AWS/EC2", "CPUUtilization", "InstanceId", busy, [1.0] * 13 + [5.0])
    idle_metrics(network)
    put_daily("AWS/EC2", "NetworkIn", "InstanceId", network, [6e6] + [0.0] * 13)

    refresh(stores, account)
    assert by_kind(stores, "idle-ec2") == []


def test_a_stopped_instance_is_not_judged_by_its_metrics(account: Settings, stores: Stores) -> None:
    instance = launch()
    idle_metrics(instance)
    client("ec2").stop_instances(InstanceIds=[instance])
    refresh(stores, account)
    assert by_kind(stores, "idle-ec2") == []


def test_a_shared_instance_gives_each_owner_their_share_of_the_saving(
    account: Settings, stores: Stores
) -> None:
    instance = launch()
    idle_metrics(instance)
    assign(stores, "u-alice", "ec2", instance, "50")
    assign(stores, "u-bob", "ec2", instance, "50")
    arn = f"arn:aws:ec2:us-east-1:123456789012:instance/{instance}"
    ingest(stores, lines_of("AmazonEC2", arn, "3.00"))

    refresh(stores, account)

    idle = sorted(by_kind(stores, "idle-ec2"), key=lambda r: r.owner)
    assert [(r.owner, r.monthly_saving, r.evidence["sharePct"]) for r in idle] == [
        ("u-alice", Decimal("45.60"), "50"),
        ("u-bob", Decimal("45.60"), "50"),
    ]
    assert idle[0].recommendation_id != idle[1].recommendation_id
    assert all("/" not in r.recommendation_id and "#" not in r.recommendation_id for r in idle)


def test_a_resource_nobody_owns_goes_to_unallocated_priced_from_its_records(
    account: Settings, stores: Stores
) -> None:
    instance = launch(tags={"Owner": "someone-who-left"})
    idle_metrics(instance)
    ingest(stores, lines_of("AmazonEC2", instance, "1.00", tags={"Owner": "someone-who-left"}))

    refresh(stores, account)

    [rec] = by_kind(stores, "idle-ec2")
    assert (rec.owner, rec.monthly_saving) == (UNALLOCATED, Decimal("30.40"))


def test_the_owner_tag_gives_the_owner_as_the_ingest_does(
    account: Settings, stores: Stores
) -> None:
    instance = launch(tags={"Owner": "carol"})
    idle_metrics(instance)
    ingest(stores, lines_of("AmazonEC2", instance, "1.00", tags={"Owner": "carol"}))
    refresh(stores, account)
    assert [(r.owner, r.monthly_saving) for r in by_kind(stores, "idle-ec2")] == [
        ("u-carol", Decimal("30.40"))
    ]


def test_refresh_is_idempotent_and_keeps_when_it_was_first_detected(
    account: Settings, stores: Stores
) -> None:
    instance = launch()
    idle_metrics(instance)
    ingest(stores, lines_of("AmazonEC2", instance, "2.00"))

    first = refresh(stores, account)
    stored = stores.recommendations.all()
    second = refresh(stores, account, now=NOW + timedelta(hours=24))
    assert stores.recommendations.all() == stored
    assert (first.stored, second.stored, second.removed) == (len(stored), len(stored), 0)
    assert next(r for r in stored if r.kind == "idle-ec2").detected_at == NOW

    # Once it no longer holds (terminated), it is gone.
    client("ec2").terminate_instances(InstanceIds=[instance])
    refresh(stores, account)
    assert by_kind(stores, "idle-ec2") == []


def test_an_unpriced_idle_instance_is_still_recommended_with_a_zero_saving(
    account: Settings, stores: Stores
) -> None:
    instance = launch()
    idle_metrics(instance)
    refresh(stores, account)
    [rec] = by_kind(stores, "idle-ec2")
    assert rec.monthly_saving == Decimal("0.00")
    assert rec.evidence["costBasis"] == "no cost lines in the last 30 days"


def test_previous_generation_is_advised_for_a_busy_instance_but_not_an_idle_one(
    account: Settings, stores: Stores
) -> None:
    busy, idle = launch("t2.medium"), launch("m4.large")
    idle_metrics(idle)
    ingest(stores, [*lines_of("AmazonEC2", busy, "1.00"), *lines_of("AmazonEC2", idle, "2.00")])
    refresh(stores, account)
    [tip] = by_kind(stores, "previous-generation")
    assert (tip.resource_id, tip.evidence["suggested"]) == (busy, "t3.medium")
    assert tip.monthly_saving == Decimal("3.04")  # 10% of 30.40
    assert [r.resource_id for r in by_kind(stores, "idle-ec2")] == [idle]


# --- volumes, addresses, databases, functions, buckets ---------------------------------


def test_storage_and_address_rules_with_list_prices_and_cost_lines(
    account: Settings, stores: Stores
) -> None:
    ec2 = client("ec2")
    loose = ec2.create_volume(AvailabilityZone="us-east-1a", Size=100, VolumeType="io1", Iops=100)
    priced = ec2.create_volume(AvailabilityZone="us-east-1a", Size=50, VolumeType="gp2")
    address = ec2.allocate_address(Domain="vpc")
    # The priced volume has cost lines (Cost Explorer's "EC2 - Other", by volume id): they win.
    ingest(stores, lines_of("EC2 - Other", priced["VolumeId"], "0.20"))

    refresh(stores, account)

    unattached = {r.resource_id: r for r in by_kind(stores, "unattached-ebs")}
    assert unattached[loose["VolumeId"]].monthly_saving == Decimal("12.50")  # 100 GB x 0.125
    assert unattached[loose["VolumeId"]].evidence["costBasis"] == "list price (no cost lines)"
    assert unattached[priced["VolumeId"]].monthly_saving == Decimal("6.08")  # 0.20 x 30.4
    # An unattached gp2 volume gets "delete", never also "gp3" (no saving counted twice).
    assert priced["VolumeId"] not in {r.resource_id for r in by_kind(stores, "gp2-to-gp3")}
    [eip] = by_kind(stores, "unassociated-eip")
    assert (eip.resource_id, eip.monthly_saving, eip.owner) == (
        address["AllocationId"],
        Decimal("3.60"),
        UNALLOCATED,
    )


def test_gp2_volumes_in_use_get_the_gp3_tip(account: Settings, stores: Stores) -> None:
    instance = launch()  # moto attaches an 8 GB gp2 root volume
    [root] = [v for v in client("ec2").describe_volumes()["Volumes"] if v["VolumeType"] == "gp2"]
    refresh(stores, account)
    [tip] = by_kind(stores, "gp2-to-gp3")
    assert (tip.resource_id, tip.monthly_saving) == (root["VolumeId"], Decimal("0.16"))
    assert tip.evidence["attachedTo"] == instance


def test_a_database_without_connections_for_seven_days_is_idle(
    account: Settings, stores: Stores
) -> None:
    rds = client("rds")
    for name in ("quiet-db", "busy-db", "new-db"):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            MasterUsername="tally",
            MasterUserPassword="password-123",
            AllocatedStorage=20,
        )
    dim = "DBInstanceIdentifier"
    put_daily("AWS/RDS", "DatabaseConnections", dim, "quiet-db", [0.0] * 7)
    put_daily("AWS/RDS", "DatabaseConnections", dim, "busy-db", [0.0] * 6 + [1.0])
    put_daily("AWS/RDS", "DatabaseConnections", dim, "new-db", [0.0] * 6)
    assign(stores, "u-alice", "rds", "quiet-db")
    arn = "arn:aws:rds:us-east-1:123456789012:db:quiet-db"
    ingest(stores, lines_of("AmazonRDS", arn, "5.00"))

    refresh(stores, account)

    assert [(r.resource_id, r.owner, r.monthly_saving) for r in by_kind(stores, "idle-rds")] == [
        ("quiet-db", "u-alice", Decimal("152.00"))
    ]


def test_a_function_that_costs_but_is_not_invoked_is_idle(
    account: Settings, stores: Stores
) -> None:
    role = client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = client("lambda")
    arns = {
        name: lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": demo._empty_zip()},
            Tags={"Owner": "bob"},
        )["FunctionArn"]
        for name in ("forgotten", "used", "free")
    }
    put_daily("AWS/Lambda", "Invocations", "FunctionName", "used", [3.0])
    ingest(
        stores,
        [
            *lines_of("AWS Lambda", arns["forgotten"], "0.10", tags={"Owner": "bob"}),
            *lines_of("AWS Lambda", arns["used"], "0.10", tags={"Owner": "bob"}),
        ],
    )

    refresh(stores, account)

    # "free" is not invoked either, but costs nothing: nothing to save.
    assert [(r.resource_id, r.owner, r.monthly_saving) for r in by_kind(stores, "idle-lambda")] == [
        (arns["forgotten"], "u-bob", Decimal("3.04"))
    ]


def test_a_bucket_without_lifecycle_rules_and_with_cost_gets_the_tip(
    account: Settings, stores: Stores
) -> None:
    s3 = client("s3")
    for bucket in ("plain-bucket", "tidy-bucket", "empty-bucket"):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_lifecycle_configuration(
        Bucket="tidy-bucket",
        LifecycleConfiguration={
            "Rules": [{"ID": "old", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 30}}]
        },
    )
    s3.put_bucket_tagging(
        Bucket="plain-bucket", Tagging={"TagSet": [{"Key": "Owner", "Value": "alice"}]}
    )
    ingest(
        stores,
        [
            *lines_of("AmazonS3", "arn:aws:s3:::plain-bucket", "1.00", tags={"Owner": "alice"}),
            *lines_of("AmazonS3", "arn:aws:s3:::tidy-bucket", "1.00"),
        ],
    )

    refresh(stores, account)

    [tip] = by_kind(stores, "s3-no-lifecycle")
    assert (tip.resource_id, tip.owner, tip.monthly_saving) == (
        "plain-bucket",
        "u-alice",
        Decimal("9.12"),  # 30% of 30.40
    )
    assert "estimate" in tip.detail


def test_ids_are_stable_and_distinct_per_owner_kind_and_resource() -> None:
    a = recommendation_id("idle-ec2", "ec2:i-1", "u-alice")
    assert a == recommendation_id("idle-ec2", "ec2:i-1", "u-alice")
    assert (
        len(
            {
                a,
                recommendation_id("idle-ec2", "ec2:i-1", "u-bob"),
                recommendation_id("previous-generation", "ec2:i-1", "u-alice"),
                recommendation_id("idle-ec2", "ec2:i-2", "u-alice"),
            }
        )
        == 4
    )
    assert a.startswith("idle-ec2-") and a.replace("-", "").isalnum()
