"""The demo estate: what the inventory finds in the local stack's emulator (issue 15).

Made through the AWS APIs (boto3 against moto), except the ages AWS itself sets (an access
key's CreateDate, a user's CreateDate and PasswordLastUsed, an access key's last use): no API
sets those, so ``_age_iam`` writes them on moto's backend objects, which is possible because
moto runs in this process (``infra/local/aws.py``; in tests, ``mock_aws``). DEMO ONLY: product
code never fakes a date.

Ages are relative to the business date the stack runs on (``today``), so the findings are the
same whatever day the demo starts: a console user without MFA, a 200-day-old access key, a
user unused for 60 days; one erroring, one idle and one busy function; a security group open
to the world on port 22.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

Client = Callable[[str], Any]

ERRORING = "tally-demo-orders-sync"
IDLE = "tally-demo-legacy-thumbnails"
BUSY = "tally-demo-checkout-api"
FUNCTIONS = (ERRORING, IDLE, BUSY)
NO_MFA_USER = "demo-console-no-mfa"
OLD_KEY_USER = "demo-ci-old-key"
UNUSED_USER = "demo-contractor-unused"
USERS = (NO_MFA_USER, OLD_KEY_USER, UNUSED_USER)
OPEN_GROUP = "tally-demo-bastion-ssh"
DEVELOPERS_GROUP = "tally-demo-developers"
# A group nobody is in (with a policy): "Add to group" offers more than the users' own groups.
EMPTY_GROUP = "tally-demo-auditors"
METRIC_DAYS = 7  # the window the inventory reads metrics over
# The emulator's console users' password: nobody signs in with it.
DEMO_PASSWORD = "Demo-password-1!"  # noqa: S105


@dataclass(frozen=True)
class DemoEstate:
    vpc_id: str
    public_subnet_id: str
    private_subnet_id: str
    open_group_id: str
    nat_gateway_id: str = ""
    allocation_ids: tuple[str, ...] = ()  # the NAT gateway's address, then a forgotten one
    endpoint_id: str = ""  # an interface endpoint (billed by the hour; the S3 one is free)


def _zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def seed_estate(client: Client, *, today: date, account: str) -> DemoEstate:
    """Create the demo estate through ``client(service)`` (boto3 clients on the emulator)."""
    _functions(client, today)
    estate = _network(client)
    _users(client)
    _age_iam(account, today)
    return estate


def _functions(client: Client, today: date) -> None:
    iam, lam = client("iam"), client("lambda")
    role = iam.create_role(RoleName="tally-demo-estate-role", AssumeRolePolicyDocument="{}")
    for name, runtime in ((ERRORING, "python3.9"), (IDLE, "nodejs18.x"), (BUSY, "python3.12")):
        lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=role["Role"]["Arn"],
            Handler="index.handler",
            Code={"ZipFile": _zip()},
            MemorySize=512 if name == BUSY else 128,
            Tags={"Owner": "alice"} if name == BUSY else {},
        )
    lam.put_function_concurrency(FunctionName=BUSY, ReservedConcurrentExecutions=20)
    # One datum a day for the last METRIC_DAYS days: busy (no errors), erroring (20%); the
    # idle function gets none, as CloudWatch publishes nothing for a function never invoked.
    end = datetime.combine(today, time(), tzinfo=UTC)
    data = []
    for day in range(1, METRIC_DAYS + 1):
        at = end - timedelta(days=day) + timedelta(hours=12)
        for name, invocations, errors in ((BUSY, 5000, 3), (ERRORING, 200, 40)):
            for metric, value in (("Invocations", invocations), ("Errors", errors)):
                data.append(
                    {
                        "MetricName": metric,
                        "Dimensions": [{"Name": "FunctionName", "Value": name}],
                        "Timestamp": at,
                        "Value": value,
                        "Unit": "Count",
                    }
                )
        # Durations (the right-sizing suggestion's input): the busy function is quick at
        # 512 MB (a candidate for less memory), the erroring one near its 3 s timeout.
        for name, average, longest in ((BUSY, 40.0, 90.0), (ERRORING, 2000.0, 2900.0)):
            data.append(
                {
                    "MetricName": "Duration",
                    "Dimensions": [{"Name": "FunctionName", "Value": name}],
                    "Timestamp": at,
                    "StatisticValues": {
                        "SampleCount": 1,
                        "Sum": average,
                        "Minimum": average,
                        "Maximum": longest,
                    },
                    "Unit": "Milliseconds",
                }
            )
    client("cloudwatch").put_metric_data(Namespace="AWS/Lambda", MetricData=data)
    # The erroring function's log group: yesterday's failures, for its detail's recent errors.
    logs, group = client("logs"), f"/aws/lambda/{ERRORING}"
    stream = f"{(today - timedelta(days=1)).strftime('%Y/%m/%d')}/[$LATEST]demo"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    yesterday = end - timedelta(days=1)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[
            {
                "timestamp": int(
                    (yesterday + timedelta(hours=9, minutes=7 * n)).timestamp() * 1000
                ),
                "message": "[ERROR] ConnectionError: orders-db:5432 refused the connection"
                if n % 2
                else "Task timed out after 3.00 seconds",
            }
            for n in range(6)
        ],
    )


def _network(client: Client) -> DemoEstate:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "tally-demo"}])
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.0.0/24")["Subnet"]["SubnetId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=public_rt, SubnetId=public)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    # An address nobody released: attached to nothing, billed as public IPv4 all the same.
    forgotten = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    private_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=private_rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    ec2.associate_route_table(RouteTableId=private_rt, SubnetId=private)
    ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.us-east-1.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[private_rt],
    )
    interface = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.us-east-1.secretsmanager",
        VpcEndpointType="Interface",
        SubnetIds=[private],
    )["VpcEndpoint"]["VpcEndpointId"]
    web = ec2.create_security_group(GroupName="tally-demo-web", Description="web", VpcId=vpc)
    ec2.authorize_security_group_ingress(
        GroupId=web["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    ssh = ec2.create_security_group(GroupName=OPEN_GROUP, Description="bastion", VpcId=vpc)
    ec2.authorize_security_group_ingress(
        GroupId=ssh["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    return DemoEstate(
        vpc,
        public,
        private,
        ssh["GroupId"],
        nat_gateway_id=nat,
        allocation_ids=(eip, forgotten),
        endpoint_id=interface,
    )


def _users(client: Client) -> None:
    iam = client("iam")
    iam.create_group(GroupName=DEVELOPERS_GROUP)
    iam.create_group(GroupName=EMPTY_GROUP, Path="/audit/")
    for name in USERS:
        iam.create_user(UserName=name, Tags=[{"Key": "Owner", "Value": "alice"}])
        iam.add_user_to_group(GroupName=DEVELOPERS_GROUP, UserName=name)
    iam.create_login_profile(UserName=NO_MFA_USER, Password=DEMO_PASSWORD)
    iam.create_login_profile(UserName=UNUSED_USER, Password=DEMO_PASSWORD)
    iam.create_access_key(UserName=OLD_KEY_USER)
    iam.create_access_key(UserName=UNUSED_USER)
    # moto does not load AWS's managed policies by default: a customer-managed one instead.
    policy = iam.create_policy(
        PolicyName="tally-demo-read-buckets",
        PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Action": "s3:ListAllMyBuckets", "Resource": "*"}]}',
    )
    iam.attach_user_policy(UserName=OLD_KEY_USER, PolicyArn=policy["Policy"]["Arn"])
    iam.attach_group_policy(GroupName=EMPTY_GROUP, PolicyArn=policy["Policy"]["Arn"])
    iam.put_user_policy(
        UserName=UNUSED_USER,
        PolicyName="inline-read",
        PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Action": "s3:GetObject", "Resource": "*"}]}',
    )


def _age_iam(account: str, today: date) -> None:
    """DEMO ONLY: set the dates AWS sets itself, on moto's in-process backend objects."""
    from moto.iam.models import AccessKeyLastUsed, iam_backends

    backend = iam_backends[account]["aws"]
    # From the first instant of the day: "now" on a pinned date is that date at the real time
    # of day (tally.clock), so an age counted from midnight is N whole days at any hour, where
    # one counted from noon read "199 days old" every morning (CI ran before noon and failed).
    start = datetime.combine(today, time(0), tzinfo=UTC)
    for name in USERS:
        user = backend.users[name]
        user.create_date = start - timedelta(days=400)
        # moto types this attribute None, yet documents setting it (getmoto/moto#5927).
        user.password_last_used = start - timedelta(days=2)  # type: ignore[assignment]
    # NO_MFA_USER keeps its recent password use: its one finding is the missing MFA.
    old = backend.users[OLD_KEY_USER]
    for key in old.access_keys:
        key.create_date = start - timedelta(days=200)
        key.last_used = AccessKeyLastUsed(start - timedelta(days=1), "s3", "us-east-1")
    unused = backend.users[UNUSED_USER]
    unused.password_last_used = start - timedelta(days=60)  # type: ignore[assignment]
    for key in unused.access_keys:
        key.create_date = start - timedelta(days=70)
        key.last_used = AccessKeyLastUsed(start - timedelta(days=60), "s3", "us-east-1")


