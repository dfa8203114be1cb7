"""``make bench SECTIONS=estate``: the inventory's refresh of a large estate (issue 15).

An estate of 1,000 Lambda functions, 50 VPCs and 500 IAM users (``ESTATE``; the environment
variable ``TALLY_BENCH_ESTATE_SCALE=0.1`` makes it a tenth for a quick run) is made through the
AWS APIs in moto in this process (``populate``), in proportions an organisation of that size
has (see ``_functions``, ``_network``, ``_users``). Then the inventory refreshes it, family by
family and region by region in the order of a scheduled run (``inventory.handler.ORDER``),
with its own code (``tally.estate.inventory.refresh``) into the estate cache on moto's
DynamoDB. A second, empty region (its default VPC only) shows what every configured region
costs whatever it holds.

Per (region, family): seconds (of which DynamoDB), the AWS calls from the readers' counter by
operation, the cache's records and its DynamoDB requests and write units. moto does not page
ListFunctions or ListUsers (it answers every item in one page), so beside the calls moto
counted stands the number AWS would make at its documented page sizes (``AWS_PAGE``). Seconds
are moto's in-process answers on this machine, not AWS latency: a modelled AWS time from the
calls and the assumed latencies below is printed beside them. Last, the IAM reader side by
side with the one it replaced (every list per user), on the same users: calls, seconds and
whether both read the same models. Figures, never assertions on time;
``tests/estate/test_estate_bench.py`` runs it at a small size and checks the calls.
"""

from __future__ import annotations

import io
import math
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

REGION = "us-east-1"
EMPTY_REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# Families in a scheduled run's order; IAM is global and read once (inventory.handler.plan).
ORDER = ("lambda", "metrics", "network", "iam")

# Items per page AWS answers when the caller sets no page size (boto3's paginators set none):
# ListFunctions 50 (its maximum), ListUsers 100 (MaxItems' default). moto answers one page.
AWS_PAGE = {
    "lambda:list_functions": 50,
    "iam:list_users": 100,
    "iam:get_account_authorization_details": 100,
}

# Assumed latencies for the modelled AWS time (typical, not measured): a call made one after
# another from a Lambda function in the same region (IAM's endpoint is global, in us-east-1).
LATENCY_MS = {"lambda": 25.0, "cloudwatch": 60.0, "ec2": 120.0, "iam": 45.0, "dynamodb": 25.0}

Client = Callable[[str, str], Any]  # (service, region) -> a boto3 client
Rows = Iterator[tuple[str, object]]


@dataclass(frozen=True)
class Size:
    functions: int
    vpcs: int
    users: int

    @classmethod
    def scaled(cls, scale: float) -> Size:
        return cls(
            max(1, round(ESTATE.functions * scale)),
            max(1, round(ESTATE.vpcs * scale)),
            max(1, round(ESTATE.users * scale)),
        )


ESTATE = Size(functions=1_000, vpcs=50, users=500)  # the figure


@dataclass
class Made:
    """What ``populate`` created, by kind (the network's besides moto's defaults)."""

    size: Size
    counts: Counter[str] = field(default_factory=Counter)
    access_keys: int = 0


# ---- the estate ---------------------------------------------------------------------------

RUNTIMES = (
    "python3.12",
    "python3.13",
    "nodejs20.x",
    "nodejs22.x",
    "python3.11",
    "java21",
    "nodejs18.x",  # deprecated
    "python3.12",
    "provided.al2023",
    "python3.9",  # deprecated
)
GROUPS = ("developers", "operations", "data", "read-only", "admins", "billing", "support", "ci")


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def populate(client: Client, size: Size) -> Made:
    """The estate of ``size`` in ``REGION`` (IAM is global), through the AWS APIs."""
    made = Made(size)
    _functions(client, size.functions, made)
    _network(client, size.vpcs, made)
    _users(client, size.users, made)
    return made


