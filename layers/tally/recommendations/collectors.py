"""What the recommendations read from AWS: the resources (EC2, RDS, Lambda, S3 describe and
list calls) and their daily CloudWatch statistics.

Every call goes through ``aws_client(service_name)`` (boto3's ``client`` signature), so the
reports function, the local stack and the tests hand it a real, emulated or moto client.
The IAM actions these calls need are ``ACTIONS``. Nothing here decides anything: the rules
(``tally.recommendations.rules``) do, on the plain values returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

AwsClient = Callable[[str], Any]

# Every action the collectors call: what the function running the refresh must be granted.
# None of them supports resource-level scoping except the S3 and Lambda reads, which are
# needed on every bucket and function anyway.
ACTIONS: tuple[str, ...] = (
    "ec2:DescribeInstances",
    "ec2:DescribeVolumes",
    "ec2:DescribeAddresses",
    "ec2:DescribeSnapshots",
    "rds:DescribeDBInstances",
    "lambda:ListFunctions",
    "lambda:ListTags",
    "s3:ListAllMyBuckets",
    "s3:GetLifecycleConfiguration",
    "s3:GetBucketTagging",
    "cloudwatch:GetMetricData",
    "sts:GetCallerIdentity",  # needs no grant: every principal may call it
)

DAY_SECONDS = 86400
# GetMetricData takes at most 500 queries a call.
MAX_QUERIES = 500


@dataclass(frozen=True)
class Instance:
    instance_id: str
    instance_type: str
    state: str  # running | stopped | ...
    launched: datetime | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Volume:
    volume_id: str
    volume_type: str
    size_gb: int
    state: str  # available (attached to nothing) | in-use | ...
    tags: dict[str, str] = field(default_factory=dict)
    attached_to: str | None = None  # the instance id


@dataclass(frozen=True)
class Address:
    allocation_id: str
    public_ip: str
    association_id: str | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    size_gb: int
    started: datetime
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Database:
    identifier: str
    arn: str
    instance_class: str
    status: str
    created: datetime | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Function:
    name: str
    arn: str
    last_modified: datetime | None


@dataclass(frozen=True)
class Bucket:
    name: str
    # False: no lifecycle configuration; None: it could not be read (not judged).
    has_lifecycle: bool | None


@dataclass(frozen=True)
class Inventory:
    instances: list[Instance] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    databases: list[Database] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    buckets: list[Bucket] = field(default_factory=list)


Daily = dict[date, float]  # a statistic per UTC day; a day without data points is absent


@dataclass(frozen=True)
class Usage:
    """Daily CloudWatch statistics by resource id (instance id, DB identifier, function name)."""

    cpu_max: dict[str, Daily] = field(default_factory=dict)
    cpu_average: dict[str, Daily] = field(default_factory=dict)
    network_in: dict[str, Daily] = field(default_factory=dict)  # bytes a day
    network_out: dict[str, Daily] = field(default_factory=dict)
    connections_max: dict[str, Daily] = field(default_factory=dict)
    invocations: dict[str, Daily] = field(default_factory=dict)


def _tags(items: Iterable[dict[str, Any]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [
        item for page in client.get_paginator(operation).paginate(**kwargs) for item in page[key]
    ]


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def _lambda_time(text: str | None) -> datetime | None:
    # "2026-11-02T10:15:00.000+0000"
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
    except ValueError:
        return None


def collect_inventory(aws_client: AwsClient) -> Inventory:
    """Every resource the rules judge, in the account and region the clients point at."""
    ec2 = aws_client("ec2")
    instances = [
        Instance(
            instance_id=i["InstanceId"],
            instance_type=i.get("InstanceType", ""),
            state=i.get("State", {}).get("Name", ""),
            launched=_utc(i.get("LaunchTime")),
            tags=_tags(i.get("Tags")),
        )
        for r in _pages(ec2, "describe_instances", "Reservations")
        for i in r.get("Instances", [])
    ]
    volumes = [
        Volume(
            volume_id=v["VolumeId"],
            volume_type=v.get("VolumeType", ""),
            size_gb=int(v.get("Size", 0)),
            state=v.get("State", ""),
            tags=_tags(v.get("Tags")),
            attached_to=next((a["InstanceId"] for a in v.get("Attachments", [])), None),
        )
        for v in _pages(ec2, "describe_volumes", "Volumes")
    ]
    addresses = [
        Address(
            allocation_id=a.get("AllocationId") or a.get("PublicIp", ""),
            public_ip=a.get("PublicIp", ""),
            association_id=a.get("AssociationId"),
            tags=_tags(a.get("Tags")),
        )
        for a in ec2.describe_addresses().get("Addresses", [])
    ]
    snapshots = [
        Snapshot(
            snapshot_id=s["SnapshotId"],
            size_gb=int(s.get("VolumeSize", 0)),
            started=s["StartTime"].astimezone(UTC),
            tags=_tags(s.get("Tags")),
        )
        for s in _pages(
            ec2,
            "describe_snapshots",
            "Snapshots",
            OwnerIds=["self"],
            # Redundant in AWS; an emulator (moto) also answers "self" with the snapshots of
            # its 1,300 public AMIs, which the account's own id filters out.
            Filters=[{"Name": "owner-id", "Values": [_account(aws_client)]}],
        )
    ]
    databases = [
        Database(
            identifier=d["DBInstanceIdentifier"],
            arn=d.get("DBInstanceArn", ""),
            instance_class=d.get("DBInstanceClass", ""),
            status=d.get("DBInstanceStatus", ""),
            created=_utc(d.get("InstanceCreateTime")),
            tags=_tags(d.get("TagList")),
        )
        for d in _pages(aws_client("rds"), "describe_db_instances", "DBInstances")
    ]
    functions = [
        Function(
            name=f["FunctionName"],
            arn=f.get("FunctionArn", ""),
            last_modified=_lambda_time(f.get("LastModified")),
        )
        for f in _pages(aws_client("lambda"), "list_functions", "Functions")
    ]
    s3 = aws_client("s3")
    buckets = [
        Bucket(name=b["Name"], has_lifecycle=_has_lifecycle(s3, b["Name"]))
        for b in s3.list_buckets().get("Buckets", [])
    ]
    return Inventory(instances, volumes, addresses, snapshots, databases, functions, buckets)


def _account(aws_client: AwsClient) -> str:
    return str(aws_client("sts").get_caller_identity()["Account"])


def _has_lifecycle(s3: Any, bucket: str) -> bool | None:
    from botocore.exceptions import ClientError

    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
            return False
        return None  # denied, or another region's bucket: not judged rather than misjudged
    return bool(rules)


def lambda_tags(aws_client: AwsClient, arn: str) -> dict[str, str]:
    """A function's tags (ListFunctions returns none), read only for the functions judged."""
    return dict(aws_client("lambda").list_tags(Resource=arn).get("Tags") or {})