def refresh_estate(account: str = "123456789012") -> dict[str, Any]:
    """One inventory run in this process, with the handler's own code, so the cache is filled
    when the stack is up (moto never fires the hourly schedule). Reads the environment the
    stack set for its handlers; the account is moto's default."""
    from inventory.handler import _clients, run
    from inventory.settings import (
        ESTATE_ACCOUNT,
        ESTATE_REGIONS,
        ESTATE_ROLE_ARN,
        InventorySettings,
    )

    from tally.settings import Settings
    from tally.store import dynamodb_stores
    from tally.store.estate import dynamodb_store

    own = {ESTATE_ACCOUNT: account, ESTATE_REGIONS: None, ESTATE_ROLE_ARN: None}
    # Read afresh: the environment is the one the stack has just set.
    settings = InventorySettings._build(Settings.from_env(), own)
    return run(
        {"source": "tally.local"},
        settings,
        clients=_clients(settings),
        store=dynamodb_store(settings),
        owner_stores=dynamodb_stores(settings),
    )


# ---- the estate's cost lines -------------------------------------------------------------

# us-east-1 list prices (USD): Lambda (x86, the first pricing tier), NAT gateway, public IPv4
# (every address since February 2024), an interface endpoint in one AZ.
LAMBDA_REQUEST = Decimal("0.0000002")  # per request (0.20 per million)
LAMBDA_GB_SECOND = Decimal("0.0000166667")
NAT_HOUR = Decimal("0.045")
NAT_GB = Decimal("0.045")
IPV4_HOUR = Decimal("0.005")
ENDPOINT_HOUR = Decimal("0.01")
# (function, memory GB, invocations a weekday, average seconds, days before the export's end
# it stopped being called: the idle one was called until a month ago)
_FUNCTION_USE = (
    (BUSY, Decimal("0.5"), 5000, Decimal("0.8"), 0),
    (ERRORING, Decimal("0.125"), 200, Decimal("2.5"), 0),
    (IDLE, Decimal("0.125"), 3000, Decimal("0.4"), 30),
)