def _functions(client: Client, count: int, made: Made) -> None:
    """Runtimes mixed (one in five deprecated), a third on arm64, seven in ten tagged with an
    owner, one in twenty with reserved concurrency."""
    iam, lam = client("iam", REGION), client("lambda", REGION)
    role = iam.create_role(RoleName="bench-function-role", AssumeRolePolicyDocument="{}")
    code = _zip()
    for i in range(count):
        name = f"bench-fn-{i:04d}"
        lam.create_function(
            FunctionName=name,
            Runtime=RUNTIMES[i % len(RUNTIMES)],
            Role=role["Role"]["Arn"],
            Handler="index.handler",
            Code={"ZipFile": code},
            Architectures=["arm64" if i % 3 == 0 else "x86_64"],
            MemorySize=(128, 256, 512, 1024, 1769)[i % 5],
            Timeout=(3, 15, 30, 60, 900)[i % 5],
            Tags={"Owner": f"user{i % 40:03d}", "Team": GROUPS[i % 8]} if i % 10 < 7 else {},
        )
        if i % 20 == 0:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=10)
    made.counts["function"] = count


def _rule(port: int, cidr: str | None = None, group: str | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if cidr:
        rule["IpRanges"] = [{"CidrIp": cidr}]
    if group:
        rule["UserIdGroupPairs"] = [{"GroupId": group}]
    return rule


def _network(client: Client, count: int, made: Made) -> None:
    """Per VPC: two public and two private subnets in two zones; an internet gateway in four
    VPCs of five; a NAT gateway (with its Elastic IP) in three of those four; an S3 gateway
    endpoint in every other VPC and an interface endpoint in one in five; six security groups
    (web, app, db, cache, bastion, functions) besides the default, the bastion open to the world
    on port 22 in one VPC of ten; a peering from every tenth VPC to the next; an unattached
    Elastic IP in one VPC of ten."""
    ec2 = client("ec2", REGION)
    vpcs: list[str] = []
    c = made.counts
    for v in range(count):
        vpc = ec2.create_vpc(CidrBlock=f"10.{v}.0.0/16")["Vpc"]["VpcId"]
        vpcs.append(vpc)
        ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": f"bench-{v:02d}"}])
        subnets = [
            ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.{v}.{s}.0/24", AvailabilityZone=f"{REGION}{'ab'[s % 2]}"
            )["Subnet"]["SubnetId"]
            for s in range(4)
        ]
        public, private = subnets[:2], subnets[2:]
        c["vpc"] += 1
        c["subnet"] += 4
        private_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        c["route-table"] += 2  # with the VPC's main one
        for subnet in private:
            ec2.associate_route_table(RouteTableId=private_rt, SubnetId=subnet)
        if v % 5 != 4:
            igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
            ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
            public_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
            ec2.create_route(
                RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw
            )
            for subnet in public:
                ec2.associate_route_table(RouteTableId=public_rt, SubnetId=subnet)
            c["internet-gateway"] += 1
            c["route-table"] += 1
            if v % 5 != 3:
                eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
                nat = ec2.create_nat_gateway(SubnetId=public[0], AllocationId=eip)
                ec2.create_route(
                    RouteTableId=private_rt,
                    DestinationCidrBlock="0.0.0.0/0",
                    NatGatewayId=nat["NatGateway"]["NatGatewayId"],
                )
                c["nat-gateway"] += 1
                c["elastic-ip"] += 1
        if v % 2 == 0:
            ec2.create_vpc_endpoint(
                VpcId=vpc,
                ServiceName=f"com.amazonaws.{REGION}.s3",
                VpcEndpointType="Gateway",
                RouteTableIds=[private_rt],
            )
            c["endpoint"] += 1
        if v % 5 == 0:
            ec2.create_vpc_endpoint(
                VpcId=vpc,
                ServiceName=f"com.amazonaws.{REGION}.secretsmanager",
                VpcEndpointType="Interface",
                SubnetIds=private,
            )
            c["endpoint"] += 1
        groups: dict[str, str] = {}
        for name in ("web", "app", "db", "cache", "bastion", "functions"):
            groups[name] = ec2.create_security_group(
                GroupName=f"bench-{v:02d}-{name}", Description=name, VpcId=vpc
            )["GroupId"]
        c["security-group"] += 7  # with the VPC's default one
        for name, rules in (
            ("web", [_rule(443, cidr="0.0.0.0/0"), _rule(80, cidr="0.0.0.0/0")]),
            ("app", [_rule(8080, group=groups["web"])]),
            ("db", [_rule(5432, group=groups["app"]), _rule(5432, group=groups["functions"])]),
            ("cache", [_rule(6379, group=groups["app"])]),
            ("bastion", [_rule(22, cidr="0.0.0.0/0" if v % 10 == 0 else "10.0.0.0/8")]),
        ):
            ec2.authorize_security_group_ingress(GroupId=groups[name], IpPermissions=rules)
        if v % 10 == 5:
            ec2.allocate_address(Domain="vpc")
            c["elastic-ip"] += 1
    for v in range(0, count - 1, 10):
        ec2.create_vpc_peering_connection(VpcId=vpcs[v], PeerVpcId=vpcs[v + 1])
        c["peering"] += 1


