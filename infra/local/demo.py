"""The demo organisation the local stack starts with.

People: an admin and four users. Resources: real (moto) EC2 instances, S3 buckets, RDS
instances and Lambda functions, assigned through the domain (the same code the API runs),
some shared, some owned through the ``Owner`` tag only, some nobody's (unallocated). Costs:
90 days of a FOCUS export ending the day before "today" (the one clock, so ``make run
TODAY=...`` pins it), written to the exports bucket and read by the ingest job, exactly as in
AWS. Assignments and budgets are in force from the first day of that history, so every day of
it is allocated and judged as the screens show it.

Budgets are sized after the ingest so the users land at different levels: alice near her
limit (warning), bob over, carol comfortably under, dave without a budget. From the 3rd of a
month they are sized from this month's spend to date; on the 1st and 2nd, when the new month
has (almost) no costs yet, from last month's complete spend, so last month's result, judged
by the same budget, shows the three levels.

The organisation (``TEAMS``, ``ROLES``): the department "engineering" with the team "payments"
under it (alice and bob, managed by dave, cost center CC-100), which also owns a resource of
its own and has a team budget sized like alice's (warning), and CC-100 a cost center budget
it is over; the team "data" (dave, managed by carol, CC-200, no budget); fiona (finance at
the organisation) and audrey (auditor). Everyone else gets their roles from the access
migration the stack runs after the seed, as a deploy does.
"""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.local.aws import ADMIN_ROLE, USER_ROLE, LocalAws, LocalUser, add_user
from infra.local.demo_costs import DemoResource, generate_focus_csv
from infra.local.estate import DemoEstate, estate_cost_resources
from tally.calendar import previous_month_start
from tally.models import AuditEntry
from tally.org.model import Grant, RoleDef, Scope, Team, TeamKind, team_owner

if TYPE_CHECKING:
    from tally.invoice_templates.model import InvoiceTemplate
    from tally.store import Stores
    from tally.store.access import AccessStore
    from tally.store.invoice_templates import InvoiceTemplateStore

log = logging.getLogger("tally.local")

ACCOUNT = "123456789012"
REGION = "us-east-1"
DEMO_EXPORT_KEY = "focus/demo/tally-demo-focus.csv"
HISTORY_DAYS = 90

PEOPLE = [
    ("admin", ADMIN_ROLE),
    ("alice", USER_ROLE),
    ("bob", USER_ROLE),
    ("carol", USER_ROLE),
    ("dave", USER_ROLE),
    # Not admins in Cognito: their roles are Tally's (ROLES).
    ("fiona", USER_ROLE),
    ("audrey", USER_ROLE),
]
# Where each user's spend should sit against their budget (threshold 80%): warning, over, under.
BUDGET_LEVELS = {"alice": Decimal("0.85"), "bob": Decimal("1.25"), "carol": Decimal("0.40")}


@dataclass(frozen=True)
class DemoTeam:
    team_id: str
    name: str
    kind: TeamKind = TeamKind.TEAM
    parent_id: str | None = None
    cost_center: str | None = None
    members: tuple[str, ...] = ()  # usernames
    managers: tuple[str, ...] = ()