def estate_cost_resources(estate: DemoEstate, *, account: str, region: str) -> list[Any]:
    """The demo estate's lines in the demo export (``infra.local.demo_costs``): each
    function's requests and duration (GB-seconds) at the usage its metrics show, the NAT
    gateway's hours and GB processed, public IPv4 for both addresses, the interface
    endpoint's hours. Nobody is assigned these; the busy function's owner tag names alice."""
    from infra.local.demo_costs import DemoResource

    out = []
    for name, memory, calls, seconds, stopped in _FUNCTION_USE:
        arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
        tags = {"Owner": "alice"} if name == BUSY else {}
        gb_seconds = calls * memory * seconds
        for unit, cost, price in (
            ("Requests", calls * LAMBDA_REQUEST, LAMBDA_REQUEST),
            ("Lambda-GB-Second", gb_seconds * LAMBDA_GB_SECOND, LAMBDA_GB_SECOND),
        ):
            out.append(
                DemoResource(
                    "AWSLambda",
                    arn,
                    "lambda",
                    cost,
                    unit,
                    tags,
                    name=f"estate-{name}-{unit}",
                    unit_price=price,
                    stopped_days_before_end=stopped,
                )
            )
    ec2 = f"arn:aws:ec2:{region}:{account}"
    nat = f"{ec2}:natgateway/{estate.nat_gateway_id}"
    out += [
        DemoResource(
            "AmazonEC2",
            nat,
            "natgateway",
            24 * NAT_HOUR,
            "Hrs",
            pattern="idle",
            name="estate-nat-hours",
            unit_price=NAT_HOUR,
        ),
        # 40 GB a weekday through the NAT gateway (package downloads, API calls out)
        DemoResource(
            "AmazonEC2",
            nat,
            "natgateway",
            40 * NAT_GB,
            "GB",
            name="estate-nat-data",
            unit_price=NAT_GB,
        ),
        DemoResource(
            "AmazonVPC",
            f"{ec2}:vpc-endpoint/{estate.endpoint_id}",
            "vpcendpoint",
            24 * ENDPOINT_HOUR,
            "Hrs",
            pattern="idle",
            name="estate-endpoint",
            unit_price=ENDPOINT_HOUR,
        ),
    ]
    out += [
        DemoResource(
            "AmazonVPC",
            f"{ec2}:elastic-ip/{allocation}",
            "elasticip",
            24 * IPV4_HOUR,
            "Hrs",
            pattern="idle",
            name=f"estate-ipv4-{n}",
            unit_price=IPV4_HOUR,
        )
        for n, allocation in enumerate(estate.allocation_ids)
    ]
    return out
