"""The savings rules: pure functions from the collected resources and statistics to findings.

A finding says what to do with one resource and how its saving is priced (a fraction of the
resource's own recent cost, or a list price when it has no cost lines); who owns it and what
that costs them is the refresh's work (``tally.recommendations.refresh``). The user guide's
"Savings recommendations" lists each rule, its evidence and its estimate: keep them in step.

One resource's saving is never counted twice: an idle instance gets no previous-generation
tip (stopping it saves all of it), an unattached gp2 volume no gp3 tip (deleting it does).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from tally.recommendations.collectors import (
    Address,
    Bucket,
    Daily,
    Database,
    Function,
    Instance,
    Inventory,
    Snapshot,
    Usage,
    Volume,
)

KINDS = (
    "idle-ec2",
    "idle-rds",
    "unattached-ebs",
    "unassociated-eip",
    "idle-lambda",
    "gp2-to-gp3",
    "previous-generation",
    "old-snapshot",
    "s3-no-lifecycle",
)

# idle-ec2: over the last 14 days, every day's maximum CPU below 5% and network (in + out)
# below 5 MB. An instance is judged only with data points on all 14 days, which is also what
# keeps one younger than 14 days out (its launch time is not read: an emulator stamps it with
# the wall clock, which a pinned business date may precede or equal).
IDLE_EC2_DAYS = 14
IDLE_CPU_MAX_PERCENT = 5.0
IDLE_NETWORK_BYTES_PER_DAY = 5 * 1024 * 1024
# idle-rds: no connection at all (daily maximum 0) on each of the last 7 days, all 7 with
# data points.
IDLE_RDS_DAYS = 7
# idle-lambda: no invocation in the last 14 days (Lambda publishes no data point for a day
# without invocations, so a missing day counts as zero).
IDLE_LAMBDA_DAYS = 14
OLD_SNAPSHOT_DAYS = 90

# List prices (us-east-1, USD per GB-month) for resources priced without cost lines.
EBS_GB_MONTH = {
    "gp2": Decimal("0.10"),
    "gp3": Decimal("0.08"),
    "io1": Decimal("0.125"),
    "io2": Decimal("0.125"),
    "st1": Decimal("0.045"),
    "sc1": Decimal("0.015"),
    "standard": Decimal("0.05"),
}
SNAPSHOT_GB_MONTH = Decimal("0.05")
# A public IPv4 address: 0.005 USD an hour, 730 hours a month rounded to 720 as AWS quotes.
PUBLIC_IPV4_MONTH = Decimal("3.60")
# gp3 costs 20% less per GB than gp2 at the same baseline performance.
GP3_SAVING = Decimal("0.20")
# Current-generation instances cost about 10% less than the previous generation of the same
# size (t2.medium 0.0464 -> t3.medium 0.0416 USD/h; m4.large 0.100 -> m6i.large 0.096;
# c4.large 0.100 -> c6i.large 0.085): 10% is the conservative end.
PREVIOUS_GENERATION_SAVING = Decimal("0.10")
# Lifecycle rules moving cold data to cheaper classes (Intelligent-Tiering, Glacier): an
# estimate of 30% of the bucket's cost, not a measurement of its data's age.
S3_LIFECYCLE_SAVING = Decimal("0.30")

CURRENT_FAMILY = {
    "t1": "t3",
    "t2": "t3",
    "m1": "m6i",
    "m2": "r6i",
    "m3": "m6i",
    "m4": "m6i",
    "c1": "c6i",
    "c3": "c6i",
    "c4": "c6i",
    "r3": "r6i",
    "r4": "r6i",
    "i2": "i4i",
    "d2": "d3",
}
# Families whose sizes all exist in the suggested family, so the same size is suggested.
SAME_SIZES = {"t2": "t3", "m4": "m6i", "c4": "c6i", "r4": "r6i"}


@dataclass(frozen=True)
class Finding:
    """What one rule says about one resource, before it is split among its owners."""

    kind: str
    resource_id: str  # as people name it: instance id, volume id, DB identifier, ARN...
    resource_type: str  # ec2 | ebs-volume | elastic-ip | ebs-snapshot | rds | lambda | s3
    service: str  # the cost lines' service, whose type matches the resource's cost lines
    title: str
    detail: str
    evidence: dict[str, str]
    # The monthly saving: this fraction of the resource's monthly cost from its cost lines...
    cost_fraction: Decimal = Decimal(1)
    # ... or, without cost lines, this list-price estimate of the whole saving (None: 0).
    list_price: Decimal | None = None
    # Only for resources that cost something: without cost lines, no recommendation.
    needs_cost: bool = False
    tags: dict[str, str] | None = field(default=None)  # None: read when judged (Lambda, S3)


def _percent(value: float) -> str:
    return f"{value:.2f}"


def _mb(value: float) -> str:
    return f"{value / (1024 * 1024):.2f}"


def _window(today: date, days: int) -> list[date]:
    return [today - timedelta(days=n) for n in range(days, 0, -1)]


def _young(created: datetime | None, today: date, days: int) -> bool:
    """Changed within the window (a missing data point is no evidence for a function: it
    may simply be new). A date after ``today`` (an emulator's wall clock ahead of a pinned
    business date) says nothing."""
    return created is not None and today - timedelta(days=days) < created.date() <= today


def _complete(series: Daily | None, days: list[date]) -> bool:
    return series is not None and all(d in series for d in days)


def idle_instances(instances: Iterable[Instance], usage: Usage, today: date) -> list[Finding]:
    days = _window(today, IDLE_EC2_DAYS)
    found = []
    for i in instances:
        rid = i.instance_id
        if i.state != "running":
            continue
        series = [usage.cpu_max.get(rid), usage.network_in.get(rid), usage.network_out.get(rid)]
        if not all(_complete(s, days) for s in series):
            continue
        cpu_max = max(usage.cpu_max[rid][d] for d in days)
        network = max(usage.network_in[rid][d] + usage.network_out[rid][d] for d in days)
        if cpu_max >= IDLE_CPU_MAX_PERCENT or network >= IDLE_NETWORK_BYTES_PER_DAY:
            continue
        averages = [v for d, v in usage.cpu_average.get(rid, {}).items() if d in days]
        evidence = {
            "days": str(IDLE_EC2_DAYS),
            "maxCpuPercent": _percent(cpu_max),
            "maxDailyNetworkMB": _mb(network),
            "instanceType": i.instance_type,
        }
        if averages:
            evidence["averageCpuPercent"] = _percent(sum(averages) / len(averages))
        found.append(
            Finding(
                kind="idle-ec2",
                resource_id=rid,
                resource_type="ec2",
                service="AmazonEC2",
                title=f"Stop idle instance {i.tags.get('Name', rid)}",
                detail=(
                    f"For {IDLE_EC2_DAYS} days its CPU never reached {IDLE_CPU_MAX_PERCENT:g}% "
                    "and its network traffic stayed under 5 MB a day. Stopping it saves its "
                    "compute cost (its EBS volumes still cost while it is stopped)."
                ),
                evidence=evidence,
                tags=i.tags,
            )
        )
    return found


def idle_databases(databases: Iterable[Database], usage: Usage, today: date) -> list[Finding]:
    days = _window(today, IDLE_RDS_DAYS)
    found = []
    for db in databases:
        series = usage.connections_max.get(db.identifier)
        if (
            db.status != "available"
            or series is None
            or not _complete(series, days)
            or any(series[d] > 0 for d in days)
        ):
            continue
        found.append(
            Finding(
                kind="idle-rds",
                resource_id=db.identifier,
                resource_type="rds",
                service="AmazonRDS",
                title=f"Stop or delete idle database {db.identifier}",
                detail=(
                    f"Nothing connected to it in {IDLE_RDS_DAYS} days. Take a final snapshot "
                    "and delete it, or stop it (RDS restarts a stopped instance after 7 days)."
                ),
                evidence={
                    "days": str(IDLE_RDS_DAYS),
                    "maxConnections": "0",
                    "instanceClass": db.instance_class,
                },
                tags=db.tags,
            )
        )
    return found


def unattached_volumes(volumes: Iterable[Volume]) -> list[Finding]:
    return [
        Finding(
            kind="unattached-ebs",
            resource_id=v.volume_id,
            resource_type="ebs-volume",
            service="AmazonEC2",
            title=f"Delete unattached volume {v.tags.get('Name', v.volume_id)}",
            detail=(
                "The volume is attached to no instance and still costs its provisioned size. "
                "Snapshot it first if its data may be needed."
            ),
            evidence={"state": v.state, "volumeType": v.volume_type, "sizeGB": str(v.size_gb)},
            list_price=v.size_gb * EBS_GB_MONTH.get(v.volume_type, EBS_GB_MONTH["gp2"]),
            tags=v.tags,
        )
        for v in volumes
        if v.state == "available"
    ]


def unassociated_addresses(addresses: Iterable[Address]) -> list[Finding]:
    return [
        Finding(
            kind="unassociated-eip",
            resource_id=a.allocation_id,
            resource_type="elastic-ip",
            service="AmazonEC2",
            title=f"Release unused Elastic IP {a.public_ip}",
            detail="The address is associated with nothing; AWS charges every public IPv4 "
            "address by the hour.",
            evidence={"publicIp": a.public_ip, "associated": "no"},
            list_price=PUBLIC_IPV4_MONTH,
            tags=a.tags,
        )
        for a in addresses
        if not a.association_id
    ]


def idle_functions(functions: Iterable[Function], usage: Usage, today: date) -> list[Finding]:
    days = _window(today, IDLE_LAMBDA_DAYS)
    found = []
    for f in functions:
        if _young(f.last_modified, today, IDLE_LAMBDA_DAYS):
            continue
        series = usage.invocations.get(f.name, {})
        if sum(series.get(d, 0.0) for d in days) > 0:
            continue
        found.append(
            Finding(
                kind="idle-lambda",
                resource_id=f.arn or f.name,
                resource_type="lambda",
                service="AWSLambda",
                title=f"Remove unused function {f.name}",
                detail=(
                    f"Not invoked in {IDLE_LAMBDA_DAYS} days, yet it cost something in the last "
                    "30 (provisioned concurrency, storage or logs). Delete it, or remove what "
                    "it keeps provisioned."
                ),
                evidence={"days": str(IDLE_LAMBDA_DAYS), "invocations": "0"},
                needs_cost=True,
            )
        )
    return found


def gp2_volumes(volumes: Iterable[Volume]) -> list[Finding]:
    return [
        Finding(
            kind="gp2-to-gp3",
            resource_id=v.volume_id,
            resource_type="ebs-volume",
            service="AmazonEC2",
            title=f"Change volume {v.tags.get('Name', v.volume_id)} from gp2 to gp3",
            detail="gp3 costs 20% less per GB than gp2 with at least the same baseline "
            "performance; the change is made in place, without downtime.",
            evidence={"volumeType": "gp2", "sizeGB": str(v.size_gb)}
            | ({"attachedTo": v.attached_to} if v.attached_to else {}),
            cost_fraction=GP3_SAVING,
            list_price=v.size_gb * EBS_GB_MONTH["gp2"] * GP3_SAVING,
            tags=v.tags,
        )
        for v in volumes
        if v.volume_type == "gp2" and v.state != "available"
    ]


def previous_generation(instances: Iterable[Instance], idle: set[str]) -> list[Finding]:
    found = []
    for i in instances:
        family, _, size = i.instance_type.partition(".")
        target = CURRENT_FAMILY.get(family)
        if target is None or i.state != "running" or i.instance_id in idle:
            continue
        suggested = f"{target}.{size}" if family in SAME_SIZES and size else target
        found.append(
            Finding(
                kind="previous-generation",
                resource_id=i.instance_id,
                resource_type="ec2",
                service="AmazonEC2",
                title=f"Move {i.tags.get('Name', i.instance_id)} from {i.instance_type} "
                f"to {suggested}",
                detail=(
                    f"{family} is a previous generation; {target} gives as much or more "
                    "performance for about 10% less (an estimate from the list prices of "
                    "equal sizes)."
                ),
                evidence={"instanceType": i.instance_type, "suggested": suggested},
                cost_fraction=PREVIOUS_GENERATION_SAVING,
                tags=i.tags,
            )
        )
    return found


def old_snapshots(snapshots: Iterable[Snapshot], today: date) -> list[Finding]:
    found = []
    for s in snapshots:
        age = (today - s.started.date()).days
        if age <= OLD_SNAPSHOT_DAYS:
            continue
        found.append(
            Finding(
                kind="old-snapshot",
                resource_id=s.snapshot_id,
                resource_type="ebs-snapshot",
                service="AmazonEC2",
                title=f"Delete old snapshot {s.tags.get('Name', s.snapshot_id)}",
                detail=(
                    f"Taken {age} days ago. Delete it if no backup policy needs it. Without "
                    "cost lines the saving is priced at its volume's size, an upper bound "
                    "(snapshots store changed blocks only)."
                ),
                evidence={
                    "ageDays": str(age),
                    "started": s.started.date().isoformat(),
                    "sizeGB": str(s.size_gb),
                },
                list_price=s.size_gb * SNAPSHOT_GB_MONTH,
                tags=s.tags,
            )
        )
    return found


def buckets_without_lifecycle(buckets: Iterable[Bucket]) -> list[Finding]:
    return [
        Finding(
            kind="s3-no-lifecycle",
            resource_id=b.name,
            resource_type="s3",
            service="AmazonS3",
            title=f"Add lifecycle rules to bucket {b.name}",
            detail=(
                "The bucket has no lifecycle rules. The saving is an estimate: 30% of its "
                "cost, if rules move data nobody reads to cheaper storage classes "
                "(Intelligent-Tiering, Glacier) and expire what is no longer needed."
            ),
            evidence={"lifecycleRules": "0"},
            cost_fraction=S3_LIFECYCLE_SAVING,
            needs_cost=True,
        )
        for b in buckets
        if b.has_lifecycle is False
    ]


def evaluate(inventory: Inventory, usage: Usage, *, today: date) -> list[Finding]:
    """Every rule's findings, in a stable order."""
    idle = idle_instances(inventory.instances, usage, today)
    findings = [
        *idle,
        *idle_databases(inventory.databases, usage, today),
        *unattached_volumes(inventory.volumes),
        *unassociated_addresses(inventory.addresses),
        *idle_functions(inventory.functions, usage, today),
        *gp2_volumes(inventory.volumes),
        *previous_generation(inventory.instances, {f.resource_id for f in idle}),
        *old_snapshots(inventory.snapshots, today),
        *buckets_without_lifecycle(inventory.buckets),
    ]
    return sorted(findings, key=lambda f: (KINDS.index(f.kind), f.resource_id))