TEAMS = (
    DemoTeam("engineering", "Engineering", TeamKind.DEPARTMENT),
    DemoTeam(
        "payments",
        "Payments",
        parent_id="engineering",
        cost_center="CC-100",
        members=("alice", "bob"),
        managers=("dave",),
    ),
    DemoTeam("data", "Data", cost_center="CC-200", members=("dave",), managers=("carol",)),
)
# Roles given in Tally (username -> (roleId, scope) pairs); the migration gives the others theirs.
ROLES = {"fiona": (("finance", "org"),), "audrey": (("auditor", "org"),)}
# Custom roles the demo makes before granting ROLES: (id, name, description, permissions).
# The estate's IAM actions are held by no built-in role: after the access migration has given
# the demo admin admin@org, the stack grants them this role too (``grant_estate_iam``), so
# they can be tried (issue 15).
CUSTOM_ROLES = (
    (
        "estate-iam-admin",
        "Estate IAM admin",
        "Every IAM user action of the estate (no built-in role holds them).",
        (
            "estate:iam:UpdateAccessKey",
            "estate:iam:DeleteAccessKey",
            "estate:iam:DeleteLoginProfile",
            "estate:iam:AddUserToGroup",
            "estate:iam:RemoveUserFromGroup",
            "estate:iam:UpdateLoginProfile",
            "estate:iam:CreateUser",
            "estate:iam:DeleteUser",
        ),
    ),
)
# Team budgets, like the users': where the team's spend sits against it (warning).
TEAM_BUDGET_LEVELS = {"payments": Decimal("0.85")}
# Cost center budgets, the same way (CC-100 over; CC-200 has none, to be set on the chargeback).
COST_CENTER_BUDGET_LEVELS = {"CC-100": Decimal("1.25")}
# AWS delivers a day's costs a day or two later: before this day of the month, the new month
# has too little to size a budget from.
FIRST_SIZING_DAY = 3


def demo_password(username: str) -> str:
    # Meets the pool's policy: 12+ characters with upper, lower, digit and symbol.
    return f"{username.title()}-Tally-Local-1"


@dataclass(frozen=True)
class Planned:
    """One demo resource: how it is created, who owns it and how it costs."""

    kind: str  # ec2 | s3 | rds | lambda
    name: str
    daily_cost: str
    pattern: str = "weekday"
    assigned: tuple[tuple[str, str], ...] = ()  # (username, share pct)
    owner_tag: str | None = None
    team: str | None = None  # assigned to this team itself (owner "team:<id>"), whole


PLAN = [
    Planned("ec2", "alice-training", "16.00", assigned=(("alice", "100"),)),
    Planned("ec2", "alice-notebook", "5.50", pattern="spike", assigned=(("alice", "100"),)),
    Planned(
        "s3", "tally-demo-alice-datasets", "2.10", pattern="flat", assigned=(("alice", "100"),)
    ),
    Planned("rds", "shared-orders-db", "24.00", assigned=(("alice", "50"), ("bob", "50"))),
    Planned("ec2", "bob-build-runner", "1.40", pattern="idle", assigned=(("bob", "100"),)),
    Planned("lambda", "bob-image-resize", "0.90", assigned=(("bob", "100"),)),
    Planned("ec2", "carol-web", "21.00", owner_tag="carol"),
    Planned("s3", "tally-demo-carol-assets", "1.60", pattern="flat", owner_tag="carol"),
    Planned("rds", "carol-analytics", "11.00", owner_tag="carol"),
    # The payments team's own: nobody's personally, in the team's figures and budget.
    Planned("s3", "tally-demo-payments-ledger", "3.20", pattern="flat", team="payments"),
    # Nobody's: untagged, unassigned, or tagged with someone who is not a user.
    Planned("ec2", "legacy-batch", "8.50"),
    Planned("s3", "tally-demo-orphan-logs", "0.70", pattern="flat"),
    Planned("lambda", "nightly-cleanup", "0.45", owner_tag="former-employee"),
]


def _cost_center(owner: str, ids: Mapping[str, str]) -> str:
    """The cost center an assignment carries: its team's, or cc-<username> as before."""
    team = next((t for t in TEAMS if team_owner(t.team_id) == owner), None)
    if team is not None:
        return team.cost_center or f"cc-{team.team_id}"
    return "cc-" + next(name for name, user_id in ids.items() if user_id == owner)


def demo_image(aws: LocalAws) -> str:
    """The image the demo's instances run: the first of moto's Amazon images.

    Looked up once per seed, not once per instance: moto answers ``DescribeImages`` with all
    of its ~1,300 images whatever ``MaxResults`` says, 1.5-3 s a call on this machine (five
    instances made it a third of the demo's seed)."""
    images = aws.client("ec2").describe_images(Owners=["amazon"], MaxResults=5)["Images"]
    return str(images[0]["ImageId"])


