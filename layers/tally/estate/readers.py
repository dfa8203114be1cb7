"""Readers: one per family, each taking an ``EstateClients`` and a region and returning the
domain models. Every List/Describe is paginated (``clients.pages``) and counted.

Calls per region, for the bench: Lambda is 1 per page of 50 functions plus 2 per function
(reserved concurrency and tags are not in ListFunctions); the network is one paginated
Describe per kind (10 kinds); IAM is 2 per page of 100 users (ListUsers and
GetAccountAuthorizationDetails) plus 3 per user and 1 per access key (a single user's refresh
reads it in 7 calls and 1 per key); metrics are 1 per 125 functions (four queries each, 500
per GetMetricData).
``make bench SECTIONS=estate`` measures them (tests/bench/estate.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from tally.estate.clients import EstateClients, call, pages
from tally.estate.models import (
    AccessKey,
    FunctionMetrics,
    IamUser,
    InternetGateway,
    LambdaFunction,
    NatGateway,
    Network,
    PeeringConnection,
    PublicAddress,
    Route,
    RouteTable,
    SecurityGroup,
    SecurityRule,
    Subnet,
    Vpc,
    VpcEndpoint,
)

# GetMetricData takes at most 500 queries per request.
METRIC_QUERIES_PER_CALL = 500
# Per function: (query id prefix, metric, statistic).
METRIC_QUERIES = (
    ("i", "Invocations", "Sum"),
    ("e", "Errors", "Sum"),
    ("a", "Duration", "Average"),
    ("m", "Duration", "Maximum"),
)


def _tags(raw: Iterable[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in raw or ()}


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


# ---- Lambda ------------------------------------------------------------------------------


def read_functions(clients: EstateClients, region: str) -> list[LambdaFunction]:
    return [
        _function(clients, region, config)
        for page in pages(clients, region, "lambda", "list_functions")
        for config in page.get("Functions", [])
    ]


def read_function(clients: EstateClients, region: str, name: str) -> LambdaFunction | None:
    """One function by name (a refresh of one resource); None when it is gone."""
    try:
        config = call(clients, region, "lambda", "get_function_configuration", FunctionName=name)
    except Exception as error:
        if _error_code(error) == "ResourceNotFoundException":
            return None
        raise
    return _function(clients, region, config)


def _function(clients: EstateClients, region: str, config: dict[str, Any]) -> LambdaFunction:
    name = config["FunctionName"]
    concurrency = call(
        clients, region, "lambda", "get_function_concurrency", FunctionName=name
    ).get("ReservedConcurrentExecutions")
    tags = call(clients, region, "lambda", "list_tags", Resource=config["FunctionArn"])
    return LambdaFunction(
        name=name,
        arn=config["FunctionArn"],
        region=region,
        runtime=config.get("Runtime"),
        architecture=(config.get("Architectures") or ["x86_64"])[0],
        memory=int(config.get("MemorySize", 128)),
        timeout=int(config.get("Timeout", 3)),
        last_modified=str(config.get("LastModified", "")),
        reserved_concurrency=int(concurrency) if concurrency is not None else None,
        tags=dict(tags.get("Tags") or {}),
    )


# ---- network -----------------------------------------------------------------------------


def _all(clients: EstateClients, region: str, name: str, key: str) -> list[dict[str, Any]]:
    return [item for page in pages(clients, region, "ec2", name) for item in page.get(key, [])]


def read_network(clients: EstateClients, region: str) -> Network:
    """The region's network in one read: a subnet is public or private by its route table."""
    route_tables = [
        _route_table(rt) for rt in _all(clients, region, "describe_route_tables", "RouteTables")
    ]
    subnets_raw = _all(clients, region, "describe_subnets", "Subnets")
    return Network(
        vpcs=tuple(
            Vpc(
                vpc_id=v["VpcId"],
                cidr=v.get("CidrBlock", ""),
                is_default=bool(v.get("IsDefault")),
                state=v.get("State", ""),
                tags=_tags(v.get("Tags")),
            )
            for v in _all(clients, region, "describe_vpcs", "Vpcs")
        ),
        subnets=tuple(_subnet(s, route_tables) for s in subnets_raw),
        route_tables=tuple(route_tables),
        internet_gateways=tuple(
            InternetGateway(
                gateway_id=g["InternetGatewayId"],
                vpc_ids=tuple(a["VpcId"] for a in g.get("Attachments", []) if a.get("VpcId")),
            )
            for g in _all(clients, region, "describe_internet_gateways", "InternetGateways")
        ),
        nat_gateways=tuple(
            NatGateway(
                gateway_id=g["NatGatewayId"],
                vpc_id=g.get("VpcId", ""),
                subnet_id=g.get("SubnetId", ""),
                state=g.get("State", ""),
                public_ips=tuple(
                    a["PublicIp"] for a in g.get("NatGatewayAddresses", []) if a.get("PublicIp")
                ),
            )
            for g in _all(clients, region, "describe_nat_gateways", "NatGateways")
        ),
        endpoints=tuple(
            VpcEndpoint(
                endpoint_id=e["VpcEndpointId"],
                vpc_id=e.get("VpcId", ""),
                service_name=e.get("ServiceName", ""),
                endpoint_type=e.get("VpcEndpointType", ""),
                state=e.get("State", ""),
            )
            for e in _all(clients, region, "describe_vpc_endpoints", "VpcEndpoints")
        ),
        peerings=tuple(
            PeeringConnection(
                peering_id=p["VpcPeeringConnectionId"],
                requester_vpc_id=p.get("RequesterVpcInfo", {}).get("VpcId", ""),
                accepter_vpc_id=p.get("AccepterVpcInfo", {}).get("VpcId", ""),
                status=p.get("Status", {}).get("Code", ""),
            )
            for p in _all(
                clients, region, "describe_vpc_peering_connections", "VpcPeeringConnections"
            )
        ),
        addresses=tuple(_addresses(clients, region)),
        security_groups=tuple(
            _security_group(g)
            for g in _all(clients, region, "describe_security_groups", "SecurityGroups")
        ),
    )