def bucket_tags(aws_client: AwsClient, bucket: str) -> dict[str, str]:
    """A bucket's tags; none when it has no tag set or they cannot be read."""
    from botocore.exceptions import ClientError

    try:
        found = aws_client("s3").get_bucket_tagging(Bucket=bucket)
    except ClientError:
        return {}
    return _tags(found.get("TagSet"))


@dataclass(frozen=True)
class MetricQuery:
    namespace: str
    metric: str
    dimension: str
    value: str
    stat: str  # Maximum | Average | Sum


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def daily_metrics(
    cloudwatch: Any, queries: Sequence[MetricQuery], *, first: date, end: date
) -> dict[MetricQuery, Daily]:
    """Each query's statistic per UTC day, for the days in [first, end).

    The window is built from the business date, never the wall clock, so a pinned "today"
    reads the days before it."""
    found: dict[MetricQuery, Daily] = {q: {} for q in queries}
    for start in range(0, len(queries), MAX_QUERIES):
        batch = list(queries[start : start + MAX_QUERIES])
        request: dict[str, Any] = {
            "MetricDataQueries": [
                {
                    "Id": f"m{n}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": q.namespace,
                            "MetricName": q.metric,
                            "Dimensions": [{"Name": q.dimension, "Value": q.value}],
                        },
                        "Period": DAY_SECONDS,
                        "Stat": q.stat,
                    },
                    "ReturnData": True,
                }
                for n, q in enumerate(batch)
            ],
            "StartTime": _midnight(first),
            "EndTime": _midnight(end),
        }
        while True:
            reply = cloudwatch.get_metric_data(**request)
            for result in reply.get("MetricDataResults", []):
                series = found[batch[int(result["Id"][1:])]]
                for at, value in zip(
                    result.get("Timestamps", []), result.get("Values", []), strict=True
                ):
                    day = at.astimezone(UTC).date()
                    if first <= day < end:
                        series[day] = float(value)
            token = reply.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
    return found


def collect_usage(
    aws_client: AwsClient,
    inventory: Inventory,
    *,
    today: date,
    instance_days: int,
    database_days: int,
    function_days: int,
) -> Usage:
    """The statistics the idle rules read: running instances' CPU and network, available
    databases' connections, functions' invocations, each over the days before ``today``."""
    running = [i.instance_id for i in inventory.instances if i.state == "running"]
    databases = [d.identifier for d in inventory.databases if d.status == "available"]
    functions = [f.name for f in inventory.functions]
    if not (running or databases or functions):
        return Usage()
    cloudwatch = aws_client("cloudwatch")

    def fetch(
        namespace: str, metric: str, dimension: str, stat: str, ids: list[str], days: int
    ) -> dict[str, Daily]:
        queries = [MetricQuery(namespace, metric, dimension, rid, stat) for rid in ids]
        if not queries:
            return {}
        got = daily_metrics(cloudwatch, queries, first=today - timedelta(days=days), end=today)
        return {q.value: series for q, series in got.items()}

    ec2 = ("AWS/EC2", "InstanceId")
    return Usage(
        cpu_max=fetch(ec2[0], "CPUUtilization", ec2[1], "Maximum", running, instance_days),
        cpu_average=fetch(ec2[0], "CPUUtilization", ec2[1], "Average", running, instance_days),
        network_in=fetch(ec2[0], "NetworkIn", ec2[1], "Sum", running, instance_days),
        network_out=fetch(ec2[0], "NetworkOut", ec2[1], "Sum", running, instance_days),
        connections_max=fetch(
            "AWS/RDS",
            "DatabaseConnections",
            "DBInstanceIdentifier",
            "Maximum",
            databases,
            database_days,
        ),
        invocations=fetch(
            "AWS/Lambda", "Invocations", "FunctionName", "Sum", functions, function_days
        ),
    )