def _create(aws: LocalAws, item: Planned, *, image: str | None = None) -> tuple[str, str]:
    """Create the resource in moto; return (id to assign, ARN the cost export uses).
    ``image``: the instance image (``demo_image``), looked up here when not given."""
    if item.kind == "ec2":
        ec2 = aws.client("ec2")
        image = image or demo_image(aws)
        tags = [{"Key": "Name", "Value": item.name}]
        if item.owner_tag:
            tags.append({"Key": "Owner", "Value": item.owner_tag})
        instance = ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.medium",
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )["Instances"][0]["InstanceId"]
        # The idle instance stays running: a stopped one is not idle by its metrics, and
        # the recommendations find it by near-zero CPU and network (publish_demo_metrics).
        return instance, f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance}"
    if item.kind == "s3":
        aws.client("s3").create_bucket(Bucket=item.name)
        return item.name, f"arn:aws:s3:::{item.name}"
    if item.kind == "rds":
        aws.client("rds").create_db_instance(
            DBInstanceIdentifier=item.name,
            DBInstanceClass="db.t3.medium",
            Engine="postgres",
            MasterUsername="tally",
            MasterUserPassword="Demo-password-1",
            AllocatedStorage=50,
        )
        return item.name, f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{item.name}"
    if item.kind == "lambda":
        iam = aws.client("iam")
        role_name = "tally-demo-function-role"
        try:
            role = iam.get_role(RoleName=role_name)["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        arn = aws.client("lambda").create_function(
            FunctionName=item.name,
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": _empty_zip()},
        )["FunctionArn"]
        return arn, arn
    raise ValueError(item.kind)


def _empty_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


# CloudWatch, as AWS would have published it for the demo's resources: hourly points for the
# days the idle rules read (tally.recommendations.rules), ending the day before "today".
METRIC_DAYS = 14
MB = 1024 * 1024
# The metrics only the resource page's panel reads (EC2 status checks; RDS CPU, free storage
# and IOPS): a datum every 6 hours is enough to draw a day.
SPARSE_HOURS = 6
_PUT_BATCH = 500  # datums per PutMetricData call (AWS allows 1,000)


def _daytime(hour: int) -> float:
    """0 at night, 1 at 14:00 UTC: the rhythm of a working day."""
    return max(0.0, math.sin(math.pi * (hour - 6) / 16)) if 6 <= hour <= 22 else 0.0