def _route_table(raw: dict[str, Any]) -> RouteTable:
    associations = raw.get("Associations", [])
    return RouteTable(
        route_table_id=raw["RouteTableId"],
        vpc_id=raw.get("VpcId", ""),
        main=any(a.get("Main") for a in associations),
        subnet_ids=tuple(a["SubnetId"] for a in associations if a.get("SubnetId")),
        routes=tuple(
            Route(
                destination=r.get("DestinationCidrBlock")
                or r.get("DestinationIpv6CidrBlock")
                or r.get("DestinationPrefixListId", ""),
                target=r.get("GatewayId")
                or r.get("NatGatewayId")
                or r.get("VpcPeeringConnectionId")
                or r.get("NetworkInterfaceId")
                or r.get("TransitGatewayId", ""),
            )
            for r in raw.get("Routes", [])
        ),
    )


def subnet_route_table(
    subnet_id: str, vpc_id: str, route_tables: Sequence[RouteTable]
) -> RouteTable | None:
    """The subnet's explicitly associated route table, else its VPC's main one (as AWS routes)."""
    own = next((rt for rt in route_tables if subnet_id in rt.subnet_ids), None)
    return own or next((rt for rt in route_tables if rt.vpc_id == vpc_id and rt.main), None)


def _subnet(raw: dict[str, Any], route_tables: Sequence[RouteTable]) -> Subnet:
    table = subnet_route_table(raw["SubnetId"], raw["VpcId"], route_tables)
    return Subnet(
        subnet_id=raw["SubnetId"],
        vpc_id=raw["VpcId"],
        cidr=raw.get("CidrBlock", ""),
        availability_zone=raw.get("AvailabilityZone", ""),
        public=table is not None and any(r.target.startswith("igw-") for r in table.routes),
        route_table_id=table.route_table_id if table else None,
        tags=_tags(raw.get("Tags")),
    )