def _users(client: Client, count: int, made: Made) -> None:
    """Eight groups; each user in one or two. Four in ten with console access, three in four
    of those with a virtual MFA device; seven in ten with an access key, one in ten with two;
    one in five with a managed policy attached directly, one in ten with an inline policy;
    six in ten tagged with an owner; the CI users under the path ``/service/``."""
    iam = client("iam", REGION)
    for group in GROUPS:
        iam.create_group(GroupName=group)
    policies = [
        iam.create_policy(
            PolicyName=f"bench-policy-{p}",
            PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
            f'"Action": "s3:GetObject", "Resource": "arn:aws:s3:::bench-{p}/*"}}]}}',
        )["Policy"]["Arn"]
        for p in range(5)
    ]
    for u in range(count):
        name = f"bench-user-{u:04d}"
        tags = [{"Key": "Owner", "Value": f"user{u % 40:03d}"}] if u % 10 < 6 else []
        iam.create_user(UserName=name, Path="/service/" if u % 8 == 7 else "/", Tags=tags)
        iam.add_user_to_group(GroupName=GROUPS[u % 8], UserName=name)
        if u % 3 == 0:
            iam.add_user_to_group(GroupName=GROUPS[(u + 3) % 8], UserName=name)
        if u % 5 < 2:
            iam.create_login_profile(UserName=name, Password="Bench-password-1!")
            made.counts["console"] += 1
            if u % 4 != 0:
                serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)
                iam.enable_mfa_device(
                    UserName=name,
                    SerialNumber=serial["VirtualMFADevice"]["SerialNumber"],
                    AuthenticationCode1="123456",
                    AuthenticationCode2="654321",
                )
                made.counts["mfa"] += 1
        keys = 2 if u % 10 == 0 else 1 if u % 10 < 7 else 0
        for _ in range(keys):
            iam.create_access_key(UserName=name)
        made.access_keys += keys
        if u % 5 == 0:
            iam.attach_user_policy(UserName=name, PolicyArn=policies[u % len(policies)])
        if u % 10 == 0:
            iam.put_user_policy(
                UserName=name,
                PolicyName="inline-read",
                PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                '"Action": "s3:ListBucket", "Resource": "*"}]}',
            )
    made.counts["user"] = count


# ---- the refresh --------------------------------------------------------------------------


@dataclass
class Step:
    """One (region, family) refresh."""

    region: str
    family: str
    seconds: float
    records: int
    calls: Counter[str]  # service:operation -> calls moto answered
    dynamodb: Counter[str]  # operation -> requests
    dynamodb_seconds: float
    write_units: int

    @property
    def aws_calls(self) -> int:
        """The calls AWS would answer: moto's, with the unpaged lists paged as AWS pages them."""
        return sum(self.calls.values()) + sum(self.extra_pages().values())

    def extra_pages(self) -> Counter[str]:
        extra: Counter[str] = Counter()
        for op, page in AWS_PAGE.items():
            if self.calls.get(op):  # the family's records are what the list listed
                extra[op] = max(1, math.ceil(self.records / page)) - self.calls[op]
        return extra

    def modelled_seconds(self) -> float:
        calls = self.calls + self.extra_pages()
        ms = sum(LATENCY_MS[op.split(":")[0]] * n for op, n in calls.items())
        return (ms + LATENCY_MS["dynamodb"] * sum(self.dynamodb.values())) / 1000