def _datum(
    name: str,
    dimension: str,
    resource: str,
    at: datetime,
    value: float,
    unit: str,
    *,
    extra: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    return {
        "MetricName": name,
        "Dimensions": [
            {"Name": dimension, "Value": resource},
            *({"Name": k, "Value": v} for k, v in extra),
        ],
        "Timestamp": at,
        "Value": round(value, 3),
        "Unit": unit,
    }


def _hour_metrics(item: Planned, resource: str, at: datetime) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(f"metrics/{item.name}/{at.isoformat()}")
    busy = _daytime(at.hour)
    if item.kind == "ec2":
        if item.pattern == "idle":
            cpu = rng.uniform(0.2, 1.5)
            net_in, net_out = rng.uniform(2e3, 2e4), rng.uniform(2e3, 2e4)
        else:
            cpu = 20 + 50 * busy * rng.uniform(0.85, 1.0)
            net_in = (5 + 35 * busy) * MB * rng.uniform(0.8, 1.2)
            net_out = (3 + 20 * busy) * MB * rng.uniform(0.8, 1.2)
        return [
            ("AWS/EC2", _datum("CPUUtilization", "InstanceId", resource, at, cpu, "Percent")),
            ("AWS/EC2", _datum("NetworkIn", "InstanceId", resource, at, net_in, "Bytes")),
            ("AWS/EC2", _datum("NetworkOut", "InstanceId", resource, at, net_out, "Bytes")),
            # Healthy: the status checks pass (0). Every SPARSE_HOURS only, as the other
            # panels' metrics below: moto's GetMetricData scans every datum for every period
            # of every query, and each datum more slows every panel of the local stack.
            *(
                [("AWS/EC2", _datum("StatusCheckFailed", "InstanceId", resource, at, 0, "Count"))]
                if at.hour % SPARSE_HOURS == 0
                else []
            ),
        ]
    if item.kind == "rds":
        connections = round(3 + 30 * busy * rng.uniform(0.7, 1.0))
        # 50 GB allocated (``_create``), about 38 free, a few MB written away each hour.
        hours = (at - datetime(at.year, 1, 1, tzinfo=UTC)).total_seconds() / 3600
        free = (38 * 1024 - hours * 0.2) * MB
        db = ("DBInstanceIdentifier", item.name)
        hourly = [("AWS/RDS", _datum("DatabaseConnections", *db, at, connections, "Count"))]
        if at.hour % SPARSE_HOURS:
            return hourly
        return [
            *hourly,
            (
                "AWS/RDS",
                _datum("CPUUtilization", *db, at, 8 + 40 * busy * rng.uniform(0.8, 1.0), "Percent"),
            ),
            ("AWS/RDS", _datum("FreeStorageSpace", *db, at, free, "Bytes")),
            (
                "AWS/RDS",
                _datum("ReadIOPS", *db, at, 5 + 120 * busy * rng.uniform(0.7, 1.0), "Count/Second"),
            ),
            (
                "AWS/RDS",
                _datum("WriteIOPS", *db, at, 2 + 45 * busy * rng.uniform(0.7, 1.0), "Count/Second"),
            ),
        ]
    if item.kind == "s3":
        # S3's storage metrics: one datapoint a day (at midnight), per storage type.
        if at.hour:
            return []
        grown = 1 + 0.004 * at.timetuple().tm_yday
        size = float(Decimal(item.daily_cost) * 40 * 1024) * MB * grown  # ~40 GB a dollar a day
        return [
            (
                "AWS/S3",
                _datum(
                    "BucketSizeBytes",
                    "BucketName",
                    resource,
                    at,
                    size,
                    "Bytes",
                    extra=(("StorageType", "StandardStorage"),),
                ),
            ),
            (
                "AWS/S3",
                _datum(
                    "NumberOfObjects",
                    "BucketName",
                    resource,
                    at,
                    round(size / (2 * MB)),
                    "Count",
                    extra=(("StorageType", "AllStorageTypes"),),
                ),
            ),
        ]
    if item.kind == "lambda":
        if item.name == "nightly-cleanup":
            calls = 1 if at.hour == 2 else 0
        else:
            calls = round(5 + 150 * busy * rng.uniform(0.6, 1.0))
        # Lambda publishes no point for an hour without invocations.
        return (
            [("AWS/Lambda", _datum("Invocations", "FunctionName", item.name, at, calls, "Count"))]
            if calls
            else []
        )
    return []


def demo_metric_data(
    created: Mapping[str, str], *, today: date, days: int = METRIC_DAYS
) -> list[tuple[str, dict[str, Any]]]:
    """(namespace, MetricDatum) for every demo resource in ``created`` (plan name -> the id
    ``_create`` returned): busy instances run at 20-70% CPU with a daily rhythm and move
    hundreds of MB a day, the idle one (pattern "idle") idles under 2% and a few KB, every
    instance passes its status checks; both databases have connections, CPU, free storage and
    IOPS; each bucket its daily size and object count; bob-image-resize is invoked through
    the day and nightly-cleanup once a night. Deterministic: the same hour gives the same points."""
    out: list[tuple[str, dict[str, Any]]] = []
    for item in PLAN:
        if item.name not in created:
            continue
        for n in range(days, 0, -1):
            day = today - timedelta(days=n)
            for hour in range(24):
                at = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
                out += _hour_metrics(item, created[item.name], at)
    return out


def publish_demo_metrics(
    cloudwatch: Any, created: Mapping[str, str], *, today: date, days: int = METRIC_DAYS
) -> int:
    """Put ``demo_metric_data`` into CloudWatch (the emulator); returns the datums put.
    Timestamps are real datetimes of the business calendar, before "today"; the
    recommendations read them back for the same window, whatever the wall clock says."""
    data = demo_metric_data(created, today=today, days=days)
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for namespace, datum in data:
        by_namespace.setdefault(namespace, []).append(datum)
    for namespace, datums in by_namespace.items():
        for start in range(0, len(datums), _PUT_BATCH):
            cloudwatch.put_metric_data(
                Namespace=namespace, MetricData=datums[start : start + _PUT_BATCH]
            )
    return len(data)


SERVICES = {
    "ec2": ("AmazonEC2", "Hrs"),
    "s3": ("AmazonS3", "GB-Mo"),
    "rds": ("AmazonRDS", "Hrs"),
    "lambda": ("AWSLambda", "Requests"),
}


def _cost_tags(item: Planned) -> dict[str, str]:
    """The tags the export carries for a resource: its Owner tag, and for an instance the
    Name tag ``_create`` gives it, as AWS writes activated cost allocation tags (the screens
    then show "web-1", not "i-0abc...": tally.names)."""
    tags = {"Owner": item.owner_tag} if item.owner_tag else {}
    if item.kind == "ec2":
        tags["Name"] = item.name
    return tags


def demo_resources(created: Mapping[str, str]) -> list[DemoResource]:
    """The cost export's view of the plan (``created``: plan name -> ARN)."""
    out = []
    for item in PLAN:
        service, unit = SERVICES[item.kind]
        out.append(
            DemoResource(
                service=service,
                resource_id=created[item.name],
                resource_type=item.kind,
                daily_cost=Decimal(item.daily_cost),
                unit=unit,
                tags=_cost_tags(item),
                pattern=item.pattern,
                name=item.name,
            )
        )
    return out


def write_demo_export(aws: LocalAws, resources: list[DemoResource], *, today: date) -> str:
    """(Re)write the demo FOCUS export: the ``HISTORY_DAYS`` days before ``today``."""
    body = generate_focus_csv(resources, end=today, days=HISTORY_DAYS)
    aws.client("s3").put_object(Bucket=aws.exports_bucket, Key=DEMO_EXPORT_KEY, Body=body.encode())
    return DEMO_EXPORT_KEY


def sizing_period(today: date) -> tuple[date, date]:
    """The days whose spend sizes the demo budgets (start inclusive, end exclusive): this
    month to date from the 3rd; before that, last month complete."""
    if today.day >= FIRST_SIZING_DAY:
        return today.replace(day=1), today
    return previous_month_start(today), today.replace(day=1)


def budget_limit(spent: Decimal, level: Decimal) -> Decimal:
    """A limit that puts ``spent`` at about ``level`` of it, rounded to two significant
    figures (33.00, 1200.00): at most 5% off, which keeps 0.85 between the 80% threshold and
    the limit, 1.25 above the limit and 0.40 below the threshold, for the two days of spend
    on the 3rd of a month as for a whole month. Without spend: 100.00."""
    if spent <= 0:
        return Decimal(100)
    target = spent / level
    step = max(Decimal(1).scaleb(target.adjusted() - 1), Decimal("0.01"))
    return target.quantize(step, rounding=ROUND_HALF_UP).quantize(Decimal("0.01"))


def build_organisation(
    access: AccessStore, ids: Mapping[str, str], *, actor: str, now: datetime
) -> None:
    """The demo's teams (``TEAMS``) and the roles given in Tally (``ROLES``), for the users
    ``ids`` names (username -> user id), as an admin (``actor``) would make them."""
    for planned in TEAMS:
        team = Team(
            planned.team_id,
            planned.name,
            kind=planned.kind,
            parent_id=planned.parent_id,
            cost_center=planned.cost_center,
            members=frozenset(ids[u] for u in planned.members),
            managers=frozenset(ids[u] for u in planned.managers),
            created_at=now,
            updated_at=now,
        )
        after = {"teamId": team.team_id, "members": sorted(team.members)}
        access.save_team(
            team,
            previous=None,
            snapshot=access.snapshot(),
            audit=AuditEntry(
                team_owner(team.team_id),
                now,
                actor,
                "team.created",
                team.team_id,
                {"before": "null", "after": json.dumps(after)},
            ),
        )
    for role_id, name, description, permissions in CUSTOM_ROLES:
        access.save_role(
            RoleDef(role_id, name, description, frozenset(permissions), updated_at=now),
            previous=None,
            snapshot=access.snapshot(),
            audit=AuditEntry(
                f"role:{role_id}",
                now,
                actor,
                "role.created",
                role_id,
                {"before": "null", "after": json.dumps({"permissions": sorted(permissions)})},
            ),
        )
    for username, pairs in ROLES.items():
        grants = tuple(Grant(role, Scope.parse(scope)) for role, scope in pairs)
        roles = [{"roleId": role, "scope": scope} for role, scope in pairs]
        access.set_grants(
            ids[username],
            grants,
            previous=None,
            snapshot=access.snapshot(),
            audit=AuditEntry(
                ids[username],
                now,
                actor,
                "roles.assigned",
                ids[username],
                {"before": "null", "after": json.dumps(roles)},
            ),
        )


# The demo's tax (issue 17): VAT on the team "payments" (alice's and bob's invoices and the
# team's chargeback statement show a 19% breakdown) and the team "data" zero-rated, with its
# reason (an exemption to see on the Tax screen: the team carries no cost in the demo, so no
# statement or invoice is taxed at 0%); the organisation itself has no rule, so every other
# invoice is as it always was.
DEMO_TAX = (
    ("tr-00000000de19", "VAT", "DE", "19", "team:payments", "standard", None),
    (
        "tr-000000000da0",
        "VAT",
        "DE",
        "0",
        "team:data",
        "zero-rated",
        "Services exported outside the EU",
    ),
)
DEMO_TAX_FROM = date(2020, 1, 1)


def seed_demo_tax(stores: Stores, *, actor: str, now: datetime) -> None:
    """The demo's tax rules (``DEMO_TAX``), as finance would add them (audited)."""
    from tally.tax.model import TaxRule, Treatment, Unit
    from tally.tax.rules import rule_doc

    for rule_id, name, jurisdiction, rate, unit, treatment, reason in DEMO_TAX:
        rule = TaxRule(
            rule_id, name, jurisdiction, Decimal(rate), Unit.parse(unit), DEMO_TAX_FROM, None,
            Treatment(treatment), reason, now, actor,
        )  # fmt: skip
        audit = AuditEntry(
            f"tax:{rule_id}", now, actor, "tax.rule.created", rule_id,
            {"before": "null", "after": json.dumps(rule_doc(rule), sort_keys=True)},
        )  # fmt: skip
        stores.tax.save_rule(rule, read_at=stores.tax.rules().revision, audit=audit)


DEMO_LOGO = Path(__file__).resolve().parents[2] / "templates" / "invoice" / "demo-logo.png"


def seed_invoice_template(
    templates: InvoiceTemplateStore, *, actor: str, now: datetime
) -> InvoiceTemplate:
    """The organisation's default invoice template (version 1), as finance would make it on
    the Templates screen: the demo's logo, its colours, texts with placeholders, and its own
    numbering, so every invoice made in the demo shows them."""
    import base64

    from tally.invoice_templates.model import InvoiceTemplate as Template
    from tally.invoice_templates.service import TemplateDraft, check_draft

    content = check_draft(
        TemplateDraft(
            name="Example Corp invoices",
            language="en",
            colours={"accent": "#0b6e4f", "heading_fill": "#dff1e8", "total_fill": "#dff1e8"},
            header="Internal AWS recharge for {{ subject }}, {{ period }}.",
            footer="Example Corp · Finance · finance@example.com",
            terms="Charged to your cost center within 30 days of {{ issued }}. "
            "Questions: reply to finance quoting {{ number }}.",
            number_prefix="EXC-",
            columns=["service", "resource", "quantity", "unit", "amount"],
            logo=base64.b64encode(DEMO_LOGO.read_bytes()).decode(),
        )
    )
    made = Template("org", 1, content, now, actor)
    templates.save(
        made,
        AuditEntry(
            "invoice-template:org", now, actor, "invoice-template.created", "org", {"version": "1"}
        ),
    )
    return made


ESTATE_IAM_ROLE = "estate-iam-admin"


def grant_estate_iam(access: AccessStore, admin_id: str, *, now: datetime) -> None:
    """The demo admin's grants plus the estate's IAM role, as an admin who holds it would give
    it (run by the stack after the access migration)."""
    profile = access.profiles([admin_id]).get(admin_id)
    held = tuple(profile.grants or ()) if profile else ()
    grant = Grant(ESTATE_IAM_ROLE, Scope.parse("org"))
    if grant in held:
        return
    access.set_grants(
        admin_id,
        (*held, grant),
        previous=profile,
        snapshot=access.snapshot(),
        audit=AuditEntry(
            admin_id,
            now,
            admin_id,
            "roles.assigned",
            admin_id,
            {
                "before": json.dumps([{"roleId": g.role_id, "scope": g.scope.key} for g in held]),
                "after": json.dumps(
                    [{"roleId": g.role_id, "scope": g.scope.key} for g in (*held, grant)]
                ),
            },
        ),
    )


@dataclass
class Demo:
    users: list[LocalUser]
    resources: list[DemoResource]
    # plan name -> the id CloudWatch names it by: what publish_demo_metrics takes to add a day
    metric_ids: dict[str, str] = field(default_factory=dict)


_DEMO: Demo | None = None  # what the daily schedule regenerates the export from


def seed_demo_estate(aws: LocalAws, *, today: date) -> DemoEstate:
    """The estate the inventory reads (issue 15): functions with metrics, a VPC, IAM users
    with the CIS findings the views flag (infra/local/estate.py)."""
    from infra.local.estate import seed_estate

    return seed_estate(aws.client, today=today, account=ACCOUNT)


def current_demo() -> Demo | None:
    return _DEMO


def seed(env: Mapping[str, str]) -> list[LocalUser]:
    """Create the demo organisation in the running local stack; return its users."""
    global _DEMO
    # The handlers and the domain read their settings from the environment, already set.
    from ingest.handler import Job, run_job
    from tally import assignments, budgets
    from tally.authz.authorizer import Authorizer
    from tally.calendar import month_of
    from tally.clock import utc_now, utc_today
    from tally.identity import Caller
    from tally.models import Metric
    from tally.org.costs import cost_center_summary, team_summary
    from tally.reports import month_summary
    from tally.resources import AwsResourceCatalog
    from tally.settings import get_settings
    from tally.store import dynamodb_stores
    from tally.tables import ADMIN_GROUP
    from tally.view import View

    aws = LocalAws.from_env(env)
    users = [add_user(aws, name, demo_password(name), role=role) for name, role in PEOPLE]
    ids = {u.username: u.user_id for u in users}
    admin = next(u for u in users if u.role == ADMIN_ROLE)
    caller = Caller(admin.user_id, admin.username, None, frozenset({ADMIN_GROUP}))

    settings = get_settings()
    stores = dynamodb_stores(settings)
    from tally.users import CognitoUserSource, sync_directory

    sync_directory(CognitoUserSource(aws.client("cognito-idp"), aws.user_pool_id), stores.users)
    build_organisation(stores.access, ids, actor=admin.user_id, now=utc_now())
    seed_demo_tax(stores, actor=ids["fiona"], now=utc_now())
    seed_invoice_template(stores.invoice_templates, actor=admin.user_id, now=utc_now())
    # Decided as the API decides, on the organisation just made (its teams' place in it).
    caller = replace(caller, authorizer=Authorizer(caller, stores.access))
    catalog = AwsResourceCatalog(aws.client)
    today = utc_today()
    history_start = today - timedelta(days=HISTORY_DAYS)

    def view(day: date) -> View:
        return View(
            caller,
            stores,
            day,
            metric=Metric(settings.budget_metric),
            currency=settings.default_currency,
        )

    created: dict[str, str] = {}
    resource_ids: dict[str, str] = {}  # plan name -> the id it was created with
    image = demo_image(aws)
    for item in PLAN:
        assign_id, arn = _create(aws, item, image=image)
        created[item.name] = arn
        resource_ids[item.name] = assign_id
        owners = [(ids[username], share) for username, share in item.assigned]
        if item.team:
            owners.append((team_owner(item.team), "100"))
        for owner, share in owners:
            assignments.assign_resource(
                view(today),
                assignments.AssignRequest(
                    user_id=owner,
                    resource_type=item.kind,
                    resource_id=assign_id,
                    cost_center=_cost_center(owner, ids),
                    share_pct=Decimal(share),
                    effective_from=history_start,
                ),
                catalog=catalog,
            )

    publish_demo_metrics(aws.client("cloudwatch"), resource_ids, today=today)
    # DEMO exchange rates over the demo's days (and the week before, so its first day has a
    # rate in force): ?currency= and the Rates screen work offline (infra/local/demo_rates.py).
    from infra.local.demo_rates import load_demo_rates

    load_demo_rates(
        stores.rates,
        first=history_start - timedelta(days=7),
        last=today,
        actor=admin.user_id,
        now=utc_now(),
    )
    demo_estate = seed_demo_estate(aws, today=today)
    # The estate's own lines (its functions, NAT gateway, addresses, endpoint), so its views
    # show costs as the organisation's other resources do.
    resources = demo_resources(created) + estate_cost_resources(
        demo_estate, account=ACCOUNT, region=aws.region
    )
    key = write_demo_export(aws, resources, today=today)
    ingested = run_job(Job(history_start, today, aws.exports_bucket, key))
    if "dispatched" in ingested:
        # Fanned out over the stack's queue: worked here, so the figures below are landed.
        from infra.local.ingest_workers import drain_run

        drain_run(
            ingested["runId"],
            sqs=aws.client("sqs"),
            queue_url=aws.ingest_queue_url,
            region=aws.region,
        )

    # The summary of the sizing period's last day is that month's total (to date).
    sizing_day = sizing_period(today)[1] - timedelta(days=1)
    for username, level in BUDGET_LEVELS.items():
        spent = month_summary(view(sizing_day), ids[username]).total
        budgets.create_budget(
            view(today),
            budgets.BudgetRequest(
                ids[username],
                budget_limit(spent, level),
                budgets.DEFAULT_THRESHOLD,
                effective_from=month_of(history_start),
            ),
        )

    def group_budget(spent: Decimal, level: Decimal, **subject: str) -> None:
        budgets.create_budget(
            view(today),
            budgets.BudgetRequest(
                None,
                budget_limit(spent, level),
                budgets.DEFAULT_THRESHOLD,
                effective_from=month_of(history_start),
                **subject,
            ),
        )

    for team_id, level in TEAM_BUDGET_LEVELS.items():
        group_budget(team_summary(view(sizing_day), team_id).summary.total, level, team_id=team_id)
    for code, level in COST_CENTER_BUDGET_LEVELS.items():
        spent = cost_center_summary(view(sizing_day), code).summary.total
        group_budget(spent, level, cost_center=code)
    # Reserved capacity: a Savings Plan ending within 30 days (finance is told), a reservation,
    # utilisation, coverage and recommendations, through the refresh's own code.
    from infra.local.demo_commitments import seed_demo_commitments
    from tally.notify import aws_channels
    from tally.notify.factory import NotifySettings

    seed_demo_commitments(
        stores,
        aws_channels(NotifySettings.from_env()).admin_topic,
        today=today,
        now=utc_now(),
        region=aws.region,
    )
    _DEMO = Demo(users, resources, resource_ids)
    log.info("demo organisation ready: %d users, %d resources", len(users), len(PLAN))
    return users