def _addresses(clients: EstateClients, region: str) -> list[PublicAddress]:
    # DescribeAddresses is not paginated (a region holds at most a few Elastic IPs).
    elastic = [
        PublicAddress(
            public_ip=a["PublicIp"],
            # An address attached to nothing has no association; an empty id (the
            # emulator's) is none either.
            allocation_id=a.get("AllocationId") or None,
            association_id=a.get("AssociationId") or None,
            network_interface_id=a.get("NetworkInterfaceId") or None,
        )
        for a in call(clients, region, "ec2", "describe_addresses").get("Addresses", [])
    ]
    known = {a.public_ip for a in elastic}
    assigned = [
        PublicAddress(
            public_ip=ip,
            allocation_id=None,
            association_id=None,
            network_interface_id=eni["NetworkInterfaceId"],
        )
        for eni in _all(clients, region, "describe_network_interfaces", "NetworkInterfaces")
        if (ip := eni.get("Association", {}).get("PublicIp")) and ip not in known
    ]
    return elastic + assigned


def _rules(raw: Iterable[dict[str, Any]]) -> tuple[SecurityRule, ...]:
    return tuple(
        SecurityRule(
            protocol=str(p.get("IpProtocol", "-1")),
            from_port=p.get("FromPort"),
            to_port=p.get("ToPort"),
            cidrs=tuple(
                [r["CidrIp"] for r in p.get("IpRanges", [])]
                + [r["CidrIpv6"] for r in p.get("Ipv6Ranges", [])]
            ),
            source_groups=tuple(g["GroupId"] for g in p.get("UserIdGroupPairs", [])),
        )
        for p in raw
    )


def _security_group(raw: dict[str, Any]) -> SecurityGroup:
    return SecurityGroup(
        group_id=raw["GroupId"],
        name=raw.get("GroupName", ""),
        vpc_id=raw.get("VpcId"),
        description=raw.get("Description", ""),
        inbound=_rules(raw.get("IpPermissions", [])),
        outbound=_rules(raw.get("IpPermissionsEgress", [])),
    )


# ---- IAM (global: read through the given region's endpoint) -------------------------------


def read_users(clients: EstateClients, region: str) -> list[IamUser]:
    """Every IAM user, the same models ``read_user`` gives one by one, in about half the calls:
    GetAccountAuthorizationDetails answers each user's groups, policies and tags a page of 100
    users at a time (four calls per user fewer); ListUsers adds what it lacks (the password's
    last use). Read first, so a user created between the two reads is not missing its details:
    that user is read one call per list instead."""
    details = {
        detail["UserName"]: detail
        for page in pages(
            clients, region, "iam", "get_account_authorization_details", Filter=["User"]
        )
        for detail in page.get("UserDetailList", [])
    }
    return [
        _user(clients, region, raw, details.get(raw["UserName"]))
        for page in pages(clients, region, "iam", "list_users")
        for raw in page.get("Users", [])
    ]


def read_user(clients: EstateClients, region: str, name: str) -> IamUser | None:
    try:
        raw = call(clients, region, "iam", "get_user", UserName=name)["User"]
    except Exception as error:
        if _error_code(error) == "NoSuchEntity":
            return None
        raise
    return _user(clients, region, raw)


def _user(
    clients: EstateClients,
    region: str,
    raw: dict[str, Any],
    detail: dict[str, Any] | None = None,
) -> IamUser:
    """``raw`` from ListUsers or GetUser; ``detail``, the user's GetAccountAuthorizationDetails
    entry, when it was read (otherwise its four lists are read here)."""
    name = raw["UserName"]

    def each(operation: str, key: str) -> list[Any]:
        return [
            item
            for page in pages(clients, region, "iam", operation, UserName=name)
            for item in page.get(key, [])
        ]

    try:
        call(clients, region, "iam", "get_login_profile", UserName=name)
        console = True
    except Exception as error:
        if _error_code(error) != "NoSuchEntity":
            raise
        console = False
    grants = _from_detail(detail) if detail is not None else _listed(each)
    keys = []
    for key in each("list_access_keys", "AccessKeyMetadata"):
        used = call(
            clients, region, "iam", "get_access_key_last_used", AccessKeyId=key["AccessKeyId"]
        ).get("AccessKeyLastUsed", {})
        keys.append(
            AccessKey(
                key_id=key["AccessKeyId"],
                status=key["Status"],
                created=key["CreateDate"],
                last_used=used.get("LastUsedDate"),
            )
        )
    return IamUser(
        name=name,
        arn=raw["Arn"],
        path=raw.get("Path", "/"),
        created=raw["CreateDate"],
        password_last_used=raw.get("PasswordLastUsed"),
        console_access=console,
        mfa_devices=tuple(d["SerialNumber"] for d in each("list_mfa_devices", "MFADevices")),
        access_keys=tuple(keys),
        groups=grants.groups,
        attached_policies=grants.attached_policies,
        inline_policies=grants.inline_policies,
        tags=grants.tags,
    )