def _item_bytes(item: dict[str, dict[str, str]]) -> int:
    """An item's size as DynamoDB counts it: names and values in UTF-8 (numbers as digits)."""
    return sum(len(k.encode()) + len(next(iter(v.values())).encode()) for k, v in item.items())


@contextmanager
def timing_dynamodb() -> Iterator[tuple[Counter[str], list[float]]]:
    """DynamoDB requests by operation, their seconds, and the write units of the items put
    (1 per KB or part) and deleted (1 each), as pynamodb dispatches them."""
    from pynamodb.connection.base import Connection

    seen: Counter[str] = Counter()
    spent = [0.0]
    real = Connection.dispatch

    def timed(self: Connection, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        seen[operation] += 1
        if operation == "BatchWriteItem":
            for requests in kwargs.get("RequestItems", {}).values():
                for r in requests:
                    if "PutRequest" in r:
                        seen["write units"] += math.ceil(
                            _item_bytes(r["PutRequest"]["Item"]) / 1024
                        )
                    else:
                        seen["write units"] += 1
        started = time.perf_counter()
        try:
            return real(self, operation, kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    Connection.dispatch = timed  # type: ignore[method-assign,assignment]
    try:
        yield seen, spent
    finally:
        Connection.dispatch = real  # type: ignore[method-assign]


def refresh_all(store: Any, regions: tuple[str, ...] = (REGION, EMPTY_REGION)) -> list[Step]:
    """A scheduled run's refreshes, each timed and counted on its own (a fresh client seam)."""
    from tally.estate.clients import Boto3EstateClients
    from tally.estate.inventory import refresh

    plan = [(r, f) for r in regions for f in ORDER if f != "iam"] + [(regions[0], "iam")]
    steps = []
    for region, family in plan:
        clients = Boto3EstateClients()
        with timing_dynamodb() as (dynamodb, dynamodb_seconds):
            started = time.perf_counter()
            done = refresh(
                clients,
                store,
                account=ACCOUNT,
                region=region,
                family=family,  # type: ignore[arg-type]
                now=NOW,
            )
            seconds = time.perf_counter() - started
        write_units = dynamodb.pop("write units", 0)
        steps.append(
            Step(
                done.scope.region,
                family,
                seconds,
                done.records,
                Counter({op: n for (_, op), n in clients.counter.counts.items()}),
                dynamodb,
                dynamodb_seconds[0],
                write_units,
            )
        )
    return steps


def formula_calls(made: Made, family: str, functions: int, network_kinds: int = 10) -> int:
    """The calls the decision log's formula predicts, at AWS's page sizes: Lambda 1 per 50
    functions + 2 per function; metrics 1 per 250 functions; the network one call per kind;
    IAM 2 per 100 users (ListUsers, GetAccountAuthorizationDetails) + 3 per user + 1 per
    access key."""
    if family == "lambda":
        return max(1, math.ceil(functions / 50)) + 2 * functions
    if family == "metrics":
        return math.ceil(functions / 250)
    if family == "network":
        return network_kinds
    users = made.size.users
    return 2 * max(1, math.ceil(users / 100)) + 3 * users + made.access_keys


def read_users_one_by_one(clients: Any, region: str) -> list[Any]:
    """The IAM reader before GetAccountAuthorizationDetails: ListUsers, then every list per
    user (what a single user's refresh still does), for the comparison."""
    from tally.estate import readers
    from tally.estate.clients import pages

    return [
        readers._user(clients, region, raw)
        for page in pages(clients, region, "iam", "list_users")
        for raw in page.get("Users", [])
    ]


def iam_readers_compared(made: Made) -> Rows:
    """Both IAM readers on the same users: their calls at AWS's page sizes, seconds here and
    modelled, and whether they read the same models."""
    from tally.estate import readers
    from tally.estate.clients import Boto3EstateClients

    read = {}
    for label, reader in (
        ("one by one (7 per user)", read_users_one_by_one),
        ("account read (3 per user)", readers.read_users),
    ):
        clients = Boto3EstateClients()
        started = time.perf_counter()
        read[label] = reader(clients, REGION)
        step = Step(
            "global",
            "iam",
            time.perf_counter() - started,
            len(read[label]),
            Counter({op: n for (_, op), n in clients.counter.counts.items()}),
            Counter(),
            0.0,
            0,
        )
        yield (
            f"IAM {label}: calls, seconds here / modelled",
            f"{step.aws_calls:,} ({step.aws_calls / made.size.users:.2f} per user), "
            f"{step.seconds:.1f} / {step.modelled_seconds():.0f}",
        )
    first, second = read.values()
    yield "IAM readers: the same models (so the same findings)", first == second


# ---- the section --------------------------------------------------------------------------


def _client_factory() -> Client:
    import boto3

    return lambda service, region: boto3.client(service, region_name=region)


def run(size: Size, moto_tables: Callable[[], AbstractContextManager[Any]]) -> Rows:
    from tally.store.estate import dynamodb_store

    with moto_tables() as settings:
        started = time.perf_counter()
        made = populate(_client_factory(), size)
        yield (
            f"fixture: {size.functions:,} functions, {size.vpcs} VPCs, {size.users} users (s)",
            f"{time.perf_counter() - started:.1f}  (moto, through the AWS APIs; not the bench)",
        )
        yield "  made", dict(sorted(made.counts.items()))
        store = dynamodb_store(settings)
        steps = refresh_all(store)
        yield from report(made, steps)
        yield from iam_readers_compared(made)
        again = refresh_all(store, regions=(REGION,))
        yield (
            "next run, nothing changed: write units (all rewritten)",
            f"{sum(s.write_units for s in again):,}",
        )


def report(made: Made, steps: list[Step]) -> Rows:
    functions = made.size.functions
    for step in steps:
        where = f"{step.region}/{step.family}"
        yield (
            f"{where}: seconds here (of which DynamoDB)",
            f"{step.seconds:.2f} ({step.dynamodb_seconds:.2f})  records {step.records:,}",
        )
        family_functions = functions if step.region == REGION else 0
        expected = formula_calls(made, step.family, family_functions)
        yield (
            f"{where}: AWS calls: moto / AWS pages / formula",
            f"{sum(step.calls.values()):,} / {step.aws_calls:,} / {expected:,}"
            + (
                f"  ({step.aws_calls / step.records:.2f} per resource)"
                if step.records and step.family in ("lambda", "iam")
                else ""
            ),
        )
        yield f"{where}: calls by operation", dict(sorted(step.calls.items()))
        yield (
            f"{where}: DynamoDB requests, write units",
            f"{dict(sorted(step.dynamodb.items()))}, {step.write_units:,}",
        )
        yield (
            f"{where}: modelled seconds in AWS (calls in sequence)",
            f"{step.modelled_seconds():.1f}",
        )
    by_region: Counter[str] = Counter()
    for step in steps:
        by_region[step.region] += step.aws_calls
    yield "AWS calls per region at AWS page sizes (IAM: global)", dict(by_region)
    yield (
        "a scheduled run: seconds here / modelled in AWS",
        f"{sum(s.seconds for s in steps):.1f} / {sum(s.modelled_seconds() for s in steps):.0f}",
    )
    yield (
        "a scheduled run: DynamoDB write units (hourly: x 24 a day)",
        f"{sum(s.write_units for s in steps):,}",
    )
    yield (
        "assumed latencies per call (ms), for the model",
        ", ".join(f"{k} {v:.0f}" for k, v in LATENCY_MS.items()),
    )