class _Grants(NamedTuple):
    """What GetAccountAuthorizationDetails tells of a user, or four lists per user do."""

    groups: tuple[str, ...]
    attached_policies: tuple[str, ...]
    inline_policies: tuple[str, ...]
    tags: dict[str, str]


# Sorted: the two reads need not list a user's groups and policies in the same order, and a
# user's refresh one by one must give the same model as the whole account's read.
def _from_detail(detail: dict[str, Any]) -> _Grants:
    return _Grants(
        tuple(sorted(detail.get("GroupList", []))),
        tuple(sorted(p["PolicyArn"] for p in detail.get("AttachedManagedPolicies", []))),
        tuple(sorted(p["PolicyName"] for p in detail.get("UserPolicyList", []))),
        _tags(detail.get("Tags")),
    )


def _listed(each: Callable[[str, str], list[Any]]) -> _Grants:
    return _Grants(
        tuple(sorted(g["GroupName"] for g in each("list_groups_for_user", "Groups"))),
        tuple(
            sorted(p["PolicyArn"] for p in each("list_attached_user_policies", "AttachedPolicies"))
        ),
        tuple(sorted(each("list_user_policies", "PolicyNames"))),
        _tags(each("list_user_tags", "Tags")),
    )


# ---- CloudWatch metrics ------------------------------------------------------------------


def read_function_metrics(
    clients: EstateClients,
    region: str,
    functions: Sequence[str],
    start: datetime,
    end: datetime,
) -> list[FunctionMetrics]:
    """Invocations, errors and duration (average, longest) per function over [start, end):
    four queries per function, one GetMetricData per 500 queries, one datapoint per query
    (the period is the whole range)."""
    seconds = int((end - start).total_seconds())
    period = max(60, seconds - seconds % 60)  # GetMetricData wants a multiple of 60
    queries = [
        {
            "Id": f"{prefix}{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": kind,
                    "Dimensions": [{"Name": "FunctionName", "Value": name}],
                },
                "Period": period,
                "Stat": stat,
            },
        }
        for i, name in enumerate(functions)
        for prefix, kind, stat in METRIC_QUERIES
    ]
    sums: dict[str, float] = {}
    durations: dict[str, float] = {}
    for at in range(0, len(queries), METRIC_QUERIES_PER_CALL):
        for page in pages(
            clients,
            region,
            "cloudwatch",
            "get_metric_data",
            MetricDataQueries=queries[at : at + METRIC_QUERIES_PER_CALL],
            StartTime=start,
            EndTime=end,
        ):
            for result in page.get("MetricDataResults", []):
                values = result.get("Values", [])
                if result["Id"][0] in "am":  # one datapoint (the whole range), or none
                    if values:
                        durations[result["Id"]] = float(values[0])
                else:
                    sums[result["Id"]] = sums.get(result["Id"], 0.0) + sum(values)
    return [
        FunctionMetrics(
            function=name,
            start=start,
            end=end,
            invocations=round(sums.get(f"i{i}", 0.0)),
            errors=round(sums.get(f"e{i}", 0.0)),
            duration_avg_ms=durations.get(f"a{i}"),
            duration_max_ms=durations.get(f"m{i}"),
        )
        for i, name in enumerate(functions)
    ]
